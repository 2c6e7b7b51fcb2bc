// The adapters' `channel()`: node:diagnostics_channel, which Node, Deno and
// Bun all provide.

import diagnostics from "node:diagnostics_channel";
import type { EventChannel } from "../core/adapter.ts";

/** The `node:diagnostics_channel` channel of that name. */
export function diagnosticsChannel(name: string): EventChannel {
  return diagnostics.channel(name);
}
