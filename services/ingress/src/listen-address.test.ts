import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { defaultStatusAddress, parseListenAddress } from "./listen-address.js";

describe("NAVARCH_INGRESS_ADDR", () => {
  it("parses host:port, [v6]:port and :port", () => {
    assert.deepEqual(parseListenAddress("127.0.0.1:8080"), { host: "127.0.0.1", port: 8080 });
    assert.deepEqual(parseListenAddress("[::1]:80"), { host: "::1", port: 80 });
    assert.deepEqual(parseListenAddress(":0"), { host: "", port: 0 });
    assert.deepEqual(parseListenAddress("localhost:8080"), { host: "localhost", port: 8080 });
  });
  it("refuses what is not host:port", () => {
    for (const bad of ["8080", "127.0.0.1", "127.0.0.1:99999", "host:port", "::1:80"]) assert.throws(() => parseListenAddress(bad), /not host:port/, bad);
  });
  it("writes the listen host to status, 127.0.0.1 for every-address listeners", () => {
    assert.equal(defaultStatusAddress("10.1.2.3"), "10.1.2.3");
    for (const any of ["", "0.0.0.0", "::", "localhost"]) assert.equal(defaultStatusAddress(any), "127.0.0.1");
  });
});
