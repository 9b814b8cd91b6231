// navctl describe output, laid out like kubectl's: the common header (name, namespace, labels,
// annotations, creation time), the kind's own sections, and the events about the object last.
import type { ConfigMap, DaemonSet, Deployment, Endpoints, Event, Ingress, Job, KindInfo, KubeObject, Lease, Namespace, Node, Pod, ReplicaSet, Secret, Service } from "@navarch/api";
import { LAST_APPLIED_ANNOTATION } from "../merge.js";
import { age } from "./age.js";
import { NONE } from "./columns.js";
import * as kinds from "./describe-kinds.js";
import { DescribeWriter, formatTime, multiline, sortedEntries } from "./describe-writer.js";
import { describeIngress, type IngressBackends } from "./ingress.js";

export { DescribeWriter, formatTime } from "./describe-writer.js";

function header(w: DescribeWriter, obj: KubeObject, info: KindInfo): void {
  const m = obj.metadata;
  w.line(0, `Name:\t${m?.name ?? ""}`);
  if (info.namespaced) w.line(0, `Namespace:\t${m?.namespace ?? ""}`);
  multiline(w, 0, "Labels", sortedEntries(m?.labels).map(([k, v]) => `${k}=${v}`));
  // As kubectl: the manifest apply recorded is noise here (get -o yaml shows it).
  const annotations = sortedEntries(m?.annotations).filter(([k]) => k !== LAST_APPLIED_ANNOTATION);
  multiline(w, 0, "Annotations", annotations.map(([k, v]) => `${k}: ${v}`));
  w.line(0, `CreationTimestamp:\t${formatTime(m?.creationTimestamp)}`);
  const owner = m?.ownerReferences?.find((o) => o.controller) ?? m?.ownerReferences?.[0];
  if (owner) w.line(0, `Controlled By:\t${owner.kind}/${owner.name}`);
  if (m?.deletionTimestamp) w.line(0, `Terminating Since:\t${formatTime(m.deletionTimestamp)}`);
}

/** The events table at the end of every describe (kubectl's DescribeEvents). */
export function eventsSection(w: DescribeWriter, events: Event[] | undefined, now: number): void {
  if (events === undefined) return;
  if (events.length === 0) {
    w.line(0, `Events:\t${NONE}`);
    return;
  }
  w.flush();
  const when = (e: Event) => Date.parse(e.lastTimestamp || e.firstTimestamp || e.metadata?.creationTimestamp || "") || 0;
  const sorted = [...events].sort((a, b) => when(a) - when(b));
  w.line(0, "Events:");
  w.line(1, "Type\tReason\tAge\tFrom\tMessage");
  w.line(1, "----\t------\t----\t----\t-------");
  for (const e of sorted) {
    const first = e.firstTimestamp || e.metadata?.creationTimestamp;
    const interval = e.count > 1 ? `${age(e.lastTimestamp || first, now)} (x${e.count} over ${age(first, now)})` : age(first || e.lastTimestamp, now);
    const from = e.source?.component || e.reportingComponent || "";
    w.line(1, `${e.type}\t${e.reason}\t${interval}\t${from}\t${e.message.trim()}`);
  }
}

export interface DescribeExtras {
  /** Events about the object; undefined when they could not be listed (then no section). */
  events?: Event[] | undefined;
  /** For a Service: its Endpoints. */
  endpoints?: Endpoints | undefined;
  /** For a DaemonSet: its pods (for Pods Status). */
  pods?: Pod[] | undefined;
  /** For a Deployment: the replica sets it controls (old and new). */
  replicaSets?: ReplicaSet[] | undefined;
  /** For an Ingress: its backends' Services and Endpoints. */
  ingressBackends?: IngressBackends | undefined;
}

/** The "Pod Template:" section on its own (rollout history --revision). */
export function describePodTemplate(template: Parameters<typeof kinds.podTemplate>[1]): string {
  const w = new DescribeWriter();
  kinds.podTemplate(w, template);
  return w.toString();
}

export function describeObject(info: KindInfo, obj: KubeObject, extras: DescribeExtras = {}, now: number = Date.now()): string {
  const w = new DescribeWriter();
  header(w, obj, info);
  switch (info.kind) {
    case "ConfigMap":
      kinds.describeConfigMap(w, obj as ConfigMap);
      break;
    case "Secret":
      kinds.describeSecret(w, obj as Secret);
      break;
    case "Namespace":
      kinds.describeNamespace(w, obj as Namespace);
      break;
    case "Pod":
      kinds.describePod(w, obj as Pod);
      break;
    case "Service":
      kinds.describeService(w, obj as Service, extras.endpoints);
      break;
    case "Endpoints":
      kinds.describeEndpoints(w, obj as Endpoints);
      break;
    case "Node":
      kinds.describeNode(w, obj as Node);
      break;
    case "ReplicaSet":
      kinds.describeReplicaSet(w, obj as ReplicaSet, extras.pods);
      break;
    case "Deployment":
      kinds.describeDeployment(w, obj as Deployment, extras.replicaSets);
      break;
    case "DaemonSet":
      kinds.describeDaemonSet(w, obj as DaemonSet, extras.pods);
      break;
    case "Job":
      kinds.describeJob(w, obj as Job, now);
      break;
    case "Ingress":
      describeIngress(w, obj as Ingress, extras.ingressBackends);
      break;
    case "Lease":
      kinds.describeLease(w, obj as Lease);
      break;
    case "Event":
      kinds.describeEvent(w, obj as Event);
      break;
  }
  eventsSection(w, extras.events, now);
  return w.toString();
}
