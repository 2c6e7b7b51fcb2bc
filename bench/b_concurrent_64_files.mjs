// Scenario B: 4,000 writes of 1 KiB to 64 files in one directory, 64 at a time:
// 64 lanes, each replacing its own file again and again, each write awaited
// before its lane starts the next, until 4,000 writes are done (62 or 63 per
// file); one write per lane before them warms up and is not counted. The
// durable path under concurrency: 64 writes in flight share one directory (its
// fsyncs, its journal) and the runtime's I/O thread pool.

import { readdir, readFile } from "node:fs/promises";
import process from "node:process";
import { floorBound, floorWriteFile } from "./_floor.mjs";
import { percentile, rateReport } from "./_report.mjs";
import { startStallProbe } from "./_stall.mjs";

const FILES = 64;
const WRITES = 4_000;
const SIZE = 1024;
/** Threads of `floor-bound`: with 16 or 64 the journal serialises them worse. */
const BOUND_THREADS = 4;

/** @type {Record<string, (loadAtomfs: () => Promise<any>, dir: string) => Promise<(path: string, data: Uint8Array) => Promise<unknown>>>} */
const CONTENDERS = {
  floor: (_load, dir) => Promise.resolve((path, data) => floorWriteFile(dir, path, data)),
  atomfs: async (load) => {
    const { writeFile } = await load();
    return (path, data) => writeFile(path, data);
  },
};

/**
 * Run the FILES lanes: each replaces its own file again and again, each
 * write awaited before the lane's next, until WRITES are done; one write per
 * lane before them warms up and is not counted.
 */
async function lanes(write, paths) {
  // Each lane owns its buffer: a write in flight must not see the next one's bytes.
  const buffers = paths.map(() => new Uint8Array(SIZE));
  await Promise.all(paths.map((path, lane) => write(path, buffers[lane])));
  const latencies = new Float64Array(WRITES);
  let issued = 0;
  const lane = async (i) => {
    for (let n; (n = issued++) < WRITES;) {
      buffers[i][0] = n % 256;
      buffers[i][1] = n >> 8;
      const begun = performance.now();
      await write(paths[i], buffers[i]);
      latencies[n] = performance.now() - begun;
    }
  };
  const stopProbe = startStallProbe();
  const cpu = process.cpuUsage();
  const start = performance.now();
  await Promise.all(paths.map((_, i) => lane(i)));
  const seconds = (performance.now() - start) / 1000;
  return { seconds, latencies, cpu: process.cpuUsage(cpu), stall: stopProbe() };
}

export const scenario = {
  id: "B",
  title: `${WRITES.toLocaleString("en")} writes of ${
    SIZE / 1024
  } KiB to ${FILES} files in one directory, ${FILES} in flight`,
  unit: "writes/s",
  op: "write",
  baseline: "floor",
  contenders: [...Object.keys(CONTENDERS), "floor-bound", "contract-bound"],
  comparisons: [{ contender: "atomfs", versus: "floor", min: 1.3 }],
  notes: [
    'Both contenders flush the file and the directory (durability "full"); the floor runs its ' +
    `${FILES} lanes concurrently exactly as atomfs does. p50 / p99 are per-write latencies ` +
    `(call to resolution) with ${FILES} writes in flight.`,
    "`floor-bound` (for information) is what no durable replace can beat here: only the calls " +
    "that fsyncing each file before its rename needs (open exclusive, write, fsync, close, " +
    `rename), synchronously on ${BOUND_THREADS} worker threads, and no directory fsync at all ` +
    "(sharing directory fsyncs can at best remove them all); its p50 / p99 are those of one " +
    "replace, as it queues nothing.",
    "`contract-bound` (for information): `floor-bound` plus what atomfs's protocol adds to " +
    "each file, an lstat of the target (whose mode and owner are kept) and an fstat of the temp " +
    "file, with temp names of 128 random bits: what no write keeping atomfs's contract can beat " +
    "here, before any directory fsync.",
  ],
  /**
   * @param {{ contender: string, loadAtomfs: () => Promise<any>, dir: string }} context
   */
  async run({ contender, loadAtomfs, dir }) {
    const paths = Array.from({ length: FILES }, (_, i) => `${dir}/file-${i}.bin`);
    const { seconds, latencies, cpu, stall } = contender.endsWith("-bound")
      ? await floorBound(paths, WRITES, SIZE, BOUND_THREADS, contender === "contract-bound")
      : await lanes(await CONTENDERS[contender](loadAtomfs, dir), paths);
    const names = await readdir(dir);
    const sizes = await Promise.all(paths.map((path) => readFile(path).then((b) => b.length)));
    if (names.length !== FILES || sizes.some((size) => size !== SIZE)) {
      throw new Error(`after the run the directory holds ${names.length} names`);
    }
    latencies.sort();
    return {
      ops: WRITES,
      seconds,
      cpuUs: Math.round((cpu.user + cpu.system) / WRITES),
      p50Us: Math.round(percentile(latencies, 0.5) * 1000),
      p99Us: Math.round(percentile(latencies, 0.99) * 1000),
      stall,
    };
  },
  report: rateReport,
};
