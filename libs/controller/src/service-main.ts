// The whole of a control-plane service's main.ts when it runs on its own, against an external
// NATS: options -> signals -> connect -> run -> exit. One copy, so the services stay alike
// (--help, the required NAVARCH_NATS_URL, a second signal exits at once, exit code on failure).
import { COMMON_OPTIONS, createLogger, describeOptions, readOptions, type OptionSpec } from "@navarch/config";
import { connectNats } from "@navarch/store";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "./logger.js";

type Values<S extends Record<string, OptionSpec<unknown>>> = { [K in keyof S]: S[K] extends OptionSpec<infer T> ? T : never };

export interface ServiceMainParams<S extends Record<string, OptionSpec<unknown>>> {
  /** The service's name: in --help, logs and the NATS connection name (navarch-<name>). */
  name: string;
  /** The service's own options (the common ones are added). */
  options: S;
  run(params: { nc: NatsConnection; logger: Logger; signal: AbortSignal; options: Values<typeof COMMON_OPTIONS> & Values<S> }): Promise<void>;
}

export async function serviceMain<S extends Record<string, OptionSpec<unknown>>>(p: ServiceMainParams<S>): Promise<never> {
  const specs = { ...COMMON_OPTIONS, ...p.options };
  if (process.argv.includes("--help") || process.argv.includes("-h")) {
    console.log(`Usage: ${p.name}\n\nOptions (environment):\n${describeOptions(specs)}`);
    process.exit(0);
  }
  const options = readOptions(specs) as unknown as Values<typeof COMMON_OPTIONS> & Values<S>;
  if (!options.natsUrl) {
    console.error(`${p.name}: NAVARCH_NATS_URL is required (the all-in-one starts its own NATS; this does not)`);
    process.exit(2);
  }
  const logger = createLogger(p.name, options.logLevel);

  const abort = new AbortController();
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    process.on(sig, () => {
      if (abort.signal.aborted) process.exit(130); // a second signal: do not wait
      logger.info({ signal: sig }, "shutting down");
      abort.abort();
    });
  }

  const nc = await connectNats({ url: options.natsUrl, name: `navarch-${p.name}`, credsFile: options.natsCreds || undefined, replicas: options.kvReplicas });
  try {
    await p.run({ nc, logger, signal: abort.signal, options });
  } catch (err) {
    logger.fatal({ err }, `${p.name} failed`);
    process.exitCode = 1;
  } finally {
    await nc.drain().catch(() => undefined);
  }
  // Nothing is left to do; do not wait for stray timers or sockets to let the process end.
  process.exit();
}
