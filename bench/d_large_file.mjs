// Scenario D: one large file, written from a Buffer already in memory and from
// a stream of 1 MiB chunks generated on the fly (an async generator; atomically
// gets it as a Node Readable, the only stream it takes). Measures the time from
// the call until the write resolved (fsyncs included) and the process's peak
// resident memory meanwhile, against the idle RSS measured before the content
// exists. The streaming floor (_floor.mjs: chunks written to an exclusive temp
// file as they come, fsync, rename, directory fsync) needs one chunk of memory.
//
// Peak RSS, two ways: the largest of `rss` samples taken every 10 ms (Node and
// Bun: process.memoryUsage(); Deno: Deno.memoryUsage()), and the kernel's high
// water mark (Linux: VmHWM of /proc/self/status, reset through
// /proc/self/clear_refs just before the write, so start-up does not count;
// elsewhere process.resourceUsage().maxRSS, the whole life of the process).
//
// `d3g`, run only with --big: 3 GiB, once, to see who can write it at all
// (write-file-atomic and atomically hand a Buffer to one write() call, which
// cannot move more than 2 GiB).

import { Buffer } from "node:buffer";
import { readFileSync, statfsSync, writeFileSync } from "node:fs";
import { open, readdir, stat } from "node:fs/promises";
import process from "node:process";
import { Readable } from "node:stream";
import { floorWriteFile, floorWriteStream } from "./_floor.mjs";
import { fixed, int, median, runtimeCell, succeeded, table, unavailable } from "./_report.mjs";

const MiB = 2 ** 20;

/** Chunk `i` of the content is filled with this byte, so that it can be checked cheaply. */
const byteOf = (i) => i % 251;

async function* chunks(size) {
  for (let i = 0; i < size / MiB; i++) yield new Uint8Array(MiB).fill(byteOf(i));
}

function filledBuffer(size) {
  const buffer = Buffer.allocUnsafe(size);
  for (let i = 0; i < size / MiB; i++) buffer.subarray(i * MiB, (i + 1) * MiB).fill(byteOf(i));
  return buffer;
}

/**
 * Each contender: `from` ("buffer" or "stream") and a factory of the write.
 *
 * @type {Record<string, { from: "buffer" | "stream", make: (loadAtomfs: () => Promise<any>, dir: string) => Promise<(path: string, data: any) => Promise<unknown>> }>}
 */
const CONTENDERS = {
  "floor-stream": {
    from: "stream",
    make: (_load, dir) => Promise.resolve((path, data) => floorWriteStream(dir, path, data)),
  },
  "floor-buffer": {
    from: "buffer",
    make: (_load, dir) => Promise.resolve((path, data) => floorWriteFile(dir, path, data)),
  },
  "atomfs-stream": {
    from: "stream",
    make: async (load) => {
      const { writeFile } = await load();
      return (path, data) => writeFile(path, data);
    },
  },
  "atomfs-buffer": {
    from: "buffer",
    make: async (load) => {
      const { writeFile } = await load();
      return (path, data) => writeFile(path, data);
    },
  },
  "write-file-atomic-buffer": {
    from: "buffer",
    make: async () => {
      const { default: writeFileAtomic } = await import("write-file-atomic");
      return (path, data) => writeFileAtomic(path, data);
    },
  },
  "atomically-buffer": {
    from: "buffer",
    make: async () => {
      const { writeFile } = await import("atomically");
      return (path, data) => writeFile(path, data);
    },
  },
  "atomically-stream": {
    from: "stream",
    make: async () => {
      const { writeFile } = await import("atomically");
      return (path, data) => writeFile(path, Readable.from(data));
    },
  },
  "steno-stream": {
    from: "stream",
    // steno hands its data to fs.promises.writeFile, which also takes an async iterable.
    make: async () => {
      const { Writer } = await import("steno");
      return (path, data) => new Writer(path).write(data);
    },
  },
};

function rss() {
  const g = globalThis;
  return typeof g.Deno === "object" && g.Deno?.memoryUsage
    ? g.Deno.memoryUsage().rss
    : process.memoryUsage().rss;
}

/** Reset the kernel's high-water mark of RSS (Linux ≥ 4.0); false where there is none. */
function resetPeak() {
  try {
    writeFileSync("/proc/self/clear_refs", "5");
    return true;
  } catch {
    return false;
  }
}

function kernelPeak(reset) {
  if (reset) {
    const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"));
    if (hwm) return Number(hwm[1]) * 1024;
  }
  return (process.resourceUsage?.().maxRSS ?? 0) * 1024;
}

const settle = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Size and a sample of bytes (the first and last of every MiB): what landed is what was sent. */
async function check(path, size) {
  const { size: actual } = await stat(path);
  if (actual !== size) return `wrote ${int(actual / MiB)} MiB of ${int(size / MiB)}, no error`;
  const file = await open(path, "r");
  try {
    const byte = new Uint8Array(1);
    for (let i = 0; i < size / MiB; i++) {
      for (const offset of [i * MiB, (i + 1) * MiB - 1]) {
        await file.read(byte, 0, 1, offset);
        if (byte[0] !== byteOf(i)) return `wrong byte at offset ${offset}`;
      }
    }
  } finally {
    await file.close();
  }
  return undefined;
}

/**
 * One large write by one contender: idle RSS, then the content (a filled
 * Buffer, or a generator that makes each chunk when asked), then the timed,
 * sampled write, then the check of what landed. A write that throws or lands
 * wrong content is a result (`works: false`), not a failed measurement.
 */
async function measure({ contender, loadAtomfs, dir }, size) {
  const { from, make } = CONTENDERS[contender];
  const write = await make(loadAtomfs, dir);
  const path = `${dir}/large.bin`;
  // Warm up the code paths on a small file, then let the heap settle.
  await write(`${dir}/warm-up.bin`, from === "buffer" ? filledBuffer(MiB) : chunks(MiB));
  await settle(200);
  const idle = rss();
  const data = from === "buffer" ? filledBuffer(size) : chunks(size);
  const reset = resetPeak();
  let sampled = rss();
  const sampler = setInterval(() => (sampled = Math.max(sampled, rss())), 10);
  const cpu = process.cpuUsage();
  const start = performance.now();
  let error;
  try {
    await write(path, data);
  } catch (e) {
    error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  }
  const seconds = (performance.now() - start) / 1000;
  const { user, system } = process.cpuUsage(cpu);
  clearInterval(sampler);
  sampled = Math.max(sampled, rss());
  const kernel = kernelPeak(reset);
  if (!error) error = await check(path, size);
  const leftovers = (await readdir(dir)).filter((n) => n !== "large.bin" && n !== "warm-up.bin");
  return {
    ops: 1,
    bytes: size,
    from,
    seconds,
    cpuMs: Math.round((user + system) / 1000),
    idleMiB: idle / MiB,
    sampledMiB: sampled / MiB,
    kernelMiB: kernel / MiB,
    kernelSource: reset ? "VmHWM" : "maxRSS",
    works: error === undefined,
    failure: error?.split("\n")[0].slice(0, 160),
    leftovers: leftovers.length,
  };
}

const peak = (r) => Math.max(r.sampledMiB, r.kernelMiB);
/** Memory beyond idle that the write itself needed (a Buffer's own size excluded). */
const extra = (r) => peak(r) - r.idleMiB - (r.from === "buffer" ? r.bytes / MiB : 0);

const progress = (r) =>
  r.works
    ? `${fixed(r.seconds, 2).padStart(6)} s   idle ${int(r.idleMiB)} MiB   peak ${
      int(peak(r))
    } MiB (sampled ${int(r.sampledMiB)}, ${r.kernelSource} ${int(r.kernelMiB)})`
    : `does not work: ${r.failure}`;

const SIZE = 256 * MiB;
const BIG = 3 * 1024 * MiB;
const BIG_FREE = 8 * 1024 * MiB;

export const scenario = {
  id: "D",
  title: `one ${SIZE / MiB} MiB file from a Buffer and from a stream of 1 MiB chunks`,
  contenders: [
    "floor-stream",
    "floor-buffer",
    "atomfs-stream",
    "atomfs-buffer",
    "write-file-atomic-buffer",
    "atomically-buffer",
    "atomically-stream",
  ],
  // One write of 256 MiB takes 0.2–0.5 s here, and a run lands near either
  // end: five runs give a median that a single slow one does not move.
  minReps: 5,
  run: (context) => measure(context, SIZE),
  progress,
  report({ scenario, results, runtimes }) {
    const rows = [];
    const targets = {
      streamMemory: { name: "D: atomfs stream peak RSS ≤ idle + 64 MiB", cells: {} },
      bufferMemory: { name: "D: atomfs Buffer peak RSS ≤ idle + Buffer + 16 MiB", cells: {} },
      time: { name: "D: atomfs stream time ≤ 1.1× streaming floor", cells: {} },
    };
    for (const runtime of runtimes) {
      const byContender = results[runtime.label];
      const good = (c) => succeeded(byContender[c]).filter((r) => r.works);
      const floorRuns = good("floor-stream");
      const floorTime = floorRuns.length ? median(floorRuns.map((r) => r.seconds)) : undefined;
      scenario.contenders.forEach((contender, i) => {
        const all = byContender[contender];
        const runs = good(contender);
        const cell = [i === 0 ? runtimeCell(runtime) : "", contender];
        if (runs.length === 0) {
          const failure = succeeded(all).find((r) => !r.works)?.failure;
          rows.push([
            ...cell,
            failure ? `fails: ${failure}` : unavailable(all),
            "",
            "",
            "",
            "",
            "",
          ]);
          return;
        }
        const times = runs.map((r) => r.seconds);
        const m = median(times);
        rows.push([
          ...cell,
          `${fixed(m)} (${fixed(Math.min(...times))}–${fixed(Math.max(...times))})`,
          int(SIZE / MiB / m),
          int(median(runs.map((r) => r.idleMiB))),
          `${int(median(runs.map((r) => r.sampledMiB)))} / ${
            int(median(runs.map((r) => r.kernelMiB)))
          }`,
          int(median(runs.map(extra))),
          floorTime === undefined ? "" : fixed(m / floorTime),
        ]);
      });
      const judge = (contender, limit, target) => {
        const runs = good(contender);
        target.cells[runtime.label] = runs.length
          ? {
            text: `+${int(median(runs.map(extra)))} MiB`,
            met: median(runs.map(extra)) <= limit,
          }
          : { text: unavailable(byContender[contender]), met: undefined };
      };
      judge("atomfs-stream", 64, targets.streamMemory);
      judge("atomfs-buffer", 16, targets.bufferMemory);
      const atomfsRuns = good("atomfs-stream");
      targets.time.cells[runtime.label] = atomfsRuns.length && floorTime !== undefined
        ? {
          text: `${fixed(median(atomfsRuns.map((r) => r.seconds)) / floorTime)}×`,
          met: median(atomfsRuns.map((r) => r.seconds)) / floorTime <= 1.1,
        }
        : {
          text: unavailable(byContender[atomfsRuns.length ? "floor-stream" : "atomfs-stream"]),
          met: undefined,
        };
    }
    const text = [
      `## Scenario ${scenario.id}: ${scenario.title}`,
      "",
      table(
        [
          "runtime",
          "contender",
          "median s (min–max)",
          "MiB/s",
          "idle RSS MiB",
          "peak RSS MiB sampled / kernel",
          "beyond idle (and the Buffer) MiB",
          "time ÷ floor-stream",
        ],
        rows,
        ["l", "l", "r", "r", "r", "r", "r", "r"],
      ),
      "",
      "`beyond idle` is the peak (the larger of the two figures) minus the idle RSS, minus the " +
      `${
        SIZE / MiB
      } MiB Buffer for the \`-buffer\` rows (the caller holds it anyway): the memory ` +
      "the write itself needed. Kernel figure: VmHWM after a reset on Linux.",
    ].join("\n");
    return { text, targets: Object.values(targets) };
  },
};

export const big = {
  id: "D3G",
  title: "one 3 GiB file, once (--big)",
  flag: "big",
  reps: 1,
  timeoutMs: 1_800_000,
  contenders: [
    "floor-stream",
    "atomfs-stream",
    "atomfs-buffer",
    "write-file-atomic-buffer",
    "atomically-buffer",
    "atomically-stream",
    "steno-stream",
  ],
  /** Runner side: why the scenario cannot run here, if it cannot. */
  skip(parent) {
    const { bavail, bsize } = statfsSync(parent);
    const free = bavail * bsize;
    return free < BIG_FREE
      ? `${fixed(free / 1024 / MiB, 1)} GiB free in ${parent}, needs ${BIG_FREE / 1024 / MiB} GiB`
      : undefined;
  },
  run: (context) => measure(context, BIG),
  progress,
  report({ scenario, results, runtimes, skipped }) {
    const target = { name: "D: atomfs writes a 3 GiB stream", cells: {} };
    if (skipped) {
      for (const r of runtimes) target.cells[r.label] = { text: `not run (${skipped})` };
      return { text: `## Scenario ${scenario.id}: not run (${skipped})`, targets: [target] };
    }
    const rows = [];
    for (const runtime of runtimes) {
      scenario.contenders.forEach((contender, i) => {
        const all = results[runtime.label][contender];
        const r = succeeded(all)[0];
        const cell = [i === 0 ? runtimeCell(runtime) : "", contender];
        if (!r) rows.push([...cell, unavailable(all), "", "", "", ""]);
        else if (!r.works) rows.push([...cell, "**no**", fixed(r.seconds), "", "", r.failure]);
        else {
          rows.push([
            ...cell,
            "yes",
            fixed(r.seconds),
            int(BIG / MiB / r.seconds),
            int(extra(r)),
            "",
          ]);
        }
      });
      const r = succeeded(results[runtime.label]["atomfs-stream"])[0];
      target.cells[runtime.label] = r
        ? { text: r.works ? "works" : `fails: ${r.failure}`, met: r.works }
        : { text: unavailable(results[runtime.label]["atomfs-stream"]), met: undefined };
    }
    const text = [
      `## Scenario ${scenario.id}: ${scenario.title}`,
      "",
      table(
        [
          "runtime",
          "contender",
          "works",
          "s",
          "MiB/s",
          "beyond idle (and the Buffer) MiB",
          "what happened",
        ],
        rows,
        ["l", "l", "l", "r", "r", "r", "l"],
      ),
    ].join("\n");
    return { text, targets: [target] };
  },
};
