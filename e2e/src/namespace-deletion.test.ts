// Deleting a namespace through navctl deletes what is in it, and only that (the gateway marks it
// Terminating, the namespace controller empties and then deletes it).
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { cleanup, navctl, sleep, startLocalCluster } from "./cluster.js";

after(cleanup);

const MANIFESTS = `apiVersion: v1
kind: Namespace
metadata:
  name: team-a
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: team-a
data:
  mode: fast
---
apiVersion: v1
kind: Secret
metadata:
  name: creds
  namespace: team-a
stringData:
  password: hunter2
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: default
data:
  mode: slow
`;

describe("namespace deletion", () => {
  it("navctl delete ns removes its contents, then the namespace; other namespaces keep theirs", async () => {
    const cluster = await startLocalCluster();
    const home = cluster.home;
    const applied = await navctl(["apply", "-f", "-"], { home, input: MANIFESTS });
    assert.equal(applied.code, 0, applied.stderr);
    assert.match(applied.stdout, /namespace\/team-a created/);

    const deleted = await navctl(["delete", "namespace", "team-a", "--wait=false"], { home });
    assert.equal(deleted.code, 0, deleted.stderr);
    let gone = false;
    for (let i = 0; i < 100 && !gone; i++) {
      const r = await navctl(["get", "ns", "team-a"], { home });
      gone = r.code === 1 && /namespaces "team-a" not found/.test(r.stderr);
      if (!gone) await sleep(100);
    }
    assert.ok(gone, "team-a was not deleted within 10 s");
    const leftovers = await navctl(["get", "cm,secrets", "-n", "team-a", "-o", "name"], { home });
    assert.equal(leftovers.stdout.trim(), "", `left in team-a: ${leftovers.stdout}`);
    const other = await navctl(["get", "cm", "settings", "-n", "default", "-o", "json"], { home });
    assert.equal(other.code, 0, other.stderr);
    assert.equal(JSON.parse(other.stdout).data.mode, "slow");
    const refused = await navctl(["delete", "ns", "default"], { home });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /may not be deleted/);
    await cluster.stop();
  });
});
