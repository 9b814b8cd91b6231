#!/usr/bin/env node
// The controller-manager on its own, against an external NATS (the all-in-one runs it in-process).
import { serviceMain } from "@navarch/controller";
import { CONTROLLER_MANAGER_OPTIONS } from "./options.js";
import { run } from "./run.js";

await serviceMain({ name: "controller-manager", options: CONTROLLER_MANAGER_OPTIONS, run });
