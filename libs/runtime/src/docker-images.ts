// Image presence by pull policy. Pulls go through the daemon (which owns registry access and
// credentials); concurrent requests for one image share one pull, as the kubelet's serial puller
// would, instead of asking the registry N times. A failed pull is an ImagePullError whose message
// is the daemon's reason alone: the caller names the image (the agent's event reads
// `Failed to pull image "X": <reason>`, as Kubernetes words it).

import type Docker from "dockerode";
import { daemonMessage, dockerError, isUnavailable, statusOf } from "./docker-errors.js";
import { ndjson } from "./docker-streams.js";
import type { Logger } from "./logger.js";
import { ImageNotPresentError, ImagePullError, type PullPolicy } from "./runtime.js";

export interface ImageRef {
  /** Repository including any registry host: "127.0.0.1:5000/demo", "navarch/demo", "busybox". */
  repository: string;
  /** Tag, or a digest ("sha256:..."); "latest" when the reference names neither. */
  tag: string;
  digest: boolean;
}

/**
 * Splits a reference. The tag colon is the last one after the last "/" (a colon before it belongs
 * to a registry port). An empty tag would make the daemon pull every tag, hence "latest".
 */
export function parseImageRef(image: string): ImageRef {
  const at = image.indexOf("@");
  if (at >= 0) return { repository: image.slice(0, at), tag: image.slice(at + 1), digest: true };
  const colon = image.lastIndexOf(":");
  if (colon > image.lastIndexOf("/")) {
    return { repository: image.slice(0, colon), tag: image.slice(colon + 1), digest: false };
  }
  return { repository: image, tag: "latest", digest: false };
}

/** The reference as the daemon names the local image: tag added when missing. */
export function normalizedRef(image: string): string {
  const r = parseImageRef(image);
  return `${r.repository}${r.digest ? "@" : ":"}${r.tag}`;
}

export type PullReporter = (phase: "pulling" | "pulled", detail: string) => void;

export class DockerImages {
  private readonly inflight = new Map<string, Promise<string>>();

  constructor(
    private readonly docker: Docker,
    private readonly logger: Logger,
  ) {}

  /** The local image's ID (sha256:...), or undefined when the daemon does not have it. */
  async localId(image: string): Promise<string | undefined> {
    try {
      return (await this.docker.getImage(normalizedRef(image)).inspect()).Id;
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw dockerError(`inspect image ${image}`, err);
    }
  }

  async ensure(image: string, policy: PullPolicy, onPull?: PullReporter): Promise<string> {
    if (policy !== "Always") {
      const id = await this.localId(image);
      if (id) return id;
      if (policy === "Never") {
        throw new ImageNotPresentError(`image "${image}" is not present on the node and its pull policy is Never`);
      }
    }
    const key = normalizedRef(image);
    let pull = this.inflight.get(key);
    if (!pull) {
      pull = this.pull(image, onPull).finally(() => this.inflight.delete(key));
      this.inflight.set(key, pull);
    } else {
      onPull?.("pulling", `Pulling image "${image}" (joined a pull already in progress)`);
    }
    return pull;
  }

  private async pull(image: string, onPull?: PullReporter): Promise<string> {
    const started = Date.now();
    onPull?.("pulling", `Pulling image "${image}"`);
    const ref = parseImageRef(image);
    let stream: NodeJS.ReadableStream;
    try {
      // fromImage + tag explicitly: dockerode's own parsing would do the same, but an empty tag
      // must never reach the daemon.
      stream = (await this.docker.createImage({ fromImage: ref.repository, tag: ref.tag })) as NodeJS.ReadableStream;
    } catch (err) {
      if (isUnavailable(err)) throw dockerError(`pull ${image}`, err);
      throw new ImagePullError(daemonMessage(err), { cause: err });
    }
    // The daemon answers 200 and reports a failed pull inside the progress stream ({"error": ...});
    // docker-modem's followProgress treats that as success, so the stream is read here.
    let failure: string | undefined;
    try {
      for await (const msg of ndjson(stream as AsyncIterable<Buffer>, (line) => this.logger.debug({ image, line }, "unparsable pull progress line"))) {
        const m = msg as { error?: string; errorDetail?: { message?: string }; status?: string };
        if (m.error || m.errorDetail) failure = m.errorDetail?.message ?? m.error;
      }
    } catch (err) {
      failure = `connection to the Docker daemon lost during the pull (${(err as Error).message})`;
    }
    if (failure) throw new ImagePullError(failure);
    const id = await this.localId(image);
    if (!id) throw new ImagePullError("the daemon reported success but has no such image");
    const secs = ((Date.now() - started) / 1000).toFixed(3);
    onPull?.("pulled", `Successfully pulled image "${image}" in ${secs}s`);
    this.logger.info({ image, id, seconds: Number(secs) }, "pulled image");
    return id;
  }
}
