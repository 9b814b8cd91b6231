// Kubernetes resource quantities: "500m" CPU, "128Mi" memory, "1e3", "2". Parsed to exact
// integers of the unit callers need (millicores, bytes) so sums never drift.

const BINARY: Record<string, bigint> = { Ki: 1n << 10n, Mi: 1n << 20n, Gi: 1n << 30n, Ti: 1n << 40n, Pi: 1n << 50n, Ei: 1n << 60n };
const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, "": 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const QUANTITY = /^([+-]?[0-9.]+)(?:(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)|[eE]([+-]?[0-9]+))?$/;

/** Returns why `text` is not a quantity, or undefined. */
export function checkQuantity(text: string): string | undefined {
  const m = QUANTITY.exec(text);
  if (!m || !/^[+-]?(\d+\.?\d*|\.\d+)$/.test(m[1]!)) {
    return `quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`;
  }
  if (m[1]!.startsWith("-")) return "must be greater than or equal to 0";
  return undefined;
}

/** Value of `text` times 10^scale, rounded up (as Kubernetes rounds requests), as a bigint. */
function scaled(text: string, scale: number): bigint {
  const m = QUANTITY.exec(text.trim());
  if (!m) throw new Error(`invalid quantity "${text}"`);
  const [, num, suffix = "", exp] = m;
  const [intPart = "0", frac = ""] = num!.replace(/^\+/, "").split(".");
  let digits = BigInt((intPart || "0") + frac);
  let pow10 = -frac.length + scale;
  if (suffix in BINARY) digits *= BINARY[suffix]!;
  else if (exp !== undefined) pow10 += Number(exp);
  else pow10 += DECIMAL[suffix] ?? 0;
  if (pow10 >= 0) return digits * 10n ** BigInt(pow10);
  const div = 10n ** BigInt(-pow10);
  return (digits + div - 1n) / div;
}

/** CPU in millicores: "500m" -> 500, "2" -> 2000. */
export function milliCpu(text: string): number {
  return Number(scaled(text, 3));
}

/** Memory (or any count) in whole units: "128Mi" -> 134217728. */
export function bytesOf(text: string): number {
  return Number(scaled(text, 0));
}
