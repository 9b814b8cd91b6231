import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { consoleBlocks, shape, shapeDifference } from "./readme-blocks.js";

describe("README console blocks", () => {
  test("commands with their output lines, per block; other fences are not console blocks", () => {
    const md = ["text", "```console", "$ a --x", "out 1", "", "$ b", "```", "```sh", "$ not this", "```", "```console", "$ c", "```"].join("\n");
    const blocks = consoleBlocks(md);
    assert.equal(blocks.length, 2);
    assert.deepEqual(
      blocks[0]!.commands.map((c) => [c.command, c.expected, c.line]),
      [
        ["a --x", ["out 1", ""], 3],
        ["b", [], 6],
      ],
    );
    assert.equal(blocks[1]!.commands[0]!.command, "c");
  });

  test("ages, addresses, generated names, numbers and column widths are not part of the shape", () => {
    assert.equal(
      shape("pod/web-9576f844b-4m9kr   1/1     Running   0          8s    172.25.0.4   laptop"),
      shape("pod/web-695d89fb78-5p8gl  1/1  Running  0  2m3s  10.244.16.4  laptop"),
    );
    assert.notEqual(shape("NAME   STATUS"), shape("NAME   READY"));
    assert.notEqual(shape("configmap/game-config created"), shape("configmap/game-config unchanged"));
  });

  test("host names map to the README's as whole words only", () => {
    assert.equal(shape("Node: vm (Docker)", { vm: "laptop" }), "Node: laptop (Docker)");
    assert.equal(shape("vmware", { vm: "laptop" }), "vmware");
  });

  test("an expected ... line matches any run of lines, also none", () => {
    assert.equal(shapeDifference(["first", "...", "last"], ["first", "a", "b", "last"]), undefined);
    assert.equal(shapeDifference(["first", "...", "last"], ["first", "last"]), undefined);
    assert.match(shapeDifference(["first", "last"], ["first", "middle", "last"]) ?? "", /line 2/);
    assert.match(shapeDifference(["a"], ["a", "b"]) ?? "", /expected 1 lines, got 2/);
  });
});
