/**
 * The Bun filesystem adapter. Bun implements `node:fs`, and for every call
 * the protocol makes (exclusive create with a mode, short-write counts,
 * fsync of a directory descriptor, `EEXIST` from `link`, error codes) it
 * behaves as Node does on Bun 1.4, so this is the Node adapter under Bun's
 * name. `Bun.write` is never used on the durable path: it ignores `mode`,
 * does not truncate at open and never fsyncs.
 *
 * @module
 */

import type { FsAdapter } from "../core/adapter.ts";
import { nodeAdapter } from "./node.ts";
import { withOffload } from "../core/_offload.ts";
import { workerSpawner } from "./_offload.ts";

/**
 * The filesystem of Bun.
 *
 * @example Use the Bun adapter explicitly
 * ```ts
 * import { createAtomicFs } from "@atomfs/atomfs";
 * import { bunAdapter } from "@atomfs/atomfs/bun";
 *
 * const fs = createAtomicFs(bunAdapter);
 * await fs.writeFile("./state.json", "{}");
 * ```
 */
export const bunAdapter: FsAdapter<number> = withOffload(
  { ...nodeAdapter, name: "bun" },
  workerSpawner("node"),
);
