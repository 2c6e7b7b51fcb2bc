// The worker of the `floor-worker` contender (see _floor.mjs): the floor's
// synchronous sequence, run on a worker thread, one write at a time (for
// `contract-worker` and `contract-worker-file`, the calls atomfs's contract
// makes, with and without the directory fsync). The main thread puts the
// content in shared memory and wakes it with Atomics.notify; it answers
// through Atomics.waitAsync, or with a message on Bun.

import { parentPort, workerData } from "node:worker_threads";
import { contractReplaceSync, contractWriteFileSync, floorWriteFileSync } from "./_floor.mjs";

const { buffer, dir, path, byMessage, way } = workerData;
const WAYS = {
  floor: (data) => floorWriteFileSync(dir, path, data),
  contract: (data) => contractWriteFileSync(dir, path, data),
  "contract-file": (data) => contractReplaceSync(path, data),
};
const write = WAYS[way];
const control = new Int32Array(buffer, 0, 4); // [requests, length, answers]
const data = new Uint8Array(buffer, 16);
for (let seen = 0;; seen++) {
  Atomics.wait(control, 0, seen);
  write(data.subarray(0, control[1]));
  Atomics.add(control, 2, 1);
  if (byMessage) parentPort.postMessage(0);
  else Atomics.notify(control, 2);
}
