// The logging the runtime needs: pino's call shape (fields first, then the message), so a pino
// logger from @navarch/config fits as is, without this library depending on pino.

export interface Logger {
  debug(fields: object, msg?: string): void;
  info(fields: object, msg?: string): void;
  warn(fields: object, msg?: string): void;
  error(fields: object, msg?: string): void;
}

export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};
