import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as grpc from "@grpc/grpc-js";
import { KINDS, type KindInfo, type KubeObject } from "@navarch/api";
import { ApiError, grpcErrorMessage } from "../connection.js";
import type { DecodedManifest } from "../manifests.js";
import { applyErrorLines, splitFieldErrors } from "./apply.js";

const info = KINDS.Deployment as unknown as KindInfo;
const m: DecodedManifest = { source: "app/web.yaml", info, object: { metadata: { name: "web", namespace: "team" } } as KubeObject };
const apiError = (code: grpc.status, details: string) =>
  new ApiError(grpcErrorMessage({ code, details }, { server: "127.0.0.1:6443", info, name: "web", namesExisting: true }), code, details);

describe("applyErrorLines", () => {
  it("gives one line per field error of the gateway's INVALID_ARGUMENT", () => {
    const err = apiError(grpc.status.INVALID_ARGUMENT, 'spec.selector: Invalid value: {"app":"x"}: field is immutable; spec.replicas: Invalid value: -1: must be greater than or equal to 0');
    assert.deepEqual(applyErrorLines(m, err), [
      'app/web.yaml: Deployment/web: spec.selector: Invalid value: {"app":"x"}: field is immutable',
      "app/web.yaml: Deployment/web: spec.replicas: Invalid value: -1: must be greater than or equal to 0",
    ]);
  });

  it("names metadata.namespace for a missing or terminating namespace", () => {
    const missing = new ApiError('namespaces "team" not found', grpc.status.NOT_FOUND, 'namespaces "team" not found');
    assert.deepEqual(applyErrorLines(m, missing), ['app/web.yaml: Deployment/web: metadata.namespace: namespaces "team" not found']);
    const terminating = apiError(grpc.status.FAILED_PRECONDITION, "unable to create new content in namespace team because it is being terminated");
    assert.deepEqual(applyErrorLines(m, terminating), [
      "app/web.yaml: Deployment/web: metadata.namespace: unable to create new content in namespace team because it is being terminated",
    ]);
  });

  it("names metadata.resourceVersion for a conflict, and the object for a refusal without a field", () => {
    assert.deepEqual(applyErrorLines(m, apiError(grpc.status.ABORTED, "the object has been modified")), [
      'app/web.yaml: Deployment/web: metadata.resourceVersion: Operation cannot be fulfilled on deployments.apps "web": the object has been modified',
    ]);
    assert.deepEqual(applyErrorLines(m, apiError(grpc.status.PERMISSION_DENIED, "not allowed")), ["app/web.yaml: Deployment/web: forbidden: not allowed"]);
    assert.deepEqual(applyErrorLines(m, new Error("boom\nstack")), ["app/web.yaml: Deployment/web: boom"]);
  });
});

describe("splitFieldErrors", () => {
  it("splits only where a field path follows", () => {
    assert.deepEqual(splitFieldErrors("a.b[0].c: x; d: y"), ["a.b[0].c: x", "d: y"]);
    assert.deepEqual(splitFieldErrors("metadata.annotations[example.com/a-b]: too long; spec: z"), ["metadata.annotations[example.com/a-b]: too long", "spec: z"]);
    assert.deepEqual(splitFieldErrors("spec.x: Invalid value: \"a; b c\": bad"), ['spec.x: Invalid value: "a; b c": bad']);
  });
});
