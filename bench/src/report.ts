// Plain-text (Markdown) tables for the bench's output.

export const RESULT_HEADERS = ["operation", "load", "ops/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "errors"] as const;

/** A Markdown table with padded columns; numeric-looking cells are right-aligned. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const numeric = headers.map((_, i) => rows.length > 0 && rows.every((r) => /^-?[\d.,]+%?$|^-$/.test(r[i] ?? "")));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(" | ")} |`;
  const rule = `|${widths.map((w, i) => (numeric[i] ? `${"-".repeat(w + 1)}:` : "-".repeat(w + 2))).join("|")}|`;
  return [line(headers), rule, ...rows.map(line)].join("\n");
}

/** Milliseconds: two decimals below 10 ms, one below 1 s, none above. */
export function ms(v: number): string {
  if (!Number.isFinite(v)) return "-";
  if (v < 10) return v.toFixed(2);
  if (v < 1000) return v.toFixed(1);
  return v.toFixed(0);
}

export function rate(v: number): string {
  if (!Number.isFinite(v)) return "-";
  return v >= 100 ? v.toFixed(0) : v.toFixed(1);
}

export function percent(share: number): string {
  return Number.isFinite(share) ? `${(share * 100).toFixed(0)}%` : "-";
}

export function mib(bytes: number | undefined): string {
  return bytes === undefined ? "?" : `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

/** Parses the results table back (for the smoke test): one record per row, keyed by header. */
export function parseTable(text: string, firstHeader: string = RESULT_HEADERS[0]): Record<string, string>[] {
  const lines = text.split("\n");
  const start = lines.findIndex((l) => new RegExp(`^\\|\\s*${firstHeader}\\s*\\|`).test(l));
  if (start < 0) return [];
  const cells = (l: string) => l.trim().replace(/^\|/, "").replace(/\|$/, "").split("|").map((c) => c.trim());
  const headers = cells(lines[start]!);
  const rows: Record<string, string>[] = [];
  for (let i = start + 2; i < lines.length && lines[i]!.startsWith("|"); i++) {
    const c = cells(lines[i]!);
    rows.push(Object.fromEntries(headers.map((h, j) => [h, c[j] ?? ""])));
  }
  return rows;
}
