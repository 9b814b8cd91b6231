// navctl set image deployment/NAME CONTAINER=IMAGE [CONTAINER2=IMAGE2] ("*=IMAGE" for every
// container): changes the images of a workload's pod template (or of a pod), as kubectl set image.
import type { Container, Deployment, KindInfo, Pod, PodSpec, ReplicaSet } from "@navarch/api";
import { KINDS } from "@navarch/api";
import { CliError } from "../errors.js";
import { kindRef } from "../resources.js";
import type { CommandContext } from "./context.js";
import { DEPLOYMENT, modifyObject, parseTargets, REPLICA_SET, requireKind } from "./rollout-target.js";

const POD = KINDS.Pod as unknown as KindInfo;

/** Splits the arguments into targets and CONTAINER=IMAGE pairs (the pairs come last). */
export function parseImageArgs(args: string[]): { targets: string[]; images: Map<string, string> } {
  const images = new Map<string, string>();
  const targets: string[] = [];
  for (const a of args) {
    const eq = a.indexOf("=");
    if (eq < 0) {
      if (images.size > 0) throw new CliError(`all resources must be specified before image changes: ${a}`);
      targets.push(a);
      continue;
    }
    const name = a.slice(0, eq);
    const image = a.slice(eq + 1);
    if (name === "" || image === "") throw new CliError(`invalid image change "${a}": expected CONTAINER=IMAGE`);
    images.set(name, image);
  }
  if (images.size === 0) throw new CliError("at least one image update is required, e.g. app=navarch/demo:2");
  return { targets, images };
}

/** Sets the images in a pod spec; returns whether anything changed. Unknown container names are refused. */
export function setImages(spec: PodSpec, images: Map<string, string>): boolean {
  const all: Container[] = [...(spec.initContainers ?? []), ...(spec.containers ?? [])];
  let changed = false;
  for (const [name, image] of images) {
    const matching = name === "*" ? all : all.filter((c) => c.name === name);
    if (matching.length === 0) throw new CliError(`unable to find container named "${name}"`);
    for (const c of matching) {
      if (c.image !== image) changed = true;
      c.image = image;
    }
  }
  return changed;
}

export async function runSetImage(ctx: CommandContext, args: string[]): Promise<void> {
  const { targets: targetArgs, images } = parseImageArgs(args);
  const targets = parseTargets(targetArgs, "set image");
  for (const t of targets) requireKind(t, [DEPLOYMENT, REPLICA_SET, POD], "set image");
  for (const t of targets) {
    const { changed } = await modifyObject<Deployment | ReplicaSet | Pod>(ctx, t.info, t.name, (obj) => {
      const spec = t.info === POD ? (obj as Pod).spec : (obj as Deployment | ReplicaSet).spec?.template?.spec;
      if (!spec) throw new CliError(`${kindRef(t.info)}/${t.name} has no pod template`);
      return setImages(spec, images);
    });
    // kubectl says "image updated" only when something changed.
    if (changed) ctx.io.out(`${kindRef(t.info)}/${t.name} image updated\n`);
  }
}
