// Borderless tables as kubectl prints them (Go's tabwriter with minwidth 6, padding 3): columns
// left-aligned, three spaces apart, no trailing spaces, upper-case headers. cli-table3 does the
// layout; cells are padded here first so that a column is never narrower than kubectl's minimum
// and, while watching, never narrower than it was before (kubectl's RememberWidths).
import Table from "cli-table3";

const NO_BORDER = {
  top: "", "top-mid": "", "top-left": "", "top-right": "",
  bottom: "", "bottom-mid": "", "bottom-left": "", "bottom-right": "",
  left: "", "left-mid": "", mid: "", "mid-mid": "", right: "", "right-mid": "",
  middle: "   ",
};

/** kubectl's tabwriter minwidth is 6 including the 3 spaces of padding. */
const MIN_COLUMN_WIDTH = 3;

/** Display width as Go's tabwriter counts it: one per code point, escape sequences excluded. */
export function textWidth(s: string): number {
  // eslint-disable-next-line no-control-regex
  return [...s.replace(/\u001b\[[0-9;]*m/g, "")].length;
}

function cleanCell(v: string): string {
  return v.replace(/\r?\n/g, " ").replace(/\t/g, " ");
}

/** Lays out rows; keeps the widths it has seen so later rows line up with earlier ones. */
export class TableWriter {
  private widths: number[] = [];

  /** The text of `rows` (with `header` first when given), one line per row, ending in "\n". */
  render(header: string[] | undefined, rows: string[][]): string {
    const all = (header ? [header, ...rows] : rows).map((r) => r.map(cleanCell));
    if (all.length === 0) return "";
    const columns = Math.max(...all.map((r) => r.length));
    for (let c = 0; c < columns - 1; c++) {
      for (const r of all) this.widths[c] = Math.max(this.widths[c] ?? MIN_COLUMN_WIDTH, textWidth(r[c] ?? ""));
    }
    const table = new Table({
      chars: NO_BORDER,
      style: { head: [], border: [], "padding-left": 0, "padding-right": 0, compact: true },
      wordWrap: false,
    });
    for (const r of all) {
      table.push(
        Array.from({ length: columns }, (_, c) => {
          const v = r[c] ?? "";
          return c < columns - 1 ? v + " ".repeat(Math.max(0, this.widths[c]! - textWidth(v))) : v;
        }),
      );
    }
    return (
      table
        .toString()
        .split("\n")
        .map((line) => line.trimEnd())
        .join("\n") + "\n"
    );
  }
}

export function renderTable(header: string[] | undefined, rows: string[][]): string {
  return new TableWriter().render(header, rows);
}
