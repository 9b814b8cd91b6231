// The layout kubectl describe uses: lines at indent levels written through Go's tabwriter, so
// "Key:<tab>value" lines line up in blocks, plus the small formatting helpers every describer uses.
import { NONE } from "./columns.js";
import { tabwrite } from "./tabwriter.js";

const INDENT = ["", "  ", "    ", "      ", "        "];

/** kubectl's PrefixWriter: lines at indent levels, flushed through the tabwriter in blocks. */
export class DescribeWriter {
  private readonly segments: string[] = [];
  private lines: (string | { raw: string })[] = [];

  line(level: number, text: string): void {
    this.lines.push(INDENT[level]! + text);
  }

  /** A line written as is (config map values may hold tabs). */
  raw(text: string): void {
    for (const l of text.split("\n")) this.lines.push({ raw: l });
  }

  blank(): void {
    this.lines.push("");
  }

  /** Ends an alignment block (kubectl flushes before the events table). */
  flush(): void {
    if (this.lines.length > 0) this.segments.push(tabwrite(this.lines));
    this.lines = [];
  }

  toString(): string {
    this.flush();
    return this.segments.join("");
  }
}

/** Time as kubectl describe prints it (RFC 1123 with numeric zone): "Mon, 02 Jan 2006 15:04:05 +0000". */
export function formatTime(ts: string | undefined): string {
  if (!ts) return NONE;
  const t = new Date(ts);
  if (Number.isNaN(t.getTime())) return ts;
  const days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
  const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  const p = (n: number) => String(n).padStart(2, "0");
  const off = -t.getTimezoneOffset();
  const zone = `${off >= 0 ? "+" : "-"}${p(Math.floor(Math.abs(off) / 60))}${p(Math.abs(off) % 60)}`;
  return `${days[t.getDay()]}, ${p(t.getDate())} ${months[t.getMonth()]} ${t.getFullYear()} ${p(t.getHours())}:${p(t.getMinutes())}:${p(t.getSeconds())} ${zone}`;
}

export function sortedEntries(m: Record<string, string> | undefined): [string, string][] {
  return Object.entries(m ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** "Labels:  a=b" then one "k=v" per line under it, or "<none>". */
export function multiline(w: DescribeWriter, level: number, title: string, entries: string[]): void {
  if (entries.length === 0) {
    w.line(level, `${title}:\t${NONE}`);
    return;
  }
  entries.forEach((e, i) => w.line(level, i === 0 ? `${title}:\t${e}` : `\t${e}`));
}
