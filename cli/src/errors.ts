// An error navctl reports as one line ("error: <message>") and exit code 1.
export class CliError extends Error {
  override name = "CliError";
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** The one-line message of any thrown value (never a stack trace). */
export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message.split("\n")[0] ?? "";
  return String(err);
}
