import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { KINDS, type Ingress } from "@navarch/api";
import { reconcile, statusEntry } from "./reconcile.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function ing(spec: Record<string, any>, lb: { ip?: string; hostname?: string }[] = [], meta: Record<string, any> = {}): Ingress {
  return KINDS.Ingress.codec.fromPartial({
    metadata: { name: "web", namespace: "default", resourceVersion: "7", ...meta },
    spec: { defaultBackend: { service: { name: "web", port: { number: 80 } } }, ...spec },
    status: { loadBalancer: { ingress: lb } },
  });
}

describe("status reconcile", () => {
  const cases: [string, Ingress | undefined, string, "none" | { ip?: string; hostname?: string }[]][] = [
    ["a served Ingress without status gets our address", ing({}), "127.0.0.1", [{ ip: "127.0.0.1", hostname: "" }]],
    ["a host name goes in hostname", ing({ ingressClassName: "navarch" }), "ingress.example", [{ ip: "", hostname: "ingress.example" }]],
    ["already ours: nothing to write", ing({}, [{ ip: "127.0.0.1" }]), "127.0.0.1", "none"],
    ["another address is replaced by ours", ing({}, [{ ip: "10.0.0.1" }]), "127.0.0.1", [{ ip: "127.0.0.1", hostname: "" }]],
    ["an Ingress we no longer serve loses our address", ing({ ingressClassName: "nginx" }, [{ ip: "127.0.0.1" }]), "127.0.0.1", []],
    ["another controller's address is its own", ing({ ingressClassName: "nginx" }, [{ ip: "10.0.0.1" }]), "127.0.0.1", "none"],
    ["not ours and no status: nothing", ing({ ingressClassName: "nginx" }), "127.0.0.1", "none"],
    ["a deleting Ingress is left alone", ing({}, [], { deletionTimestamp: "2024-01-01T00:00:00Z" }), "127.0.0.1", "none"],
    ["a gone Ingress: nothing", undefined, "127.0.0.1", "none"],
  ];
  for (const [name, obj, address, want] of cases) {
    it(name, () => {
      const plan = reconcile(obj, "navarch", address);
      if (want === "none") assert.equal(plan.type, "none");
      else {
        assert.equal(plan.type, "update");
        assert.deepEqual(plan.type === "update" && plan.loadBalancer, want.map((e) => ({ ip: "", hostname: "", ...e })));
      }
    });
  }

  it("statusEntry tells IPs (v4 and v6) from names", () => {
    assert.deepEqual(statusEntry("::1"), { ip: "::1", hostname: "" });
    assert.deepEqual(statusEntry("localhost"), { ip: "", hostname: "localhost" });
  });
});
