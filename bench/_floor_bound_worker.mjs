// A worker of B's `floor-bound` and `contract-bound` contenders (see
// floorBound in _floor.mjs): it replaces each of its files once (warm-up), says
// it is ready, waits for the start, then takes write numbers from a shared
// counter until all are taken and, for each, replaces the next of its own
// files with the per-file syscalls alone, made synchronously:
// open(temp, O_CREAT|O_EXCL|O_WRONLY), write, fsync, close, rename. With
// `contract`, also the two that atomfs's protocol adds for each file, lstat of
// the target (its mode and owner are kept) and fstat of the open temp file
// (what it was created with), and temp names with 128 random bits, as atomfs
// makes them (contractReplaceSync, through Deno.* on Deno). No directory fsync
// at all.

import { parentPort, workerData } from "node:worker_threads";
import { contractReplaceSync, floorReplaceSync } from "./_floor.mjs";

const { paths, thread, writes, control, latencies, contract } = workerData;
const shared = new Int32Array(control); // [writes taken, started]
const times = new Float64Array(latencies);
const data = new Uint8Array(workerData.size);
let temps = 0;

// Temp names unique across the threads (the floor's own count per thread).
const replace = contract
  ? (path) => contractReplaceSync(path, data)
  : (path) => floorReplaceSync(`${path}.bound-${thread}-${temps++}.tmp`, path, data);

for (const path of paths) replace(path);
parentPort.postMessage("ready");
Atomics.wait(shared, 1, 0);
for (let lane = 0;;) {
  const n = Atomics.add(shared, 0, 1);
  if (n >= writes) break;
  data[0] = n % 256;
  data[1] = n >> 8;
  const begun = performance.now();
  replace(paths[lane]);
  times[n] = performance.now() - begun;
  lane = (lane + 1) % paths.length;
}
parentPort.postMessage("done");
