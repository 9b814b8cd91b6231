// Syntax of values shared by several kinds: port numbers and names, IPv4 addresses, config keys.
// Each check returns why the value is wrong, or undefined, like the name checks of @navarch/api.

export const PROTOCOLS = ["TCP", "UDP", "SCTP"] as const;

export function checkPortNumber(port: number): string | undefined {
  return Number.isInteger(port) && port >= 1 && port <= 65535 ? undefined : "must be between 1 and 65535, inclusive";
}

/** IANA_SVC_NAME (RFC 6335): what a named container port or a service targetPort name must be. */
export function checkPortName(name: string): string | undefined {
  if (name.length > 15) return "must be no more than 15 characters";
  if (!/^[-a-z0-9]+$/.test(name)) return "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)";
  if (!/[a-z]/.test(name)) return "must contain at least one letter (a-z)";
  if (name.includes("--")) return "must not contain consecutive hyphens";
  if (name.startsWith("-") || name.endsWith("-")) return "must not begin or end with a hyphen";
  return undefined;
}

/**
 * An IntOrString port as stored here ("8080" or "http"): a number 1..65535 or an IANA_SVC_NAME.
 * Returns the number when it is one, so callers can resolve names themselves.
 */
export function parsePortNumOrName(value: string): { port?: number; name?: string; error?: string } {
  if (/^-?\d+$/.test(value)) {
    const port = Number(value);
    const error = checkPortNumber(port);
    return error ? { error } : { port };
  }
  const error = checkPortName(value);
  return error ? { error } : { name: value };
}

export function isIPv4(value: string): boolean {
  const parts = value.split(".");
  return parts.length === 4 && parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255);
}

export function checkIPv4(value: string): string | undefined {
  return isIPv4(value) ? undefined : "must be a valid IPv4 address, (e.g. 10.9.8.7)";
}

export function checkIPv4Cidr(value: string): string | undefined {
  const [ip = "", bits, ...rest] = value.split("/");
  const ok = rest.length === 0 && bits !== undefined && /^\d{1,2}$/.test(bits) && Number(bits) <= 32 && isIPv4(ip);
  return ok ? undefined : "must be a valid CIDR value, (e.g. 10.9.8.0/24)";
}

/** Keys of ConfigMap and Secret data: they become file names in volumes and env var names. */
export function checkConfigKey(value: string): string | undefined {
  if (value.length > 253) return "must be no more than 253 characters";
  if (!/^[-._a-zA-Z0-9]+$/.test(value)) return "a valid config key must consist of alphanumeric characters, '-', '_' or '.'";
  if (value === ".") return "must not be '.'";
  if (value === "..") return "must not be '..'";
  if (value.startsWith("..")) return "must not start with '..'";
  return undefined;
}

/** A relative file path inside a volume: not absolute and never climbing out with "..". */
export function checkRelativePath(value: string): string | undefined {
  if (value.startsWith("/")) return "must be a relative path";
  if (value.split("/").includes("..")) return "must not contain '..'";
  return undefined;
}
