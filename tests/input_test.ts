// Bad input is refused with TypeError or RangeError before any I/O.

import { test } from "node:test";
import assert from "node:assert/strict";
import { createAtomicFs } from "../core/atomic_fs.ts";
import { memoryAdapter } from "../adapters/memory.ts";

function setup() {
  const mem = memoryAdapter();
  return { mem, fs: createAtomicFs(mem) };
}

const BAD_PATHS: [string, unknown, ErrorConstructor][] = [
  ["an empty path", "", TypeError],
  ["a path with a NUL byte", "/a\0b", TypeError],
  ["a number", 42, TypeError],
  ["null", null, TypeError],
  ["an http: URL", new URL("http://example.com/a"), TypeError],
];

const BAD_OPTIONS: [string, unknown, ErrorConstructor][] = [
  ["options that are not an object", "full", TypeError],
  ["an unknown durability", { durability: "fast" }, TypeError],
  ["a fractional mode", { mode: 1.5 }, TypeError],
  ["a mode above 0o7777", { mode: 0o10000 }, RangeError],
  ["a negative mode", { mode: -1 }, RangeError],
  ["an unknown owner", { owner: "root" }, TypeError],
  ["a negative uid", { owner: { uid: -1, gid: 0 } }, RangeError],
  ["a non-boolean overwrite", { overwrite: "no" }, TypeError],
  ["a non-boolean mkdir", { mkdir: 1 }, TypeError],
  ["an unknown symlinks", { symlinks: "ignore" }, TypeError],
  ["an unknown fallback", { fallback: "copy" }, TypeError],
  ["a signal that is not an AbortSignal", { signal: {} }, TypeError],
  ["a retry that is not an object", { retry: 5 }, TypeError],
  ["a negative retry timeout", { retry: { timeoutMs: -1 } }, RangeError],
  ["an infinite retry timeout", { retry: { timeoutMs: Infinity } }, RangeError],
  ["a NaN retry timeout", { retry: { timeoutMs: NaN } }, TypeError],
];

test("bad paths are refused with a TypeError before any I/O, by every function", async () => {
  const { mem, fs } = setup();
  for (const [name, path, type] of BAD_PATHS) {
    const p = path as string;
    await assert.rejects(fs.writeFile(p, "x"), type, name);
    assert.throws(() => fs.writeFileSync(p, "x"), type, name);
    await assert.rejects(fs.writeJson(p, {}), type, name);
    await assert.rejects(fs.openAtomic(p), type, name);
    await assert.rejects(fs.readFile(p), type, name);
    await assert.rejects(fs.readTextFile(p), type, name);
    await assert.rejects(fs.readJson(p), type, name);
    await assert.rejects(fs.sweep(p), type, name);
  }
  assert.deepEqual(mem.log, []);
});

test("bad write options are refused with a TypeError or RangeError before any I/O", async () => {
  const { mem, fs } = setup();
  for (const [name, options, type] of BAD_OPTIONS) {
    const o = options as object;
    await assert.rejects(fs.writeFile("/a", "x", o), type, name);
    assert.throws(() => fs.writeFileSync("/a", "x", o), type, name);
    await assert.rejects(fs.openAtomic("/a", o), type, name);
  }
  assert.deepEqual(mem.log, []);
});

test("bad content is refused with a TypeError before any I/O", async () => {
  const { mem, fs } = setup();
  for (const data of [undefined, null, 42, {}, true]) {
    await assert.rejects(fs.writeFile("/a", data as string), TypeError, String(data));
  }
  for (const data of [new Blob(["x"]), [new Uint8Array(1)], null]) {
    assert.throws(() => fs.writeFileSync("/a", data as unknown as string), TypeError);
  }
  await assert.rejects(fs.writeJson("/a", () => {}), TypeError);
  await assert.rejects(fs.writeJson("/a", { a: 1n }), TypeError);
  const cyclic: { self?: unknown } = {};
  cyclic.self = cyclic;
  await assert.rejects(fs.writeJson("/a", cyclic), TypeError);
  await assert.rejects(fs.writeJson("/a", {}, { space: {} as string }), TypeError);
  assert.deepEqual(mem.log, []);
});

test("bad read and sweep options are refused before any I/O", async () => {
  const { mem, fs } = setup();
  await assert.rejects(fs.readFile("/a", { notFoundGraceMs: -5 }), RangeError);
  await assert.rejects(fs.readFile("/a", { notFoundGraceMs: "1" as unknown as number }), TypeError);
  await assert.rejects(fs.readFile("/a", { signal: "no" as unknown as AbortSignal }), TypeError);
  await assert.rejects(fs.sweep("/", { olderThanMs: -1 }), RangeError);
  assert.deepEqual(mem.log, []);
});

test("a chunk of the wrong type in a stream fails the write and leaves nothing behind", async () => {
  const { mem, fs } = setup();
  await assert.rejects(fs.writeFile("/a", [new Uint8Array(2), 42 as unknown as string]), TypeError);
  const file = await fs.openAtomic("/b");
  await assert.rejects(file.write(42 as unknown as string), TypeError);
  await file.abort();
  assert.deepEqual(mem.sync.readDir("/"), []);
  assert.deepEqual(mem.openHandles(), []);
});
