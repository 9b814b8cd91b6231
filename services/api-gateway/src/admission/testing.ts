// Helpers for the admission table tests (not a test file itself: the runner picks *.test.js).
// Inputs are built the way the gateway builds them: a Kubernetes-looking manifest through the
// kind's fromJSON, then default(), then validate().
import assert from "node:assert/strict";
import { test } from "node:test";
import type { FieldError, KindInfo, KubeObject } from "@navarch/api";
import { admissionFor } from "./index.js";

// Manifests are loose JSON on purpose: cases break them in ways the types would not allow.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Manifest = Record<string, any>;

/** Decodes and defaults a manifest, as the gateway does before validating. */
export function decode<T extends KubeObject>(info: KindInfo<T>, manifest: Manifest, defaults = true): T {
  const obj = info.codec.fromJSON(manifest);
  if (defaults) admissionFor(info as unknown as KindInfo).default(obj);
  return obj;
}

export function validate(info: KindInfo<KubeObject>, manifest: Manifest): FieldError[] {
  return admissionFor(info).validate(decode(info, manifest));
}

/** The errors of an update from `before` to `after`, both defaulted, as the gateway runs it. */
export function validateUpdate(info: KindInfo<KubeObject>, after: Manifest, before: Manifest): FieldError[] {
  const adm = admissionFor(info);
  const obj = decode(info, after);
  return [...adm.validate(obj), ...adm.validateUpdate(obj, decode(info, before))];
}

export function expectNone(errors: FieldError[]): void {
  assert.deepEqual(errors, []);
}

/** Exactly one error, at exactly `path`, whose message contains `phrase`. */
export function expectOne(errors: FieldError[], path: string, phrase: string): void {
  assert.deepEqual(errors.map((e) => e.path), [path], JSON.stringify(errors));
  assert.ok(errors[0]!.message.includes(phrase), `"${errors[0]!.message}" should contain "${phrase}"`);
}

export interface Case {
  name: string;
  edit: (m: Manifest) => void;
  path: string;
  phrase: string;
}

/** One test per case: the base manifest, broken by `edit`, yields exactly the one error. */
export function invalidCases(info: KindInfo<KubeObject>, base: () => Manifest, cases: Case[]): void {
  for (const c of cases) {
    test(`${info.kind}: ${c.name}`, () => {
      const m = base();
      c.edit(m);
      expectOne(validate(info, m), c.path, c.phrase);
    });
  }
}
