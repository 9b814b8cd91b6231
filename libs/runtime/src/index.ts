export * from "./runtime.js";
export { DockerRuntime, goArch, type DockerRuntimeOptions } from "./docker.js";
export type { HostNetfilter, PodBridge } from "./host-netfilter.js";
export { NETFILTER_IMAGE, NETFILTER_OWNER_LABEL, netfilterHelperName } from "./docker-netfilter.js";
export { PAUSE_IMAGE, containerName, sandboxName } from "./docker-spec.js";
export { parseImageRef, normalizedRef } from "./docker-images.js";
export { MANAGED_LABEL } from "./docker-client.js";
export { silentLogger, type Logger as RuntimeLogger } from "./logger.js";
export { FakeRuntime, type FakeRuntimeOptions, type ContainerScript } from "./fake-runtime.js";
