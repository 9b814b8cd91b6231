// Bounds on what an error message may carry. Error text goes back to clients in a gRPC status
// (the grpc-message trailer): a message that echoes unbounded input (a 100,000-character name, a
// 1.5 MB selector, a thousand field errors) made statuses too large for the HTTP/2 header limits
// and wedged the connection. So every message that quotes input quotes a clipped copy, lists only
// the first few field errors, and the gateway clips whatever is left (services/api-gateway/src/status.ts).

/** Longest quoted input in a message, in characters. */
export const MAX_QUOTED_CHARS = 128;
/** Field errors listed in one message; the rest are counted ("and N more errors"). */
export const MAX_LISTED_FIELD_ERRORS = 10;
/** Longest status message sent, in UTF-8 bytes (before the trailer's percent-encoding). */
export const MAX_STATUS_MESSAGE_BYTES = 1024;
/** Longest label or field selector accepted, in characters (Kubernetes bounds them by its URL limit). */
export const MAX_SELECTOR_CHARS = 16 * 1024;

/** `value` as is when short, else its start and how much was left out. */
export function clip(value: string, max = MAX_QUOTED_CHARS): string {
  if (value.length <= max) return value;
  return `${value.slice(0, max)}... (${value.length - max} more characters)`;
}

/** `text` cut to at most `maxBytes` UTF-8 bytes, on a character boundary, saying that it was cut. */
export function clipBytes(text: string, maxBytes = MAX_STATUS_MESSAGE_BYTES): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  const tail = " ... (message truncated)";
  const budget = maxBytes - tail.length;
  let out = "";
  let bytes = 0;
  for (const ch of text) {
    const n = Buffer.byteLength(ch);
    if (bytes + n > budget) break;
    out += ch;
    bytes += n;
  }
  return out + tail;
}
