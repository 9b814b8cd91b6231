import assert from "node:assert/strict";
import { test } from "node:test";
import { eventDue } from "./unschedulable-reporter.js";

test("FailedScheduling events: the first at once, a new message after 10 s, the same one after a minute", () => {
  const last = { message: "0/3 nodes are available: 3 Insufficient cpu.", at: 100_000 };
  const rows: [what: string, message: string, now: number, want: boolean][] = [
    ["same message, 5 s later", last.message, 105_000, false],
    ["same message, 59 s later", last.message, 159_000, false],
    ["same message, a minute later", last.message, 160_000, true],
    ["new message, 5 s later", "0/4 nodes are available: 4 Insufficient cpu.", 105_000, false],
    ["new message, 10 s later", "0/4 nodes are available: 4 Insufficient cpu.", 110_000, true],
  ];
  assert.equal(eventDue(undefined, last.message, 0, 60_000, 10_000), true);
  for (const [what, message, now, want] of rows) assert.equal(eventDue(last, message, now, 60_000, 10_000), want, what);
});
