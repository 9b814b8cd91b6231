// HostNetfilter on Docker: a long-lived helper container per owner (the node) that shares the
// host's network namespace, and `docker exec` of nft in it. The agent itself may run in a container
// of its own (the e2e cluster's nodes do) with no nft and no access to the host's namespace; the
// Docker engine it drives always has both, so the helper works the same wherever the agent runs.
//
// The helper (navarch/netfilter:1: static busybox + this machine's nft, built by
// scripts/build-images.sh, never pulled) gets CAP_NET_ADMIN and two writable bind mounts, the
// host's /proc/sys/net/ipv4/conf and /sys/devices/virtual/net, rather than --privileged: the
// service proxy needs nothing else, and --privileged fails where the engine's capability bounding
// set is not complete (seen on this machine: "unable to apply caps").
import type Docker from "dockerode";
import { setTimeout as sleep } from "node:timers/promises";
import { MANAGED_LABEL } from "./docker-client.js";
import { dockerError, statusOf } from "./docker-errors.js";
import { demux } from "./docker-streams.js";
import type { HostNetfilter, PodBridge } from "./host-netfilter.js";
import type { Logger } from "./logger.js";

export const NETFILTER_IMAGE = "navarch/netfilter:1";
/** On the helper container: whose it is. Not navarch.node, which marks pod containers an agent garbage-collects. */
export const NETFILTER_OWNER_LABEL = "navarch.netfilter.owner";

const IPV4_CONF = "/host/ipv4-conf";
const VIRTUAL_NET = "/host/virtual-net";
const EXEC_TIMEOUT_MS = 30_000;
const MAX_OUTPUT = 64 * 1024;

/** navarch-netfilter-<owner>, with anything Docker refuses in a name replaced. */
export function netfilterHelperName(owner: string): string {
  return `navarch-netfilter-${owner.replace(/[^a-zA-Z0-9_.-]/g, "-")}`;
}

export class DockerHostNetfilter implements HostNetfilter {
  private helper: Promise<string> | undefined;

  constructor(
    private readonly docker: Docker,
    private readonly owner: string,
    private readonly network: { name: string; ensure: () => Promise<string> },
    private readonly logger: Logger,
    /** More labels for the helper container (the cluster's id). */
    private readonly labels: Record<string, string> = {},
  ) {}

  async podBridge(): Promise<PodBridge> {
    const id = await this.network.ensure();
    let info: { Id: string; Options?: Record<string, string>; IPAM?: { Config?: { Subnet?: string }[] } };
    try {
      info = (await this.docker.getNetwork(id).inspect()) as typeof info;
    } catch (err) {
      throw dockerError(`inspect Docker network ${this.network.name}`, err);
    }
    // Docker names a bridge br-<first 12 of the id> unless the network sets its own name.
    const device = info.Options?.["com.docker.network.bridge.name"] || `br-${info.Id.slice(0, 12)}`;
    const subnet = info.IPAM?.Config?.find((c) => c.Subnet?.includes("."))?.Subnet ?? "";
    return { device, subnet };
  }

  async nft(script: string): Promise<void> {
    const { exitCode, output } = await this.run(["nft", "-f", "-"], script);
    if (exitCode !== 0) throw new Error(`nft -f - failed (exit ${exitCode}): ${output.trim()}`);
  }

  async configureBridge(device: string): Promise<void> {
    if (!/^[A-Za-z0-9_.-]+$/.test(device)) throw new Error(`not a network device name: "${device}"`);
    // The device is an argument ($1), never spliced into the script.
    const script =
      `echo 1 > ${IPV4_CONF}/"$1"/route_localnet || exit 1; ` +
      `for f in ${VIRTUAL_NET}/"$1"/brif/*/hairpin_mode; do [ -e "$f" ] && echo 1 > "$f"; done; exit 0`;
    const { exitCode, output } = await this.run(["sh", "-c", script, "sh", device]);
    if (exitCode !== 0) throw new Error(`configuring bridge ${device} failed (exit ${exitCode}): ${output.trim()}`);
  }

  async close(): Promise<void> {
    this.helper = undefined;
    try {
      await this.docker.getContainer(netfilterHelperName(this.owner)).remove({ force: true });
    } catch (err) {
      const status = statusOf(err);
      if (status === 404 || (status === 409 && /already in progress/i.test((err as Error).message ?? ""))) return;
      throw dockerError(`remove ${netfilterHelperName(this.owner)}`, err);
    }
  }

  /** Runs a command in the helper; a helper that vanished is made again once. */
  private async run(cmd: string[], input?: string): Promise<{ exitCode: number; output: string }> {
    for (let attempt = 1; ; attempt++) {
      const id = await this.ensureHelper();
      try {
        return await execWithInput(this.docker, id, cmd, input);
      } catch (err) {
        const status = statusOf(err);
        if (attempt === 1 && (status === 404 || status === 409)) {
          this.helper = undefined; // removed or stopped behind our back
          continue;
        }
        throw dockerError(`exec ${cmd[0]} in ${netfilterHelperName(this.owner)}`, err);
      }
    }
  }

  private ensureHelper(): Promise<string> {
    this.helper ??= this.startHelper().catch((err: unknown) => {
      this.helper = undefined;
      throw err;
    });
    return this.helper;
  }

  /** The running helper of the current image: reused when it exists, else (re)made. */
  private async startHelper(): Promise<string> {
    const name = netfilterHelperName(this.owner);
    let imageId: string;
    try {
      imageId = (await this.docker.getImage(NETFILTER_IMAGE).inspect()).Id;
    } catch (err) {
      if (statusOf(err) === 404) throw new Error(`image ${NETFILTER_IMAGE} is not present: run scripts/build-images.sh`, { cause: err });
      throw dockerError(`inspect image ${NETFILTER_IMAGE}`, err);
    }
    const existing = await this.docker
      .getContainer(name)
      .inspect()
      .catch((err: unknown) => {
        if (statusOf(err) === 404) return undefined;
        throw dockerError(`inspect ${name}`, err);
      });
    if (existing?.State.Running && existing.Image === imageId) return existing.Id;
    if (existing) await this.docker.getContainer(existing.Id).remove({ force: true }).catch(() => undefined);
    try {
      const container = await this.docker.createContainer({
        name,
        Image: NETFILTER_IMAGE,
        Labels: { ...this.labels, [NETFILTER_OWNER_LABEL]: this.owner, [MANAGED_LABEL]: "true" },
        HostConfig: {
          NetworkMode: "host",
          CapAdd: ["NET_ADMIN"],
          Binds: [`/proc/sys/net/ipv4/conf:${IPV4_CONF}`, `/sys/devices/virtual/net:${VIRTUAL_NET}`],
          RestartPolicy: { Name: "no" },
        },
      });
      await container.start();
      this.logger.info({ container: name }, "started the host netfilter helper");
      return container.id;
    } catch (err) {
      if (statusOf(err) === 409) {
        // Another call of ours (or a restarted agent) made it meanwhile: use that one.
        const again = await this.docker.getContainer(name).inspect();
        if (again.State.Running) return again.Id;
      }
      throw dockerError(`start ${name}`, err);
    }
  }
}

/** `docker exec` with `input` on stdin (closed after it), stdout and stderr together. */
async function execWithInput(docker: Docker, id: string, cmd: string[], input?: string): Promise<{ exitCode: number; output: string }> {
  const exec = await docker.getContainer(id).exec({ Cmd: cmd, AttachStdin: input !== undefined, AttachStdout: true, AttachStderr: true, Tty: false });
  const stream = (await exec.start({ hijack: true, stdin: input !== undefined })) as NodeJS.ReadWriteStream & { destroy(err?: Error): void };
  const timer = setTimeout(() => stream.destroy(new Error(`exec ${cmd[0]} timed out after ${EXEC_TIMEOUT_MS} ms`)), EXEC_TIMEOUT_MS);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    // Ending our side closes the process's stdin (Docker half-closes the hijacked connection).
    if (input !== undefined) stream.end(input);
    for await (const data of demux(stream as AsyncIterable<Buffer>, false)) {
      if (size < MAX_OUTPUT) chunks.push(data.subarray(0, MAX_OUTPUT - size));
      size += data.length;
    }
  } finally {
    clearTimeout(timer);
  }
  for (let i = 0; ; i++) {
    const info = await exec.inspect();
    if (!info.Running && info.ExitCode !== null) return { exitCode: info.ExitCode, output: Buffer.concat(chunks).toString("utf8") };
    if (i >= 100) throw new Error(`exec ${cmd[0]}: output ended but the daemon reports no exit code`);
    await sleep(10);
  }
}
