// Our error classes as gRPC statuses. Every refusal names what was wrong; nothing is written.
import * as grpc from "@grpc/grpc-js";
import {
  AlreadyExistsError,
  ConflictError,
  ExpiredError,
  InvalidError,
  NotFoundError,
  PermissionDeniedError,
  PreconditionError,
  TransientError,
  UnauthenticatedError,
} from "@navarch/api";
import type { Logger } from "@navarch/config";

export function toStatus(err: unknown, logger?: Logger): Partial<grpc.StatusObject> {
  const details = err instanceof Error ? err.message : String(err);
  const code = (() => {
    if (err instanceof InvalidError) return grpc.status.INVALID_ARGUMENT;
    if (err instanceof NotFoundError) return grpc.status.NOT_FOUND;
    if (err instanceof AlreadyExistsError) return grpc.status.ALREADY_EXISTS;
    if (err instanceof ConflictError) return grpc.status.ABORTED;
    if (err instanceof PreconditionError) return grpc.status.FAILED_PRECONDITION;
    if (err instanceof UnauthenticatedError) return grpc.status.UNAUTHENTICATED;
    if (err instanceof PermissionDeniedError) return grpc.status.PERMISSION_DENIED;
    if (err instanceof ExpiredError) return grpc.status.OUT_OF_RANGE;
    if (err instanceof TransientError) return grpc.status.UNAVAILABLE;
    return grpc.status.INTERNAL;
  })();
  if (code === grpc.status.INTERNAL) logger?.error({ err }, "internal error");
  return { code, details };
}
