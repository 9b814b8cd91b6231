// scripts/killall.sh (npm run killall) against the real Docker engine and nftables: it removes a
// node's pod and helper containers, its nftables table, the network it is told and the state, and
// nothing of another node's or anything without Navarch's labels. Scoped by --node / --network, as
// this host's Docker engine is shared with other clusters.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { ROOT } from "./cluster.js";
import { proxyTable } from "./testcontainers/leftovers.js";

const SCRIPT = path.join(ROOT, "scripts", "killall.sh");
const dockerUp = spawnSync("docker", ["info"], { stdio: "ignore" }).status === 0;
const NFT = ["/usr/sbin/nft", "/sbin/nft"].find((p) => existsSync(p));
const root = process.getuid?.() === 0;

// A dot in the node name: the table name must turn it into "_" as the service proxy does.
const NODE = `killall-${process.pid}.test`;
const OTHER = `killall-${process.pid}-other`;
const NETWORK = `navarch-killall-${process.pid}`;
const PLAIN = `plain-killall-${process.pid}`;
const IMAGE = "navarch/pause:1";

function docker(...args: string[]): string {
  const r = spawnSync("docker", args, { encoding: "utf8" });
  assert.equal(r.status, 0, `docker ${args.join(" ")}: ${r.stderr}`);
  return r.stdout.trim();
}
const exists = (kind: "container" | "network", name: string) => spawnSync("docker", [kind, "inspect", name], { stdio: "ignore" }).status === 0;
const hasTable = (name: string) => spawnSync(NFT!, ["list", "table", "ip", name], { stdio: "ignore" }).status === 0;

function killall(args: string[], home: string) {
  return spawnSync("bash", [SCRIPT, ...args], { encoding: "utf8", env: { ...process.env, NAVARCH_HOME: home } });
}

describe("scripts/killall.sh", { skip: dockerUp ? false : "Docker is not reachable" }, () => {
  const home = mkdtempSync(path.join(tmpdir(), "navarch-killall-"));
  const withNft = Boolean(NFT) && root;

  before(() => {
    const b = spawnSync("bash", [path.join(ROOT, "scripts/build-images.sh")], { encoding: "utf8" });
    assert.equal(b.status, 0, `build-images.sh failed:\n${b.stdout}${b.stderr}`);
  });

  after(() => {
    for (const c of [`${NETWORK}-pod`, `${NETWORK}-helper`, `${NETWORK}-keep`]) spawnSync("docker", ["rm", "-f", c], { stdio: "ignore" });
    for (const n of [NETWORK, PLAIN]) spawnSync("docker", ["network", "rm", n], { stdio: "ignore" });
    if (withNft) for (const t of [proxyTable(NODE), proxyTable(OTHER)]) spawnSync(NFT!, ["delete", "table", "ip", t], { stdio: "ignore" });
    rmSync(home, { recursive: true, force: true });
  });

  it("removes one node's containers, table, network and state; leaves another node's and unlabelled things", () => {
    docker("network", "create", "--label", "dev.navarch.managed=true", NETWORK);
    docker("network", "create", PLAIN);
    docker("run", "-d", "--name", `${NETWORK}-pod`, "--network", NETWORK, "--label", `navarch.node=${NODE}`, IMAGE);
    docker("run", "-d", "--name", `${NETWORK}-helper`, "--network", "none", "--label", `navarch.netfilter.owner=${NODE}`, IMAGE);
    docker("run", "-d", "--name", `${NETWORK}-keep`, "--network", "none", "--label", `navarch.node=${OTHER}`, IMAGE);
    if (withNft) for (const t of [proxyTable(NODE), proxyTable(OTHER)]) assert.equal(spawnSync(NFT!, ["add", "table", "ip", t]).status, 0);
    mkdirSync(path.join(home, "nats"), { recursive: true });
    mkdirSync(path.join(home, "logs"));
    mkdirSync(path.join(home, "tools", "bin"), { recursive: true });
    writeFileSync(path.join(home, "config"), "server: 127.0.0.1:1\n");
    writeFileSync(path.join(home, "tools", "bin", "nats"), "");

    // --dry-run removes nothing
    const dry = killall(["--node", NODE, "--network", NETWORK, "--state", "--dry-run"], home);
    if (withNft) assert.equal(dry.status, 0, dry.stderr);
    assert.match(dry.stdout, new RegExp(`would remove container ${NETWORK}-pod`));
    assert.ok(exists("container", `${NETWORK}-pod`) && exists("network", NETWORK) && existsSync(path.join(home, "config")));

    const r = killall(["--node", NODE, "--network", NETWORK, "--state"], home);
    if (withNft) assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
    assert.match(r.stdout, new RegExp(`removed container ${NETWORK}-pod`));
    assert.match(r.stdout, new RegExp(`removed container ${NETWORK}-helper`));
    assert.match(r.stdout, new RegExp(`removed network ${NETWORK}`));
    assert.equal(exists("container", `${NETWORK}-pod`), false);
    assert.equal(exists("container", `${NETWORK}-helper`), false);
    assert.equal(exists("network", NETWORK), false);
    assert.ok(exists("container", `${NETWORK}-keep`), "another node's container must stay");
    assert.ok(exists("network", PLAIN), "an unlabelled network must stay");
    assert.deepEqual(readdirSync(home), ["tools"], "--state keeps only tools/");
    if (withNft) {
      assert.match(r.stdout, new RegExp(`removed nftables table ip ${proxyTable(NODE)}`));
      assert.equal(hasTable(proxyTable(NODE)), false);
      assert.ok(hasTable(proxyTable(OTHER)), "another node's table must stay");
    }

    // Nothing left to remove: success, and it says nothing was removed.
    const again = killall(["--node", NODE, "--network", NETWORK], home);
    if (withNft) assert.equal(again.status, 0, `${again.stdout}${again.stderr}`);
    assert.doesNotMatch(again.stdout, /removed/);
  });

  it("refuses a network without Navarch's label, and bad arguments", () => {
    if (!exists("network", PLAIN)) docker("network", "create", PLAIN);
    const r = killall(["--node", NODE, "--network", PLAIN], home);
    assert.equal(r.status, 1);
    assert.match(r.stderr, new RegExp(`network ${PLAIN} has no label dev.navarch.managed=true: not Navarch's, left alone`));
    assert.ok(exists("network", PLAIN));

    const bad = killall(["--bogus"], home);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /unknown argument: --bogus/);
    assert.equal(killall(["--node"], home).status, 2);
  });
});
