// Bad input is refused with TypeError or RangeError before any I/O.

import { test } from "node:test";
import assert from "node:assert/strict";
import { createAtomicFs } from "../core/atomic_fs.ts";
import { memoryAdapter } from "../adapters/memory.ts";
import { resolveWriteOptions, resolveWriteOptionsAfresh } from "../core/options.ts";

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

test("options resolve the same whether or not they match the last ones resolved, through any sequence of objects and mutations", () => {
  // resolveWriteOptions reuses its last result when the options given resolve
  // exactly as it did; resolveWriteOptionsAfresh never does. A small seeded
  // generator, so that a failure can be replayed.
  let seed = 0x2545f491;
  const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const pick = <T>(values: readonly T[]): T => values[Math.floor(next() * values.length)]!;
  const signal = new AbortController().signal;
  const VALUES: Record<string, readonly unknown[]> = {
    durability: [undefined, "full", "file", "none", "fast", null],
    mode: [undefined, 0o644, 0o600, 0, -0, 1.5, "420", -1, null],
    owner: [undefined, "preserve", "none", "root", null, { uid: 1, gid: 2 }, { uid: 5, gid: 2 }],
    overwrite: [undefined, true, false, "no", null],
    mkdir: [undefined, true, false, 0],
    symlinks: [undefined, "follow", "replace", "other"],
    fallback: [undefined, "none", "in-place", "x"],
    coalesce: [undefined, true, false, "yes"],
    backups: [undefined, 0, 2, 3, -1, 1.5, Number.MAX_SAFE_INTEGER + 2],
    signal: [undefined, undefined, undefined, signal, "abort"],
    retry: [undefined, { timeoutMs: 10_000 }, { timeoutMs: 5 }, {}, { timeoutMs: -1 }, 7, null],
  };
  const keys = Object.keys(VALUES);
  const outcome = (resolve: (value: unknown) => unknown, value: unknown) => {
    try {
      return { ok: structuredClone({ ...(resolve(value) as object), signal: undefined }) };
    } catch (error) {
      return { error: `${(error as Error).name}: ${(error as Error).message}` };
    }
  };
  let reused = 0;
  let reusedAcross = 0;
  let previous: { given: unknown; resolved: unknown } | undefined;
  let options: Record<string, unknown> = {};
  for (let i = 0; i < 20_000; i++) {
    const step = next();
    if (step < 0.3) {
      // A fresh object: often a copy of the last, to hit the reuse.
      options = next() < 0.5 ? { ...options } : {};
    } else if (step < 0.9) {
      // Mutate the same object in place, nested objects included.
      const key = pick(keys);
      const value = pick(VALUES[key]!);
      options[key] = value !== null && typeof value === "object" && !(value instanceof AbortSignal)
        ? { ...value }
        : value;
    } else if (typeof options.owner === "object" && options.owner !== null) {
      (options.owner as Record<string, number>)[pick(["uid", "gid"])] = pick([1, 2, -0, -4]);
    } else if (typeof options.retry === "object" && options.retry !== null) {
      (options.retry as { timeoutMs: unknown }).timeoutMs = pick([5, 10_000, undefined, NaN]);
    }
    const given = next() < 0.05 ? undefined : options;
    const expected = outcome(resolveWriteOptionsAfresh, given);
    const context = JSON.stringify({ i, given });
    // Twice: the second call meets the first's result as the last one resolved.
    const first = outcome(resolveWriteOptions, given);
    const second = outcome(resolveWriteOptions, given);
    assert.deepEqual(first, expected, context);
    assert.deepEqual(second, expected, context);
    if (!("error" in expected)) {
      const a = resolveWriteOptions(given);
      const b = resolveWriteOptions(given);
      if (a === b) reused++;
      // An equal but different object meets the result of the one before it.
      if (previous && previous.given !== given && previous.resolved === a) reusedAcross++;
      previous = { given, resolved: b };
      assert.equal(b.signal, (given as { signal?: unknown } | undefined)?.signal, context);
      assert.ok(Object.isFrozen(b), context);
    }
  }
  assert.ok(reused > 1_000, `the last result was reused ${reused} times`);
  assert.ok(reusedAcross > 100, `reused for an equal object ${reusedAcross} times`);
});

test("an option is read once and the value checked is the value kept, even from a getter that changes its answer", () => {
  let reads = 0;
  const shifty = {
    get mode() {
      return ++reads <= 1 ? 0o644 : "x";
    },
  };
  const resolved = resolveWriteOptions(shifty);
  assert.equal(resolved.mode, 0o644);
  assert.equal(reads, 1);
  // What was kept cannot let a plain invalid value through later.
  assert.throws(() => resolveWriteOptions({ mode: "x0" }), TypeError);
  assert.throws(() => resolveWriteOptions({ mode: "x" }), TypeError);
});
