// Label selectors in the Kubernetes string syntax ("app=web,tier!=db,env in (a,b),!legacy") and
// in the structured form (matchLabels + matchExpressions), compiled to one list of requirements.
import { clip, MAX_SELECTOR_CHARS } from "./bounds.js";
import { InvalidError } from "./errors.js";
import type { LabelSelector } from "./generated/navarch/meta/v1/meta.js";
import { checkLabelValue, checkQualifiedName } from "./names.js";

export type Operator = "=" | "!=" | "in" | "notin" | "exists" | "!";

export interface Requirement {
  key: string;
  op: Operator;
  values: string[];
}

export type Labels = Record<string, string> | undefined;

export function matches(requirements: Requirement[], labels: Labels): boolean {
  const l = labels ?? {};
  for (const r of requirements) {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    const v = l[r.key];
    switch (r.op) {
      case "=":
        if (!has || v !== r.values[0]) return false;
        break;
      case "!=":
        if (has && v === r.values[0]) return false;
        break;
      case "in":
        if (!has || !r.values.includes(v!)) return false;
        break;
      case "notin":
        if (has && r.values.includes(v!)) return false;
        break;
      case "exists":
        if (!has) return false;
        break;
      case "!":
        if (has) return false;
        break;
    }
  }
  return true;
}

/**
 * Parses the string form. `path` names the request field in errors. An empty selector selects
 * everything.
 */
export function parseSelector(text: string, path = "labelSelector"): Requirement[] {
  const out: Requirement[] = [];
  checkSelectorLength(text, path);
  const s = text.trim();
  if (s === "") return out;
  let i = 0;
  // Quotes only where it went wrong, clipped: the whole selector may be long.
  const fail = (msg: string): never => {
    const where = i >= s.length ? "the end" : `position ${i}: ${JSON.stringify(clip(s.slice(i, i + 64), 32))}`;
    throw InvalidError.at(path, `${msg} at ${where}`);
  };
  const skipSpace = () => {
    while (i < s.length && s[i] === " ") i++;
  };
  const readKey = (): string => {
    skipSpace();
    const start = i;
    while (i < s.length && /[A-Za-z0-9_./-]/.test(s[i]!)) i++;
    if (i === start) fail("expected a label key");
    return s.slice(start, i);
  };
  const readValue = (): string => {
    skipSpace();
    const start = i;
    while (i < s.length && /[A-Za-z0-9_.-]/.test(s[i]!)) i++;
    return s.slice(start, i);
  };
  for (;;) {
    skipSpace();
    let r: Requirement;
    if (s[i] === "!") {
      i++;
      r = { key: readKey(), op: "!", values: [] };
    } else {
      const key = readKey();
      skipSpace();
      if (s.startsWith("!=", i)) {
        i += 2;
        r = { key, op: "!=", values: [readValue()] };
      } else if (s.startsWith("==", i)) {
        i += 2;
        r = { key, op: "=", values: [readValue()] };
      } else if (s[i] === "=") {
        i += 1;
        r = { key, op: "=", values: [readValue()] };
      } else if (setOperator(s, i)) {
        const op = setOperator(s, i)!;
        i += op.length;
        skipSpace();
        i++; // "("
        const values: string[] = [];
        for (;;) {
          const v = readValue();
          if (v === "") fail("expected a value");
          values.push(v);
          skipSpace();
          if (s[i] === ",") {
            i++;
            continue;
          }
          if (s[i] === ")") {
            i++;
            break;
          }
          fail("expected ',' or ')'");
        }
        r = { key, op, values };
      } else if (i >= s.length || s[i] === ",") {
        r = { key, op: "exists", values: [] };
      } else {
        r = fail("expected one of =, ==, !=, in, notin");
      }
    }
    const badKey = checkQualifiedName(r.key);
    if (badKey) throw InvalidError.at(path, `invalid label key ${JSON.stringify(clip(r.key))}: ${badKey}`);
    for (const v of r.values) {
      const badValue = checkLabelValue(v);
      if (badValue) throw InvalidError.at(path, `invalid label value ${JSON.stringify(clip(v))}: ${badValue}`);
    }
    out.push(r);
    skipSpace();
    if (i >= s.length) break;
    if (s[i] !== ",") fail("expected ','");
    i++;
  }
  return out;
}

/** "in" or "notin" followed by "(" at position i (a sticky regex: no copy of the rest of the text). */
function setOperator(s: string, i: number): "in" | "notin" | undefined {
  SET_OPERATOR.lastIndex = i;
  const m = SET_OPERATOR.exec(s);
  return m ? (m[1] as "in" | "notin") : undefined;
}
const SET_OPERATOR = /(notin|in)\s*\(/y;

/** Selectors are refused before parsing when longer than any real one. */
function checkSelectorLength(text: string, path: string): void {
  if (text.length > MAX_SELECTOR_CHARS) {
    throw InvalidError.at(path, `must be no more than ${MAX_SELECTOR_CHARS} characters (got ${text.length})`);
  }
}

/** Compiles the structured form used in specs (ReplicaSet.spec.selector and friends). */
export function fromLabelSelector(sel: LabelSelector | undefined, path = "spec.selector"): Requirement[] {
  if (!sel) return [];
  const out: Requirement[] = [];
  for (const [key, value] of Object.entries(sel.matchLabels ?? {})) {
    out.push({ key, op: "=", values: [value] });
  }
  (sel.matchExpressions ?? []).forEach((e, idx) => {
    const p = `${path}.matchExpressions[${idx}]`;
    switch (e.operator) {
      case "In":
      case "NotIn":
        if (e.values.length === 0) throw InvalidError.at(`${p}.values`, "must be non-empty for In and NotIn");
        out.push({ key: e.key, op: e.operator === "In" ? "in" : "notin", values: e.values });
        break;
      case "Exists":
      case "DoesNotExist":
        if (e.values.length > 0) throw InvalidError.at(`${p}.values`, "must be empty for Exists and DoesNotExist");
        out.push({ key: e.key, op: e.operator === "Exists" ? "exists" : "!", values: [] });
        break;
      default:
        throw InvalidError.at(`${p}.operator`, `unsupported value "${e.operator}": must be In, NotIn, Exists or DoesNotExist`);
    }
  });
  return out;
}

/** The string form of a structured selector, for display ("app=web,tier in (a,b)"). */
export function formatSelector(requirements: Requirement[]): string {
  return requirements
    .map((r) => {
      switch (r.op) {
        case "=":
        case "!=":
          return `${r.key}${r.op}${r.values[0]}`;
        case "in":
        case "notin":
          return `${r.key} ${r.op} (${r.values.join(",")})`;
        case "exists":
          return r.key;
        case "!":
          return `!${r.key}`;
      }
    })
    .join(",");
}

export interface FieldRequirement {
  field: string;
  op: "=" | "!=";
  value: string;
}

/**
 * Field selectors: equality on a few well-known fields ("spec.nodeName=n1,metadata.name!=x").
 * Strict: every comma-separated term is `field op value` with no empty terms, and values carry
 * no whitespace, "=", "!" or "\\" (Kubernetes' escapes are not supported, so refuse them).
 */
export function parseFieldSelector(text: string, supported: string[], path = "fieldSelector"): FieldRequirement[] {
  const out: FieldRequirement[] = [];
  checkSelectorLength(text, path);
  if (text.trim() === "") return out;
  for (const raw of text.split(",")) {
    const part = raw.trim();
    const m = /^([A-Za-z][A-Za-z.]*)(==|=|!=)([^\s,=!\\]*)$/.exec(part);
    if (!m) throw InvalidError.at(path, `invalid field selector term ${JSON.stringify(clip(part))}: must be <field>=<value>, <field>==<value> or <field>!=<value>`);
    const [, field, op, value] = m;
    if (!supported.includes(field!)) {
      throw InvalidError.at(path, `field ${JSON.stringify(clip(field!))} is not supported; supported: ${supported.join(", ")}`);
    }
    out.push({ field: field!, op: op === "!=" ? "!=" : "=", value: value! });
  }
  return out;
}
