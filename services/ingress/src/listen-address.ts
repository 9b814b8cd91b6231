// NAVARCH_INGRESS_ADDR ("127.0.0.1:8080", "[::1]:8080", "0.0.0.0:8080", ":8080") and the address
// written to Ingress status for it.
export interface ListenAddress {
  host: string;
  port: number;
}

export function parseListenAddress(text: string): ListenAddress {
  const m = /^(?:\[([^\]]*)\]|([^:]*)):(\d{1,5})$/.exec(text.trim());
  const port = Number(m?.[3]);
  if (!m || port > 65535) throw new Error(`NAVARCH_INGRESS_ADDR: "${text}" is not host:port (e.g. 127.0.0.1:8080)`);
  return { host: m[1] ?? m[2] ?? "", port };
}

/** The listen host when it names one address; 127.0.0.1 when it listens on every address (or is "localhost"). */
export function defaultStatusAddress(host: string): string {
  return host === "" || host === "0.0.0.0" || host === "::" || host === "localhost" ? "127.0.0.1" : host;
}
