// navctl config view: the client config in effect, token redacted unless --raw.
import { CLIENT_CONFIG_API_VERSION, CLIENT_CONFIG_KIND } from "@navarch/config";
import { formatJson, formatYaml } from "../printers/output.js";
import type { CommandContext } from "./context.js";

export const REDACTED = "REDACTED";

export function runConfigView(ctx: CommandContext, opts: { raw?: boolean | undefined; output?: string | undefined }): void {
  const s = ctx.settings();
  const doc = {
    apiVersion: CLIENT_CONFIG_API_VERSION,
    kind: CLIENT_CONFIG_KIND,
    server: s.server,
    token: opts.raw ? s.token : REDACTED,
    namespace: s.namespace,
  };
  ctx.io.out(opts.output === "json" ? formatJson(doc) : formatYaml(doc));
}
