// Turns dockerode/docker-modem errors into the runtime's named errors with readable messages.
// docker-modem rejects with messages like "(HTTP code 404) no such container - No such container:
// abc "; the daemon's own sentence (json.message) is what a user needs, prefixed by what we did.

import { ContainerNotFoundError, InvalidContainerSpecError, RuntimeUnavailableError } from "./runtime.js";

interface ModemError {
  statusCode?: number;
  json?: unknown;
  code?: string;
  message?: string;
}

/** The HTTP status of a daemon error, or undefined for connection-level failures. */
export function statusOf(err: unknown): number | undefined {
  const status = (err as ModemError | undefined)?.statusCode;
  return typeof status === "number" ? status : undefined;
}

/** The daemon's own message for a failed request, without docker-modem's "(HTTP code N)" prefix. */
export function daemonMessage(err: unknown): string {
  const e = err as ModemError | undefined;
  const json = e?.json;
  if (json && typeof json === "object" && "message" in json && typeof json.message === "string") {
    return json.message.trim();
  }
  if (typeof json === "string" && json.trim()) return json.trim();
  if (Buffer.isBuffer(json) && json.length) {
    const text = json.toString("utf8").trim();
    try {
      const parsed = JSON.parse(text) as { message?: unknown };
      if (typeof parsed.message === "string") return parsed.message.trim();
    } catch {
      // not JSON: use it as is
    }
    return text;
  }
  return (e?.message ?? String(err)).trim();
}

const UNAVAILABLE_CODES = new Set(["ECONNREFUSED", "ENOENT", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "EACCES"]);

/** True when the daemon could not be reached at all (socket missing, refused, dropped). */
export function isUnavailable(err: unknown): boolean {
  const e = err as ModemError | undefined;
  return statusOf(err) === undefined && (UNAVAILABLE_CODES.has(e?.code ?? "") || /socket hang up/i.test(e?.message ?? ""));
}

/**
 * Wraps a daemon error for `what` ("create container navarch_x"): unreachable daemon ->
 * RuntimeUnavailableError, 404 -> ContainerNotFoundError (when `notFound` says the object is a
 * container), 400 -> InvalidContainerSpecError, anything else -> Error; the cause is kept.
 */
export function dockerError(what: string, err: unknown, opts: { notFound?: "container" } = {}): Error {
  const status = statusOf(err);
  const detail = daemonMessage(err);
  if (isUnavailable(err)) {
    return new RuntimeUnavailableError(`${what}: Docker daemon unreachable (${detail})`, { cause: err });
  }
  if (status === 404 && opts.notFound === "container") {
    return new ContainerNotFoundError(`${what}: ${detail}`, { cause: err });
  }
  if (status === 400) return new InvalidContainerSpecError(`${what}: ${detail}`, { cause: err });
  return new Error(`${what}: ${detail}${status ? ` (HTTP ${status})` : ""}`, { cause: err });
}
