// The offload worker's entry point (see core/_offload_worker.ts). Imported
// anywhere else (the main thread, a bundler's scan), it does nothing.

import { isMainThread, parentPort, workerData } from "node:worker_threads";
import { type OffloadInit, serve } from "../core/_offload_worker.ts";
import { denoAdapter } from "./deno.ts";
import { nodeAdapter } from "./node.ts";

const data = workerData as
  | (OffloadInit & { adapter: "node" | "deno"; wakeByMessage: boolean })
  | null
  | undefined;
if (!isMainThread && data?.jobs instanceof SharedArrayBuffer) {
  serve(
    data.adapter === "deno" ? denoAdapter : nodeAdapter,
    data,
    data.wakeByMessage ? () => parentPort!.postMessage(0) : undefined,
  );
}
