#!/usr/bin/env node
// The scheduler on its own, against an external NATS (the all-in-one runs it in-process).
import { serviceMain } from "@navarch/controller";
import { SCHEDULER_OPTIONS } from "./options.js";
import { run } from "./run.js";

await serviceMain({ name: "scheduler", options: SCHEDULER_OPTIONS, run });
