// The DNS server of the cluster DNS: UDP and TCP on one address and port, answering names in the
// cluster domain from records.ts (authoritative) and forwarding the rest (or refusing them when
// there is no upstream). The wire format is dns-packet's; this file only frames and routes.
import type { LogSink as Logger } from "@navarch/config";
import packet, { type Answer, type DecodedPacket, type OptAnswer, type Packet } from "dns-packet";
import dgram from "node:dgram";
import net from "node:net";
import { withLength, type Forwarder } from "./forward.js";
import { resolve, type ClusterView } from "./records.js";

/** Without EDNS a UDP answer holds 512 bytes; with it, what the client offers up to 1232 (DNS flag day 2020). */
const UDP_PLAIN_LIMIT = 512;
const UDP_EDNS_LIMIT = 1232;
/** An idle TCP connection is closed after this long (RFC 7766 suggests seconds). */
const TCP_IDLE_MS = 10_000;

const RCODES = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
type Rcode = keyof typeof RCODES;

export interface DnsServerOptions {
  domain: string;
  view: ClusterView;
  /** Where names outside the domain go; absent: they are REFUSED. */
  forwarder?: Forwarder | undefined;
  logger: Logger;
}

export class DnsServer {
  /** Counters for tests and logs. */
  readonly stats = { answered: 0, forwarded: 0, refused: 0, failed: 0 };
  private udp: dgram.Socket | undefined;
  private tcp: net.Server | undefined;
  private readonly connections = new Set<net.Socket>();
  /** Where names outside the domain go; absent: they are REFUSED. */
  forwarder: Forwarder | undefined;
  /** The port it listens on (UDP and TCP), once listening. */
  port: number | undefined;

  constructor(private readonly o: DnsServerOptions) {
    this.forwarder = o.forwarder;
  }

  /** Listens on UDP and TCP `host:port`; port 0 picks one free for both. Returns the port. */
  async listen(host: string, port: number): Promise<number> {
    for (let attempt = 1; ; attempt++) {
      const tcp = await this.listenTcp(host, port);
      const bound = (tcp.address() as net.AddressInfo).port;
      try {
        this.udp = await this.listenUdp(host, bound);
        this.tcp = tcp;
        this.port = bound;
        return bound;
      } catch (err) {
        await new Promise((r) => tcp.close(r));
        // A random TCP port may be taken for UDP by someone else: try another one.
        if (port !== 0 || attempt >= 5 || (err as NodeJS.ErrnoException).code !== "EADDRINUSE") throw err;
      }
    }
  }

  async close(): Promise<void> {
    const udp = this.udp;
    const tcp = this.tcp;
    this.udp = undefined;
    this.tcp = undefined;
    this.port = undefined;
    for (const c of this.connections) c.destroy();
    await Promise.all([udp && new Promise<void>((r) => udp.close(() => r())), tcp && new Promise((r) => tcp.close(r))]);
  }

  /** The reply to one DNS message (undefined: none is due, e.g. for a response sent to us). */
  async answer(message: Buffer, transport: "udp" | "tcp"): Promise<Buffer | undefined> {
    let query: DecodedPacket & { opcode?: string };
    try {
      query = packet.decode(message);
    } catch {
      if (message.length < 12 || message[2]! & 0x80) return undefined;
      this.stats.failed++;
      return packet.encode({ type: "response", id: message.readUInt16BE(0), flags: RCODES.FORMERR });
    }
    if (query.type !== "query") return undefined;
    if (query.opcode !== "QUERY") return this.reply(query, "NOTIMP", transport);
    const question = query.questions?.length === 1 ? query.questions[0]! : undefined;
    if (!question) return this.reply(query, "FORMERR", transport);
    const resolution = question.class === undefined || question.class === "IN" || question.class === "ANY" ? resolve(question, this.o.view, this.o.domain) : undefined;
    if (!resolution) return this.reply(query, "REFUSED", transport);
    if (resolution.outside) {
      if (!this.forwarder) {
        this.stats.refused++;
        return this.reply(query, "REFUSED", transport);
      }
      const forwarded = await this.forwarder.forward(message, transport);
      if (forwarded) {
        this.stats.forwarded++;
        return forwarded;
      }
      this.stats.failed++;
      return this.reply(query, "SERVFAIL", transport);
    }
    this.stats.answered++;
    return this.reply(query, resolution.rcode, transport, resolution);
  }

  private reply(
    query: DecodedPacket,
    rcode: Rcode,
    transport: "udp" | "tcp",
    records: { answers: Answer[]; authorities: Answer[]; additionals: Answer[] } = { answers: [], authorities: [], additionals: [] },
  ): Buffer {
    const clientOpt = query.additionals?.find((a): a is OptAnswer => a.type === "OPT");
    const opt: Answer[] = clientOpt ? [{ type: "OPT", name: ".", udpPayloadSize: UDP_EDNS_LIMIT, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }] : [];
    let flags = (rcode === "NOERROR" || rcode === "NXDOMAIN" ? packet.AUTHORITATIVE_ANSWER : 0) | (query.flags! & packet.RECURSION_DESIRED) | RCODES[rcode];
    if (this.forwarder) flags |= packet.RECURSION_AVAILABLE;
    const response: Packet = {
      type: "response",
      id: query.id,
      flags,
      questions: query.questions,
      answers: records.answers,
      authorities: records.authorities,
      additionals: [...records.additionals, ...opt],
    };
    const encoded = packet.encode(response);
    const limit = clientOpt ? Math.max(UDP_PLAIN_LIMIT, Math.min(clientOpt.udpPayloadSize, UDP_EDNS_LIMIT)) : UDP_PLAIN_LIMIT;
    if (transport === "tcp" || encoded.length <= limit) return encoded;
    // Too big for UDP: say so and let the client ask again over TCP (RFC 2181 9).
    return packet.encode({ ...response, flags: flags | packet.TRUNCATED_RESPONSE, answers: [], authorities: [], additionals: opt });
  }

  private listenUdp(host: string, port: number): Promise<dgram.Socket> {
    return new Promise((resolveBound, reject) => {
      const socket = dgram.createSocket(net.isIPv6(host) ? "udp6" : "udp4");
      socket.once("error", reject);
      socket.bind(port, host, () => {
        socket.off("error", reject);
        socket.on("error", (err) => this.o.logger.warn({ err: String(err) }, "cluster DNS UDP socket error"));
        socket.on("message", (message, from) => {
          this.answer(message, "udp").then(
            (reply) => reply && socket.send(reply, from.port, from.address),
            (err: unknown) => this.o.logger.warn({ err: String(err) }, "cluster DNS could not answer a query"),
          );
        });
        resolveBound(socket);
      });
    });
  }

  private listenTcp(host: string, port: number): Promise<net.Server> {
    return new Promise((resolveBound, reject) => {
      const server = net.createServer((socket) => this.serveConnection(socket));
      server.once("error", reject);
      server.listen({ host, port, exclusive: true }, () => {
        server.off("error", reject);
        server.on("error", (err) => this.o.logger.warn({ err: String(err) }, "cluster DNS TCP listener error"));
        resolveBound(server);
      });
    });
  }

  /** Length-framed messages, answered one after the other; closed when idle. */
  private serveConnection(socket: net.Socket): void {
    this.connections.add(socket);
    socket.setTimeout(TCP_IDLE_MS, () => socket.destroy());
    socket.on("close", () => this.connections.delete(socket));
    socket.on("error", () => socket.destroy());
    let buffered = Buffer.alloc(0);
    let queue = Promise.resolve();
    socket.on("data", (chunk) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
        const message = buffered.subarray(2, 2 + buffered.readUInt16BE(0));
        buffered = buffered.subarray(2 + message.length);
        queue = queue
          .then(() => this.answer(message, "tcp"))
          .then((reply) => void (reply && !socket.destroyed && socket.write(withLength(reply))))
          .catch((err: unknown) => {
            this.o.logger.warn({ err: String(err) }, "cluster DNS could not answer a query");
            socket.destroy();
          });
      }
    });
  }
}
