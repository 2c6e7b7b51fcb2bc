// Where a write's time goes beyond the floor's system calls: ways of
// replacing one file, alternated in blocks of ten writes so that all run
// under the same conditions, medians per way. The first write of a block is
// not counted: it runs after another way's code, and costs more for it (on
// Deno, a decoded job record run by runBatch measured 25–35 µs more outside
// the system calls after floor-steps than after its own kind), where a
// scenario's writes follow writes of their own kind.
//
//   floor           the floor's synchronous sequence (bench/_floor.mjs)
//   floor-deno      (Deno only) the same calls through Deno.*, as atomfs's
//                   Deno adapter makes them; the floor goes through node:fs
//   floor-contract  the same, plus the calls atomfs's contract adds: lstat of
//                   the target, fstat of the temp file (created with the old
//                   mode), and chown/chmod where what it got differs
//   floor-steps     floor-contract's calls made through atomfs's step driver
//                   (core/_steps.ts), as one generator
//   offloaded       what the offload worker does for each write of scenario A:
//                   decode its job record and run it as a batch of one
//                   (runBatch); the hand-over itself, and the main thread's
//                   part (encoding the record), are not included
//   atomfs          writeFileSync
//
// floor-contract and floor-steps make their calls through the runtime's own
// adapter (Deno's on Deno, Node's elsewhere), as writeFileSync does.
//
// In the main thread (default), or inside one worker thread that the main
// thread wakes for each write as the offload worker is woken (--worker), where
// every write starts cold. --immediate yields to the event loop (setImmediate)
// before each write in the main thread, as scenario A's synchronous contenders
// do. --outside also reports, for each way but the floor, the time a write
// spends outside its filesystem calls (its JavaScript): the adapter's calls are
// timed one by one, and atomfs runs as createAtomicFs over that timed adapter.
// --alone=<way> runs that way only, in this fresh process, as scenario A runs
// a contender (setImmediate between writes), and prints each block of 300
// writes' µs and CPU µs a write: how a way's cost falls as the JIT warms up.
// Node runs the npm build (npm run build first); Deno and Bun the TypeScript
// sources.
//
//   node scripts/overhead.mjs [--worker | --immediate] [--outside] [--writes=3000]
//   node scripts/overhead.mjs --alone=atomfs [--writes=3000]
//   deno run -A scripts/overhead.mjs [--worker | --immediate | --alone=<way>] [--outside]
//   bun scripts/overhead.mjs [--worker | --immediate | --alone=<way>] [--outside]

import * as fs from "node:fs";
import { tmpdir } from "node:os";
import process from "node:process";
import { setImmediate } from "node:timers";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { floorWriteFileSync } from "../bench/_floor.mjs";
import { median } from "../bench/_report.mjs";

const ts = typeof globalThis.Deno !== "undefined" || typeof globalThis.Bun !== "undefined";
const library = (name) =>
  new URL(`../${ts ? name : `dist/${name.replace(/\.ts$/, ".js")}`}`, import.meta.url).href;

/**
 * The ways, each a function of the content, replacing `path` in `dir`; with
 * `clock`, their adapter calls are timed into it (see `timedAdapter`).
 */
async function ways(dir, path, clock) {
  const { createAtomicFs, writeFileSync } = await import(library("mod.ts"));
  const { call, runSync } = await import(library("core/_steps.ts"));
  const { context } = await import(library("core/_write.ts"));
  const { runBatch } = await import(library("core/_offload_worker.ts"));
  const { JobDecoder, JobEncoder } = await import(library("core/_wire.ts"));
  const { resolveWriteOptions } = await import(library("core/options.ts"));
  const deno = typeof globalThis.Deno !== "undefined";
  const { nodeAdapter } = await import(library("adapters/node.ts"));
  const plain = deno ? (await import(library("adapters/deno.ts"))).denoAdapter : nodeAdapter;
  const adapter = clock ? timedAdapter(plain, clock) : plain;
  const calls = adapter.sync;
  // With the calls timed, writeFileSync must go through the timed adapter too.
  const timedFs = clock ? createAtomicFs(adapter) : undefined;
  let temps = 0;
  const temp = () => `${dir}/.overhead-${temps++}.tmp`;
  // What the temp file got against what the new file must have, as the protocol compares them.
  const otherOwner = (made, old) => made.uid !== old.uid || made.gid !== old.gid;
  const otherMode = (made, old) => (made.mode & 0o7777) !== (old.mode & 0o7777);
  const contract = (data) => {
    const old = calls.lstat(path);
    const name = temp();
    const handle = calls.openExclusive(name, old.mode & 0o777);
    try {
      calls.write(handle, data);
      const made = calls.fstat(handle);
      if (otherOwner(made, old)) calls.chown(name, old.uid, old.gid);
      if (otherMode(made, old)) calls.chmod(name, old.mode & 0o7777);
      calls.fsync(handle);
    } finally {
      calls.close(handle);
    }
    calls.rename(name, path);
    calls.syncDir(dir);
  };
  // The floor's own sequence through the adapter's calls, with no contract.
  const floorNative = (data) => {
    const name = temp();
    const handle = calls.openExclusive(name, 0o666);
    try {
      calls.write(handle, data);
      calls.fsync(handle);
    } finally {
      calls.close(handle);
    }
    calls.rename(name, path);
    calls.syncDir(dir);
  };
  function* steps(data) {
    const old = yield* call("lstat", [path], "stat", path);
    const name = temp();
    const handle = yield* call("openExclusive", [name, old.mode & 0o777], "open-temp", path);
    yield* call("write", [handle, data], "write", path);
    const made = yield* call("fstat", [handle], "stat", path);
    if (otherOwner(made, old)) yield* call("chown", [name, old.uid, old.gid], "chown", path);
    if (otherMode(made, old)) yield* call("chmod", [name, old.mode & 0o7777], "chmod", path);
    yield* call("fsync", [handle], "sync", path, "never");
    yield* call("close", [handle], "close", path, "never");
    yield* call("rename", [name, path], "rename", path, "replace");
    yield* call("syncDir", [dir], "sync-dir", path);
  }
  // A job record as the main thread writes it into the ring (made once: in a
  // run of writes to one file only the content changes, which the main thread
  // copies in), decoded and run as the offload worker does.
  const { signal: _s, coalesce: _c, ...wire } = resolveWriteOptions(undefined);
  const header = { target: path, options: wire, signal: false, timings: false, attempts: 1 };
  const decoder = new JobDecoder();
  const flags = new Int32Array(new SharedArrayBuffer(4));
  const parts = new JobEncoder().parts(header, 1, 0, new Uint8Array(1024));
  const record = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  for (let i = 0, at = 0; i < parts.length; at += parts[i].length, i++) record.set(parts[i], at);
  const offloaded = (data) => {
    record.set(data, record.length - data.length);
    const [outcome] = runBatch(adapter, [decoder.decode(record)], flags);
    if (!outcome.receipt) throw new Error(`offloaded write failed: ${JSON.stringify(outcome)}`);
  };
  return {
    floor: (data) => floorWriteFileSync(dir, path, data),
    ...(deno ? { "floor-deno": floorNative } : {}),
    "floor-contract": contract,
    "floor-steps": (data) => runSync(context(adapter, { retryTimeoutMs: 10_000 }), steps(data)),
    offloaded,
    atomfs: timedFs
      ? (data) => timedFs.writeFileSync(path, data)
      : (data) => writeFileSync(path, data),
  };
}

/** `adapter` with each synchronous call's time added to `clock.inside` (ms). */
function timedAdapter(adapter, clock) {
  const sync = {};
  for (const [name, fn] of Object.entries(adapter.sync)) {
    sync[name] = (...args) => {
      const start = performance.now();
      try {
        return fn(...args);
      } finally {
        clock.inside += performance.now() - start;
      }
    };
  }
  return { ...adapter, sync };
}

/** Writes of one way in a row, of which the first is not counted. */
const BLOCK = 10;

/**
 * Run `writes` counted writes per way, alternating the ways in blocks of
 * `BLOCK`; `between` runs before each. With `outside`, also the medians of
 * the time spent outside the filesystem calls.
 */
async function measure(dir, writes, between, outside = false) {
  const path = `${dir}/target.bin`;
  const clock = outside ? { inside: 0 } : undefined;
  const all = await ways(dir, path, clock);
  const names = Object.keys(all);
  const times = Object.fromEntries(names.map((name) => [name, []]));
  const js = Object.fromEntries(names.map((name) => [name, []]));
  const data = new Uint8Array(1024);
  floorWriteFileSync(dir, path, data);
  const warmUp = 100 * names.length;
  const blocks = Math.ceil(writes / (BLOCK - 1)) * names.length;
  for (let i = 0; i < warmUp + blocks * BLOCK; i++) {
    await between?.();
    const name = names[Math.floor(i / BLOCK) % names.length];
    data[0] = i;
    if (clock) clock.inside = 0;
    const start = performance.now();
    all[name](data);
    const took = performance.now() - start;
    if (i < warmUp || i % BLOCK === 0) continue;
    times[name].push(took);
    js[name].push(took - (clock?.inside ?? 0));
  }
  return Object.fromEntries(names.map((name) => [name, {
    us: median(times[name]) * 1000,
    // The floor calls node:fs directly: nothing of it is timed call by call.
    outsideUs: outside && name !== "floor" ? median(js[name]) * 1000 : undefined,
  }]));
}

/** One turn of the event loop, as scenario A's synchronous contenders take after each write. */
const turn = () => new Promise((resolve) => setImmediate(resolve));

/** Run only the way `name`, `writes` writes in blocks of 300, printing each block's cost. */
async function measureAlone(dir, name, writes) {
  const path = `${dir}/target.bin`;
  const all = await ways(dir, path);
  const write = all[name];
  if (!write) {
    throw new TypeError(`--alone: no way ${name}; there are ${Object.keys(all).join(", ")}`);
  }
  const data = new Uint8Array(1024);
  floorWriteFileSync(dir, path, data);
  console.log(`${name} alone in a fresh process, setImmediate between writes:`);
  console.log("  writes        µs a write   CPU µs a write");
  for (let done = 0; done < writes;) {
    const n = Math.min(300, writes - done);
    const cpu = process.cpuUsage();
    const start = performance.now();
    for (let i = 0; i < n; i++) {
      await turn();
      data[0] = done + i;
      write(data);
    }
    const us = (performance.now() - start) * 1000 / n;
    const used = process.cpuUsage(cpu);
    const label = `${done + 1}–${done + n}`.padEnd(12);
    console.log(
      `  ${label} ${us.toFixed(0).padStart(10)} ${
        ((used.user + used.system) / n).toFixed(0).padStart(16)
      }`,
    );
    done += n;
  }
}

function print(medians, where) {
  const outside = Object.values(medians).some((m) => m.outsideUs !== undefined);
  console.log(`median µs per write (${where}):${outside ? "  [outside the calls]" : ""}`);
  let previous;
  for (const [name, { us, outsideUs }] of Object.entries(medians)) {
    const more = previous === undefined
      ? ""
      : `  (${us >= previous ? "+" : ""}${(us - previous).toFixed(1)})`;
    const js = outsideUs === undefined ? "" : `  [${outsideUs.toFixed(1)}]`;
    console.log(`  ${name.padEnd(15)} ${us.toFixed(1).padStart(7)}${more}${js}`);
    previous = us;
  }
}

const args = process.argv.slice(2);
const FLAGS = ["--worker", "--immediate", "--outside"];
const unknown = args.filter((a) =>
  !FLAGS.includes(a) && !a.startsWith("--writes=") && !a.startsWith("--alone=")
);
if (isMainThread && unknown.length > 0) {
  throw new TypeError(`unknown argument ${unknown.join(", ")}`);
}
if (args.includes("--worker") && args.includes("--immediate")) {
  throw new TypeError("--worker and --immediate exclude each other");
}
const outside = args.includes("--outside");
const alone = args.find((a) => a.startsWith("--alone="))?.slice(8);
if (alone !== undefined && (args.includes("--worker") || args.includes("--immediate") || outside)) {
  throw new TypeError("--alone runs one way by itself: no --worker, --immediate or --outside");
}
const writes = Number(args.find((a) => a.startsWith("--writes="))?.slice(9) ?? 3000);
if (!Number.isInteger(writes) || writes < 1) {
  throw new RangeError(`--writes must be a positive integer, got ${writes}`);
}

if (!isMainThread) {
  // In the worker: ask the main thread for each write and sleep until it
  // answers, as the offload worker sleeps between writes.
  const control = new Int32Array(workerData.control);
  let seen = 0;
  const medians = await measure(workerData.dir, workerData.writes, () => {
    parentPort.postMessage("ask");
    Atomics.wait(control, 0, seen);
    seen = Atomics.load(control, 0);
  }, workerData.outside);
  parentPort.postMessage(medians);
} else {
  const dir = fs.mkdtempSync(`${fs.realpathSync(tmpdir())}/atomfs-overhead-`);
  try {
    if (args.includes("--worker")) {
      const control = new Int32Array(new SharedArrayBuffer(4));
      const worker = new Worker(new URL(import.meta.url), {
        workerData: { dir, writes, outside, control: control.buffer },
      });
      const medians = await new Promise((resolve, reject) => {
        worker.on("message", (message) => {
          if (message !== "ask") return resolve(message);
          Atomics.add(control, 0, 1);
          Atomics.notify(control, 0);
        });
        worker.on("error", reject);
      });
      print(medians, "in a worker that sleeps until the main thread answers each write");
      await worker.terminate();
    } else if (alone !== undefined) {
      await measureAlone(dir, alone, writes);
    } else if (args.includes("--immediate")) {
      print(await measure(dir, writes, turn, outside), "main thread, setImmediate between writes");
    } else {
      print(await measure(dir, writes, undefined, outside), "main thread, back to back");
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
