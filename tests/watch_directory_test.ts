// watch() on a directory written by writeDirectory(): one version per switch,
// each a whole set of one generation.

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createAtomicFs } from "../core/atomic_fs.ts";
import { memoryAdapter } from "../adapters/memory.ts";
import { type FileVersion, watch, writeDirectory } from "../mod.ts";

const text = (bytes: Uint8Array | undefined) => new TextDecoder().decode(bytes);

/** Collect versions until `count` arrived (or `ms` passed). */
async function take(
  versions: AsyncIterable<FileVersion>,
  count: number,
  ms: number,
): Promise<FileVersion[]> {
  const seen: FileVersion[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((resolve) => timer = setTimeout(resolve, ms, "timeout"));
  const iterator = versions[Symbol.asyncIterator]();
  try {
    while (seen.length < count) {
      const next = await Promise.race([iterator.next(), timeout]);
      if (next === "timeout" || next.done) break;
      seen.push(next.value);
    }
  } finally {
    clearTimeout(timer);
  }
  return seen;
}

test("watch(dir) of a directory set yields one whole version per switch, and none for an unchanged set", async () => {
  const dir = mkdtempSync(join(tmpdir(), "atomfs-watch-set-"));
  try {
    await writeDirectory(dir, { a: "0", b: "0" });
    await using versions = watch(dir, { initial: true });
    const iterator = versions[Symbol.asyncIterator]();
    const next = async () => (await take({ [Symbol.asyncIterator]: () => iterator }, 1, 10_000))[0];
    const seen: FileVersion[] = [];
    seen.push((await next())!);
    for (let g = 1; g <= 3; g++) {
      await writeDirectory(dir, { a: `${g}`, b: `${g}` });
      await writeDirectory(dir, { a: `${g}`, b: `${g}` }); // unchanged: no switch, no version
      const version = await next();
      assert.ok(version, `a version for switch ${g}`);
      seen.push(version);
    }
    assert.deepEqual(seen.map((v) => text(v.files?.a)), ["0", "1", "2", "3"]);
    for (const version of seen) {
      assert.equal(text(version.files?.a), text(version.files?.b), "one generation");
      const manifest = JSON.parse(text(version.content));
      assert.equal(manifest.generation, version.generation);
      assert.deepEqual(Object.keys(manifest.files), ["a", "b"]);
      assert.equal(version.size, 2);
    }
    assert.equal(new Set(seen.map((v) => v.generation)).size, 4);
    // The unchanged writes made no version: nothing more arrives.
    assert.equal(
      await take({ [Symbol.asyncIterator]: () => iterator }, 1, 300).then((v) => v.length),
      0,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("watch(dir) of a directory set falls back to polling without a watcher", async () => {
  const mem = memoryAdapter({ lacks: ["watch"] });
  mem.sync.mkdir("/set", 0o755);
  const fs = createAtomicFs(mem);
  await fs.writeDirectory("/set", { a: "x" });
  await using versions = fs.watch("/set", { poll: 20 });
  const wanted = take(versions, 1, 5_000);
  assert.equal((await versions.ready).pollMs, 20);
  await fs.writeDirectory("/set", { a: "y" });
  const [version] = await wanted;
  assert.equal(text(version?.files?.a), "y");
});
