import assert from "node:assert/strict";
import { test } from "node:test";
import { parseWrk } from "./services-wrk.js";

const REPORT = `Running 3s test @ http://172.17.0.2:8080/
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     3.86ms   12.14ms 215.29ms   96.41%
    Req/Sec     1.89k     0.86k    4.13k    65.00%
  Latency Distribution
     50%  854.00us
     75%    2.60ms
     90%    6.94ms
     99%    1.02s
  11471 requests in 3.08s, 2.56MB read
  Socket errors: connect 0, read 3, write 0, timeout 2
  Non-2xx or 3xx responses: 4
Requests/sec:   3724.21
Transfer/sec:    851.04KB
`;

test("wrk's --latency report: rate, count, p50 and p99 in ms, errors", () => {
  assert.deepEqual(parseWrk(REPORT), { requestsPerSec: 3724.21, requests: 11471, p50Ms: 0.854, p99Ms: 1020, errors: 9 });
});

test("a report without errors has none; one without latency lines is refused", () => {
  const clean = REPORT.replace(/^\s+Socket errors.*\n/m, "").replace(/^\s+Non-2xx.*\n/m, "");
  assert.equal(parseWrk(clean).errors, 0);
  assert.throws(() => parseWrk(REPORT.replace(/^\s+99%.*\n/m, "")), /no 99% latency line/);
  assert.throws(() => parseWrk("wrk: unable to connect"), /Requests\/sec/);
});
