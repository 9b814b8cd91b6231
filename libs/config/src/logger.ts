import { pino, type Logger } from "pino";

export type { Logger };

/** JSON logs to stderr (stdout is for what a user asked to see), one child per component. */
export function createLogger(component: string, level = process.env.NAVARCH_LOG_LEVEL || "info"): Logger {
  // "name" says which process logged; children add "component" for the part of it that did.
  return pino({ name: component, level, base: { pid: process.pid } }, pino.destination(2));
}
