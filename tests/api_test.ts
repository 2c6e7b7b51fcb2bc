// The runtime-bound functions of mod.ts for issue 5's features, end to end
// on disk: backups and rollback through the queue, a directory set, a watch.

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import diagnostics from "node:diagnostics_channel";
import {
  CHANNELS,
  listBackups,
  readDirectory,
  rollback,
  rollbackDirectory,
  type RollbackEvent,
  watch,
  writeDirectory,
  writeFile,
} from "../mod.ts";

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "atomfs-api-"));
}

test("rollback() waits for the writes issued before it and restores the version before the last", async () => {
  const dir = tempDir();
  try {
    const file = join(dir, "app.json");
    await writeFile(file, "v1", { backups: 2 });
    const writes = [writeFile(file, "v2", { backups: 2 }), writeFile(file, "bad", { backups: 2 })];
    // Issued after the writes, not awaited first: it must still run after them.
    const receipt = await rollback(file);
    await Promise.all(writes);
    assert.equal(readFileSync(file, "utf8"), "v2");
    assert.ok(receipt.kept, "the bad version is kept as a backup");
    const backups = await listBackups(file);
    assert.ok(backups.length >= 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a writeFile() issued after a rollback() waits for it: its data is what stays", async () => {
  const dir = tempDir();
  try {
    const file = join(dir, "app.json");
    await writeFile(file, "v1", { backups: 2 });
    await writeFile(file, "v2", { backups: 2 });
    // Neither awaited before the other is issued.
    const rolledBack = rollback(file);
    const after = writeFile(file, "v3", { backups: 2 });
    assert.equal((await rolledBack).path, file);
    await after;
    assert.equal(readFileSync(file, "utf8"), "v3");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("writeDirectory() and readDirectory() through the public API", async () => {
  const dir = tempDir();
  try {
    const first = await writeDirectory(dir, { a: "1", b: "1" });
    const second = await writeDirectory(dir, { a: "2", b: "2" });
    assert.equal(first.switched && second.switched, true);
    const { generation, files } = await readDirectory(dir);
    assert.equal(generation, second.generation);
    assert.equal(new TextDecoder().decode(files.b), "2");
    assert.equal(readFileSync(join(dir, "a"), "utf8"), "2");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("watch() through the public API sees a replace", async () => {
  const dir = tempDir();
  try {
    const file = join(dir, "w.txt");
    await writeFile(file, "one");
    await using versions = watch(file, { initial: true });
    const seen: string[] = [];
    for await (const version of versions) {
      seen.push(new TextDecoder().decode(version.content));
      if (seen.length === 1) await writeFile(file, "two");
      else break;
    }
    assert.deepEqual(seen, ["one", "two"]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("rollbackDirectory() switches a set back to its previous generation, and a second one undoes it", async () => {
  const dir = tempDir();
  const seen: RollbackEvent[] = [];
  const listener = (message: unknown) => seen.push(message as RollbackEvent);
  diagnostics.subscribe(CHANNELS.rollback, listener);
  try {
    await assert.rejects(writeDirectory(dir, { a: "x" }).then(() => rollbackDirectory(dir)), {
      code: "ENOENT",
      message: /no backup generations/,
    });
    await writeDirectory(dir, { a: "good", b: "good" }, { backups: 2 });
    await writeDirectory(dir, { a: "bad" }, { backups: 2 });
    const back = await rollbackDirectory(dir);
    assert.equal(readFileSync(join(dir, "a"), "utf8"), "good");
    assert.equal(readFileSync(join(dir, "b"), "utf8"), "good");
    assert.ok(back.generation > back.previous, "a new generation, not the old number");
    const again = await rollbackDirectory(dir);
    assert.equal(readFileSync(join(dir, "a"), "utf8"), "bad");
    assert.equal(again.from, back.previous);
    assert.equal(seen.length, 2);
    assert.equal(seen[0]!.path, back.dir);
    assert.equal(seen[0]!.hash, back.hash);
    assert.match(seen[0]!.from, /\.\.\d+$/);
  } finally {
    diagnostics.unsubscribe(CHANNELS.rollback, listener);
    rmSync(dir, { recursive: true, force: true });
  }
});
