// The admission layer of the gateway: Kubernetes defaulting and validation for every kind.
// The gateway calls, on create, default → validate; on update, default → validate →
// validateUpdate; any error rejects the request with INVALID_ARGUMENT and nothing is written.
// Server-managed metadata (uid, resourceVersion, generation, timestamps) and status are the
// gateway's; nothing here fills or checks them.
import type { FieldError, KindInfo, KubeObject } from "@navarch/api";
import { configMapRules, secretRules } from "./config.js";
import { ingressRules } from "./ingress.js";
import { validateObjectMeta, validateObjectMetaUpdate } from "./metadata.js";
import { endpointsRules, eventRules, leaseRules, namespaceRules } from "./misc.js";
import { nodeRules } from "./node.js";
import { podRules, podRulesWith, type PodDefaults } from "./pod.js";
import { serviceRules } from "./service.js";
import { daemonSetRules, deploymentRules, jobRules, replicaSetRules } from "./workloads.js";

export interface Admission<T extends KubeObject = KubeObject> {
  /** Fills Kubernetes defaults in place (called on create and on update, before validate). */
  default(obj: T): void;
  /** Every problem of the object (metadata and the rest), with full JSON paths in Kubernetes (camelCase) names. */
  validate(obj: T): FieldError[];
  /** Problems of an update beyond validate(): immutable fields changed. */
  validateUpdate(obj: T, old: T): FieldError[];
}

/** What one kind adds to the shared metadata rules; every part is optional. */
export interface KindRules<T extends KubeObject> {
  default?(obj: T): void;
  validate?(obj: T): FieldError[];
  validateUpdate?(obj: T, old: T): FieldError[];
}

const RULES: Record<string, KindRules<KubeObject>> = {
  Namespace: namespaceRules,
  Node: nodeRules,
  Pod: podRules,
  Service: serviceRules,
  Endpoints: endpointsRules,
  ConfigMap: configMapRules,
  Secret: secretRules,
  Event: eventRules,
  ReplicaSet: replicaSetRules,
  Deployment: deploymentRules,
  DaemonSet: daemonSetRules,
  Job: jobRules,
  Lease: leaseRules,
  Ingress: ingressRules,
};

/** Gateway options that admission defaults depend on. */
export type AdmissionOptions = PodDefaults;

/**
 * The admission of one kind. A kind without rules of its own (one added to KINDS later) still
 * gets the metadata rules rather than an error, so the gateway keeps serving it.
 */
export function admissionFor(info: KindInfo, options: AdmissionOptions = {}): Admission {
  const rules = (info.kind === "Pod" ? (podRulesWith(options) as KindRules<KubeObject>) : RULES[info.kind]) ?? {};
  return {
    default(obj) {
      rules.default?.(obj);
    },
    validate(obj) {
      return [...validateObjectMeta(obj.metadata, info), ...(rules.validate?.(obj) ?? [])];
    },
    validateUpdate(obj, old) {
      return [...validateObjectMetaUpdate(obj.metadata, old.metadata), ...(rules.validateUpdate?.(obj, old) ?? [])];
    },
  };
}
