// The floor: the syscalls of a durable atomic replace and nothing else, through
// node:fs, as a careful user would write them by hand. No symlink resolution,
// no metadata carried over, no retries, no queue: whatever atomfs costs above
// this is the price of its guarantees and its bookkeeping. Each function is one
// sequence: open(temp, O_CREAT|O_EXCL|O_WRONLY), write, fsync, close, rename
// over the target, open the directory read-only, fsync it, close it.

import {
  closeSync,
  fstatSync,
  fsyncSync,
  lstatSync,
  openSync,
  renameSync,
  writeSync,
} from "node:fs";
import { open, rename } from "node:fs/promises";
import process from "node:process";
import { startStallProbe } from "./_stall.mjs";

// Linux moves at most 0x7ffff000 bytes per write(2), and Node's write() refuses
// lengths beyond 2 GiB: large contents go in 1 GiB pieces, as atomfs does.
const MAX_WRITE = 2 ** 30;

let counter = 0;

function tempPath(dir) {
  return `${dir}/.floor-${process.pid}-${counter++}.tmp`;
}

/** Write all of `data` at the handle's position, looping on short writes. */
async function writeAll(file, data) {
  for (let offset = 0; offset < data.length;) {
    const length = Math.min(MAX_WRITE, data.length - offset);
    const { bytesWritten } = await file.write(data, offset, length);
    offset += bytesWritten;
  }
}

async function syncDir(dir) {
  const directory = await open(dir, "r");
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
}

/**
 * Replace `path` (in directory `dir`) with `data`, through node:fs/promises:
 * open the temp file exclusively ('wx': O_CREAT|O_EXCL|O_WRONLY), write, fsync,
 * close, rename over the target, open the directory read-only, fsync it, close it.
 *
 * @param {string} dir The target's directory.
 * @param {string} path The target.
 * @param {Uint8Array} data The new content.
 */
export async function floorWriteFile(dir, path, data) {
  const temp = tempPath(dir);
  const file = await open(temp, "wx");
  try {
    await writeAll(file, data);
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(temp, path);
  await syncDir(dir);
}

/**
 * The same sequence as {@linkcode floorWriteFile}, with content that arrives in
 * chunks (an async iterable of Uint8Arrays), each written as it comes: the
 * memory a streamed replace cannot do without is one chunk.
 *
 * @param {string} dir The target's directory.
 * @param {string} path The target.
 * @param {AsyncIterable<Uint8Array>} chunks The new content.
 */
export async function floorWriteStream(dir, path, chunks) {
  const temp = tempPath(dir);
  const file = await open(temp, "wx");
  try {
    for await (const chunk of chunks) await writeAll(file, chunk);
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(temp, path);
  await syncDir(dir);
}

/**
 * The synchronous twin of {@linkcode floorWriteFile}: the same syscalls through
 * `fs.*Sync` (openSync 'wx', writeSync, fsyncSync, closeSync, renameSync, then
 * openSync(dir, 'r'), fsyncSync, closeSync).
 *
 * @param {string} dir The target's directory.
 * @param {string} path The target.
 * @param {Uint8Array} data The new content.
 */
export function floorWriteFileSync(dir, path, data) {
  floorReplaceSync(tempPath(dir), path, data);
  syncDirSync(dir);
}

/**
 * The per-file part of {@linkcode floorWriteFileSync}: create `temp`
 * exclusively, write `data`, fsync, close, rename over `path`.
 *
 * @param {string} temp A fresh temp file name beside `path`.
 * @param {string} path The target.
 * @param {Uint8Array} data The new content.
 */
export function floorReplaceSync(temp, path, data) {
  const fd = openSync(temp, "wx");
  try {
    for (let offset = 0; offset < data.length;) {
      offset += writeSync(fd, data, offset, Math.min(MAX_WRITE, data.length - offset));
    }
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, path);
}

const random = new Uint8Array(16);
/** A hidden name beside `path` with 128 random bits, as atomfs names its temp files. */
function randomTemp(path) {
  crypto.getRandomValues(random);
  let hex = "";
  for (const byte of random) hex += byte.toString(16).padStart(2, "0");
  return `${path.slice(0, path.lastIndexOf("/"))}/.contract-${hex}.tmp`;
}

const Deno = globalThis.Deno;

/** The permission bits of `path` (lstat), or 0o666 where it does not exist yet. */
function modeOf(path) {
  try {
    return (Deno ? Deno.lstatSync(path) : lstatSync(path)).mode & 0o777;
  } catch {
    return 0o666;
  }
}

/**
 * The per-file calls of one replace as atomfs's protocol makes them, less
 * the directory fsync: `lstat` of the target (whose mode and owner the new
 * file keeps), create the temp file exclusively with the target's mode,
 * write, `fstat` it (what it was created with), fsync, close, rename over the
 * target; temp names of 128 random bits. On Deno
 * through `Deno.*`, as atomfs's Deno adapter makes them (its `node:fs` stat
 * calls cost more there); elsewhere through `node:fs`. Nothing else of
 * atomfs: no chown or chmod (the temp file gets what the target has), no
 * queue, no receipt.
 *
 * @param {string} path The target.
 * @param {Uint8Array} data The new content, written with one call.
 */
export function contractReplaceSync(path, data) {
  const temp = randomTemp(path);
  const mode = modeOf(path);
  if (Deno) {
    const file = Deno.openSync(temp, { write: true, createNew: true, mode });
    try {
      file.writeSync(data);
      file.statSync();
      file.syncSync();
    } finally {
      file.close();
    }
    Deno.renameSync(temp, path);
    return;
  }
  const fd = openSync(temp, "wx", mode);
  try {
    writeSync(fd, data, 0, data.length);
    fstatSync(fd);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, path);
}

/**
 * {@linkcode contractReplaceSync} and the directory fsync ({@linkcode syncDirSync},
 * through `node:fs`, which costs what `Deno.*` does on Deno): the least a
 * synchronous write keeping atomfs's contract can cost.
 *
 * @param {string} dir The target's directory.
 * @param {string} path The target.
 * @param {Uint8Array} data The new content.
 */
export function contractWriteFileSync(dir, path, data) {
  contractReplaceSync(path, data);
  syncDirSync(dir);
}

/**
 * The directory part: open `dir` read-only, fsync it, close it.
 *
 * @param {string} dir The directory.
 */
export function syncDirSync(dir) {
  const directory = openSync(dir, "r");
  try {
    fsyncSync(directory);
  } finally {
    closeSync(directory);
  }
}

/**
 * The floor's synchronous sequence on a worker thread, one message each way
 * per write: the least an asynchronous write costs beyond its syscalls (one
 * cross-thread round trip), without any of atomfs's work. For sequential
 * writes of at most 64 KiB to one `path`. With `way` "contract", the worker
 * runs {@linkcode contractWriteFileSync} instead; with "contract-file", its
 * {@linkcode contractReplaceSync} alone (no directory fsync, as durability
 * "file").
 *
 * @param {string} dir The target's directory.
 * @param {string} path The target.
 * @param {"floor" | "contract" | "contract-file"} [way] What the worker runs per write.
 * @returns {Promise<{ write(data: Uint8Array): Promise<void> }>}
 */
export async function startFloorWorker(dir, path, way = "floor") {
  const { Worker } = await import("node:worker_threads");
  const buffer = new SharedArrayBuffer(16 + (64 << 10));
  const control = new Int32Array(buffer, 0, 4);
  const area = new Uint8Array(buffer, 16);
  // On Bun a message, as atomfs's offload worker answers there (adapters/_offload.ts).
  const byMessage = typeof globalThis.Bun !== "undefined";
  const worker = new Worker(new URL("./_floor_worker.mjs", import.meta.url), {
    workerData: { buffer, dir, path, byMessage, way },
  });
  // Held only while a write is in flight, so that the process can end.
  worker.unref();
  let answered;
  if (byMessage) worker.on("message", () => answered());
  // A worker that fails (a full disk, say) fails the write in flight, and every later one.
  const failed = new Promise((_, reject) => worker.on("error", reject));
  failed.catch(() => {});
  return {
    async write(data) {
      area.set(data);
      control[1] = data.length;
      const answers = Atomics.load(control, 2);
      const done = byMessage ? new Promise((resolve) => answered = resolve) : undefined;
      worker.ref();
      Atomics.add(control, 0, 1);
      Atomics.notify(control, 0);
      try {
        if (done) return await Promise.race([done, failed]);
        const wait = Atomics.waitAsync(control, 2, answers);
        if (wait.async) await Promise.race([wait.value, failed]);
      } finally {
        worker.unref();
      }
    },
  };
}

/**
 * What no durable replace can beat on this disk, for scenario B: `writes`
 * replaces of the files in `paths`, spread over `threads` worker threads (each
 * owning every `threads`-th file), each replace making only the per-file calls
 * that fsyncing the content before its rename needs (open exclusive, write,
 * fsync, close, rename), synchronously, with no directory fsync at all: group
 * commit of directory fsyncs could at best remove them all. The clock runs
 * from the start signal, once every thread has started and replaced each of
 * its files once, to the last thread's end.
 *
 * @param {string[]} paths The targets.
 * @param {number} writes How many replaces in all.
 * @param {number} size Bytes per replace.
 * @param {number} threads Worker threads.
 * @param {boolean} [contract] Also make the per-file calls atomfs's protocol
 *   adds (lstat of the target, fstat of the temp file) and name temp files
 *   with 128 random bits, as atomfs does: what no replace keeping atomfs's
 *   contract can beat.
 * @returns {Promise<{ seconds: number, latencies: Float64Array, cpu: { user: number, system: number }, stall: unknown }>}
 *   The time taken, that of each replace (ms, in the order they were taken),
 *   the CPU time of all threads (µs) and the main thread's stall probe.
 */
export async function floorBound(paths, writes, size, threads, contract = false) {
  const { Worker } = await import("node:worker_threads");
  const control = new SharedArrayBuffer(8);
  const latencies = new SharedArrayBuffer(8 * writes);
  const url = new URL("./_floor_bound_worker.mjs", import.meta.url);
  const workers = [];
  const ready = [];
  const done = [];
  for (let thread = 0; thread < threads; thread++) {
    const worker = new Worker(url, {
      workerData: {
        paths: paths.filter((_, i) => i % threads === thread),
        thread,
        writes,
        size,
        control,
        latencies,
        contract,
      },
    });
    workers.push(worker);
    const said = (what) =>
      new Promise((resolve, reject) => {
        worker.on("message", (message) => message === what && resolve());
        worker.on("error", reject);
      });
    ready.push(said("ready"));
    done.push(said("done"));
  }
  try {
    await Promise.all(ready);
    const stopProbe = startStallProbe();
    const cpu = process.cpuUsage();
    const start = performance.now();
    const shared = new Int32Array(control);
    Atomics.store(shared, 1, 1);
    Atomics.notify(shared, 1);
    await Promise.all(done);
    return {
      seconds: (performance.now() - start) / 1000,
      latencies: new Float64Array(latencies),
      cpu: process.cpuUsage(cpu),
      stall: stopProbe(),
    };
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}
