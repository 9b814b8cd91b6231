// The rendered tables must be scripts the kernel's nft accepts: `nft -c` (check only: nothing is
// committed, the host's netfilter is not changed) on every shape the table tests render. Needs
// nft and CAP_NET_ADMIN; skipped without them.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { describe, test } from "node:test";
import { reconcile, removalScript } from "./reconcile.js";
import { endpoints, lookup, service } from "./testing.js";

const NFT = ["/usr/sbin/nft", "/sbin/nft"].find((p) => existsSync(p));
const canCheck = NFT !== undefined && process.getuid?.() === 0;

function check(script: string): void {
  const r = spawnSync(NFT!, ["-c", "-f", "-"], { input: script, encoding: "utf8", timeout: 30_000 });
  assert.equal(r.status, 0, `nft -c refused the script:\n${r.stderr}\n--- script ---\n${script}`);
}

const ready = (n: number) => Array.from({ length: n }, (_, i) => `172.25.${Math.floor(i / 250)}.${(i % 250) + 2}`);

describe("service proxy ruleset against nft", { skip: canCheck ? false : "needs nft and root" }, () => {
  test("an empty table", () => {
    check(reconcile([], lookup([]), { name: "check-empty", podBridge: "br-0123456789ab", address: "127.0.0.1" }).script);
  });

  test("every kind of service port, on a loopback and on a routable node address", () => {
    const services = [
      service("default", "web", { clusterIP: "10.96.0.10", ports: [{ name: "http", port: 80 }] }),
      service("default", "one", { clusterIP: "10.96.0.11", ports: [{ port: 8080 }] }),
      service("default", "sticky", { clusterIP: "10.96.0.12", sessionAffinity: "ClientIP", type: "NodePort", ports: [{ name: "http", port: 80, nodePort: 30080 }] }),
      service("default", "empty", { clusterIP: "10.96.0.13", type: "NodePort", ports: [{ port: 80, nodePort: 30081 }, { name: "dns", port: 53, protocol: "UDP", nodePort: 30053 }] }),
      service("kube-system", "dns", { clusterIP: "10.96.0.14", ports: [{ name: "dns", port: 53, protocol: "UDP" }, { name: "dns-tcp", port: 53 }, { name: "sctp", port: 9, protocol: "SCTP" }] }),
      service("default", "big", { clusterIP: "10.96.0.15", sessionAffinity: "ClientIP", ports: [{ port: 80 }] }),
      service("default", "peers", { clusterIP: "None", ports: [{ port: 80 }] }),
    ];
    const eps = [
      endpoints("default", "web", [{ ready: ready(3), ports: [{ name: "http", port: 8080 }] }]),
      endpoints("default", "one", [{ ready: ready(1), ports: [{ port: 8080 }] }]),
      endpoints("default", "sticky", [{ ready: ready(2), ports: [{ name: "http", port: 8080 }] }]),
      endpoints("kube-system", "dns", [{ ready: ready(2), ports: [{ name: "dns", port: 53, protocol: "UDP" }, { name: "dns-tcp", port: 53 }, { name: "sctp", port: 9, protocol: "SCTP" }] }]),
      endpoints("default", "big", [{ ready: ready(300), ports: [{ port: 80 }] }]),
    ];
    for (const address of ["127.0.0.1", "10.0.0.5"]) {
      const plan = reconcile(services, lookup(eps), { name: "check.node-1", podBridge: "br-0123456789ab", address });
      assert.deepEqual(plan.skipped, []);
      check(plan.script);
    }
  });

  test("the removal script", () => {
    check(removalScript("check-node"));
  });
});
