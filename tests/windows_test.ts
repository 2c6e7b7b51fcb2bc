// The Windows rules, on the memory adapter's Windows mode: a file cannot be
// replaced while another process holds it open, and directories cannot be
// flushed.

import { test } from "node:test";
import assert from "node:assert/strict";
import { createAtomicFs } from "../core/atomic_fs.ts";
import { AtomFsError } from "../core/errors.ts";
import { memoryAdapter } from "../adapters/memory.ts";

const decoder = new TextDecoder();

function setup() {
  const mem = memoryAdapter({ platform: "windows" });
  const fs = createAtomicFs(mem);
  fs.writeFileSync("/t", "old");
  return { mem, fs, read: () => decoder.decode(mem.sync.readFile("/t")) };
}

test("on Windows a replace is retried until the holder closes the file, then succeeds", async () => {
  const { mem, fs, read } = setup();
  const holder = mem.hold("/t");
  setTimeout(() => mem.sync.close(holder), 150);
  const started = Date.now();
  const receipt = await fs.writeFile("/t", "new", { retry: { timeoutMs: 5_000 } });
  assert.ok(Date.now() - started >= 140, "waited for the holder");
  assert.ok(receipt.attempts > 1, `attempts: ${receipt.attempts}`);
  assert.equal(read(), "new");
  assert.deepEqual(mem.sync.readDir("/"), ["t"]);
});

test("on Windows a replace gives up with EPERM after retry.timeoutMs and leaves the old file", async () => {
  const { mem, fs, read } = setup();
  const holder = mem.hold("/t");
  try {
    const started = Date.now();
    await assert.rejects(fs.writeFile("/t", "new", { retry: { timeoutMs: 200 } }), (e: unknown) => {
      assert.ok(e instanceof AtomFsError);
      assert.equal(e.code, "EPERM");
      assert.equal(e.op, "rename");
      assert.match(e.message, /another process holds it open/);
      return true;
    });
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 190 && elapsed < 3_000, `gave up after ${elapsed} ms`);
    assert.throws(() => fs.writeFileSync("/t", "new", { retry: { timeoutMs: 50 } }), AtomFsError);
    assert.equal(read(), "old");
    assert.deepEqual(mem.sync.readDir("/"), ["t"]);
    assert.deepEqual(mem.openHandles().map((h) => h.handle), [holder]);
  } finally {
    mem.sync.close(holder);
  }
});

test('on Windows the receipt says durability "file" when "full" was asked, and no directory is flushed', async () => {
  const { mem, fs } = setup();
  const before = mem.log.length;
  assert.equal((await fs.writeFile("/t", "a")).durability, "file");
  assert.equal(fs.writeFileSync("/t", "b", { durability: "full" }).durability, "file");
  assert.equal((await fs.writeFile("/t", "c", { durability: "none" })).durability, "none");
  assert.ok(!mem.log.slice(before).includes("syncDir"));
  assert.ok(!mem.log.slice(before).includes("chown"));
});

test('on Windows a busy rename is retried rather than rewritten in place, even with fallback: "in-place"', async () => {
  const { mem, fs, read } = setup();
  const holder = mem.hold("/t");
  setTimeout(() => mem.sync.close(holder), 50);
  const receipt = await fs.writeFile("/t", "new", { fallback: "in-place" });
  assert.equal(receipt.strategy, "rename");
  assert.equal(read(), "new");
});

test("on Windows a path relative to another drive is refused before any I/O", async () => {
  const mem = memoryAdapter({ platform: "windows" });
  const fs = createAtomicFs({ ...mem, cwd: () => "C:\\work" });
  const before = mem.log.length;
  await assert.rejects(fs.writeFile("D:state.json", "x"), TypeError);
  assert.throws(() => fs.writeFileSync("D:state.json", "x"), TypeError);
  assert.equal(mem.log.length, before);
});
