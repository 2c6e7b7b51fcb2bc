// Scenario A: 2,000 sequential 1 KiB writes to one file, each finished before
// the next; 200 more before them warm up the JIT and the filesystem and are not
// counted. Measures the per-write cost of the whole protocol when nothing
// overlaps: with durability "full" that is two fsyncs per write (file, then
// directory), which dominate on a real disk.
//
// Synchronous contenders yield to the event loop (setImmediate) after each
// write, so that the event-loop probe of scenario E sees how long one write
// blocks rather than the whole loop; every synchronous contender pays the same
// hop.

import { readdir, readFile } from "node:fs/promises";
import process from "node:process";
import { setImmediate } from "node:timers";
import {
  contractWriteFileSync,
  floorWriteFile,
  floorWriteFileSync,
  startFloorWorker,
} from "./_floor.mjs";
import { percentile, rateReport } from "./_report.mjs";
import { startStallProbe } from "./_stall.mjs";

const WARMUP = 200;
const WRITES = 2_000;
const SIZE = 1024;
/** The one file every contender replaces, in its run's directory. */
const target = (dir) => `${dir}/target.bin`;

/**
 * A contender running `way` (see startFloorWorker) on a worker thread, told
 * its one target when it starts, so that a write sends only its content.
 *
 * @param {"floor" | "contract" | "contract-file"} way
 */
const onWorker = (way) => async (_load, dir) => {
  const worker = await startFloorWorker(dir, target(dir), way);
  return { write: (_path, data) => worker.write(data) };
};

/**
 * Each contender: a factory giving one write function; `sync: true` marks a
 * synchronous one.
 *
 * @type {Record<string, (loadAtomfs: () => Promise<any>, dir: string) => Promise<{ write: (path: string, data: Uint8Array) => unknown, sync?: boolean }>>}
 */
const CONTENDERS = {
  floor: (_load, dir) =>
    Promise.resolve({ write: (path, data) => floorWriteFile(dir, path, data) }),
  "floor-sync": (_load, dir) =>
    Promise.resolve({ write: (path, data) => floorWriteFileSync(dir, path, data), sync: true }),
  // The floor's sync sequence on a worker thread, one round trip per write:
  // what an async write costs beyond its syscalls at the least.
  "floor-worker": onWorker("floor"),
  // The same with the calls atomfs's contract adds (an lstat of the target, an
  // fstat of the temp file, 128-bit temp names): the least an async write
  // keeping that contract can cost; and without the directory fsync, as
  // durability "file".
  "contract-worker": onWorker("contract"),
  "contract-worker-file": onWorker("contract-file"),
  // The sync floor with the contract's calls: the least writeFileSync can cost.
  "contract-sync": (_load, dir) =>
    Promise.resolve({ write: (path, data) => contractWriteFileSync(dir, path, data), sync: true }),
  atomfs: async (load) => {
    const { writeFile } = await load();
    return { write: (path, data) => writeFile(path, data) };
  },
  "atomfs-file": async (load) => {
    const { writeFile } = await load();
    const options = { durability: "file" };
    return { write: (path, data) => writeFile(path, data, options) };
  },
  "atomfs-sync": async (load) => {
    const { writeFileSync } = await load();
    return { write: (path, data) => writeFileSync(path, data), sync: true };
  },
  "write-file-atomic": async () => {
    const { default: writeFileAtomic } = await import("write-file-atomic");
    return { write: (path, data) => writeFileAtomic(path, data) };
  },
  "write-file-atomic-sync": async () => {
    const { default: writeFileAtomic } = await import("write-file-atomic");
    return { write: (path, data) => writeFileAtomic.sync(path, data), sync: true };
  },
  atomically: async () => {
    const { writeFile } = await import("atomically");
    return { write: (path, data) => writeFile(path, data) };
  },
  "atomically-sync": async () => {
    const { writeFileSync } = await import("atomically");
    return { write: (path, data) => writeFileSync(path, data), sync: true };
  },
  steno: async () => {
    const { Writer } = await import("steno");
    const writers = new Map();
    return {
      write(path, data) {
        if (!writers.has(path)) writers.set(path, new Writer(path));
        return writers.get(path).write(data);
      },
    };
  },
};

const yieldToLoop = () => new Promise((resolve) => setImmediate(resolve));

export const scenario = {
  id: "A",
  title: `${WRITES.toLocaleString("en")} sequential ${SIZE / 1024} KiB writes to one file`,
  unit: "writes/s",
  op: "write",
  /** The contender every row is also divided by. */
  baseline: "floor",
  contenders: Object.keys(CONTENDERS),
  /** The ratios of median rates the issue asks for (contender ÷ versus ≥ min). */
  comparisons: [
    { contender: "atomfs", versus: "floor", min: 1.3 },
    { contender: "atomfs-file", versus: "write-file-atomic", min: 2.0 },
    { contender: "atomfs-file", versus: "atomically", min: 1.5 },
    { contender: "atomfs-sync", versus: "floor-sync", min: 0.95 },
  ],
  /**
   * For information, beside each target: the same ratio with atomfs replaced
   * by the least a write keeping atomfs's contract costs, made the way atomfs
   * makes it (the target's limit here), and atomfs against that least.
   */
  bounds: [
    { contender: "contract-worker", versus: "floor" },
    { contender: "contract-worker-file", versus: "write-file-atomic" },
    { contender: "contract-worker-file", versus: "atomically" },
    { contender: "contract-sync", versus: "floor-sync" },
    { contender: "atomfs", versus: "contract-worker" },
    { contender: "atomfs-file", versus: "contract-worker-file" },
    { contender: "atomfs-sync", versus: "contract-sync" },
  ],
  notes: [
    "`floor`, `atomfs` and the `-sync` rows of the floor and atomfs flush the file and the " +
    'directory (durability "full"); `atomfs-file`, write-file-atomic and atomically flush the ' +
    "file only; steno flushes nothing (for information). `floor-worker` is the floor's " +
    "synchronous sequence on a worker thread with one round trip per write: the least an " +
    "asynchronous write can cost beyond its syscalls (for information). The `contract-` rows " +
    "(for information) add the calls atomfs's contract makes for each write, an lstat of the " +
    "target (whose mode and owner are kept) and an fstat of the temp file (what it was created " +
    "with), and name temp files with 128 random bits (bench/_floor.mjs, through `Deno.*` on " +
    "Deno, as atomfs): `contract-worker` on a worker thread as `floor-worker`, `-file` without " +
    "the directory fsync, `contract-sync` on the main thread as `floor-sync`. Each is the least " +
    "the matching atomfs row can cost (within the run's noise), so its ratio is that target's " +
    "limit on this disk.",
  ],
  /**
   * @param {{ contender: string, loadAtomfs: () => Promise<any>, dir: string }} context
   */
  async run({ contender, loadAtomfs, dir }) {
    const { write, sync } = await CONTENDERS[contender](loadAtomfs, dir);
    const path = target(dir);
    const data = new Uint8Array(SIZE);
    for (let i = 0; i < WARMUP; i++) {
      data[0] = i;
      await write(path, data);
      if (sync) await yieldToLoop();
    }
    const latencies = new Float64Array(WRITES);
    const stopProbe = startStallProbe();
    const cpu = process.cpuUsage();
    const start = performance.now();
    for (let i = 0, last = start; i < WRITES; i++) {
      data[0] = i;
      await write(path, data);
      const now = performance.now();
      latencies[i] = now - last;
      if (sync) await yieldToLoop();
      last = performance.now();
    }
    const seconds = (performance.now() - start) / 1000;
    // User + system time of every thread (the runtime's I/O pool included), per write.
    const { user, system } = process.cpuUsage(cpu);
    const stall = stopProbe();
    // Every write landed and nothing was left behind.
    const names = await readdir(dir);
    const content = await readFile(path);
    if (names.length !== 1 || content.length !== SIZE || content[0] !== (WRITES - 1) % 256) {
      throw new Error(
        `after the run the directory holds ${
          JSON.stringify(names)
        } and the target ${content.length} bytes`,
      );
    }
    latencies.sort();
    return {
      ops: WRITES,
      seconds,
      cpuUs: Math.round((user + system) / WRITES),
      p50Us: Math.round(percentile(latencies, 0.5) * 1000),
      p99Us: Math.round(percentile(latencies, 0.99) * 1000),
      stall,
    };
  },
  report: rateReport,
};
