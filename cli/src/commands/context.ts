// What every command gets: the connection (made on first use, so `config view` needs no server)
// and where to write.
import type { Connection, Settings } from "../connection.js";

export interface Io {
  out(text: string): void;
  err(text: string): void;
}

export interface CommandContext {
  settings(): Settings;
  connection(): Connection;
  io: Io;
  /** Set when some objects failed but the command went on with the others: exit code 1. */
  failed: boolean;
}

/** Prints "error: <message>" for one failed object and marks the command failed. */
export function reportError(ctx: CommandContext, message: string): void {
  ctx.io.err(`error: ${message}\n`);
  ctx.failed = true;
}
