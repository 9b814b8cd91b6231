// The commander wiring of scale, set image and rollout (main.ts calls registerRolloutCommands).
import { InvalidArgumentError, type Command } from "commander";
import type { CommandContext } from "./context.js";
import {
  runRolloutHistory,
  runRolloutPause,
  runRolloutRestart,
  runRolloutResume,
  runRolloutStatus,
  runRolloutUndo,
} from "./rollout.js";
import { runScale } from "./scale.js";
import { runSetImage } from "./set.js";

/** main.ts's wrapper: makes the context, prints errors, sets the exit code. */
export type Action = <A extends unknown[]>(fn: (ctx: CommandContext, ...args: A) => Promise<void> | void) => (...args: A) => Promise<void>;

type Opts = Record<string, unknown>;

function count(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError("expected a non-negative integer");
  return n;
}

function integer(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError("expected an integer");
  return n;
}

/** "30s", "2m", "1h", "500ms" or plain seconds, to milliseconds (0: no limit). */
function duration(value: string): number {
  const m = /^(\d+)(ms|s|m|h)?$/.exec(value);
  if (!m) throw new InvalidArgumentError("expected a duration such as 30s, 2m or 1h");
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? "s") as "ms" | "s" | "m" | "h"];
}

function bool(value: string): boolean {
  if (value === "true") return true;
  if (value === "false") return false;
  throw new InvalidArgumentError("expected true or false");
}

export function registerRolloutCommands(program: Command, action: Action): void {
  program
    .command("scale")
    .description("set a new size for a deployment or replica set")
    .argument("<resources...>", "TYPE/NAME... or TYPE NAME...")
    .requiredOption("--replicas <count>", "the new number of replicas", count)
    .option("--current-replicas <count>", "only scale if the current number of replicas is this (-1: any)", integer, -1)
    .action(
      action(async (ctx, args: string[], o: Opts) =>
        runScale(ctx, args, { replicas: o.replicas as number, currentReplicas: o.currentReplicas as number }),
      ),
    );

  const set = program.command("set").description("set specific features on objects");
  set
    .command("image")
    .description("update the images of a pod template (deployment, replica set) or a pod")
    .argument("<args...>", "TYPE/NAME... CONTAINER=IMAGE... ('*=IMAGE' for every container)")
    .action(action(async (ctx, args: string[]) => runSetImage(ctx, args)));

  const rollout = program.command("rollout").description("manage the rollout of a deployment");
  rollout
    .command("status")
    .description("show the status of the rollout, until it is done")
    .argument("<resources...>", "deployment/NAME")
    .option("--timeout <duration>", "give up after this long, e.g. 2m (0: wait as long as it takes)", duration, 0)
    .option("-w, --watch [bool]", "watch until the rollout is done (false: print the status once)", bool, true)
    .action(
      action(async (ctx, args: string[], o: Opts) =>
        runRolloutStatus(ctx, args, { timeoutMs: o.timeout as number, watch: o.watch as boolean }),
      ),
    );
  rollout
    .command("history")
    .description("view previous rollout revisions")
    .argument("<resources...>", "deployment/NAME")
    .option("--revision <n>", "the details of one revision (its pod template)", count)
    .action(action(async (ctx, args: string[], o: Opts) => runRolloutHistory(ctx, args, { revision: o.revision as number | undefined })));
  rollout
    .command("undo")
    .description("roll back to a previous revision (its pod template back in the deployment)")
    .argument("<resources...>", "deployment/NAME")
    .option("--to-revision <n>", "the revision to roll back to (default: the one before the current)", count, 0)
    .action(action(async (ctx, args: string[], o: Opts) => runRolloutUndo(ctx, args, { toRevision: o.toRevision as number })));
  rollout
    .command("pause")
    .description("stop rolling out template changes until resumed")
    .argument("<resources...>", "deployment/NAME")
    .action(action(async (ctx, args: string[]) => runRolloutPause(ctx, args)));
  rollout
    .command("resume")
    .description("resume a paused deployment")
    .argument("<resources...>", "deployment/NAME")
    .action(action(async (ctx, args: string[]) => runRolloutResume(ctx, args)));
  rollout
    .command("restart")
    .description("replace every pod with a new one (a new rollout of the same template)")
    .argument("<resources...>", "deployment/NAME")
    .action(action(async (ctx, args: string[]) => runRolloutRestart(ctx, args)));
}
