// The api-gateway as its own process (dist/main.js) against a real nats-server, for tests that
// kill it (kill -9), watch it for an exit, or measure its memory. Its bound port stays the same
// across restarts, so clients reconnect to the new process as they would in production.
import * as grpc from "@grpc/grpc-js";
import { KINDS } from "@navarch/api";
import { clientConfigPath, readClientConfig } from "@navarch/config";
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

const MAIN = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "main.js");

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

export class GatewayProcess {
  private child: ChildProcess | undefined;
  /** Exits nobody asked for (kill() is asking). */
  readonly unexpectedExits: { code: number | null; signal: NodeJS.Signals | null }[] = [];
  stderr = "";
  token = "";

  private constructor(
    readonly address: string,
    private readonly env: NodeJS.ProcessEnv,
    readonly home: string,
  ) {}

  static async start(natsUrl: string, home: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<GatewayProcess> {
    const address = `127.0.0.1:${await freePort()}`;
    const env = { ...process.env, NAVARCH_NATS_URL: natsUrl, NAVARCH_API_ADDR: address, NAVARCH_HOME: home, NAVARCH_LOG_LEVEL: "warn", ...extraEnv };
    const gw = new GatewayProcess(address, env, home);
    await gw.restart();
    return gw;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts the process and resolves once it serves (a Get of the default namespace succeeds). */
  async restart(): Promise<void> {
    const child = spawn(process.execPath, [MAIN], { env: this.env, stdio: ["ignore", "ignore", "pipe"] });
    this.child = child;
    // A test runner that dies must not leave gateways behind on a shared machine.
    const reap = () => child.kill("SIGKILL");
    process.once("exit", reap);
    child.once("exit", () => process.off("exit", reap));
    child.stderr!.on("data", (d: Buffer) => {
      // Keep the tail only: a test may print it when something went wrong.
      this.stderr = (this.stderr + d.toString()).slice(-20_000);
    });
    child.on("exit", (code, signal) => {
      if (!(child as { killedOnPurpose?: boolean }).killedOnPurpose) this.unexpectedExits.push({ code, signal });
    });
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (!this.running) throw new Error(`the gateway exited while starting: ${this.stderr}`);
      if (fs.existsSync(clientConfigPath(this.home))) {
        this.token = readClientConfig(clientConfigPath(this.home)).token;
        if (await this.serving()) return;
      }
      if (Date.now() > deadline) throw new Error(`the gateway did not serve within 30 s: ${this.stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  metadata(): grpc.Metadata {
    const md = new grpc.Metadata();
    md.set("authorization", `Bearer ${this.token}`);
    return md;
  }

  private async serving(): Promise<boolean> {
    const client = new KINDS.Namespace.client(this.address, grpc.credentials.createInsecure());
    try {
      return await new Promise<boolean>((resolve) =>
        client.get({ name: "default", namespace: "" }, this.metadata(), { deadline: Date.now() + 2_000 }, (err: grpc.ServiceError | null) => resolve(!err)),
      );
    } finally {
      client.close();
    }
  }

  /** Sends `signal` (SIGKILL: kill -9) and waits for the exit. */
  async kill(signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    (child as { killedOnPurpose?: boolean }).killedOnPurpose = true;
    const exited = new Promise<void>((r) => child.once("exit", () => r()));
    child.kill(signal);
    await exited;
  }

  /** Resident memory of the process, in bytes (Linux /proc). */
  rssBytes(): number {
    const status = fs.readFileSync(`/proc/${this.child!.pid}/status`, "utf8");
    const kb = /VmRSS:\s+(\d+) kB/.exec(status);
    return kb ? Number(kb[1]) * 1024 : 0;
  }
}
