// Scenario A: 2,000 sequential 1 KiB writeFile calls, each awaited before the
// next, to one file; 200 more before them warm up the JIT and the filesystem
// and are not counted. Measures the per-write cost of the whole protocol when
// nothing overlaps: with durability "full" that is two fsyncs per write (file,
// then directory), which dominate on a real disk.

import { readdir, readFile } from "node:fs/promises";
import process from "node:process";
import { floorWriteFile } from "./_floor.mjs";

const WARMUP = 200;
const WRITES = 2_000;
const SIZE = 1024;

/** @type {Record<string, (loadAtomfs: () => Promise<any>, dir: string) => Promise<(path: string, data: Uint8Array) => Promise<unknown>>>} */
const CONTENDERS = {
  floor: (_load, dir) => Promise.resolve((path, data) => floorWriteFile(dir, path, data)),
  atomfs: async (load) => {
    const { writeFile } = await load();
    return (path, data) => writeFile(path, data);
  },
  "atomfs-file": async (load) => {
    const { writeFile } = await load();
    const options = { durability: "file" };
    return (path, data) => writeFile(path, data, options);
  },
};

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

export const scenario = {
  id: "A",
  title: `${WRITES.toLocaleString("en")} sequential ${SIZE / 1024} KiB writeFile calls to one file`,
  unit: "writes/s",
  op: "write",
  /** The contender the others are divided by. */
  baseline: "floor",
  contenders: Object.keys(CONTENDERS),
  /**
   * @param {{ contender: string, loadAtomfs: () => Promise<any>, dir: string }} context
   * @returns {Promise<{ ops: number, seconds: number, cpuUs: number, p50Us: number, p99Us: number }>}
   */
  async run({ contender, loadAtomfs, dir }) {
    const write = await CONTENDERS[contender](loadAtomfs, dir);
    const path = `${dir}/target.bin`;
    const data = new Uint8Array(SIZE);
    for (let i = 0; i < WARMUP; i++) {
      data[0] = i;
      await write(path, data);
    }
    const latencies = new Float64Array(WRITES);
    const cpu = process.cpuUsage();
    const start = performance.now();
    for (let i = 0, last = start; i < WRITES; i++) {
      data[0] = i;
      await write(path, data);
      const now = performance.now();
      latencies[i] = now - last;
      last = now;
    }
    const seconds = (performance.now() - start) / 1000;
    // User + system time of every thread (the runtime's I/O pool included), per write.
    const { user, system } = process.cpuUsage(cpu);
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
    };
  },
};
