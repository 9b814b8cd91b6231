import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { nameserversOf, parseUpstreams } from "./forward.js";

describe("upstream resolvers", () => {
  test("the nameservers of a resolv.conf", () => {
    const conf = "# generated\nsearch example.com\nnameserver 10.255.255.53\nnameserver fe80::1%eth0\n nameserver 127.0.0.11\noptions ndots:0\nnameserver bogus\n";
    assert.deepEqual(nameserversOf(conf), ["10.255.255.53", "fe80::1", "127.0.0.11"]);
  });

  test("upstreams with and without ports", () => {
    assert.deepEqual(parseUpstreams(["10.0.0.2", "127.0.0.1:5353", "[::1]:53", "[fd00::1]"]), [
      { host: "10.0.0.2", port: 53 },
      { host: "127.0.0.1", port: 5353 },
      { host: "::1", port: 53 },
      { host: "fd00::1", port: 53 },
    ]);
    assert.throws(() => parseUpstreams(["dns.example.com"]), /not an IP address/);
    assert.throws(() => parseUpstreams(["10.0.0.2:99999"]), /not a port/);
  });
});
