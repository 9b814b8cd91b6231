// What describe shows for each kind below the common header (kubectl's per-kind describers).
import type {
  ConfigMap,
  Container,
  ContainerState,
  DaemonSet,
  Deployment,
  Endpoints,
  Event,
  Job,
  Lease,
  Namespace,
  Node,
  Pod,
  Probe,
  ReplicaSet,
  Secret,
  Service,
} from "@navarch/api";
import { formatEndpoints, formatLabels, jobDuration, nodeRoles, selectorText, NONE } from "./columns.js";
import { formatTime, multiline, sortedEntries, type DescribeWriter } from "./describe-writer.js";

// ---- kinds ----

export function describeConfigMap(w: DescribeWriter, cm: ConfigMap): void {
  w.blank();
  w.line(0, "Data");
  w.line(0, "====");
  for (const [k, v] of sortedEntries(cm.data)) {
    w.raw(`${k}:\n----\n${v}\n`);
  }
  w.blank();
  w.line(0, "BinaryData");
  w.line(0, "====");
  for (const k of Object.keys(cm.binaryData ?? {}).sort()) w.line(0, `${k}: ${cm.binaryData[k]!.length} bytes`);
  w.blank();
}

export function describeSecret(w: DescribeWriter, s: Secret): void {
  w.blank();
  w.line(0, `Type:\t${s.type || "Opaque"}`);
  w.blank();
  w.line(0, "Data");
  w.line(0, "====");
  for (const k of Object.keys(s.data ?? {}).sort()) w.line(0, `${k}:\t${s.data[k]!.length} bytes`);
  w.blank();
}

export function describeNamespace(w: DescribeWriter, ns: Namespace): void {
  w.line(0, `Status:\t${ns.status?.phase || "Active"}`);
  w.blank();
}

function stateLines(w: DescribeWriter, level: number, title: string, st: ContainerState | undefined): void {
  if (st?.running) {
    w.line(level, `${title}:\tRunning`);
    w.line(level + 1, `Started:\t${formatTime(st.running.startedAt)}`);
  } else if (st?.waiting) {
    w.line(level, `${title}:\tWaiting`);
    if (st.waiting.reason) w.line(level + 1, `Reason:\t${st.waiting.reason}`);
    if (st.waiting.message) w.line(level + 1, `Message:\t${st.waiting.message}`);
  } else if (st?.terminated) {
    const t = st.terminated;
    w.line(level, `${title}:\tTerminated`);
    if (t.reason) w.line(level + 1, `Reason:\t${t.reason}`);
    if (t.message) w.line(level + 1, `Message:\t${t.message}`);
    w.line(level + 1, `Exit Code:\t${t.exitCode}`);
    if (t.signal) w.line(level + 1, `Signal:\t${t.signal}`);
    w.line(level + 1, `Started:\t${formatTime(t.startedAt)}`);
    w.line(level + 1, `Finished:\t${formatTime(t.finishedAt)}`);
  } else {
    w.line(level, `${title}:\tWaiting`);
  }
}

/** "http-get http://:8080/healthz delay=0s timeout=1s period=10s #success=1 #failure=3" */
export function probeText(p: Probe): string {
  let action = "unknown";
  if (p.httpGet) {
    const scheme = (p.httpGet.scheme || "HTTP").toLowerCase();
    action = `http-get ${scheme}://${p.httpGet.host ?? ""}:${p.httpGet.port}${p.httpGet.path ?? ""}`;
  } else if (p.tcpSocket) {
    action = `tcp-socket ${p.tcpSocket.host ?? ""}:${p.tcpSocket.port}`;
  } else if (p.exec) {
    action = `exec [${p.exec.command.join(" ")}]`;
  }
  return `${action} delay=${p.initialDelaySeconds ?? 0}s timeout=${p.timeoutSeconds ?? 1}s period=${p.periodSeconds ?? 10}s #success=${p.successThreshold ?? 1} #failure=${p.failureThreshold ?? 3}`;
}

function containerLines(w: DescribeWriter, level: number, c: Container, status: Pod["status"] | undefined, isInit: boolean): void {
  const cs = (isInit ? status?.initContainerStatuses : status?.containerStatuses)?.find((s) => s.name === c.name);
  w.line(level, `${c.name}:`);
  const l = level + 1;
  if (cs?.containerID) w.line(l, `Container ID:\t${cs.containerID}`);
  w.line(l, `Image:\t${c.image}`);
  if (cs) w.line(l, `Image ID:\t${cs.imageID}`);
  const ports = c.ports ?? [];
  if (ports.length === 0) w.line(l, `Port:\t${NONE}`);
  else multiline(w, l, ports.length === 1 ? "Port" : "Ports", ports.map((p) => `${p.containerPort}/${p.protocol || "TCP"}${p.name ? ` (${p.name})` : ""}`));
  if (c.command?.length) {
    w.line(l, "Command:");
    for (const x of c.command) w.line(l + 1, x);
  }
  if (c.args?.length) {
    w.line(l, "Args:");
    for (const x of c.args) w.line(l + 1, x);
  }
  if (cs) {
    stateLines(w, l, "State", cs.state);
    if (cs.lastState?.terminated || cs.lastState?.waiting || cs.lastState?.running) stateLines(w, l, "Last State", cs.lastState);
    w.line(l, `Ready:\t${cs.ready ? "True" : "False"}`);
    w.line(l, `Restart Count:\t${cs.restartCount}`);
  }
  for (const [title, m] of [["Limits", c.resources?.limits], ["Requests", c.resources?.requests]] as const) {
    const entries = sortedEntries(m);
    if (entries.length === 0) continue;
    w.line(l, `${title}:`);
    for (const [k, v] of entries) w.line(l + 1, `${k}:\t${v}`);
  }
  if (c.livenessProbe) w.line(l, `Liveness:\t${probeText(c.livenessProbe)}`);
  if (c.readinessProbe) w.line(l, `Readiness:\t${probeText(c.readinessProbe)}`);
  if (c.startupProbe) w.line(l, `Startup:\t${probeText(c.startupProbe)}`);
  const env = c.env ?? [];
  if (env.length === 0 && !(c.envFrom ?? []).length) {
    w.line(l, `Environment:\t${NONE}`);
  } else {
    w.line(l, "Environment:");
    for (const e of c.envFrom ?? []) {
      if (e.configMapRef) w.line(l + 1, `ConfigMap\t${e.configMapRef.name}\tOptional: ${e.configMapRef.optional ?? false}`);
      if (e.secretRef) w.line(l + 1, `Secret\t${e.secretRef.name}\tOptional: ${e.secretRef.optional ?? false}`);
    }
    for (const e of env) {
      const from = e.valueFrom;
      let v = e.value;
      if (from?.configMapKeyRef) v = `<set to the key '${from.configMapKeyRef.key}' of config map '${from.configMapKeyRef.name}'>`;
      else if (from?.secretKeyRef) v = `<set to the key '${from.secretKeyRef.key}' in secret '${from.secretKeyRef.name}'>`;
      else if (from?.fieldRef) v = `(${from.fieldRef.apiVersion || "v1"}:${from.fieldRef.fieldPath})`;
      else if (from?.resourceFieldRef) v = `${from.resourceFieldRef.resource}`;
      w.line(l + 1, `${e.name}:\t${v}`);
    }
  }
  const mounts = c.volumeMounts ?? [];
  if (mounts.length === 0) w.line(l, `Mounts:\t${NONE}`);
  else {
    w.line(l, "Mounts:");
    for (const m of mounts) w.line(l + 1, `${m.mountPath} from ${m.name} (${m.readOnly ? "ro" : "rw"})`);
  }
}

function volumeLines(w: DescribeWriter, pod: Pod): void {
  const vols = pod.spec?.volumes ?? [];
  if (vols.length === 0) {
    w.line(0, `Volumes:\t${NONE}`);
    return;
  }
  w.line(0, "Volumes:");
  for (const v of vols) {
    w.line(1, `${v.name}:`);
    const fields: [string, string][] = v.emptyDir
      ? [["Type", "EmptyDir (a temporary directory that shares a pod's lifetime)"]]
      : v.hostPath
        ? [["Type", "HostPath (bare host directory volume)"], ["Path", v.hostPath.path]]
        : v.configMap
          ? [["Type", "ConfigMap (a volume populated by a ConfigMap)"], ["Name", v.configMap.name]]
          : v.secret
            ? [["Type", "Secret (a volume populated by a Secret)"], ["SecretName", v.secret.secretName]]
            : v.persistentVolumeClaim
              ? [["Type", "PersistentVolumeClaim (a reference to a PersistentVolumeClaim in the same namespace)"], ["ClaimName", v.persistentVolumeClaim.claimName]]
              : v.nfs
                ? [["Type", "NFS (an NFS mount that lasts the lifetime of a pod)"], ["Server", v.nfs.server], ["Path", v.nfs.path]]
                : [];
    for (const [k, val] of fields) w.line(2, `${k}:\t${val}`);
  }
}

function conditionsTable(w: DescribeWriter, conditions: { type: string; status: string; reason?: string }[] | undefined, withReason: boolean): void {
  if (!conditions || conditions.length === 0) return;
  w.line(0, "Conditions:");
  // As kubectl: pods list conditions without an underline, workloads with one and a reason.
  w.line(1, withReason ? "Type\tStatus\tReason" : "Type\tStatus");
  if (withReason) w.line(1, "----\t------\t------");
  for (const c of conditions) w.line(1, withReason ? `${c.type}\t${c.status}\t${c.reason ?? ""}` : `${c.type}\t${c.status}`);
}

export function podTemplate(w: DescribeWriter, tpl: { metadata?: { labels?: Record<string, string> } | undefined; spec?: Pod["spec"] } | undefined): void {
  w.line(0, "Pod Template:");
  multiline(w, 1, "Labels", sortedEntries(tpl?.metadata?.labels).map(([k, v]) => `${k}=${v}`));
  w.line(1, "Containers:");
  for (const c of tpl?.spec?.containers ?? []) containerLines(w, 2, c, undefined, false);
}

export function describePod(w: DescribeWriter, pod: Pod): void {
  const s = pod.status;
  w.line(0, `Service Account:\t${pod.spec?.serviceAccountName || "default"}`);
  w.line(0, `Node:\t${pod.spec?.nodeName ? `${pod.spec.nodeName}${s?.hostIP ? `/${s.hostIP}` : ""}` : NONE}`);
  if (s?.startTime) w.line(0, `Start Time:\t${formatTime(s.startTime)}`);
  w.line(0, `Status:\t${pod.metadata?.deletionTimestamp ? "Terminating" : s?.phase || "Pending"}`);
  if (s?.reason) w.line(0, `Reason:\t${s.reason}`);
  if (s?.message) w.line(0, `Message:\t${s.message}`);
  w.line(0, `IP:\t${s?.podIP ?? ""}`);
  const ips = s?.podIPs ?? [];
  if (ips.length === 0) w.line(0, `IPs:\t${NONE}`);
  else {
    w.line(0, "IPs:");
    for (const ip of ips) w.line(1, `IP:\t${ip.ip}`);
  }
  if (pod.spec?.initContainers?.length) {
    w.line(0, "Init Containers:");
    for (const c of pod.spec.initContainers) containerLines(w, 1, c, s, true);
  }
  w.line(0, "Containers:");
  for (const c of pod.spec?.containers ?? []) containerLines(w, 1, c, s, false);
  conditionsTable(w, s?.conditions, false);
  volumeLines(w, pod);
  w.line(0, `QoS Class:\t${s?.qosClass || "BestEffort"}`);
  multiline(w, 0, "Node-Selectors", sortedEntries(pod.spec?.nodeSelector).map(([k, v]) => `${k}=${v}`));
  multiline(
    w,
    0,
    "Tolerations",
    (pod.spec?.tolerations ?? []).map((t) => `${t.key}${t.operator === "Exists" ? "" : `=${t.value}`}${t.effect ? `:${t.effect}` : ""}${t.tolerationSeconds !== undefined ? ` for ${t.tolerationSeconds}s` : ""}`),
  );
}

export function describeService(w: DescribeWriter, svc: Service, endpoints: Endpoints | undefined): void {
  const spec = svc.spec;
  w.line(0, `Selector:\t${sortedEntries(spec?.selector).map(([k, v]) => `${k}=${v}`).join(",")}`);
  w.line(0, `Type:\t${spec?.type || "ClusterIP"}`);
  w.line(0, `IP:\t${spec?.clusterIP || NONE}`);
  if (spec?.externalIPs?.length) w.line(0, `External IPs:\t${spec.externalIPs.join(",")}`);
  if (spec?.externalName) w.line(0, `External Name:\t${spec.externalName}`);
  for (const p of spec?.ports ?? []) {
    const name = p.name || "<unset>";
    w.line(0, `Port:\t${name}\t${p.port}/${p.protocol || "TCP"}`);
    w.line(0, `TargetPort:\t${p.targetPort || p.port}/${p.protocol || "TCP"}`);
    if (p.nodePort) w.line(0, `NodePort:\t${name}\t${p.nodePort}/${p.protocol || "TCP"}`);
    w.line(0, `Endpoints:\t${endpoints ? formatEndpoints(endpoints) : ""}`);
  }
  w.line(0, `Session Affinity:\t${spec?.sessionAffinity || "None"}`);
}

export function describeEndpoints(w: DescribeWriter, ep: Endpoints): void {
  w.line(0, "Subsets:");
  for (const s of ep.subsets ?? []) {
    w.line(1, `Addresses:\t${(s.addresses ?? []).map((a) => a.ip).join(",") || NONE}`);
    w.line(1, `NotReadyAddresses:\t${(s.notReadyAddresses ?? []).map((a) => a.ip).join(",") || NONE}`);
    w.line(1, "Ports:");
    w.line(2, "Name\tPort\tProtocol");
    w.line(2, "----\t----\t--------");
    for (const p of s.ports ?? []) w.line(2, `${p.name || "<unset>"}\t${p.port}\t${p.protocol || "TCP"}`);
    w.blank();
  }
}

export function describeNode(w: DescribeWriter, node: Node): void {
  w.line(0, `Roles:\t${nodeRoles(node)}`);
  multiline(w, 0, "Taints", (node.spec?.taints ?? []).map((t) => `${t.key}${t.value ? `=${t.value}` : ""}:${t.effect}`));
  w.line(0, `Unschedulable:\t${node.spec?.unschedulable ? "true" : "false"}`);
  const conds = node.status?.conditions ?? [];
  if (conds.length > 0) {
    w.line(0, "Conditions:");
    w.line(1, "Type\tStatus\tLastHeartbeatTime\tLastTransitionTime\tReason\tMessage");
    w.line(1, "----\t------\t-----------------\t------------------\t------\t-------");
    for (const c of conds) {
      w.line(1, `${c.type}\t${c.status}\t${formatTime(c.lastHeartbeatTime)}\t${formatTime(c.lastTransitionTime)}\t${c.reason}\t${c.message}`);
    }
  }
  w.line(0, "Addresses:");
  for (const a of node.status?.addresses ?? []) w.line(1, `${a.type}:\t${a.address}`);
  for (const [title, m] of [["Capacity", node.status?.capacity], ["Allocatable", node.status?.allocatable]] as const) {
    w.line(0, `${title}:`);
    for (const [k, v] of sortedEntries(m)) w.line(1, `${k}:\t${v}`);
  }
  const info = node.status?.nodeInfo;
  w.line(0, "System Info:");
  w.line(1, `Machine ID:\t${info?.machineID ?? ""}`);
  w.line(1, `Kernel Version:\t${info?.kernelVersion ?? ""}`);
  w.line(1, `OS Image:\t${info?.osImage ?? ""}`);
  w.line(1, `Operating System:\t${info?.operatingSystem ?? ""}`);
  w.line(1, `Architecture:\t${info?.architecture ?? ""}`);
  w.line(1, `Container Runtime Version:\t${info?.containerRuntimeVersion ?? ""}`);
  w.line(1, `Kubelet Version:\t${info?.kubeletVersion ?? ""}`);
  if (node.spec?.podCIDR) w.line(0, `PodCIDR:\t${node.spec.podCIDR}`);
  if (node.spec?.podCIDRs?.length) w.line(0, `PodCIDRs:\t${node.spec.podCIDRs.join(",")}`);
}

export function describeReplicaSet(w: DescribeWriter, rs: ReplicaSet, pods?: readonly Pod[]): void {
  w.line(0, `Selector:\t${selectorText(rs.spec?.selector)}`);
  w.line(0, `Replicas:\t${rs.status?.replicas ?? 0} current / ${rs.spec?.replicas ?? 1} desired`);
  if (pods) w.line(0, `Pods Status:\t${podPhases(pods)}`);
  w.line(0, `Ready Replicas:\t${rs.status?.readyReplicas ?? 0}`);
  podTemplate(w, rs.spec?.template);
  conditionsTable(w, rs.status?.conditions, true);
}

export function describeDeployment(w: DescribeWriter, d: Deployment, replicaSets?: ReplicaSet[]): void {
  const st = d.status;
  const desired = d.spec?.replicas ?? 1;
  w.line(0, `Selector:\t${selectorText(d.spec?.selector)}`);
  w.line(
    0,
    `Replicas:\t${desired} desired | ${st?.updatedReplicas ?? 0} updated | ${st?.replicas ?? 0} total | ${st?.availableReplicas ?? 0} available | ${st?.unavailableReplicas ?? 0} unavailable`,
  );
  const strategy = d.spec?.strategy?.type || "RollingUpdate";
  w.line(0, `StrategyType:\t${strategy}`);
  w.line(0, `MinReadySeconds:\t${d.spec?.minReadySeconds ?? 0}`);
  if (strategy === "RollingUpdate") {
    const ru = d.spec?.strategy?.rollingUpdate;
    w.line(0, `RollingUpdateStrategy:\t${ru?.maxUnavailable || "25%"} max unavailable, ${ru?.maxSurge || "25%"} max surge`);
  }
  podTemplate(w, d.spec?.template);
  conditionsTable(w, st?.conditions, true);
  if (replicaSets) deploymentReplicaSets(w, d, replicaSets);
}

/**
 * kubectl's OldReplicaSets / NewReplicaSet lines: the new one carries the deployment's revision;
 * old ones are listed while they still have (or are asked for) pods.
 */
function deploymentReplicaSets(w: DescribeWriter, d: Deployment, sets: ReplicaSet[]): void {
  const revision = d.metadata?.annotations?.["deployment.kubernetes.io/revision"];
  const isNew = (rs: ReplicaSet) => !!revision && rs.metadata?.annotations?.["deployment.kubernetes.io/revision"] === revision;
  const line = (rs: ReplicaSet) => `${rs.metadata?.name ?? ""} (${rs.status?.replicas ?? 0}/${rs.spec?.replicas ?? 1} replicas created)`;
  const old = sets.filter((rs) => !isNew(rs) && ((rs.spec?.replicas ?? 1) > 0 || (rs.status?.replicas ?? 0) > 0));
  const fresh = sets.find(isNew);
  w.line(0, `OldReplicaSets:\t${old.length > 0 ? old.map(line).join(", ") : NONE}`);
  w.line(0, `NewReplicaSet:\t${fresh ? line(fresh) : NONE}`);
}

/** "2 Running / 0 Waiting / 0 Succeeded / 0 Failed", from the daemon set's pods (kubectl's Pods Status). */
function podPhases(pods: readonly Pod[]): string {
  const count = (phase: string) => pods.filter((p) => (p.status?.phase || "Pending") === phase).length;
  return `${count("Running")} Running / ${count("Pending")} Waiting / ${count("Succeeded")} Succeeded / ${count("Failed")} Failed`;
}

export function describeDaemonSet(w: DescribeWriter, ds: DaemonSet, pods: readonly Pod[] | undefined): void {
  const st = ds.status;
  w.line(0, `Selector:\t${selectorText(ds.spec?.selector)}`);
  w.line(0, `Node-Selector:\t${formatLabels(ds.spec?.template?.spec?.nodeSelector)}`);
  w.line(0, `Desired Number of Nodes Scheduled:\t${st?.desiredNumberScheduled ?? 0}`);
  w.line(0, `Current Number of Nodes Scheduled:\t${st?.currentNumberScheduled ?? 0}`);
  w.line(0, `Number of Nodes Scheduled with Up-to-date Pods:\t${st?.updatedNumberScheduled ?? 0}`);
  w.line(0, `Number of Nodes Scheduled with Available Pods:\t${st?.numberAvailable ?? 0}`);
  w.line(0, `Number of Nodes Misscheduled:\t${st?.numberMisscheduled ?? 0}`);
  if (pods) w.line(0, `Pods Status:\t${podPhases(pods)}`);
  const strategy = ds.spec?.updateStrategy;
  w.line(0, `Update Strategy:\t${strategy?.type || "RollingUpdate"}`);
  if ((strategy?.type || "RollingUpdate") === "RollingUpdate") w.line(0, `RollingUpdateStrategy:\t${strategy?.rollingUpdate?.maxUnavailable || "1"} max unavailable`);
  podTemplate(w, ds.spec?.template);
}

export function describeJob(w: DescribeWriter, job: Job, now: number): void {
  const spec = job.spec;
  const st = job.status;
  w.line(0, `Selector:\t${selectorText(spec?.selector)}`);
  w.line(0, `Parallelism:\t${spec?.parallelism ?? 1}`);
  w.line(0, `Completions:\t${spec?.completions ?? NONE}`);
  w.line(0, `Completion Mode:\t${spec?.completionMode || "NonIndexed"}`);
  w.line(0, `Suspend:\t${spec?.suspend ? "true" : "false"}`);
  w.line(0, `Backoff Limit:\t${spec?.backoffLimit ?? 6}`);
  if (spec?.ttlSecondsAfterFinished !== undefined) w.line(0, `TTL Seconds After Finished:\t${spec.ttlSecondsAfterFinished}`);
  if (st?.startTime) w.line(0, `Start Time:\t${formatTime(st.startTime)}`);
  if (st?.completionTime) w.line(0, `Completed At:\t${formatTime(st.completionTime)}`);
  if (st?.startTime) w.line(0, `Duration:\t${jobDuration(job, now)}`);
  if (spec?.activeDeadlineSeconds !== undefined) w.line(0, `Active Deadline Seconds:\t${spec.activeDeadlineSeconds}s`);
  w.line(0, `Pods Statuses:\t${st?.active ?? 0} Active (${st?.ready ?? 0} Ready) / ${st?.succeeded ?? 0} Succeeded / ${st?.failed ?? 0} Failed`);
  podTemplate(w, spec?.template);
  const conditions = st?.conditions ?? [];
  if (conditions.length > 0) conditionsTable(w, conditions, true);
}

export function describeLease(w: DescribeWriter, l: Lease): void {
  const s = l.spec;
  w.line(0, `Holder Identity:\t${s?.holderIdentity || NONE}`);
  w.line(0, `Lease Duration Seconds:\t${s?.leaseDurationSeconds ?? NONE}`);
  w.line(0, `Acquire Time:\t${formatTime(s?.acquireTime)}`);
  w.line(0, `Renew Time:\t${formatTime(s?.renewTime)}`);
  w.line(0, `Lease Transitions:\t${s?.leaseTransitions ?? 0}`);
}

export function describeEvent(w: DescribeWriter, e: Event): void {
  w.line(0, `Involved Object:\t${e.involvedObject?.kind ?? ""}/${e.involvedObject?.name ?? ""}`);
  w.line(0, `Type:\t${e.type}`);
  w.line(0, `Reason:\t${e.reason}`);
  w.line(0, `Message:\t${e.message}`);
  w.line(0, `Source:\t${e.source?.component ?? e.reportingComponent ?? ""}`);
  w.line(0, `Count:\t${e.count}`);
  w.line(0, `First Timestamp:\t${formatTime(e.firstTimestamp)}`);
  w.line(0, `Last Timestamp:\t${formatTime(e.lastTimestamp)}`);
}
