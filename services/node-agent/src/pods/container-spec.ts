// What the runtime is asked to create for one container of a pod: image, command and args (with
// $(VAR) references expanded from the container's environment, as Kubernetes does), env,
// workingDir, tty, resources (limits are enforced by the runtime; the cpu request becomes the
// relative CPU weight) and hostPath mounts. Pure.
import { bytesOf, milliCpu, type Container, type Pod } from "@navarch/api";
import type { ContainerSpec, PodRef } from "@navarch/runtime";
import { ContainerConfigError, expand } from "./env.js";

export function podRef(pod: Pod, node: string): PodRef {
  const meta = pod.metadata!;
  return { namespace: meta.namespace, name: meta.name, uid: meta.uid, node };
}

function quantity(text: string | undefined, parse: (t: string) => number): number {
  return text ? parse(text) : 0;
}

export function mountsOf(pod: Pod, container: Container): ContainerSpec["mounts"] {
  const volumes = new Map((pod.spec?.volumes ?? []).map((v) => [v.name, v]));
  return (container.volumeMounts ?? []).map((m) => {
    const v = volumes.get(m.name);
    if (!v) throw new ContainerConfigError(`volumeMount "${m.name}": the pod has no volume of that name`);
    if (!v.hostPath) throw new ContainerConfigError(`volume "${m.name}": only hostPath volumes are supported by this node agent yet`);
    const hostPath = m.subPath ? `${v.hostPath.path.replace(/\/$/, "")}/${m.subPath}` : v.hostPath.path;
    return { hostPath, containerPath: m.mountPath, readOnly: m.readOnly ?? false };
  });
}

export function containerSpec(opts: {
  pod: Pod;
  container: Container;
  node: string;
  env: Record<string, string>;
  sandboxId: string;
  attempt: number;
}): ContainerSpec {
  const { pod, container, env } = opts;
  const limits = container.resources?.limits ?? {};
  const requests = container.resources?.requests ?? {};
  const cpuLimitMillis = quantity(limits.cpu, milliCpu);
  return {
    pod: podRef(pod, opts.node),
    sandboxId: opts.sandboxId,
    name: container.name,
    image: container.image,
    command: (container.command ?? []).map((c) => expand(c, env)),
    args: (container.args ?? []).map((a) => expand(a, env)),
    env,
    workingDir: container.workingDir ?? "",
    cpuLimitMillis,
    memoryLimitBytes: quantity(limits.memory, bytesOf),
    cpuRequestMillis: requests.cpu ? milliCpu(requests.cpu) : cpuLimitMillis,
    mounts: mountsOf(pod, container),
    attempt: opts.attempt,
    tty: container.tty ?? false,
  };
}
