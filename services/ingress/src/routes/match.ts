// Which backend a request goes to, as Kubernetes defines Ingress matching:
//   1. the host: a rule naming it exactly, else a "*.<rest>" rule whose <rest> is the host minus
//      its first label (a wildcard covers one label: *.foo.com takes bar.foo.com, not
//      baz.bar.foo.com nor foo.com), else the rules without a host. One host entry is chosen and
//      the others are not consulted (an nginx server block per host, as ingress-nginx has);
//   2. within it, the longest matching path; Exact beats Prefix of the same length. Prefix
//      matches by path elements: /foo matches /foo, /foo/ and /foo/bar, not /foobar; a trailing
//      slash in the rule's path is ignored;
//   3. else that host's defaultBackend, else the default backend; else nothing (404).
import type { Backend, HostRoutes, PathRoute, RouteTable } from "./table.js";

export interface Match {
  backend: Backend;
  /** The path rule that matched; absent when a default backend took the request. */
  route?: PathRoute | undefined;
}

export function lookup(table: RouteTable, host: string, path: string): Match | undefined {
  const routes = hostRoutes(table, host);
  if (routes) {
    const route = routes.paths.find((r) => pathMatches(r.pathType, r.path, path));
    if (route) return { backend: route.backend, route };
    if (routes.defaultBackend) return { backend: routes.defaultBackend };
  }
  return table.defaultBackend ? { backend: table.defaultBackend } : undefined;
}

export function hostRoutes(table: RouteTable, host: string): HostRoutes | undefined {
  const exact = table.exact.get(host);
  if (exact) return exact;
  const dot = host.indexOf(".");
  if (dot > 0) {
    const wild = table.wildcard.get(host.slice(dot + 1));
    if (wild) return wild;
  }
  return table.anyHost;
}

export function pathMatches(pathType: "Exact" | "Prefix", rulePath: string, path: string): boolean {
  if (pathType === "Exact") return path === rulePath;
  const prefix = rulePath.endsWith("/") ? rulePath.slice(0, -1) : rulePath;
  if (prefix === "") return true; // "/" matches every path
  return path === prefix || (path.startsWith(prefix) && path[prefix.length] === "/");
}

/**
 * The Host header as a rule host: lower case, without the port (IPv6 literals keep their
 * brackets, and no rule can name them: Ingress hosts are DNS names) and without a trailing dot.
 */
export function normalizeHost(header: string | undefined): string {
  let h = (header ?? "").trim().toLowerCase();
  if (h.startsWith("[")) {
    const end = h.indexOf("]");
    return end < 0 ? h : h.slice(0, end + 1);
  }
  const colon = h.indexOf(":");
  if (colon >= 0) h = h.slice(0, colon);
  return h.endsWith(".") ? h.slice(0, -1) : h;
}

/**
 * The request target's path as matching sees it (what nginx calls $uri): without the query,
 * percent-decoded, with repeated slashes merged and "." and ".." segments resolved, so
 * /public/../admin cannot slip past a rule for /admin. The request is forwarded as it came.
 */
export function normalizePath(target: string | undefined): string {
  let raw = target ?? "/";
  // An absolute-form target (a proxy request: GET http://host/path) carries its path after the authority.
  const scheme = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(raw);
  if (scheme) raw = raw.slice(scheme[0].length);
  const q = raw.search(/[?#]/);
  if (q >= 0) raw = raw.slice(0, q);
  let decoded = raw;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    // Malformed escapes: match on the path as sent.
  }
  const out: string[] = [];
  const parts = decoded.split("/");
  for (const part of parts) {
    if (part === "" || part === ".") continue;
    if (part === "..") out.pop();
    else out.push(part);
  }
  const trailing = parts.length > 1 && (parts.at(-1) === "" || parts.at(-1) === "." || parts.at(-1) === "..") && out.length > 0;
  return `/${out.join("/")}${trailing ? "/" : ""}`;
}
