// A seeded random number generator (mulberry32): the same seed makes the same fuzz run.
export class Rng {
  private state: number;

  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = Math.floor(this.next() * 256);
    return b;
  }

  /** Lower-case letters and digits: a valid DNS label when it starts with a letter. */
  name(n = 8): string {
    const chars = "abcdefghijklmnopqrstuvwxyz0123456789";
    let s = this.pick([..."abcdefghijklmnopqrstuvwxyz"]);
    for (let i = 1; i < n; i++) s += chars[Math.floor(this.next() * chars.length)];
    return s;
  }

  /** Text from awkward unicode: astral planes, combining marks, RTL, NUL, lone surrogates. */
  unicode(n: number): string {
    const pools: [number, number][] = [
      [0x20, 0x7e],
      [0x00, 0x1f],
      [0x80, 0x7ff],
      [0x300, 0x36f], // combining marks
      [0x590, 0x6ff], // Hebrew, Arabic (RTL)
      [0x200b, 0x202e], // zero width, bidi controls
      [0x4e00, 0x9fff],
      [0xd800, 0xdfff], // lone surrogates: not encodable as UTF-8
      [0xfff0, 0xffff],
      [0x1f300, 0x1faff], // emoji
      [0x10000, 0x10ffff],
    ];
    let s = "";
    for (let i = 0; i < n; i++) {
      const [lo, hi] = this.pick(pools);
      s += String.fromCodePoint(this.int(lo, hi));
    }
    return s;
  }
}

/** A seed from the environment (NAVARCH_FUZZ_SEED) or a fresh one. */
export function seedFrom(env: NodeJS.ProcessEnv = process.env): number {
  const s = env.NAVARCH_FUZZ_SEED;
  if (s !== undefined && s !== "") {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new Error(`NAVARCH_FUZZ_SEED must be an integer 0..4294967295, got "${s}"`);
    return n;
  }
  return Math.floor(Math.random() * 0xffffffff);
}
