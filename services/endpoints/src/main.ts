#!/usr/bin/env node
// The endpoints service on its own, against an external NATS (the all-in-one runs it in-process).
import { serviceMain } from "@navarch/controller";
import { ENDPOINTS_OPTIONS } from "./options.js";
import { run } from "./run.js";

await serviceMain({ name: "endpoints", options: ENDPOINTS_OPTIONS, run });
