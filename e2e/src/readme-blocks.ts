// The README's console blocks as data, and the "same shape" comparison the README test uses.
//
// A console block (```console) is a run of `$ COMMAND` lines, each followed by the output a user
// sees. Output is compared by shape, not byte for byte: ages, addresses, generated name suffixes,
// numbers and column widths change from run to run, the words and the columns do not. In the
// README, a line `...` stands for any number of lines (output whose length depends on timing,
// such as rollout progress), and a command with no output lines is only run (its exit code must
// still be 0).

export interface ConsoleCommand {
  /** The command as the README shows it (without the `$ `). */
  command: string;
  /** The lines the README shows after it. */
  expected: string[];
  /** 1-based line of the command in the README, for messages. */
  line: number;
}

export interface ConsoleBlock {
  /** 1-based line of the opening fence. */
  line: number;
  commands: ConsoleCommand[];
}

export function consoleBlocks(markdown: string): ConsoleBlock[] {
  const lines = markdown.split("\n");
  const blocks: ConsoleBlock[] = [];
  let block: ConsoleBlock | undefined;
  lines.forEach((text, i) => {
    if (block === undefined) {
      if (text.trim() === "```console") block = { line: i + 1, commands: [] };
      return;
    }
    if (text.trim() === "```") {
      blocks.push(block);
      block = undefined;
    } else if (text.startsWith("$ ")) {
      block.commands.push({ command: text.slice(2), expected: [], line: i + 1 });
    } else {
      block.commands.at(-1)?.expected.push(text);
    }
  });
  return blocks;
}

/** Words that differ between the README's example run and any other run, each replaced by a placeholder. */
const VOLATILE: [RegExp, string][] = [
  [/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/g, "<uid>"],
  [/\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}\b/g, "<date>"],
  [/\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}(\/\d+)?\b/g, "<ip>"],
  // A ReplicaSet's pod-template hash and a pod's random suffix (kube's alphabet: no vowels, digits).
  [/-[bcdfghjklmnpqrstvwxz2456789]{6,10}-[bcdfghjklmnpqrstvwxz2456789]{5}\b/g, "-<hash>-<id>"],
  [/-[bcdfghjklmnpqrstvwxz2456789]{6,10}\b/g, "-<hash>"],
  [/\bsha256:[0-9a-f]+/g, "<digest>"],
  // Durations and ages: 6s, 2m3s, 1h, 450ms, 1.5s.
  [/\b\d+(\.\d+)?(ms|s|m|h|d)(\d+(s|m|h))*\b/g, "<age>"],
  [/\d+/g, "<n>"],
];

/** A line reduced to its shape: volatile words replaced, runs of spaces made one, ends trimmed. */
export function shape(line: string, names: Record<string, string> = {}): string {
  let s = line;
  // Whole words only: a short host name ("vm") must not change the middle of another word.
  for (const [from, to] of Object.entries(names)) s = s.replace(new RegExp(`(?<![\\w.-])${escape(from)}(?![\\w-])`, "g"), to);
  for (const [re, to] of VOLATILE) s = s.replace(re, to);
  return s.replace(/\s+/g, " ").trim();
}

/**
 * Whether `actual` has the shape of `expected`: line by line, where an expected `...` line matches
 * any run of lines (also none). Returns a description of the first difference, or undefined.
 */
export function shapeDifference(expected: string[], actual: string[], names: Record<string, string> = {}): string | undefined {
  const want = trimBlank(expected).map((l) => (l.trim() === "..." ? "..." : shape(l, names)));
  const got = trimBlank(actual).map((l) => shape(l, names));
  if (matches(want, 0, got, 0)) return undefined;
  const firstWant = want.findIndex((w, i) => w !== "..." && w !== got[i]);
  return firstWant < 0
    ? `expected ${want.length} lines, got ${got.length}`
    : `line ${firstWant + 1}: expected ${JSON.stringify(want[firstWant])}, got ${JSON.stringify(got[firstWant] ?? "<nothing>")}`;
}

function matches(want: string[], i: number, got: string[], j: number): boolean {
  if (i === want.length) return j === got.length;
  if (want[i] === "...") {
    for (let k = j; k <= got.length; k++) if (matches(want, i + 1, got, k)) return true;
    return false;
  }
  return j < got.length && want[i] === got[j] && matches(want, i + 1, got, j + 1);
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function trimBlank(lines: string[]): string[] {
  const out = [...lines];
  while (out.length > 0 && out[0]!.trim() === "") out.shift();
  while (out.length > 0 && out.at(-1)!.trim() === "") out.pop();
  return out;
}
