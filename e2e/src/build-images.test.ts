// scripts/build-images.sh must fail loudly: a host binary an image needs (navarch/netfilter:1 gets
// this machine's nft) that is missing stops it with a non-zero exit and the binary's name. It used
// to `die` inside a command substitution, build the image without nft and call it up to date after.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";
import { ROOT } from "./cluster.js";

const dockerUp = spawnSync("docker", ["info"], { stdio: "ignore" }).status === 0;
const imageId = (tag: string) => spawnSync("docker", ["image", "inspect", "-f", "{{.Id}}", tag], { encoding: "utf8" }).stdout.trim();

describe("scripts/build-images.sh", { skip: dockerUp ? false : "Docker is not reachable" }, () => {
  // A copy of the script and images/ whose netfilter image lists a binary this machine lacks.
  const copy = mkdtempSync(path.join(tmpdir(), "navarch-build-images-"));
  after(() => rmSync(copy, { recursive: true, force: true }));

  it("stops with the name of a missing host binary and builds nothing without it", () => {
    mkdirSync(path.join(copy, "scripts"));
    cpSync(path.join(ROOT, "scripts", "build-images.sh"), path.join(copy, "scripts", "build-images.sh"));
    cpSync(path.join(ROOT, "images"), path.join(copy, "images"), { recursive: true });
    const missing = "/usr/sbin/nft-not-installed";
    writeFileSync(path.join(copy, "images", "netfilter", "host-binaries"), `${missing}\n`);
    const before = imageId("navarch/netfilter:1");

    for (let run = 1; run <= 2; run++) {
      const r = spawnSync("bash", [path.join(copy, "scripts", "build-images.sh")], { encoding: "utf8" });
      assert.equal(r.status, 1, `run ${run}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, new RegExp(`${missing} \\(listed in .*/images/netfilter/host-binaries\\) not found`));
      assert.doesNotMatch(r.stdout, /navarch\/netfilter:1/, `run ${run} must neither build nor call it up to date`);
    }
    assert.equal(imageId("navarch/netfilter:1"), before);
  });
});
