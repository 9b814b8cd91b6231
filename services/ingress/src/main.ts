#!/usr/bin/env node
// The ingress controller on its own, against an external NATS (the all-in-one runs it in-process).
import { serviceMain } from "@navarch/controller";
import { INGRESS_OPTIONS } from "./options.js";
import { run } from "./run.js";

await serviceMain({ name: "ingress", options: INGRESS_OPTIONS, run });
