// The hostile requests of the fuzz suite, as raw protobuf frames: malformed bytes, huge fields,
// deeply nested messages, unicode, wrong-kind bodies, loose resourceVersions and ambiguous keys.
// Each case says what a correct gateway must do beyond "a precise status within the deadline":
// `mustRefuse` (anything but OK), or `expect` (one of these codes).
import { status } from "@grpc/grpc-js";
import { ALL_KINDS, DeleteRequest, GetRequest, KINDS, ListRequest, WatchRequest, type KindInfo } from "@navarch/api";
import type { Rng } from "./rng.js";

export type Method = "create" | "get" | "list" | "update" | "delete" | "watch";
const METHODS: Method[] = ["create", "get", "list", "update", "delete", "watch"];

export interface FuzzCase {
  category: string;
  /** Short, for the report of a failed check. */
  what: string;
  kind: string;
  method: Method;
  path: string;
  bytes: Buffer;
  mustRefuse?: boolean;
  expect?: status[];
  /** For an accepted unicode create: the data the stored object must have, exactly. */
  data?: Record<string, string>;
}

/** Objects the run creates first, so updates, deletes and reads have something to hit. */
export interface FuzzTargets {
  namespace: string;
  /** A ConfigMap whose resourceVersion updates with loose versions aim at. */
  configMap: { name: string; resourceVersion: string };
  /** ConfigMap "app.key" in namespace: Get/Delete of ("default.app", "key") must not reach it. */
  dottedName: string;
}

/** The categories and their weights in a run. Huge cases are few: each may cost a deadline. */
const CATEGORIES: [string, number][] = [
  ["malformed", 30],
  ["huge", 2],
  ["nested", 8],
  ["unicode", 20],
  ["wrong-kind", 15],
  ["bad-version", 10],
  ["ambiguous-key", 5],
  ["no-metadata", 5],
  ["bad-selector", 5],
];

export function generateCase(rng: Rng, t: FuzzTargets): FuzzCase {
  const total = CATEGORIES.reduce((s, [, w]) => s + w, 0);
  let r = rng.next() * total;
  let category = CATEGORIES[0]![0];
  for (const [c, w] of CATEGORIES) {
    if ((r -= w) < 0) {
      category = c;
      break;
    }
  }
  switch (category) {
    case "malformed":
      return malformed(rng);
    case "huge":
      return huge(rng, t);
    case "nested":
      return nested(rng);
    case "unicode":
      return unicode(rng, t);
    case "wrong-kind":
      return wrongKind(rng);
    case "bad-version":
      return badVersion(rng, t);
    case "ambiguous-key":
      return ambiguousKey(rng, t);
    case "no-metadata":
      return noMetadata(rng);
    default:
      return badSelector(rng);
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Definition = Record<string, { path: string; requestSerialize: (v: any) => Buffer }>;

const REQUESTS = { get: GetRequest, list: ListRequest, delete: DeleteRequest, watch: WatchRequest } as const;

function def(info: KindInfo, method: Method): { path: string; requestSerialize: (v: unknown) => Buffer } {
  const d = (info.service as unknown as Definition)[method]!;
  if (method === "create" || method === "update") return d;
  // Request messages are encoded from partials: unset fields take their defaults.
  const codec = REQUESTS[method] as unknown as { fromPartial(v: unknown): unknown };
  return { path: d.path, requestSerialize: (v) => d.requestSerialize(codec.fromPartial(v)) };
}

function mk(category: string, what: string, info: KindInfo, method: Method, bytes: Buffer, extra: Partial<FuzzCase> = {}): FuzzCase {
  return { category, what, kind: info.kind, method, path: def(info, method).path, bytes, ...extra };
}

function encodeObject(info: KindInfo, partial: unknown): Buffer {
  return def(info, "create").requestSerialize(info.codec.fromPartial(partial as never));
}

function configMap(name: string, namespace: string, data: Record<string, string> = { k: "v" }, labels: Record<string, string> = {}): unknown {
  return { apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace, labels }, data };
}

// --- raw protobuf pieces -------------------------------------------------------------------

function varint(n: number): Buffer {
  const out: number[] = [];
  let v = n;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return Buffer.from(out);
}

function tag(field: number, wireType: number): Buffer {
  return varint(field * 8 + wireType);
}

function lengthDelimited(field: number, payload: Buffer): Buffer {
  return Buffer.concat([tag(field, 2), varint(payload.length), payload]);
}

// --- categories ----------------------------------------------------------------------------

function malformed(rng: Rng): FuzzCase {
  const info = rng.pick(ALL_KINDS);
  const method = rng.pick(METHODS);
  const valid = encodeObject(KINDS.ConfigMap, configMap(rng.name(), "default", { a: rng.name(20) }));
  switch (rng.int(0, 6)) {
    case 0:
      return mk("malformed", "random bytes", info, method, rng.bytes(rng.int(1, rng.chance(0.1) ? 65_536 : 512)));
    case 1: {
      const b = Buffer.from(valid);
      for (let i = rng.int(1, 8); i > 0; i--) b[rng.int(0, b.length - 1)] ^= 1 << rng.int(0, 7);
      return mk("malformed", "bit flips in a valid ConfigMap", info, method, b);
    }
    case 2:
      return mk("malformed", "a valid ConfigMap cut short", info, method, valid.subarray(0, rng.int(1, valid.length - 1)));
    case 3:
      // A varint longer than 10 bytes.
      return mk("malformed", "an endless varint", info, method, Buffer.concat([tag(1, 0), Buffer.alloc(rng.int(11, 64), 0xff)]));
    case 4:
      // A length prefix far past the end of the frame.
      return mk("malformed", "a length past the end", info, method, Buffer.concat([tag(3, 2), varint(rng.int(1_000, 2 ** 31)), rng.bytes(8)]));
    case 5:
      // Wire types 6 and 7 do not exist; field number 0 is invalid.
      return mk("malformed", "invalid wire type or field 0", info, method, Buffer.from([rng.pick([0x0e, 0x0f, 0x06, 0x07, 0x02]), ...rng.bytes(6)]));
    default:
      // An end-group with no start.
      return mk("malformed", "an unmatched end-group", info, method, Buffer.concat([tag(9, 4), rng.bytes(4)]));
  }
}

function huge(rng: Rng, t: FuzzTargets): FuzzCase {
  const cm = KINDS.ConfigMap;
  switch (rng.int(0, 4)) {
    case 0:
      // Errors must not echo unbounded input (issue 11 item 3).
      return mk("huge", "Get with a 100,000-character name", cm, "get", def(cm, "get").requestSerialize({ namespace: t.namespace, name: "n".repeat(100_000) }), {
        mustRefuse: true,
      });
    case 1: {
      const labels: Record<string, string> = {};
      for (let i = 0; i < 1000; i++) labels[`bad key ${i}!`] = "v";
      return mk("huge", "Create with 1,000 invalid labels", cm, "create", encodeObject(cm, configMap(rng.name(), t.namespace, {}, labels)), {
        expect: [status.INVALID_ARGUMENT],
      });
    }
    case 2:
      return mk("huge", "List with a 1.5 MB label selector", cm, "list", def(cm, "list").requestSerialize({ namespace: t.namespace, labelSelector: "a in (" + "x,".repeat(750_000) + "y", fieldSelector: "", limit: 0, continue: "" }), {
        mustRefuse: true,
      });
    case 3:
      // Over the largest object (1 MB) and over the frame limit (2 MB).
      return mk("huge", "Create with 3 MB of data", cm, "create", encodeObject(cm, configMap(rng.name(), t.namespace, { big: "x".repeat(3_000_000) })), {
        expect: [status.INVALID_ARGUMENT, status.RESOURCE_EXHAUSTED],
      });
    default:
      return mk("huge", "Create with a 1.2 MB value", cm, "create", encodeObject(cm, configMap(rng.name(), t.namespace, { big: "y".repeat(1_200_000) })), {
        expect: [status.INVALID_ARGUMENT, status.RESOURCE_EXHAUSTED],
      });
  }
}

function nested(rng: Rng): FuzzCase {
  const method = rng.pick(["create", "update", "get", "list"] as Method[]);
  // A valid message of the method's own type, so the nesting is the only thing wrong with it.
  const info = method === "create" || method === "update" ? KINDS.ConfigMap : rng.pick(ALL_KINDS);
  const depth = rng.pick([64, 1_000, 10_000, 100_000]);
  const base =
    info === KINDS.ConfigMap && (method === "create" || method === "update")
      ? encodeObject(KINDS.ConfigMap, configMap(rng.name(), "default"))
      : def(info, method).requestSerialize({ namespace: "default", name: rng.name() });
  if (rng.chance(0.5)) {
    // Unknown field 99 as nested groups: a decoder that skips them by recursion runs out of stack.
    const open = Buffer.concat(Array.from({ length: depth }, () => tag(99, 3)));
    const close = Buffer.concat(Array.from({ length: depth }, () => tag(99, 4)));
    return mk("nested", `${depth} nested groups`, info, method, Buffer.concat([base, open, close]));
  }
  // Unknown field 99 as nested length-delimited messages.
  let inner: Buffer = Buffer.alloc(0);
  for (let i = 0; i < Math.min(depth, 3_000); i++) inner = lengthDelimited(99, inner);
  return mk("nested", `${Math.min(depth, 3_000)} nested messages`, info, method, Buffer.concat([base, inner]));
}

function unicode(rng: Rng, t: FuzzTargets): FuzzCase {
  const cm = KINDS.ConfigMap;
  switch (rng.int(0, 4)) {
    case 0:
      return mk("unicode", "Create named in unicode", cm, "create", encodeObject(cm, configMap(rng.name(3) + nonAscii(rng, rng.int(1, 20)), t.namespace)), {
        mustRefuse: true,
      });
    case 1: {
      // Valid text (no lone surrogates) in data values must be stored exactly.
      const value = rng.unicode(rng.int(1, 200)).replace(/[\ud800-\udfff]/g, "?");
      const data = { [`k-${rng.name(4)}`]: value };
      return mk("unicode", "Create with unicode data", cm, "create", encodeObject(cm, configMap(`u-${rng.name()}`, t.namespace, data)), { data });
    }
    case 2:
      return mk("unicode", "Create with a unicode label key", cm, "create", encodeObject(cm, configMap(rng.name(), t.namespace, {}, { [nonAscii(rng, rng.int(1, 10))]: "v" })), {
        mustRefuse: true,
      });
    case 3: {
      // A name of invalid UTF-8 bytes in place of an ASCII one.
      const name = `z${rng.name(11)}`;
      const b = encodeObject(cm, configMap(name, t.namespace));
      const at = b.indexOf(name);
      for (let i = 0; i < name.length; i++) b[at + i] = rng.pick([0xff, 0xc0, 0xed, 0x80, 0xfe]);
      return mk("unicode", "Create named in invalid UTF-8", cm, "create", b, { mustRefuse: true });
    }
    default: {
      const info = rng.pick(ALL_KINDS);
      const method = rng.pick(["get", "delete"] as Method[]);
      return mk("unicode", `${method} in a unicode namespace`, info, method, def(info, method).requestSerialize({ namespace: rng.unicode(rng.int(1, 30)), name: rng.unicode(rng.int(1, 30)) }), {
        mustRefuse: true,
      });
    }
  }
}

/** Unicode text with at least one character outside ASCII (so it is never a valid name or key). */
function nonAscii(rng: Rng, n: number): string {
  const text = rng.unicode(n);
  const at = rng.int(0, text.length);
  return text.slice(0, at) + String.fromCodePoint(rng.int(0xa1, 0x2fff)) + text.slice(at);
}

function wrongKind(rng: Rng): FuzzCase {
  const pod = encodeObject(KINDS.Pod, {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: rng.name(), namespace: "default" },
    spec: { containers: [{ name: "c", image: "busybox" }] },
  });
  const deploy = encodeObject(KINDS.Deployment, {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: rng.name(), namespace: "default" },
    spec: { replicas: 1, selector: { matchLabels: { a: "b" } }, template: { metadata: { labels: { a: "b" } }, spec: { containers: [{ name: "c", image: "busybox" }] } } },
  });
  switch (rng.int(0, 3)) {
    case 0:
      return mk("wrong-kind", "a Pod to ConfigMapService/Create", KINDS.ConfigMap, "create", pod, { mustRefuse: true });
    case 1:
      return mk("wrong-kind", "a Deployment to ServiceService/Create", KINDS.Service, "create", deploy, { mustRefuse: true });
    case 2:
      return mk("wrong-kind", "a Pod to SecretService/Update", KINDS.Secret, "update", pod, { mustRefuse: true });
    default: {
      const info = rng.pick(ALL_KINDS);
      const req = def(info, "list").requestSerialize({ namespace: "default", labelSelector: "a=b", fieldSelector: "", limit: 3, continue: "" });
      return mk("wrong-kind", "a ListRequest to Create", info, "create", req);
    }
  }
}

const LOOSE_VERSIONS = [" 8", "8 ", "1e3", "0x10", "-1", "1.5", "+5", "99999999999999999999", "1e20", "abc", "٣"];

function badVersion(rng: Rng, t: FuzzTargets): FuzzCase {
  const cm = KINDS.ConfigMap;
  const rv = rng.pick(LOOSE_VERSIONS);
  switch (rng.int(0, 3)) {
    case 0:
      return mk("bad-version", `Update with resourceVersion ${JSON.stringify(rv)}`, cm, "update", encodeObject(cm, { ...(configMap(t.configMap.name, t.namespace, { changed: rv }) as object), metadata: { name: t.configMap.name, namespace: t.namespace, resourceVersion: rv } }), {
        mustRefuse: true,
      });
    case 1:
      return mk("bad-version", `Delete with precondition resourceVersion ${JSON.stringify(rv)}`, cm, "delete", def(cm, "delete").requestSerialize({ namespace: t.namespace, name: t.configMap.name, propagationPolicy: "", preconditions: { uid: "", resourceVersion: rv } }), {
        mustRefuse: true,
      });
    case 2:
      // A watch from a malformed or far-future version must be refused, not wait silently (item 7).
      return mk("bad-version", `Watch from resourceVersion ${JSON.stringify(rv)}`, cm, "watch", def(cm, "watch").requestSerialize({ namespace: t.namespace, labelSelector: "", fieldSelector: "", resourceVersion: rv, allowWatchBookmarks: false }), {
        mustRefuse: true,
      });
    default:
      return mk("bad-version", "List with a forged continue token", cm, "list", def(cm, "list").requestSerialize({ namespace: t.namespace, labelSelector: "", fieldSelector: "", limit: 5, continue: rng.chance(0.5) ? rng.name(12) : Buffer.from(rng.unicode(8)).toString("base64") }), {
        mustRefuse: true,
      });
  }
}

function ambiguousKey(rng: Rng, t: FuzzTargets): FuzzCase {
  const cm = KINDS.ConfigMap;
  const [ns, name] = [`${t.namespace}.${t.dottedName.split(".")[0]}`, t.dottedName.split(".")[1]!];
  const method = rng.pick(["get", "delete"] as Method[]);
  // ("default.app", "key") must not mean "default/app.key" (item 5).
  return mk("ambiguous-key", `${method} (${JSON.stringify(ns)}, ${JSON.stringify(name)})`, cm, method, def(cm, method).requestSerialize({ namespace: ns, name, propagationPolicy: "" }), {
    expect: [status.INVALID_ARGUMENT],
  });
}

function noMetadata(rng: Rng): FuzzCase {
  const info = rng.pick(ALL_KINDS);
  const method = rng.pick(["create", "update"] as Method[]);
  // An empty frame is a message with every field unset: no metadata at all (item 6).
  const bytes = rng.chance(0.5) ? Buffer.alloc(0) : Buffer.concat([lengthDelimited(1, Buffer.from(info.apiVersion)), lengthDelimited(2, Buffer.from(info.kind))]);
  return mk("no-metadata", `${method} without metadata`, info, method, bytes, { expect: [status.INVALID_ARGUMENT] });
}

function badSelector(rng: Rng): FuzzCase {
  const info = rng.pick(ALL_KINDS.filter((k) => k.namespaced));
  const label = rng.pick(["a in (", "!!", "a=b=c", "a notin b", "a=" + "b".repeat(300), rng.unicode(6) + "=x"]);
  const field = rng.pick(["", "spec.bogus=1", "metadata.name", "metadata.name==x,,", rng.unicode(5)]);
  return mk("bad-selector", `List with selector ${JSON.stringify(label.slice(0, 20))} / ${JSON.stringify(field.slice(0, 20))}`, info, "list", def(info, "list").requestSerialize({ namespace: "default", labelSelector: label, fieldSelector: field, limit: 0, continue: "" }), {
    mustRefuse: true,
  });
}
