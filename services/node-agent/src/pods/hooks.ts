// Container lifecycle hooks, as the kubelet runs them:
//   postStart  right after the container started; the container is not shown running, and the
//              pod's next container is not started, until it returns. A failure kills the
//              container (FailedPostStartHook), which restartPolicy then treats like any exit.
//   preStop    before the SIGTERM of a container stopped on purpose (pod deletion, a failed
//              liveness or startup probe, a changed image); it counts against the grace period.
// Handlers: exec (in the container, through the runtime) and httpGet (the prober's request, so a
// 2xx/3xx answer is a success), with the probes' named-port resolution. tcpSocket is accepted by
// the API for compatibility but, as in Kubernetes, never run: such a hook fails. sleep waits its
// seconds (cut short by the grace period like any hook). Neither hook has a timeout of its own:
// preStop ends with the grace period, postStart when it returns or the container is stopped.
import type { Container, LifecycleHandler, Pod } from "@navarch/api";
import { ExecTimeoutError } from "@navarch/runtime";
import { httpGet, type ProbeRuntime, type ProbeTarget } from "../probes/prober.js";
import { resolvePort, type ProbeAction } from "../probes/spec.js";

export type HookAction = ProbeAction | { type: "sleep"; seconds: number };

export interface ContainerHooks {
  postStart?: HookAction | undefined;
  preStop?: HookAction | undefined;
  /** The grace of the stop that follows a failed postStart (the pod's terminationGracePeriodSeconds). */
  killGraceSeconds: number;
}

export type HookOutcome = { ok: true } | { ok: false; error: string };

/** setTimeout's largest delay (about 24.8 days): "no timeout" for a hook that must not be cut short. */
export const NO_HOOK_TIMEOUT_MS = 2 ** 31 - 1;
const DEFAULT_POD_GRACE_SECONDS = 30;

/** The hooks of a container; undefined when it has none. Pure. */
export function containerHooks(container: Container, pod: Pod): ContainerHooks | undefined {
  const l = container.lifecycle;
  if (!l?.postStart && !l?.preStop) return undefined;
  return {
    postStart: l.postStart ? hookAction(l.postStart, container) : undefined,
    preStop: l.preStop ? hookAction(l.preStop, container) : undefined,
    killGraceSeconds: pod.spec?.terminationGracePeriodSeconds ?? DEFAULT_POD_GRACE_SECONDS,
  };
}

export function hookAction(h: LifecycleHandler, container: Container): HookAction {
  if (h.exec) return { type: "exec", command: h.exec.command };
  if (h.sleep) return { type: "sleep", seconds: h.sleep.seconds };
  if (h.httpGet) {
    const g = h.httpGet;
    // An empty port is 80 for hooks (the kubelet's rule; probes must name one).
    const port = g.port === "" ? 80 : resolvePort(g.port, container);
    if (typeof port === "string") return { type: "invalid", message: port };
    return {
      type: "http",
      scheme: g.scheme.toUpperCase() === "HTTPS" ? "https" : "http",
      host: g.host,
      port,
      path: g.path === "" ? "/" : g.path.startsWith("/") ? g.path : `/${g.path}`,
      headers: (g.httpHeaders ?? []).map((x) => [x.name, x.value] as [string, string]),
    };
  }
  if (h.tcpSocket) return { type: "invalid", message: "invalid handler: TCPSocket is not supported as a lifecycle handler" };
  return { type: "invalid", message: "invalid handler: no exec, httpGet or sleep" };
}

/** Runs one hook to its end (or timeoutMs); never rejects. */
export async function runHook(runtime: ProbeRuntime, action: HookAction, target: ProbeTarget, timeoutMs: number): Promise<HookOutcome> {
  try {
    switch (action.type) {
      case "exec": {
        if (!target.containerId) return { ok: false, error: `error: the container has no id yet, message: ""` };
        const r = await runtime.exec(target.containerId, action.command, timeoutMs);
        if (r.exitCode === 0) return { ok: true };
        return { ok: false, error: `error: command '${action.command.join(" ")}' exited with ${r.exitCode}: , message: ${JSON.stringify(clip(r.output))}` };
      }
      case "http": {
        const outcome = runtime.simulatedNetworkProbe
          ? await runtime.simulatedNetworkProbe(target.containerId, { type: "http", port: action.port, path: action.path })
          : await httpGet(action, action.host || target.podIP, timeoutMs);
        return outcome.ok ? { ok: true } : { ok: false, error: `error: ${clip(outcome.output)}` };
      }
      case "sleep":
        // unref: a hook cut short by a force delete must not keep the agent alive.
        await new Promise((resolve) => setTimeout(resolve, Math.min(action.seconds * 1000, timeoutMs)).unref());
        return { ok: true };
      case "tcp":
        return { ok: false, error: "invalid handler: TCPSocket is not supported as a lifecycle handler" };
      case "invalid":
        return { ok: false, error: action.message };
    }
  } catch (err) {
    const text = err instanceof ExecTimeoutError ? `command '${commandOf(action)}' timed out` : err instanceof Error ? err.message : String(err);
    return { ok: false, error: `error: ${clip(text)}, message: ""` };
  }
}

/** The kubelet's event message for a failed hook. */
export function hookFailureMessage(action: HookAction, container: string, podDescription: string, error: string): string {
  const where = `for Container "${container}" in Pod "${podDescription}" failed - ${error}`;
  switch (action.type) {
    case "exec":
      return `Exec lifecycle hook ([${action.command.join(" ")}]) ${where}`;
    case "http":
      return `HTTP lifecycle hook (${action.path}) ${where}`;
    default:
      return `Cannot run handler: ${error}`;
  }
}

function commandOf(action: HookAction): string {
  return action.type === "exec" ? action.command.join(" ") : action.type;
}

/** An Event message needs no more of a hook's output. */
function clip(s: string): string {
  const t = s.trim();
  return t.length > 1024 ? `${t.slice(0, 1021)}...` : t;
}
