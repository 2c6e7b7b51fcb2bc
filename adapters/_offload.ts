// Starts the offload worker (core/_offload.ts) with node:worker_threads, which
// Node, Deno and Bun all provide.

import { Worker } from "node:worker_threads";
import type { OffloadSpawner } from "../core/_offload.ts";

/**
 * A spawner of workers that use the adapter named `adapter` ("node" or
 * "deno"; Bun uses Node's).
 */
export function workerSpawner(adapter: "node" | "deno"): OffloadSpawner {
  return (init, events) => {
    // On Bun the worker wakes the main thread with a message: Bun's
    // Atomics.waitAsync did not settle for a notify from another thread when
    // this was written. Bun 1.4.5's does, and a message costs the same there
    // (bench/README.md), so the message stays for the Bun versions before.
    const wakeByMessage = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined";
    // The worker is this directory's _worker.ts, or _worker.js in the npm build.
    const entry = import.meta.url.endsWith(".ts") ? "./_worker.ts" : "./_worker.js";
    const worker = new Worker(new URL(entry, import.meta.url), {
      workerData: { ...init, adapter, wakeByMessage },
    });
    worker.unref();
    if (wakeByMessage) worker.on("message", () => events.wake());
    worker.on("error", (error) => events.fail(error));
    worker.on("exit", (code) => events.fail(new Error(`the offload worker exited (code ${code})`)));
    return {
      worker: {
        ref: () => worker.ref(),
        unref: () => worker.unref(),
        terminate: () => void worker.terminate(),
      },
      wakeByMessage,
    };
  };
}
