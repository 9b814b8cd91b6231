// keepAllocated: what an update that leaves out server-allocated fields keeps, and what a type
// change drops (pure; the claims themselves are tested against NATS in the integration test).
import { KINDS, type Service } from "@navarch/api";
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { keepAllocated } from "./service-addresses.js";

function svc(spec: Record<string, unknown>): Service {
  return KINDS.Service.codec.fromPartial({ apiVersion: "v1", kind: "Service", metadata: { name: "web", namespace: "default", uid: "u1" }, spec });
}

const stored = () =>
  svc({
    type: "NodePort",
    clusterIP: "10.96.3.4",
    clusterIPs: ["10.96.3.4"],
    ports: [
      { name: "http", port: 80, targetPort: "8080", protocol: "TCP", nodePort: 30080 },
      { name: "admin", port: 81, targetPort: "8081", protocol: "TCP", nodePort: 30081 },
    ],
  });

describe("keepAllocated", () => {
  test("an update without clusterIP and nodePorts keeps the allocated ones", () => {
    const next = svc({ type: "NodePort", ports: [{ name: "http", port: 80 }, { name: "admin", port: 81 }] });
    keepAllocated(next, stored());
    assert.equal(next.spec!.clusterIP, "10.96.3.4");
    assert.deepEqual(next.spec!.clusterIPs, ["10.96.3.4"]);
    assert.deepEqual(next.spec!.ports.map((p) => p.nodePort), [30080, 30081]);
  });

  test("node ports follow the port's name, not its position", () => {
    const next = svc({ type: "NodePort", ports: [{ name: "admin", port: 81 }, { name: "http", port: 80 }, { name: "new", port: 82 }] });
    keepAllocated(next, stored());
    assert.deepEqual(next.spec!.ports.map((p) => p.nodePort ?? 0), [30081, 30080, 0]);
  });

  test("a node port the new spec gives to another port is not patched in twice", () => {
    const next = svc({ type: "NodePort", ports: [{ name: "http", port: 80 }, { name: "admin", port: 81, nodePort: 30080 }] });
    keepAllocated(next, stored());
    assert.deepEqual(next.spec!.ports.map((p) => p.nodePort ?? 0), [0, 30080]);
  });

  test("NodePort -> ClusterIP drops the node ports the Service had", () => {
    const next = svc({ type: "ClusterIP", clusterIP: "10.96.3.4", ports: [{ name: "http", port: 80, nodePort: 30080 }, { name: "admin", port: 81 }] });
    keepAllocated(next, stored());
    assert.deepEqual(next.spec!.ports.map((p) => p.nodePort ?? 0), [0, 0]);
    assert.equal(next.spec!.clusterIP, "10.96.3.4");
  });

  test("-> ExternalName gives the cluster IP up", () => {
    const next = svc({ type: "ExternalName", externalName: "db.example.com", clusterIP: "10.96.3.4", clusterIPs: ["10.96.3.4"] });
    keepAllocated(next, stored());
    assert.equal(next.spec!.clusterIP, "");
    assert.deepEqual(next.spec!.clusterIPs, []);
  });

  test("a changed clusterIP is left for admission to refuse", () => {
    const next = svc({ type: "NodePort", clusterIP: "10.96.9.9", ports: [{ name: "http", port: 80 }] });
    keepAllocated(next, stored());
    assert.equal(next.spec!.clusterIP, "10.96.9.9");
  });
});
