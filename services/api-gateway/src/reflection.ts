// gRPC server reflection from the descriptors ts-proto embedded in the generated code, so
// grpcurl and friends can list and call the API without the .proto files at hand.
import { loadFileDescriptorSetFromBuffer } from "@grpc/proto-loader";
import { ReflectionService } from "@grpc/reflection";
import type * as grpc from "@grpc/grpc-js";
import { apiProtoMetadata } from "@navarch/api";
import { FileDescriptorProto, FileDescriptorSet } from "ts-proto-descriptors";

interface Meta {
  fileDescriptor: FileDescriptorProto;
  dependencies?: Meta[];
}

function collect(meta: Meta, out: Map<string, FileDescriptorProto>): void {
  for (const dep of meta.dependencies ?? []) collect(dep, out);
  out.set(meta.fileDescriptor.name, meta.fileDescriptor);
}

export function addReflection(server: grpc.Server): void {
  const files = new Map<string, FileDescriptorProto>();
  collect(apiProtoMetadata as unknown as Meta, files);
  const set = FileDescriptorSet.encode(FileDescriptorSet.fromPartial({ file: [...files.values()] })).finish();
  new ReflectionService(loadFileDescriptorSetFromBuffer(Buffer.from(set))).addToServer(server);
}
