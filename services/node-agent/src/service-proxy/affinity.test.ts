import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { dealSlots, slotCount } from "./affinity.js";
import type { Backend } from "./reconcile.js";

const backends = (n: number): Backend[] => Array.from({ length: n }, (_, i) => ({ ip: `172.25.0.${i + 2}`, port: 8080 }));
const owners = (list: Backend[]) => dealSlots(list).map((i) => `${list[i]!.ip}:${list[i]!.port}`);

describe("session affinity slots", () => {
  test("256 slots, more when there are many endpoints", () => {
    assert.equal(slotCount(1), 256);
    assert.equal(slotCount(64), 256);
    assert.equal(slotCount(65), 512);
    assert.equal(slotCount(1000), 4096);
  });

  test("every endpoint gets a fair share of the slots", () => {
    for (const n of [2, 3, 5, 10]) {
      const counts = new Array<number>(n).fill(0);
      for (const i of dealSlots(backends(n))) counts[i]!++;
      const fair = 256 / n;
      for (const c of counts) assert.ok(c > fair * 0.5 && c < fair * 1.6, `n=${n}: shares ${counts.join(",")}`);
    }
  });

  test("the deal depends only on the endpoints, not on their order", () => {
    const list = backends(4);
    assert.deepEqual(owners(list), owners([...list].reverse()));
  });

  test("removing an endpoint moves only the clients it had", () => {
    const before = owners(backends(4));
    const gone = "172.25.0.3:8080";
    const after = owners(backends(4).filter((b) => `${b.ip}:${b.port}` !== gone));
    for (let slot = 0; slot < before.length; slot++) {
      if (before[slot] !== gone) assert.equal(after[slot], before[slot], `slot ${slot} moved`);
    }
  });

  test("adding an endpoint moves clients only to the new one", () => {
    const before = owners(backends(3));
    const after = owners(backends(4));
    let moved = 0;
    for (let slot = 0; slot < before.length; slot++) {
      if (after[slot] !== before[slot]) {
        assert.equal(after[slot], "172.25.0.5:8080");
        moved++;
      }
    }
    assert.ok(moved > 30 && moved < 100, `${moved} of 256 slots moved (about a quarter expected)`);
  });
});
