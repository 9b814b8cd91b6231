// Our error classes as gRPC statuses. Every refusal names what was wrong; nothing is written.
//
// Every status message is bounded here, whatever produced it: the message travels in the
// grpc-message trailer, percent-encoded (up to 3 bytes per byte), and a trailer block larger than
// the client's HTTP/2 header list limit is not delivered - the client saw no status until its
// deadline, or the session was torn down under every other call on the channel (issue 11). Messages
// already quote input clipped (clip() in @navarch/api); this is the last line.
import * as grpc from "@grpc/grpc-js";
import {
  AlreadyExistsError,
  clipBytes,
  ConflictError,
  CorruptError,
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
  const details = clipBytes(err instanceof Error ? err.message : String(err));
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
    if (err instanceof CorruptError) return grpc.status.DATA_LOSS;
    return grpc.status.INTERNAL;
  })();
  if (code === grpc.status.INTERNAL) logger?.error({ err }, "internal error");
  return { code, details };
}
