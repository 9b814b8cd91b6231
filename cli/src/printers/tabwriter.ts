// A port of the column layout of Go's text/tabwriter, which kubectl describe writes through
// (minwidth 0, padding 2, padchar ' '): a cell is text ended by a tab; a column block is a run of
// consecutive lines having a cell in that column, and every cell of the block is padded to the
// widest one plus the padding. The text after a line's last tab is not aligned.
import { textWidth } from "./table.js";

export interface TabwriterOptions {
  minwidth: number;
  padding: number;
}

export const DESCRIBE_LAYOUT: TabwriterOptions = { minwidth: 0, padding: 2 };

/**
 * Lays out `lines` (each without its "\n"); a line given as `{ raw }` is one unaligned cell and is
 * written exactly. Other lines lose trailing spaces (an empty last cell leaves padding behind).
 */
export function tabwrite(lines: (string | { raw: string })[], opts: TabwriterOptions = DESCRIBE_LAYOUT): string {
  const cells: string[][] = lines.map((l) => (typeof l === "string" ? l.split("\t") : [l.raw]));
  const isRaw = lines.map((l) => typeof l !== "string");
  const widths: number[] = [];
  let out = "";

  const writeLines = (line0: number, line1: number) => {
    for (let i = line0; i < line1; i++) {
      const line = cells[i]!;
      let text = "";
      line.forEach((c, j) => {
        text += c;
        if (j < widths.length && j < line.length - 1) text += " ".repeat(Math.max(0, widths[j]! - textWidth(c)));
      });
      out += (isRaw[i] ? text : text.trimEnd()) + "\n";
    }
  };

  const format = (line0: number, line1: number) => {
    const column = widths.length;
    for (let t = line0; t < line1; t++) {
      if (column >= cells[t]!.length - 1) continue;
      // A cell exists in this column: print the lines before it, then lay out the block.
      writeLines(line0, t);
      line0 = t;
      let width = opts.minwidth;
      for (; t < line1; t++) {
        const line = cells[t]!;
        if (column >= line.length - 1) break;
        width = Math.max(width, textWidth(line[column]!) + opts.padding);
      }
      widths.push(width);
      format(line0, t);
      widths.pop();
      line0 = t;
    }
    writeLines(line0, line1);
  };

  format(0, cells.length);
  return out;
}
