import { connect } from "node:net";

/** The INFO block a NATS server greets every client with (only the fields we look at are typed). */
export interface NatsServerInfo {
  server_id: string;
  server_name?: string;
  version: string;
  host: string;
  port: number;
  max_payload: number;
  jetstream?: boolean;
  [field: string]: unknown;
}

/**
 * Opens a plain TCP connection and reads the server's INFO line. This proves
 * the client port really accepts connections, and tells whether JetStream is
 * on, without needing a NATS client library.
 */
export function readServerInfo(host: string, port: number, timeoutMs = 5_000): Promise<NatsServerInfo> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    let buffered = "";
    const finish = (err: Error | undefined, info?: NatsServerInfo) => {
      socket.destroy();
      if (err) reject(err);
      else resolve(info!);
    };
    socket.setTimeout(timeoutMs, () => finish(new Error(`no INFO from ${host}:${port} within ${timeoutMs} ms`)));
    socket.on("error", (err) => finish(err));
    socket.on("data", (chunk) => {
      buffered += chunk.toString("utf8");
      const eol = buffered.indexOf("\r\n");
      if (eol < 0) return;
      const line = buffered.slice(0, eol);
      if (!line.startsWith("INFO ")) {
        finish(new Error(`expected INFO from ${host}:${port}, got ${JSON.stringify(line.slice(0, 80))}`));
        return;
      }
      try {
        finish(undefined, JSON.parse(line.slice("INFO ".length)) as NatsServerInfo);
      } catch (err) {
        finish(err as Error);
      }
    });
  });
}
