// The write events on node:diagnostics_channel: each fires with the
// documented fields, from every kind of write, on disk and in memory.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import diagnostics from "node:diagnostics_channel";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  AtomFsError,
  CHANNELS,
  createAtomicFs,
  openAtomic,
  type WriteCommittedEvent,
  type WriteFailedEvent,
  writeFile,
  writeFileSync,
} from "../mod.ts";
import { memoryAdapter } from "../adapters/memory.ts";
import { commandFor, fixture, lastJson, runtime } from "./_runtime.ts";

/** Collect what a channel publishes while `body` runs. */
async function collect<T>(name: string, body: () => Promise<unknown>): Promise<T[]> {
  const seen: T[] = [];
  const listener = (message: unknown) => seen.push(message as T);
  diagnostics.subscribe(name, listener);
  try {
    await body();
  } finally {
    diagnostics.unsubscribe(name, listener);
  }
  return seen;
}

function checkCommitted(event: WriteCommittedEvent, path: string, bytes: number): void {
  assert.equal(event.path, path);
  assert.equal(event.bytes, bytes);
  assert.equal(event.durability, "full");
  assert.equal(event.strategy, "rename");
  assert.equal(event.attempts, 1);
  for (const field of ["writeMs", "fsyncMs", "renameMs", "dirSyncMs", "totalMs"] as const) {
    assert.equal(typeof event[field], "number", field);
    assert.ok(event[field] >= 0, `${field} ${event[field]}`);
  }
  assert.ok(event.fsyncMs > 0 && event.renameMs > 0 && event.dirSyncMs > 0, JSON.stringify(event));
  assert.ok(
    event.totalMs >= event.fsyncMs + event.renameMs,
    `total ${event.totalMs} covers the steps ${JSON.stringify(event)}`,
  );
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "atomfs-events-"));
}

test(`${CHANNELS.writeCommitted} fires for writeFile (both paths), writeFileSync and openAtomic, with every documented field`, async () => {
  const dir = tempDir();
  try {
    const file = join(dir, "t");
    const events = await collect<WriteCommittedEvent>(CHANNELS.writeCommitted, async () => {
      await writeFile(file, "small"); // offloaded to the worker
      await writeFile(
        file,
        (async function* () {
          yield "streamed";
        })(),
      ); // the main thread's async path
      writeFileSync(file, "sync!");
      const pending = await openAtomic(file);
      await pending.write("pending");
      await pending.commit();
    });
    assert.equal(events.length, 4, JSON.stringify(events));
    checkCommitted(events[0]!, file, 5);
    checkCommitted(events[1]!, file, 8);
    checkCommitted(events[2]!, file, 5);
    checkCommitted(events[3]!, file, 7);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test(`${CHANNELS.writeFailed} fires with the code, step and target of a failed write`, async () => {
  const mem = memoryAdapter();
  mem.sync.mkdir("/d", 0o755);
  const fs = createAtomicFs(mem);
  const events = await collect<WriteFailedEvent>(CHANNELS.writeFailed, async () => {
    mem.inject({ call: "fsync", code: "ENOSPC" });
    await assert.rejects(fs.writeFile("/d/a", "x"), AtomFsError);
    mem.inject({ call: "rename", code: "EIO" });
    assert.throws(() => fs.writeFileSync("/d/b", "x"), AtomFsError);
  });
  assert.deepEqual(
    events.map(({ path, code, op }) => ({ path, code, op })),
    [{ path: "/d/a", code: "ENOSPC", op: "sync" }, { path: "/d/b", code: "EIO", op: "rename" }],
  );
  assert.ok(events.every((e) => e.error instanceof AtomFsError));
});

test(`${CHANNELS.writeFailed} is not published for bad arguments or an aborted write`, async () => {
  const mem = memoryAdapter();
  mem.sync.mkdir("/d", 0o755);
  const fs = createAtomicFs(mem);
  const events = await collect<WriteFailedEvent>(CHANNELS.writeFailed, async () => {
    await assert.rejects(fs.writeFile("/d/a", "x", { durability: "most" } as never), TypeError);
    assert.throws(() => fs.writeFileSync("/d/a", "x", { mode: -1 }), RangeError);
    const aborted = AbortSignal.abort(new Error("stop"));
    await assert.rejects(fs.writeFile("/d/a", "x", { signal: aborted }), /stop/);
    // A signal that aborts while the write is queued behind another.
    const controller = new AbortController();
    const first = fs.writeFile("/d/a", "first");
    const second = fs.writeFile("/d/a", "second", { signal: controller.signal });
    controller.abort(new Error("later"));
    await first;
    await assert.rejects(second, /later/);
  });
  assert.deepEqual(events, []);
});

test(`${CHANNELS.writeFailed} fires for an offloaded write that fails in the worker`, async () => {
  const dir = tempDir();
  try {
    const target = join(dir, "missing", "t");
    const events = await collect<WriteFailedEvent>(CHANNELS.writeFailed, async () => {
      await assert.rejects(writeFile(target, "x"), AtomFsError);
    });
    assert.equal(events.length, 1);
    assert.equal(events[0]!.code, "ENOENT");
    assert.equal(events[0]!.op, "open-temp");
    assert.equal(events[0]!.path, target);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("superseded writes publish no commit of their own; the write that committed does", async () => {
  const mem = memoryAdapter();
  mem.sync.mkdir("/d", 0o755);
  const fs = createAtomicFs(mem);
  const events = await collect<WriteCommittedEvent>(CHANNELS.writeCommitted, async () => {
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => fs.writeFile("/d/a", `v${i}`, { coalesce: true })),
    );
  });
  assert.ok(events.length >= 1 && events.length <= 3, `${events.length} commits published`);
  assert.equal(events.at(-1)!.bytes, 3);
});

test("a listener added with diagnostics_channel.subscribe() before any write still hears every commit after garbage collections", () => {
  // Bun keeps a channel only while its object is referenced: atomfs holds its
  // own, or such a listener is dropped at the next collection. A fresh process,
  // so that nothing else has touched the channel.
  const [command, args] = commandFor(fixture("events_after_gc"));
  const run = spawnSync(command, args, { encoding: "utf8", timeout: 60_000 });
  assert.equal(run.status, 0, run.stderr);
  const result = lastJson(run.stdout);
  assert.equal(result.heard, 2);
  if (runtime === "bun") assert.equal(result.forced, true, "Bun.gc() forces a collection");
});
