// resourceVersions as clients send them. Only canonical decimal integers: Number() also took
// " 8", "1e3" and "0x10", and "1e20" (beyond any revision) made the gateway wait in silence.
import { clip } from "./bounds.js";
import { InvalidError } from "./errors.js";

const CANONICAL = /^[1-9][0-9]{0,15}$/;

/**
 * The revision named by `text`: 0 for "" or "0" (no particular version), otherwise a canonical
 * decimal integer no larger than Number.MAX_SAFE_INTEGER. `path` names the field in the error.
 */
export function parseResourceVersion(text: string, path = "resourceVersion"): number {
  if (text === "" || text === "0") return 0;
  const n = CANONICAL.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n)) {
    throw InvalidError.at(path, `Invalid value: ${JSON.stringify(clip(text, 32))}: must be a resourceVersion (a decimal integer without sign, spaces or leading zeros)`);
  }
  return n;
}
