// What the runtime does when a sync fails, decided by the error's class (never by parsing its
// message, except to recognise NATS's own "I am not there" errors under a TransientError):
//
//   ConflictError                  -> "conflict":    requeue at once, limited only by the global bucket
//   NotFoundError                  -> "gone":        the object is gone; done, backoff forgotten
//   InvalidError / PreconditionError -> "invalid":   log and record; retrying the same input cannot help
//   TransientError from NATS being unreachable (timeout, no responders, connection closed,
//   JetStream not enabled)         -> "unavailable": requeue with backoff, AND the worker pauses
//                                                    (global backoff) - every key would fail alike
//   anything else                  -> "transient":   requeue with per-key exponential backoff
import { ConflictError, InvalidError, NotFoundError, PreconditionError, TransientError } from "@navarch/api";

export type ErrorClass = "conflict" | "gone" | "invalid" | "unavailable" | "transient";

/** Names of the NATS client's errors that mean the server (or JetStream) cannot be reached. */
const UNAVAILABLE_NAMES = new Set([
  "TimeoutError",
  "NoResponders",
  "NoRespondersError",
  "ClosedConnectionError",
  "DrainingConnectionError",
  "ConnectionError",
  "JetStreamNotEnabled",
]);

export function classifyError(err: unknown): ErrorClass {
  if (err instanceof ConflictError) return "conflict";
  if (err instanceof NotFoundError) return "gone";
  if (err instanceof InvalidError || err instanceof PreconditionError) return "invalid";
  if (isNatsUnavailable(err)) return "unavailable";
  return "transient";
}

/** True when the error (or one of its causes) says NATS itself is unavailable. */
export function isNatsUnavailable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (UNAVAILABLE_NAMES.has(e.name)) return true;
    // A TransientError may carry the client's error only as text ("nats: TIMEOUT").
    if (e instanceof TransientError && /\b(timeout|no responders|connection closed|disconnected)\b/i.test(e.message)) {
      return true;
    }
  }
  return false;
}
