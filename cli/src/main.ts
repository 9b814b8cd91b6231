#!/usr/bin/env node
// navctl: the command line of Navarch, with kubectl's verbs, flags and output.
// This file only wires commander to the commands; each command lives in commands/.
import { Command, CommanderError, InvalidArgumentError } from "commander";
import { runApply } from "./commands/apply.js";
import { runConfigView } from "./commands/config.js";
import type { CommandContext } from "./commands/context.js";
import { runCordon } from "./commands/cordon.js";
import { registerRolloutCommands } from "./commands/rollout-register.js";
import { runDrain } from "./commands/drain.js";
import { runDelete } from "./commands/delete.js";
import { runDescribe } from "./commands/describe.js";
import { runApiResources, runVersion, runWhoAmI } from "./commands/discovery.js";
import { runGet } from "./commands/get.js";
import { parseSince, parseTail, runLogs } from "./commands/logs.js";
import { Connection, resolveSettings, type GlobalOptions, type Settings } from "./connection.js";
import { messageOf } from "./errors.js";

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError("expected a non-negative integer");
  return n;
}

function integer(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError("expected an integer");
  return n;
}

/** "30s", "2m", "1h" or plain seconds, to milliseconds. */
function duration(value: string): number {
  const m = /^(\d+)(ms|s|m|h)?$/.exec(value);
  if (!m) throw new InvalidArgumentError("expected a duration such as 30s, 2m or 1h");
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? "s") as "ms" | "s" | "m" | "h"];
  return Number(m[1]) * unit;
}

function bool(value: string): boolean {
  if (value === "true") return true;
  if (value === "false") return false;
  throw new InvalidArgumentError("expected true or false");
}

/** A parser that throws CliError, as commander's option argument parser. */
function cliArg<T>(parse: (value: string) => T): (value: string) => T {
  return (value) => {
    try {
      return parse(value);
    } catch (err) {
      throw new InvalidArgumentError(messageOf(err));
    }
  };
}

function printError(err: unknown): void {
  const msg = messageOf(err).replace(/^error: /, "");
  process.stderr.write(`error: ${msg}\n`);
}

const program = new Command("navctl");
let connection: Connection | undefined;
let exitCode = 0;

/** Runs one command with a context whose settings and connection are made on first use. */
function action<A extends unknown[]>(fn: (ctx: CommandContext, ...args: A) => Promise<void> | void) {
  return async (...args: A): Promise<void> => {
    let settings: Settings | undefined;
    const ctx: CommandContext = {
      settings: () => (settings ??= resolveSettings(program.opts<GlobalOptions>())),
      connection: () => (connection ??= new Connection(ctx.settings())),
      io: { out: (s) => void process.stdout.write(s), err: (s) => void process.stderr.write(s) },
      failed: false,
    };
    try {
      await fn(ctx, ...args);
      if (ctx.failed) exitCode = 1;
    } catch (err) {
      printError(err);
      exitCode = 1;
    }
  };
}

type Opts = Record<string, unknown>;

program
  .name("navctl")
  .description("navctl controls a Navarch cluster, the way kubectl controls Kubernetes.")
  .option("--server <host:port>", "address of the API server (env NAVARCH_SERVER; default from the client config)")
  .option("--token <token>", "bearer token (env NAVARCH_TOKEN; default from the client config)")
  .option("-n, --namespace <namespace>", "namespace for this request (default from the client config, else \"default\")")
  .option("--config <path>", "client config file (default $NAVARCH_HOME/config)")
  .showSuggestionAfterError(true)
  .configureHelp({ showGlobalOptions: true })
  .exitOverride()
  .configureOutput({
    // Commander's messages start with "error: "; keep each to one line.
    outputError: (str, write) => write(str.trimEnd().replace(/\s*\n\s*/g, " ") + "\n"),
  });

program
  .command("apply")
  .description("apply a configuration to resources by file name or stdin")
  .requiredOption("-f, --filename <file>", "file, directory or - for stdin (repeatable)", collect, [])
  .option("-R, --recursive", "process the directory used in -f recursively")
  .action(action(async (ctx, o: Opts) => runApply(ctx, { filename: o.filename as string[], recursive: o.recursive as boolean })));

program
  .command("get")
  .description("display one or many resources")
  .argument("[resources...]", "KIND[,KIND] [NAME...] or KIND/NAME...")
  .option("-o, --output <format>", "output format: wide, json, yaml or name")
  .option("-l, --selector <selector>", "label selector, e.g. app=web,tier!=db")
  .option("--field-selector <selector>", "field selector on metadata.name, metadata.namespace or spec.nodeName")
  .option("-A, --all-namespaces", "list across all namespaces")
  .option("-w, --watch", "after listing, watch for changes")
  .option("--watch-only", "watch for changes without listing first")
  .option("--show-labels", "show all labels as the last column")
  .option("--no-headers", "do not print headers")
  .option("--ignore-not-found", "treat a missing named object as success")
  .option("--chunk-size <n>", "return large lists in pages of this size (0: in one response)", nonNegativeInt, 500)
  .action(
    action(async (ctx, args: string[], o: Opts) =>
      runGet(ctx, args, {
        output: o.output as string,
        selector: o.selector as string,
        fieldSelector: o.fieldSelector as string,
        allNamespaces: o.allNamespaces as boolean,
        watch: o.watch as boolean,
        watchOnly: o.watchOnly as boolean,
        showLabels: o.showLabels as boolean,
        noHeaders: o.headers === false,
        ignoreNotFound: o.ignoreNotFound as boolean,
        chunkSize: o.chunkSize as number,
      }),
    ),
  );

program
  .command("describe")
  .description("show details of a resource or group of resources")
  .argument("<resources...>", "KIND [NAME...] or KIND/NAME...")
  .option("-l, --selector <selector>", "label selector")
  .option("-A, --all-namespaces", "describe across all namespaces")
  .option("--show-events [bool]", "show events about the object", bool, true)
  .action(
    action(async (ctx, args: string[], o: Opts) =>
      runDescribe(ctx, args, {
        selector: o.selector as string,
        allNamespaces: o.allNamespaces as boolean,
        showEvents: o.showEvents as boolean,
      }),
    ),
  );

program
  .command("delete")
  .description("delete resources by file names, stdin, names, or by label selector")
  .argument("[resources...]", "KIND NAME..., KIND/NAME..., or KIND with -l/--all")
  .option("-f, --filename <file>", "file, directory or - for stdin (repeatable)", collect, [])
  .option("-R, --recursive", "process the directory used in -f recursively")
  .option("-l, --selector <selector>", "delete the objects matching this label selector")
  .option("--all", "delete every object of the kind in the namespace")
  .option("-A, --all-namespaces", "with -l or --all, across all namespaces")
  .option("--cascade [mode]", "background, foreground or orphan (dependents)", "background")
  .option("--grace-period <seconds>", "seconds the object has to terminate gracefully (-1: its own default)", integer, -1)
  .option("--now", "signal to stop immediately (grace period 1)")
  .option("--ignore-not-found", "treat a missing object as success")
  .option("--wait [bool]", "wait until the objects are gone", bool, true)
  .option("--timeout <duration>", "give up waiting after this long (e.g. 30s; default: no limit)", duration)
  .action(
    action(async (ctx, args: string[], o: Opts) =>
      runDelete(ctx, args, {
        filename: o.filename as string[],
        recursive: o.recursive as boolean,
        selector: o.selector as string,
        all: o.all as boolean,
        allNamespaces: o.allNamespaces as boolean,
        cascade: o.cascade === true ? "background" : (o.cascade as string),
        gracePeriod: o.gracePeriod as number,
        now: o.now as boolean,
        ignoreNotFound: o.ignoreNotFound as boolean,
        wait: o.wait as boolean,
        timeoutMs: o.timeout as number | undefined,
      }),
    ),
  );

program
  .command("logs")
  .description("print the logs of a container in a pod")
  .argument("<pod>", "POD or pod/POD")
  .argument("[container]", "the container (same as -c)")
  .option("-c, --container <name>", "the container; may be left out when the pod has only one")
  .option("-f, --follow", "keep streaming new output until Ctrl-C")
  .option("-p, --previous", "the log of the previous, terminated instance of the container")
  .option("--tail <lines>", "only the last lines (-1: all)", cliArg(parseTail), -1)
  .option("--since <duration>", "only output newer than this, e.g. 5s, 2m or 1h", cliArg(parseSince))
  .option("--timestamps", "prefix each line with its timestamp")
  .action(
    action(async (ctx, pod: string, container: string | undefined, o: Opts) =>
      runLogs(ctx, pod, {
        container: (o.container as string | undefined) ?? container,
        follow: o.follow as boolean,
        previous: o.previous as boolean,
        tail: o.tail as number,
        sinceSeconds: o.since as number | undefined,
        timestamps: o.timestamps as boolean,
      }),
    ),
  );

program
  .command("cordon")
  .description("mark a node unschedulable")
  .argument("<node>", "NODE or node/NODE")
  .action(action(async (ctx, node: string) => runCordon(ctx, node, true)));

program
  .command("uncordon")
  .description("mark a node schedulable")
  .argument("<node>", "NODE or node/NODE")
  .action(action(async (ctx, node: string) => runCordon(ctx, node, false)));

program
  .command("drain")
  .description("cordon a node and evict its pods, waiting until they are gone")
  .argument("<node>", "NODE or node/NODE")
  .option("--force", "also evict pods that no controller manages (they will not come back)")
  .option("--ignore-daemonsets", "leave DaemonSet-managed pods running instead of refusing")
  .option("--delete-emptydir-data", "also evict pods with emptyDir volumes (their data is lost)")
  .option("--grace-period <seconds>", "seconds each pod has to terminate (-1: its own terminationGracePeriodSeconds)", integer, -1)
  .option("--timeout <duration>", "give up after this long, e.g. 60s (default: no limit)", duration)
  .action(
    action(async (ctx, node: string, o: Opts) =>
      runDrain(ctx, node, {
        force: o.force as boolean,
        ignoreDaemonsets: o.ignoreDaemonsets as boolean,
        deleteEmptydirData: o.deleteEmptydirData as boolean,
        gracePeriod: o.gracePeriod as number,
        timeoutMs: o.timeout as number | undefined,
      }),
    ),
  );

registerRolloutCommands(program, action);

program
  .command("api-resources")
  .description("print the supported API resources on the server")
  .option("-o, --output <format>", "wide or name")
  .option("--namespaced <bool>", "only namespaced (true) or cluster-scoped (false) resources")
  .option("--no-headers", "do not print headers")
  .action(
    action(async (ctx, o: Opts) =>
      runApiResources(ctx, { output: o.output as string, namespaced: o.namespaced as string, noHeaders: o.headers === false }),
    ),
  );

program
  .command("version")
  .description("print the client and server version")
  .option("--client", "client version only (no server needed)")
  .option("-o, --output <format>", "yaml or json")
  .action(action(async (ctx, o: Opts) => runVersion(ctx, { client: o.client as boolean, output: o.output as string })));

const whoami = (parent: Command) =>
  parent
    .command("whoami")
    .description("print the identity of the token in use")
    .option("-o, --output <format>", "yaml or json")
    .action(action(async (ctx, o: Opts) => runWhoAmI(ctx, { output: o.output as string })));
whoami(program);
whoami(program.command("auth").description("inspect authorization"));

program
  .command("config")
  .description("inspect the client config")
  .command("view")
  .description("show the client config in effect (token redacted)")
  .option("--raw", "show the token")
  .option("-o, --output <format>", "yaml or json")
  .action(action(async (ctx, o: Opts) => runConfigView(ctx, { raw: o.raw as boolean, output: o.output as string })));

// `navctl get pods | head -1`: a closed pipe is not an error.
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code === "EPIPE") process.exit(exitCode);
});

process.on("uncaughtException", (err) => {
  printError(err);
  process.exit(1);
});
process.on("unhandledRejection", (err) => {
  printError(err);
  process.exit(1);
});

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    exitCode = err.exitCode === 0 ? 0 : 1;
  } else {
    printError(err);
    exitCode = 1;
  }
}
connection?.close();
process.exitCode = exitCode;
