// Builders for field errors in Kubernetes' wording (field.Required, field.Invalid, ...), so a
// message reads the same as the one kubectl users know: `Invalid value: "x": <why>`.
import { clip, type FieldError } from "@navarch/api";

/**
 * A value as Kubernetes prints it in messages: strings quoted, numbers bare, objects as JSON;
 * clipped, because the value is the client's and may be of any size (docs/api-errors.md).
 */
export function show(value: unknown): string {
  if (value === undefined || value === null) return "null";
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") return String(value);
  if (typeof value === "string") return JSON.stringify(clip(value));
  return clip(JSON.stringify(value) ?? String(value));
}

export function required(path: string, detail = ""): FieldError {
  return { path, message: detail ? `Required value: ${detail}` : "Required value" };
}

export function invalid(path: string, value: unknown, detail: string): FieldError {
  return { path, message: `Invalid value: ${show(value)}: ${detail}` };
}

export function notSupported(path: string, value: unknown, supported: readonly string[]): FieldError {
  const list = supported.map((s) => JSON.stringify(s)).join(", ");
  return { path, message: `Unsupported value: ${show(value)}: supported values: ${list}` };
}

export function duplicate(path: string, value: unknown): FieldError {
  return { path, message: `Duplicate value: ${show(value)}` };
}

export function forbidden(path: string, detail: string): FieldError {
  return { path, message: `Forbidden: ${detail}` };
}

export function notFound(path: string, value: unknown): FieldError {
  return { path, message: `Not found: ${show(value)}` };
}

export function tooLong(path: string, maxBytes: number): FieldError {
  return { path, message: `Too long: may not be more than ${maxBytes} bytes` };
}

/**
 * An enumerated string field. Empty is "Required value": fields with a default are filled before
 * validation, so an empty one here really was left out.
 */
export function oneOf(path: string, value: string, supported: readonly string[]): FieldError[] {
  if (value === "") return [required(path)];
  return supported.includes(value) ? [] : [notSupported(path, value, supported)];
}

/** One error from a syntax check that returns its complaint (checkDns1123Label and friends). */
export function syntax(path: string, value: string, check: (v: string) => string | undefined): FieldError[] {
  const why = check(value);
  return why === undefined ? [] : [invalid(path, value, why)];
}

export function nonNegative(path: string, value: number | undefined): FieldError[] {
  return value !== undefined && value < 0 ? [invalid(path, value, "must be greater than or equal to 0")] : [];
}
