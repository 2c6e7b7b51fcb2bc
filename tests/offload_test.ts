// The offload worker: small writes run whole on a worker thread with the
// synchronous driver, a batch sharing its directory fsyncs. The ring, the
// batch (on the memory adapter, under the crash explorer), the error wire
// format, the fallback when no worker can run, and the real thing on disk.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { createAtomicFs } from "../core/atomic_fs.ts";
import type { FsAdapter } from "../core/adapter.ts";
import { AtomFsError } from "../core/errors.ts";
import { Ring } from "../core/_ring.ts";
import { runBatch } from "../core/_offload_worker.ts";
import {
  errorFromWire,
  errorToWire,
  type Job,
  JobDecoder,
  JobEncoder,
  type JobHeader,
  type JobResult,
  ResultDecoder,
  ResultEncoder,
} from "../core/_wire.ts";
import { offloaderOf, type OffloadSpawner, withOffload } from "../core/_offload.ts";
import { resolveWriteOptions } from "../core/options.ts";
import { exploreCrashes, memoryAdapter } from "../adapters/memory.ts";
import { workerSpawner } from "../adapters/_offload.ts";
import { runtimeAdapter, writeFile, writeFileSync } from "../mod.ts";
import { commandFor, fixture } from "./_runtime.ts";

test("the ring hands over every record intact, in order, across many wrap-arounds", () => {
  const producer = new Ring(1024);
  const consumer = new Ring(producer.buffer);
  let sent = 0;
  let received = 0;
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const record = (n: number) => {
    const bytes = new Uint8Array(1 + (n * 37) % 300);
    bytes.fill(n % 251);
    return bytes;
  };
  while (received < 2_000) {
    // Push until full (or a random stop), then take some and release.
    while (sent < 2_000 && random() < 0.8 && producer.push([record(sent)])) sent++;
    const taken = consumer.take();
    for (const bytes of taken) {
      assert.equal(bytes.length, record(received).length, `record ${received}`);
      assert.ok(bytes.every((b) => b === received % 251), `record ${received} content`);
      received++;
    }
    consumer.release();
  }
  assert.equal(sent, 2_000);
});

test("the ring refuses a record when full and accepts it once space is released", () => {
  const producer = new Ring(256);
  const consumer = new Ring(producer.buffer);
  const big = new Uint8Array(100);
  assert.equal(producer.push([big]), true);
  assert.equal(producer.push([big]), true);
  assert.equal(producer.push([big]), false, "a third does not fit");
  assert.equal(consumer.take().length, 2);
  assert.equal(producer.push([big]), false, "space is given back only by release()");
  consumer.release();
  assert.equal(producer.push([big]), true);
  assert.throws(() => producer.push([new Uint8Array(200)]), RangeError);
});

/** The default options, as a job record carries them. */
const { signal: _s, coalesce: _c, ...DEFAULTS } = resolveWriteOptions(undefined);

function job(id: number, path: string, text: string): Job {
  const header: JobHeader = {
    id,
    slot: id,
    target: path,
    options: DEFAULTS,
    signal: false,
    timings: false,
    attempts: 1,
  };
  return { header, data: new TextEncoder().encode(text) };
}

test("a batch of writes to one directory flushes it once, after every rename", () => {
  const mem = memoryAdapter();
  mem.sync.mkdir("/d", 0o755);
  const results = runBatch(mem, [job(1, "/d/a", "A"), job(2, "/d/b", "B"), job(3, "/d/c", "C")]);
  assert.deepEqual(results.map((r) => r.receipt?.durability), ["full", "full", "full"]);
  assert.deepEqual(results.map((r) => r.committed), ["full", "full", "full"]);
  const log = mem.log.filter((c) => c === "rename" || c === "syncDir");
  assert.deepEqual(log, ["rename", "rename", "rename", "syncDir"]);
  assert.equal(new TextDecoder().decode(mem.sync.readFile("/d/b")), "B");
});

test("a failed directory flush fails every write of the batch that relied on it, naming its own target", () => {
  const mem = memoryAdapter();
  mem.sync.mkdir("/d", 0o755);
  mem.sync.mkdir("/e", 0o755);
  mem.inject({ call: "syncDir", code: "EIO" });
  const results = runBatch(mem, [job(1, "/d/a", "A"), job(2, "/d/b", "B"), job(3, "/e/c", "C")]);
  const errors = results.map((r) => r.error && errorFromWire(r.error));
  for (const [i, path] of ["/d/a", "/d/b"].entries()) {
    const error = errors[i];
    assert.ok(error instanceof AtomFsError);
    assert.equal(error.code, "EIO");
    assert.equal(error.op, "sync-dir");
    assert.equal(error.path, path);
    // The content is in place (committed), its durability unknown.
    assert.equal(results[i]!.committed, "full");
  }
  assert.equal(errors[2], undefined, "/e was flushed by its own fsync");
  assert.equal(results[2]!.receipt?.durability, "full");
});

test("a job whose retry deadline has passed is not retried in the worker; one without a deadline is", () => {
  const mem = memoryAdapter();
  mem.sync.mkdir("/d", 0o755);
  mem.inject({ call: "rename", code: "EAGAIN", times: 1 });
  const late = { ...job(1, "/d/a", "A"), header: { ...job(1, "/d/a", "A").header, retryUntil: 1 } };
  const [failed] = runBatch(mem, [late]);
  assert.ok(failed!.error, "retried past its deadline");
  assert.equal((errorFromWire(failed!.error) as AtomFsError).code, "EAGAIN");
  mem.inject({ call: "rename", code: "EAGAIN", times: 1 });
  const [retried] = runBatch(mem, [job(2, "/d/b", "B")]);
  assert.equal(retried!.receipt?.attempts, 2);
});

test("a failed write of a batch leaves no temp file and does not hold back the others", () => {
  const mem = memoryAdapter();
  mem.sync.mkdir("/d", 0o755);
  mem.inject({ call: "fsync", code: "ENOSPC" });
  const results = runBatch(mem, [job(1, "/d/a", "A"), job(2, "/d/b", "B")]);
  const error = errorFromWire(results[0]!.error!);
  assert.ok(error instanceof AtomFsError);
  assert.equal(error.code, "ENOSPC");
  assert.equal(error.op, "sync");
  assert.equal(results[0]!.committed, undefined);
  assert.equal(results[1]!.receipt?.durability, "full");
  assert.deepEqual(mem.sync.readDir("/d"), ["b"]);
});

test("every crash state after a batch reported holds all of its writes; before, old or new", async () => {
  const report = await exploreCrashes(
    (fs, { mark }) => {
      const results = runBatch(fs.adapter, [1, 2, 3].map((i) => job(i, `/d/f${i}`, `new ${i}`)));
      assert.ok(results.every((r) => r.receipt));
      mark("reported");
    },
    (state, { marks }) => {
      for (const i of [1, 2, 3]) {
        const text = state.text(`/d/f${i}`);
        if (marks.includes("reported")) assert.equal(text, `new ${i}`, `f${i} reported`);
        else assert.ok(text === `old ${i}` || text === `new ${i}`, `f${i}: ${text}`);
      }
    },
    {
      setup: (fs, mem) => {
        mem.sync.mkdir("/d", 0o755);
        for (const i of [1, 2, 3]) fs.writeFileSync(`/d/f${i}`, `old ${i}`);
      },
    },
  );
  console.log(`crash states explored: offloaded batch of 3: ${report.states} states`);
  assert.equal(report.counterexample, undefined, report.counterexample?.message);
  assert.ok(report.ok && report.exhaustive && report.states > 1);
});

test("an error crosses from the worker with its code, step, path, message, cause and suppressed errors", () => {
  const cause = Object.assign(new Error("EACCES: permission denied, open '/x/.t'"), {
    code: "EACCES",
    errno: -13,
    syscall: "open",
    path: "/x/.t",
    detail: "run with --allow-write",
  });
  const original = new AtomFsError({
    code: "EACCES",
    op: "open-temp",
    path: "/x/t",
    cause,
    suppressed: [Object.assign(new Error("cleanup"), { code: "EIO" })],
  });
  const back = errorFromWire(JSON.parse(JSON.stringify(errorToWire(original))));
  assert.ok(back instanceof AtomFsError);
  assert.equal(back.message, original.message);
  assert.equal(back.code, "EACCES");
  assert.equal(back.op, "open-temp");
  assert.equal(back.path, "/x/t");
  const backCause = back.cause as typeof cause;
  assert.ok(backCause instanceof Error);
  assert.equal(backCause.message, cause.message);
  assert.equal(backCause.code, "EACCES");
  assert.equal(backCause.errno, -13);
  assert.equal(backCause.syscall, "open");
  assert.equal(backCause.detail, "run with --allow-write");
  assert.equal((back.suppressed[0] as { code: string }).code, "EIO");
  const other = errorFromWire(errorToWire(new TypeError("bad")));
  assert.ok(other instanceof TypeError);
  assert.equal(other.message, "bad");
});

const plain = (value: unknown) => JSON.parse(JSON.stringify(value));

/** Records through a real ring, as the two threads exchange them. */
function wirePair() {
  const producer = new Ring(1 << 16);
  const consumer = new Ring(producer.buffer);
  return {
    send(parts: Uint8Array[]) {
      assert.ok(producer.push(parts));
      const [record] = consumer.take();
      return record!;
    },
    done: () => consumer.release(),
  };
}

test("job records carry each write's header and content, also when the options change between writes", () => {
  const file = { ...DEFAULTS, durability: "file" as const };
  const owned = { ...DEFAULTS, owner: { uid: 1, gid: 2 } };
  const owned2 = { ...DEFAULTS, owner: { uid: 1, gid: 3 } };
  const target = {
    path: "/d/ü",
    dir: "/d",
    old: {
      kind: "file" as const,
      mode: 0o640,
      uid: 5,
      gid: 6,
      size: 3,
      dev: 1,
      ino: 2,
      mtimeMs: 1.5,
    },
  };
  const headers: JobHeader[] = [
    {
      id: 1,
      slot: 0,
      target: "/d/a",
      options: DEFAULTS,
      signal: false,
      timings: false,
      attempts: 1,
    },
    {
      id: 2,
      slot: 1,
      target: "/d/a",
      options: DEFAULTS,
      signal: true,
      timings: false,
      attempts: 1,
    },
    { id: 3, slot: 2, target: "/d/a", options: file, signal: false, timings: true, attempts: 1 },
    { id: 4, slot: 3, target: "/d/b", options: file, signal: false, timings: false, attempts: 1 },
    { id: 5, slot: 4, target: "/d/b", options: owned, signal: false, timings: false, attempts: 1 },
    { id: 6, slot: 5, target: "/d/b", options: owned2, signal: false, timings: false, attempts: 1 },
    // Retries made before the hand-over cross with it.
    {
      id: 7,
      slot: 6,
      target,
      options: DEFAULTS,
      signal: false,
      timings: false,
      attempts: 3,
      retryUntil: 1_800_000_000_123.5,
    },
    {
      id: 8,
      slot: 7,
      target: "/d/a",
      options: { ...DEFAULTS },
      signal: false,
      timings: false,
      attempts: 1,
    },
  ];
  const encoder = new JobEncoder();
  const decoder = new JobDecoder();
  const wire = wirePair();
  for (const [i, header] of headers.entries()) {
    const data = new TextEncoder().encode(`content ${i}`.repeat(i));
    const job = decoder.decode(wire.send(encoder.parts(header, header.id, header.slot, data)));
    // Absent and undefined fields are the same to the reader.
    assert.deepEqual(plain(job.header), plain(header), `header ${header.id}`);
    assert.deepEqual([...job.data], [...data], `content ${header.id}`);
    wire.done();
  }
});

test("a change to any write option reaches the worker (every option is compared)", () => {
  // The encoder resends the options only when they differ from the last
  // record's; an option it did not compare would reach the worker stale.
  // The keys come from resolveWriteOptions, so a new option is covered here.
  const encoder = new JobEncoder();
  const decoder = new JobDecoder();
  const wire = wirePair();
  let id = 0;
  const send = (options: typeof DEFAULTS) => {
    const header: JobHeader = {
      id: ++id,
      slot: 0,
      target: "/d/a",
      options,
      signal: false,
      timings: false,
      attempts: 1,
    };
    const job = decoder.decode(
      wire.send(encoder.parts(header, header.id, header.slot, new Uint8Array(1))),
    );
    wire.done();
    return plain(job.header.options);
  };
  const keys = Object.keys(DEFAULTS) as (keyof typeof DEFAULTS)[];
  assert.ok(keys.length >= 9, `options on the wire: ${keys.join(", ")}`);
  for (const key of keys) {
    const changed = { ...DEFAULTS, [key]: `changed ${key}` } as unknown as typeof DEFAULTS;
    assert.deepEqual(send(DEFAULTS), plain(DEFAULTS), `${key}: before`);
    assert.deepEqual(send(changed), plain(changed), `${key}: changed`);
    assert.deepEqual(send(DEFAULTS), plain(DEFAULTS), `${key}: back`);
  }
});

test("result records carry receipts, errors, aborts and timings", () => {
  const receipt = (path: string, bytes: number) => ({
    path,
    bytes,
    durability: "full" as const,
    strategy: "rename" as const,
    attempts: 1,
    superseded: false,
  });
  const results: JobResult[] = [
    { id: 1, committed: "full", receipt: receipt("/d/a", 1024) },
    { id: 2, committed: "full", receipt: receipt("/d/a", 5 * 2 ** 32) },
    {
      id: 3,
      committed: "file",
      receipt: { ...receipt("/d/é", 0), durability: "file", strategy: "link", attempts: 3 },
      timings: { writeMs: 0.5, fsyncMs: 1.25, renameMs: 0.125, dirSyncMs: 2 },
    },
    { id: 4, receipt: { ...receipt("/d/a", 7), durability: "none", strategy: "in-place" } },
    {
      id: 5,
      committed: "full",
      error: errorToWire(new AtomFsError({ code: "EIO", op: "sync-dir", path: "/d/a" })),
    },
    { id: 6, aborted: true },
    { id: 7, committed: "full", aborted: true },
    {
      id: 8,
      error: errorToWire(new RangeError("x")),
      timings: { writeMs: 1, fsyncMs: 0, renameMs: 0, dirSyncMs: 0 },
    },
  ];
  const encoder = new ResultEncoder();
  const decoder = new ResultDecoder();
  const wire = wirePair();
  for (const result of results) {
    const back = decoder.decode(wire.send(encoder.parts(result)));
    assert.deepEqual(plain(back), plain(result));
    wire.done();
  }
});

test("writes go to the main thread's async path when no worker can start", async () => {
  const mem = memoryAdapter();
  mem.sync.mkdir("/d", 0o755);
  let tried = 0;
  const refuse: OffloadSpawner = () => {
    tried++;
    throw new Error("no workers here");
  };
  const fs = createAtomicFs(withOffload({ ...mem }, refuse));
  assert.equal((await fs.writeFile("/d/a", "A")).durability, "full");
  assert.equal((await fs.writeFile("/d/a", "B")).durability, "full");
  assert.equal(tried, 1, "a failed start is not retried at every write");
  assert.equal(new TextDecoder().decode(mem.sync.readFile("/d/a")), "B");
});

/**
 * A memory filesystem whose offload workers take jobs and never answer until
 * they "die" (call one of `fails`); `terminated()` counts the terminations.
 */
function silentWorkers() {
  const mem = memoryAdapter();
  mem.sync.mkdir("/d", 0o755);
  const fails: ((error: unknown) => void)[] = [];
  let terminated = 0;
  const silent: OffloadSpawner = (_init, events) => {
    fails.push(events.fail);
    return {
      worker: { ref() {}, unref() {}, terminate: () => void terminated++ },
      wakeByMessage: true,
    };
  };
  const fs = createAtomicFs(withOffload({ ...mem }, silent));
  return { mem, fs, fails, terminated: () => terminated };
}

test("writes the workers held when they died run again on the main thread and resolve", async () => {
  const { mem, fs, fails, terminated } = silentWorkers();
  const writes = [
    fs.writeFile("/d/a", "A1"),
    fs.writeFile("/d/a", "A2"),
    fs.writeFile("/d/b", "B"),
  ];
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(mem.log.includes("rename"), false, "nothing was written on the main thread yet");
  assert.ok(fails.length >= 1 && fails.length <= 2, `${fails.length} workers for 2 files`);
  for (const fail of fails) fail(new Error("worker crashed"));
  const receipts = await Promise.all(writes);
  assert.ok(receipts.every((r) => r.durability === "full"));
  assert.equal(terminated(), fails.length);
  const text = (p: string) => new TextDecoder().decode(mem.sync.readFile(p));
  assert.equal(text("/d/a"), "A2");
  assert.equal(text("/d/b"), "B");
  // With every worker lost, later writes stay on the main thread.
  assert.equal((await fs.writeFile("/d/c", "C")).durability, "full");
  assert.equal(fails.length <= 2, true, "no worker is started after a loss");
});

/**
 * Offload workers that run in this thread: every millisecond they take the
 * jobs waiting, run them as the real worker does (`runBatch` on `adapter`),
 * and answer, as `serve` does. `stop()` ends them.
 */
function inThreadWorkers(adapter: FsAdapter) {
  const timers: ReturnType<typeof setInterval>[] = [];
  /** The headers of the jobs run, in order. */
  const headers: JobHeader[] = [];
  const spawner: OffloadSpawner = (init, events) => {
    const jobs = new Ring(init.jobs);
    const results = new Ring(init.results);
    const flags = new Int32Array(init.flags);
    const decoder = new JobDecoder();
    const encoder = new ResultEncoder();
    // Results the ring had no room for yet (it is drained between ticks).
    const unsent: JobResult[] = [];
    const timer = setInterval(() => {
      const batch = jobs.take().map((r) => decoder.decode(r));
      if (batch.length > 0) {
        headers.push(...batch.map((job) => job.header));
        unsent.push(...runBatch(adapter, batch, flags));
        jobs.release();
      }
      while (unsent.length > 0 && results.push(encoder.parts(unsent[0]!))) unsent.shift();
      if (batch.length > 0) events.wake();
    }, 1);
    timers.push(timer);
    return {
      worker: { ref() {}, unref() {}, terminate: () => clearInterval(timer) },
      wakeByMessage: true,
    };
  };
  return { spawner, headers, stop: () => timers.forEach(clearInterval) };
}

/** A memory filesystem whose synchronous `lstat` fails with EAGAIN `times` times first. */
function flakyLstat(times: number) {
  const mem = memoryAdapter();
  mem.sync.mkdir("/d", 0o755);
  let failures = times;
  const adapter: FsAdapter = {
    ...mem,
    sync: {
      ...mem.sync,
      lstat: (path: string) => {
        if (failures-- > 0) throw Object.assign(new Error("EAGAIN"), { code: "EAGAIN" });
        return mem.sync.lstat(path);
      },
    },
  };
  return { mem, adapter };
}

test("an offloaded write's receipt counts the retries made before the hand-over, and the worker keeps their deadline", async () => {
  // The main thread resolves the target at the call, synchronously: its
  // lstat fails twice with EAGAIN first, then the worker runs the write.
  const { mem, adapter } = flakyLstat(2);
  const workers = inThreadWorkers(mem);
  try {
    const fs = createAtomicFs(withOffload(adapter, workers.spawner));
    const before = Date.now();
    const receipt = await fs.writeFile("/d/a", "A", { retry: { timeoutMs: 60_000 } });
    assert.equal(receipt.attempts, 3);
    assert.equal(new TextDecoder().decode(mem.sync.readFile("/d/a")), "A");
    // The worker retries until the write's own deadline, not for a fresh 60 s.
    const deadline = workers.headers[0]!.retryUntil!;
    assert.ok(deadline >= before + 60_000 && deadline <= Date.now() + 60_000, `${deadline}`);
    // Without retries before it, a write's receipt and deadline are the worker's own.
    assert.equal((await fs.writeFile("/d/b", "B")).attempts, 1);
    assert.equal(workers.headers[1]!.retryUntil, undefined);
  } finally {
    workers.stop();
  }
});

test("a write run on the main thread after its worker died counts the retries made before the hand-over once", async () => {
  const { mem, adapter } = flakyLstat(2);
  const fails: ((error: unknown) => void)[] = [];
  const silent: OffloadSpawner = (_init, events) => {
    fails.push(events.fail);
    return { worker: { ref() {}, unref() {}, terminate() {} }, wakeByMessage: true };
  };
  const fs = createAtomicFs(withOffload(adapter, silent));
  const write = fs.writeFile("/d/a", "A");
  await new Promise((resolve) => setTimeout(resolve, 10));
  for (const fail of fails) fail(new Error("worker crashed"));
  assert.equal((await write).attempts, 3);
  assert.equal(new TextDecoder().decode(mem.sync.readFile("/d/a")), "A");
});

test("content up to 1 MiB goes to a worker; larger content and streams run on the main thread", async () => {
  const { mem, fs, fails } = silentWorkers();
  const MiB = 1 << 20;
  const held = fs.writeFile("/d/small", new Uint8Array(MiB));
  assert.equal((await fs.writeFile("/d/large", new Uint8Array(MiB + 1))).bytes, MiB + 1);
  const stream = (async function* () {
    yield "streamed";
  })();
  assert.equal((await fs.writeFile("/d/stream", stream)).bytes, 8);
  assert.equal(fails.length, 1, "one worker, started for the 1 MiB write");
  const visible = () => mem.sync.readDir("/d").filter((name) => !name.startsWith(".")).sort();
  assert.deepEqual(visible(), ["large", "stream"], "the 1 MiB write is still in the worker");
  // The worker dies: the write it held runs on the main thread.
  for (const fail of fails) fail(new Error("worker gone"));
  assert.equal((await held).bytes, MiB);
  assert.deepEqual(visible(), ["large", "small", "stream"]);
});

test("an adapter made by spreading a built-in one does not offload (its own calls run)", () => {
  const adapter = runtimeAdapter();
  assert.ok(offloaderOf(adapter), "the runtime's adapter offloads");
  assert.equal(offloaderOf({ ...adapter }), undefined);
});

test("concurrent writes start more workers (up to a limit); sequential ones keep one", async () => {
  // The real workers, in a fresh pool.
  const real = runtimeAdapter();
  const pool = withOffload({ ...real }, workerSpawner(real.name === "deno" ? "deno" : "node"));
  const offloader = offloaderOf(pool)!;
  const disk = createAtomicFs(pool);
  const dir = tempDir();
  try {
    for (let i = 0; i < 20; i++) await disk.writeFile(join(dir, "seq"), `${i}`);
    assert.equal(offloader.threads, 1, "sequential writes use one worker");
    await Promise.all(
      Array.from({ length: 64 }, (_, i) => disk.writeFile(join(dir, `f${i}`), `${i}`)),
    );
    assert.ok(offloader.threads > 1 && offloader.threads <= 4, `${offloader.threads} workers`);
    for (let i = 0; i < 64; i++) assert.equal(readFileSync(join(dir, `f${i}`), "utf8"), `${i}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("an idle worker sleeps: after its last write the process uses next to no CPU", async () => {
  const dir = tempDir();
  try {
    for (let i = 0; i < 20; i++) await writeFile(join(dir, "t"), `${i}`);
    const before = process.cpuUsage();
    await new Promise((resolve) => setTimeout(resolve, 500));
    const { user, system } = process.cpuUsage(before);
    // A worker that went on polling its ring would use the whole 500 ms.
    assert.ok(user + system < 250_000, `${(user + system) / 1000} ms of CPU in 500 ms idle`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "atomfs-offload-"));
}

test("offloaded writes on disk: many files, many writes each, the last call's data wins", async () => {
  const dir = tempDir();
  try {
    const writes = [];
    for (let i = 0; i < 400; i++) writes.push(writeFile(join(dir, `f${i % 16}`), `v${i}`));
    const receipts = await Promise.all(writes);
    assert.ok(receipts.every((r) => r.durability === "full" && r.strategy === "rename"));
    for (let f = 0; f < 16; f++) {
      assert.equal(readFileSync(join(dir, `f${f}`), "utf8"), `v${384 + f}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("writeFileSync() lands after the async writes issued before it, on every try", async () => {
  const dir = tempDir();
  try {
    const file = join(dir, "t");
    for (let i = 0; i < 100; i++) {
      const pending = [writeFile(file, `async ${i}a`), writeFile(file, `async ${i}b`)];
      // Let the first reach the worker.
      if (i % 2) await Promise.resolve();
      writeFileSync(file, `sync ${i}`);
      await Promise.all(pending);
      assert.equal(readFileSync(file, "utf8"), `sync ${i}`, `try ${i}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("an offloaded write's error is an AtomFsError naming the step, the target and the cause", async () => {
  const dir = tempDir();
  try {
    const target = join(dir, "missing", "t");
    const error = await writeFile(target, "x").then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof AtomFsError, String(error));
    assert.equal(error.code, "ENOENT");
    assert.equal(error.op, "open-temp");
    assert.equal(error.path, target);
    assert.match(error.message, /pass \{ mkdir: true \}/);
    assert.equal((error.cause as { code?: string }).code, "ENOENT");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a signal aborted before the write's turn rejects it with the signal's reason", async () => {
  const dir = tempDir();
  try {
    const controller = new AbortController();
    const write = writeFile(join(dir, "t"), "x", { signal: controller.signal });
    controller.abort(new Error("stop"));
    await assert.rejects(write, /stop/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a process exits on its own after offloaded writes (the idle worker does not hold it)", () => {
  const dir = tempDir();
  try {
    const file = join(dir, "t");
    const [command, args] = commandFor(fixture("offload_exit"), [file]);
    const run = spawnSync(command, args, { encoding: "utf8", timeout: 30_000 });
    assert.equal(run.error, undefined, "the process did not exit within 30 s");
    assert.equal(run.status, 0, run.stderr);
    assert.equal(readFileSync(file, "utf8"), "done");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
