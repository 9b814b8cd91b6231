// Names outside the cluster domain go to the node's own resolvers, as CoreDNS' `forward . 
// /etc/resolv.conf` does in Kubernetes: a pod of dnsPolicy ClusterFirst has only the cluster DNS
// in its resolv.conf and would otherwise resolve nothing else. The query's bytes are relayed
// unchanged over the transport the client used (a truncated UDP answer makes the client come back
// over TCP, and that is forwarded over TCP), each on a fresh socket, so concurrent queries with
// equal IDs never mix.
import dgram from "node:dgram";
import net from "node:net";

export interface Upstream {
  host: string;
  port: number;
}

/** The nameserver lines of a resolv.conf. */
export function nameserversOf(resolvConf: string): string[] {
  const out: string[] = [];
  for (const line of resolvConf.split("\n")) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (m && net.isIP(m[1]!.replace(/%.*$/, ""))) out.push(m[1]!.replace(/%.*$/, ""));
  }
  return out;
}

/** "10.0.0.2", "127.0.0.1:5353", "[::1]:53" -> upstreams (port 53 when none is given). */
export function parseUpstreams(list: string[]): Upstream[] {
  return list.map((entry) => {
    const s = entry.trim();
    const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
    const v4 = /^([^:]+)(?::(\d+))?$/.exec(s);
    const [host, port] = v6 ? [v6[1]!, v6[2]] : v4 ? [v4[1]!, v4[2]] : [s, undefined];
    if (!net.isIP(host)) throw new Error(`not an IP address: "${entry}"`);
    const n = port === undefined ? 53 : Number(port);
    if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`not a port: "${entry}"`);
    return { host, port: n };
  });
}

export class Forwarder {
  constructor(
    readonly upstreams: Upstream[],
    private readonly timeoutMs = 2_000,
  ) {}

  /** The upstreams' answer, tried in order; undefined when none answered in time. */
  async forward(query: Buffer, transport: "udp" | "tcp"): Promise<Buffer | undefined> {
    for (const upstream of this.upstreams) {
      try {
        const reply = transport === "udp" ? await this.udp(upstream, query) : await this.tcp(upstream, query);
        if (reply) return reply;
      } catch {
        // refused, unreachable: the next one
      }
    }
    return undefined;
  }

  private udp(upstream: Upstream, query: Buffer): Promise<Buffer | undefined> {
    return new Promise((resolve, reject) => {
      const socket = dgram.createSocket(net.isIPv6(upstream.host) ? "udp6" : "udp4");
      const done = (err: Error | undefined, reply?: Buffer) => {
        clearTimeout(timer);
        socket.close();
        if (err) reject(err);
        else resolve(reply);
      };
      const timer = setTimeout(() => done(undefined), this.timeoutMs);
      socket.on("error", (err) => done(err));
      socket.on("message", (reply, from) => {
        // Only the upstream's answer to this very query (same ID) counts.
        if (from.address === upstream.host && from.port === upstream.port && reply.length >= 2 && reply.readUInt16BE(0) === query.readUInt16BE(0)) {
          done(undefined, reply);
        }
      });
      socket.send(query, upstream.port, upstream.host, (err) => err && done(err));
    });
  }

  private tcp(upstream: Upstream, query: Buffer): Promise<Buffer | undefined> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: upstream.host, port: upstream.port });
      let buffered = Buffer.alloc(0);
      const done = (err: Error | undefined, reply?: Buffer) => {
        clearTimeout(timer);
        socket.destroy();
        if (err) reject(err);
        else resolve(reply);
      };
      const timer = setTimeout(() => done(undefined), this.timeoutMs);
      socket.on("error", (err) => done(err));
      socket.on("connect", () => socket.write(withLength(query)));
      socket.on("data", (chunk) => {
        buffered = Buffer.concat([buffered, chunk]);
        if (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) done(undefined, buffered.subarray(2, 2 + buffered.readUInt16BE(0)));
      });
      socket.on("end", () => done(undefined));
    });
  }
}

/** DNS over TCP frames each message with its length (RFC 1035 4.2.2). */
export function withLength(message: Buffer): Buffer {
  const length = Buffer.alloc(2);
  length.writeUInt16BE(message.length);
  return Buffer.concat([length, message]);
}
