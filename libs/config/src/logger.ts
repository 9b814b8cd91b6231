import { pino, type Logger } from "pino";

export type { Logger };

/**
 * JSON logs to stderr (stdout is for what a user asked to see), or appended to `file`; one child
 * per component.
 */
export function createLogger(component: string, level = process.env.NAVARCH_LOG_LEVEL || "info", file?: string): Logger {
  // "name" says which process logged; children add "component" for the part of it that did.
  const destination = file ? pino.destination({ dest: file, mkdir: true, append: true }) : pino.destination(2);
  return pino({ name: component, level, base: { pid: process.pid } }, destination);
}

/**
 * The logging the libraries need: pino's call shape (fields first, then the message), so a pino
 * logger fits as is and tests can pass silentLogger.
 */
export interface LogSink {
  debug(fields: object, msg?: string): void;
  info(fields: object, msg?: string): void;
  warn(fields: object, msg?: string): void;
  error(fields: object, msg?: string): void;
}

export const silentLogger: LogSink = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};
