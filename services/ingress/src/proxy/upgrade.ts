// Connection upgrades (WebSocket and the like), which ingress-nginx passes through by default:
// the upgrade request goes to one pod, and once the pod answers 101 the two connections are
// spliced together byte for byte. A pod that declines gets its answer relayed as is.
import http, { type IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { Backend } from "../routes/table.js";
import { addressKey } from "./balancer.js";
import { backendHeaders, clientHeaders, type ForwardOptions } from "./forward.js";

export function forwardUpgrade(req: IncomingMessage, client: Duplex, head: Buffer, backend: Backend, opts: ForwardOptions): void {
  const address = opts.balancer.pick(backend);
  if (!address) return refuse(client, 503);
  client.on("error", () => client.destroy());
  const headers = { ...backendHeaders(req), connection: "Upgrade", upgrade: req.headers.upgrade ?? "" };
  // A fresh connection (agent: false): an upgraded socket never goes back to a pool.
  const up = http.request({ host: address.ip, port: address.port, method: req.method, path: req.url, headers, agent: false });
  const connectTimer = setTimeout(() => up.destroy(new Error(`connect to ${addressKey(address)} timed out`)), opts.connectTimeoutMs);
  up.on("socket", (s) => s.once("connect", () => clearTimeout(connectTimer)));

  up.on("upgrade", (answer, pod, podHead) => {
    clearTimeout(connectTimer);
    client.write(statusLine(answer) + headerLines(answer.rawHeaders) + "\r\n");
    if (podHead.length > 0) client.write(podHead);
    if (head.length > 0) pod.write(head);
    pod.on("error", () => client.destroy());
    client.on("close", () => pod.destroy());
    pod.on("close", () => client.destroy());
    pod.pipe(client).pipe(pod);
  });
  up.on("response", (answer) => {
    clearTimeout(connectTimer);
    client.write(statusLine(answer) + headerLines(clientHeaders(answer)) + "connection: close\r\n\r\n");
    answer.pipe(client);
  });
  up.on("error", (err) => {
    clearTimeout(connectTimer);
    opts.logger.warn({ backend: backend.id, pod: addressKey(address), err: err.message }, "backend upgrade failed");
    refuse(client, 502);
  });
  up.end();
}

function statusLine(answer: IncomingMessage): string {
  return `HTTP/1.1 ${answer.statusCode} ${answer.statusMessage ?? ""}\r\n`;
}

function headerLines(raw: string[]): string {
  let text = "";
  for (let i = 0; i + 1 < raw.length; i += 2) text += `${raw[i]}: ${raw[i + 1]}\r\n`;
  return text;
}

export function refuse(client: Duplex, status: number): void {
  if (!client.writable) return void client.destroy();
  const body = `${status} ${http.STATUS_CODES[status] ?? ""}\n`;
  client.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ""}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
}
