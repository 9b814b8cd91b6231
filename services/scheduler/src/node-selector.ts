// Node selector terms (required and preferred node affinity) against a node, as Kubernetes
// evaluates them: terms are ORed, the requirements of one term ANDed; a term without requirements
// matches no node; matchFields knows only metadata.name. Operators: In, NotIn, Exists,
// DoesNotExist, Gt and Lt (integers).
import type { NodeSelectorRequirement, NodeSelectorTerm } from "@navarch/api";

export interface NodeFacts {
  name: string;
  labels: Record<string, string>;
}

function requirementMatches(r: NodeSelectorRequirement, value: string | undefined): boolean {
  switch (r.operator) {
    case "In":
      return value !== undefined && r.values.includes(value);
    case "NotIn":
      return value === undefined || !r.values.includes(value);
    case "Exists":
      return value !== undefined;
    case "DoesNotExist":
      return value === undefined;
    case "Gt":
    case "Lt": {
      if (value === undefined || r.values.length !== 1) return false;
      const have = parseInteger(value);
      const bound = parseInteger(r.values[0]!);
      if (have === undefined || bound === undefined) return false;
      return r.operator === "Gt" ? have > bound : have < bound;
    }
    default:
      return false;
  }
}

function parseInteger(text: string): number | undefined {
  return /^[+-]?\d+$/.test(text) ? Number(text) : undefined;
}

export function termMatches(term: NodeSelectorTerm | undefined, node: NodeFacts): boolean {
  const exprs = term?.matchExpressions ?? [];
  const fields = term?.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false;
  for (const r of exprs) {
    const has = Object.prototype.hasOwnProperty.call(node.labels, r.key);
    if (!requirementMatches(r, has ? node.labels[r.key] : undefined)) return false;
  }
  for (const r of fields) {
    if (r.key !== "metadata.name" || !requirementMatches(r, node.name)) return false;
  }
  return true;
}

export function anyTermMatches(terms: readonly NodeSelectorTerm[], node: NodeFacts): boolean {
  for (const t of terms) if (termMatches(t, node)) return true;
  return false;
}
