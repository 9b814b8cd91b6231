import { pino, type Logger } from "pino";

export type { Logger };

/** JSON logs to stderr (stdout is for what a user asked to see), one child per component. */
export function createLogger(component: string, level = process.env.NAVARCH_LOG_LEVEL || "info"): Logger {
  return pino({ name: component, level, base: { component } }, pino.destination(2));
}
