#!/usr/bin/env node
// The replication service on its own, against an external NATS (the all-in-one runs it in-process).
import { serviceMain } from "@navarch/controller";
import { REPLICATION_OPTIONS } from "./options.js";
import { run } from "./run.js";

await serviceMain({ name: "replication", options: REPLICATION_OPTIONS, run });
