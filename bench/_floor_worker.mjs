// The worker of the `floor-worker` contender (see _floor.mjs): the floor's
// synchronous sequence, run on a worker thread, one write at a time. The main
// thread puts the content in shared memory and wakes it with Atomics.notify;
// it answers through Atomics.waitAsync, or with a message on Bun.

import { parentPort, workerData } from "node:worker_threads";
import { floorWriteFileSync } from "./_floor.mjs";

const { buffer, dir, path, byMessage } = workerData;
const control = new Int32Array(buffer, 0, 4); // [requests, length, answers]
const data = new Uint8Array(buffer, 16);
for (let seen = 0;; seen++) {
  Atomics.wait(control, 0, seen);
  floorWriteFileSync(dir, path, data.subarray(0, control[1]));
  Atomics.add(control, 2, 1);
  if (byMessage) parentPort.postMessage(0);
  else Atomics.notify(control, 2);
}
