// The small set of error classes every component speaks. Controllers decide retry policy by class;
// the gateway maps each class to one gRPC status.

/** One problem with one field, named by its JSON path ("spec.containers[0].image"). */
export interface FieldError {
  path: string;
  message: string;
}

export function formatFieldErrors(errors: FieldError[]): string {
  return errors.map((e) => (e.path ? `${e.path}: ${e.message}` : e.message)).join("; ");
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

/** A watch asked to resume from a version older than the history the server keeps. */
export class ExpiredError extends NavarchError {
  override name = "ExpiredError";
}
