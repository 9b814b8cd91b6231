import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseResourceArgs } from "./get.js";

const show = (args: string[]) => parseResourceArgs(args).map((s) => `${s.info.kind}:${s.names.join("+")}`);

describe("parseResourceArgs", () => {
  it("takes kinds by plural, singular, short name, kind and group", () => {
    assert.deepEqual(show(["cm"]), ["ConfigMap:"]);
    assert.deepEqual(show(["ConfigMap", "a", "b"]), ["ConfigMap:a+b"]);
    assert.deepEqual(show(["deployments.apps", "web"]), ["Deployment:web"]);
    assert.deepEqual(show(["cm,secrets,po"]), ["ConfigMap:", "Secret:", "Pod:"]);
    assert.deepEqual(show(["all"]), ["Pod:", "Service:", "DaemonSet:", "Deployment:", "ReplicaSet:", "Job:"]);
  });
  it("takes KIND/NAME pairs", () => {
    assert.deepEqual(show(["cm/a", "deploy/web", "configmap/b"]), ["ConfigMap:a+b", "Deployment:web"]);
  });
  it("refuses unknown kinds and missing kinds as kubectl does", () => {
    assert.throws(() => show(["foo"]), /^CliError: the server doesn't have a resource type "foo"$/);
    assert.throws(() => show([]), /You must specify the type of resource to get/);
    assert.throws(() => show(["cm", "cm/x"]), /there is no need to specify a resource type as a separate argument/);
  });
});
