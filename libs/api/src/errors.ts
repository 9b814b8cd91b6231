// The small set of error classes every component speaks. Controllers decide retry policy by class;
// the gateway maps each class to one gRPC status.
import { clip, clipBytes, MAX_LISTED_FIELD_ERRORS, MAX_STATUS_MESSAGE_BYTES } from "./bounds.js";

/** One problem with one field, named by its JSON path ("spec.containers[0].image"). */
export interface FieldError {
  path: string;
  message: string;
}

/**
 * The errors joined, as many as fit in a status message (and at most a few); the rest are
 * counted ("; and 990 more errors"), so the message stays small however many there are.
 */
export function formatFieldErrors(errors: FieldError[]): string {
  const budget = MAX_STATUS_MESSAGE_BYTES - 40; // room for the count
  const listed: string[] = [];
  let bytes = 0;
  for (const e of errors) {
    if (listed.length === MAX_LISTED_FIELD_ERRORS) break;
    const one = clipBytes(e.path ? `${clip(e.path)}: ${e.message}` : e.message, budget);
    const n = Buffer.byteLength(one) + 2;
    if (listed.length > 0 && bytes + n > budget) break;
    listed.push(one);
    bytes += n;
  }
  const rest = errors.length - listed.length;
  return rest > 0 ? `${listed.join("; ")}; and ${rest} more errors` : listed.join("; ");
}

export class NavarchError extends Error {
  override name = "NavarchError";
}

/** The object or request is malformed; retrying the same input cannot succeed. */
export class InvalidError extends NavarchError {
  override name = "InvalidError";
  constructor(readonly fieldErrors: FieldError[]) {
    super(formatFieldErrors(fieldErrors));
  }
  static at(path: string, message: string): InvalidError {
    return new InvalidError([{ path, message }]);
  }
}

export class NotFoundError extends NavarchError {
  override name = "NotFoundError";
}

export class AlreadyExistsError extends NavarchError {
  override name = "AlreadyExistsError";
}

/** A compare-and-swap lost: someone else wrote first. Re-read and try again. */
export class ConflictError extends NavarchError {
  override name = "ConflictError";
}

/** The request is well formed but the current state forbids it (e.g. terminating namespace). */
export class PreconditionError extends NavarchError {
  override name = "PreconditionError";
}

/** Something outside us failed (network, NATS unavailable); the same call may succeed later. */
export class TransientError extends NavarchError {
  override name = "TransientError";
}

export class UnauthenticatedError extends NavarchError {
  override name = "UnauthenticatedError";
}

export class PermissionDeniedError extends NavarchError {
  override name = "PermissionDeniedError";
}

/**
 * A stored value cannot be decoded (not JSON, or not an object of its kind): it is not served,
 * and a read of its key says so instead of returning stale or default data.
 */
export class CorruptError extends NavarchError {
  override name = "CorruptError";
}

/** A watch asked to resume from a version older than the history the server keeps. */
export class ExpiredError extends NavarchError {
  override name = "ExpiredError";
}
