// backups: N and rollback(): previous versions kept as hard links beside the
// file, pruned to N, listed with their hashes, and put back atomically and
// durably — on the memory adapter (with faults and crashes) and on real disk.

import { test } from "node:test";
import assert from "node:assert/strict";
import diagnostics from "node:diagnostics_channel";
import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import type { FsAdapter, FsCallName } from "../core/adapter.ts";
import { type AtomicFs, createAtomicFs } from "../core/atomic_fs.ts";
import { listBackups, rollback } from "../core/backups.ts";
import { AtomFsError } from "../core/errors.ts";
import { CHANNELS, type RollbackEvent } from "../core/events.ts";
import { isTempName } from "../core/_temp_name.ts";
import { isBackupName } from "../core/_backups.ts";
import {
  type CrashState,
  exploreCrashes,
  type MemoryAdapter,
  memoryAdapter,
} from "../adapters/memory.ts";
import { runtimeAdapter } from "../mod.ts";
import { scratchParent } from "./_hosts.ts";

const decoder = new TextDecoder();
const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
const BACKUP = /^\.t\.atomfs-\d{6}\.bak$/;

function text(adapter: FsAdapter, path: string): string | undefined {
  try {
    return decoder.decode(adapter.sync.readFile(path));
  } catch {
    return undefined;
  }
}

function memory(): { mem: MemoryAdapter; fs: AtomicFs } {
  const mem = memoryAdapter();
  mem.sync.mkdir("/d", 0o755);
  return { mem, fs: createAtomicFs(mem) };
}

/** Run `body` in a fresh real-disk directory, removed afterwards. */
async function onDisk(body: (dir: string, fs: AtomicFs, adapter: FsAdapter) => Promise<void>) {
  const dir = realpathSync(mkdtempSync(join(scratchParent(), "atomfs-backups-")));
  const adapter = runtimeAdapter();
  try {
    await body(dir, createAtomicFs(adapter), adapter);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Collect what the rollback channel publishes while `body` runs. */
async function rollbackEvents(body: () => Promise<unknown>): Promise<RollbackEvent[]> {
  const seen: RollbackEvent[] = [];
  const listener = (message: unknown) => seen.push(message as RollbackEvent);
  diagnostics.subscribe(CHANNELS.rollback, listener);
  try {
    await body();
  } finally {
    diagnostics.unsubscribe(CHANNELS.rollback, listener);
  }
  return seen;
}

/** Five writes with backups: 2, by every kind of write; checks what is kept. */
async function keepsAndPrunes(fs: AtomicFs, adapter: FsAdapter, dir: string): Promise<void> {
  const t = `${dir}/t`;
  await fs.writeFile(t, "v1", { backups: 2 });
  assert.deepEqual(await listBackups(adapter, t), [], "a new file has nothing to back up");
  const inodes: number[] = [];
  for (
    const [i, write] of [
      () => fs.writeFile(t, "v2", { backups: 2 }),
      () => Promise.resolve(fs.writeFileSync(t, "v3", { backups: 2 })),
      async () => {
        const file = await fs.openAtomic(t, { backups: 2 });
        await file.write("v4");
        return await file.commit();
      },
      () => fs.writeFile(t, "v5", { backups: 2 }),
    ].entries()
  ) {
    inodes.push(adapter.sync.lstat(t).ino);
    const before = Date.now();
    await write();
    const list = await listBackups(adapter, t);
    assert.equal(list.length, Math.min(i + 1, 2), `after write ${i + 2}`);
    // The newest backup is the file just replaced: the same inode, not a copy.
    assert.equal(adapter.sync.lstat(list[0]!.path).ino, inodes.at(-1), "a hard link");
    assert.ok(list[0]!.mtimeMs <= before + 1_000);
  }
  const list = await listBackups(adapter, t);
  assert.deepEqual(
    list.map((b) => [b.generation, b.size, b.hash, text(adapter, b.path)]),
    [[4, 2, sha256("v4"), "v4"], [3, 2, sha256("v3"), "v3"]],
  );
  assert.deepEqual(list.map((b) => adapter.sync.lstat(b.path).ino), inodes.slice(-2).reverse());
  const names = adapter.sync.readDir(dir).sort();
  assert.deepEqual(names, [".t.atomfs-000003.bak", ".t.atomfs-000004.bak", "t"]);
  for (const name of names.slice(0, 2)) {
    assert.match(name, BACKUP);
    assert.ok(isBackupName(name) && !isTempName(name), name);
  }
  assert.equal(text(adapter, t), "v5");
  const swept = await fs.sweep(dir, { olderThanMs: 0 });
  assert.deepEqual(swept.removed, [], "sweep() never takes a backup for a temp file");
  assert.equal(adapter.sync.readDir(dir).length, 3);
}

test("backups: 2 keeps the two previous versions as hard links and prunes older ones (memory)", async () => {
  const { mem, fs } = memory();
  await keepsAndPrunes(fs, mem, "/d");
});

test("backups: 2 keeps the two previous versions as hard links and prunes older ones (real disk)", async () => {
  await onDisk(async (dir, fs, adapter) => {
    await keepsAndPrunes(fs, adapter, dir);
    // The runtime's own view agrees: the replaced file's inode lives on as its backup.
    const [backup] = readdirSync(dir).filter((n) => BACKUP.test(n)).sort().reverse();
    const stat = statSync(join(dir, backup!));
    assert.equal(stat.nlink, 1, "the replaced file lives on only as its backup");
    assert.equal(readFileSync(join(dir, backup!), "utf8"), "v4");
  });
});

test("backups: 0 (the default) keeps none, and lowering N prunes on the next write", async () => {
  const { mem, fs } = memory();
  for (let i = 1; i <= 4; i++) await fs.writeFile("/d/t", `v${i}`, { backups: 3 });
  assert.equal((await listBackups(mem, "/d/t")).length, 3);
  await fs.writeFile("/d/t", "v5");
  assert.equal((await listBackups(mem, "/d/t")).length, 3, "a write without backups leaves them");
  await fs.writeFile("/d/t", "v6", { backups: 1 });
  assert.deepEqual((await listBackups(mem, "/d/t")).map((b) => text(mem, b.path)), ["v5"]);
});

test("backups are kept beside the real file when writing through a symlink", async () => {
  const { mem, fs } = memory();
  mem.sync.mkdir("/d/real", 0o755);
  fs.writeFileSync("/d/real/t", "one");
  mem.sync.symlink("real/t", "/d/link");
  await fs.writeFile("/d/link", "two", { backups: 1 });
  assert.deepEqual(mem.sync.readDir("/d/real").sort(), [".t.atomfs-000001.bak", "t"]);
  const [backup] = await listBackups(mem, "/d/link");
  assert.equal(backup!.path, "/d/real/.t.atomfs-000001.bak");
  assert.equal(text(mem, backup!.path), "one");
});

test("a long file name gets backup names within NAME_MAX, told apart by a hash of the whole name", async () => {
  const { mem, fs } = memory();
  const long = (tail: string) => `/d/${"é".repeat(120)}${tail}`;
  for (const tail of ["a", "b"]) {
    await fs.writeFile(long(tail), `${tail}1`);
    await fs.writeFile(long(tail), `${tail}2`, { backups: 1 });
  }
  const names = mem.sync.readDir("/d").filter(isBackupName);
  assert.equal(names.length, 2);
  for (const name of names) assert.ok(new TextEncoder().encode(name).length <= 255, name);
  for (const tail of ["a", "b"]) {
    assert.deepEqual(
      (await listBackups(mem, long(tail))).map((b) => text(mem, b.path)),
      [`${tail}1`],
    );
  }
});

test("without hard links a write with backups fails before the rename, saying so", async () => {
  const mem = memoryAdapter({ lacks: ["link"] });
  const fs = createAtomicFs(mem);
  fs.writeFileSync("/t", "old");
  await assert.rejects(fs.writeFile("/t", "new", { backups: 1 }), (e: unknown) => {
    assert.ok(e instanceof AtomFsError);
    assert.equal(e.op, "link");
    assert.equal(e.code, "EPERM");
    assert.match(e.message, /backups are hard links/);
    assert.match(e.message, /backups: 0/);
    return true;
  });
  assert.equal(text(mem, "/t"), "old");
  assert.deepEqual(mem.sync.readDir("/"), ["t"]);
});

test('fallback: "in-place" keeps no backup for a write it overwrites in place', async () => {
  const { mem, fs } = memory();
  await fs.writeFile("/d/t", "v1");
  await fs.writeFile("/d/t", "v2", { backups: 2 });
  mem.inject({ call: "rename", code: "EBUSY" });
  const receipt = await fs.writeFile("/d/t", "v3", { backups: 2, fallback: "in-place" });
  assert.equal(receipt.strategy, "in-place");
  assert.equal(text(mem, "/d/t"), "v3");
  assert.deepEqual((await listBackups(mem, "/d/t")).map((b) => text(mem, b.path)), ["v1"]);
});

test("a bad backups option is a TypeError or RangeError, before any I/O", async () => {
  const { mem, fs } = memory();
  const before = mem.log.length;
  for (const [backups, type] of [[-1, RangeError], [1.5, TypeError], ["2", TypeError]] as const) {
    await assert.rejects(
      fs.writeFile("/d/t", "x", { backups: backups as number }),
      type,
      String(backups),
    );
    assert.throws(() => fs.writeFileSync("/d/t", "x", { backups: backups as number }), type);
  }
  for (const [generation, type] of [[0, RangeError], [1.5, TypeError], ["1", TypeError]] as const) {
    await assert.rejects(rollback(mem, "/d/t", { generation: generation as number }), type);
  }
  await assert.rejects(
    rollback(mem, "/d/t", { durability: "always" as "full" }),
    TypeError,
  );
  await assert.rejects(rollback(mem, "", {}), TypeError);
  assert.equal(mem.log.length, before, "no call was made");
});

test("rollback() after a bad write restores the previous content, and keeps the bad one as a backup", async () => {
  const { mem, fs } = memory();
  await fs.writeFile("/d/t", '{"port":80}', { backups: 3 });
  await fs.writeFile("/d/t", '{"port":81}', { backups: 3 });
  await fs.writeFile("/d/t", '{"port":', { backups: 3 });
  const bad = mem.sync.lstat("/d/t").ino;
  const receipt = await rollback(mem, "/d/t");
  assert.equal(text(mem, "/d/t"), '{"port":81}');
  assert.equal(receipt.path, "/d/t");
  assert.equal(receipt.generation, 2);
  assert.equal(receipt.from, "/d/.t.atomfs-000002.bak");
  assert.equal(receipt.kept, "/d/.t.atomfs-000003.bak");
  assert.equal(receipt.durability, "full");
  assert.equal(mem.sync.lstat(receipt.kept!).ino, bad, "the replaced version is kept, linked");
  assert.equal(mem.sync.lstat("/d/t").ino, mem.sync.lstat(receipt.from).ino);
  assert.deepEqual(
    (await listBackups(mem, "/d/t")).map((b) => [b.generation, text(mem, b.path)]),
    [[3, '{"port":'], [2, '{"port":81}'], [1, '{"port":80}']],
  );
  assert.ok(mem.sync.readDir("/d").every((n) => !isTempName(n)), "no temp file left");
  // The rollback itself can be undone: the newest backup is now the version it replaced.
  await rollback(mem, "/d/t");
  assert.equal(text(mem, "/d/t"), '{"port":');
});

test("rollback() on real disk restores the previous content and leaves no temp file", async () => {
  await onDisk(async (dir, fs, adapter) => {
    const t = join(dir, "t");
    await fs.writeFile(t, "good", { backups: 2 });
    await fs.writeFile(t, "bad", { backups: 2 });
    const receipt = await rollback(adapter, t);
    assert.equal(readFileSync(t, "utf8"), "good");
    assert.equal(statSync(t).ino, statSync(receipt.from).ino);
    assert.equal(readFileSync(receipt.kept!, "utf8"), "bad");
    assert.deepEqual(readdirSync(dir).filter(isTempName), []);
  });
});

test("rollback() to a chosen generation restores that one, and a missing file is restored too", async () => {
  const { mem, fs } = memory();
  for (let i = 1; i <= 4; i++) await fs.writeFile("/d/t", `v${i}`, { backups: 5 });
  const receipt = await rollback(mem, "/d/t", { generation: 1 });
  assert.equal(text(mem, "/d/t"), "v1");
  assert.equal(receipt.generation, 1);
  await rollback(mem, "/d/t", { generation: 3 });
  assert.equal(text(mem, "/d/t"), "v3");
  // Already that version: nothing to replace, nothing kept twice, no temp file.
  const count = (await listBackups(mem, "/d/t")).length;
  const again = await rollback(mem, "/d/t", { generation: 3 });
  assert.equal(again.kept, undefined);
  assert.equal((await listBackups(mem, "/d/t")).length, count);
  assert.ok(mem.sync.readDir("/d").every((n) => !isTempName(n)));
  mem.sync.unlink("/d/t");
  const restored = await rollback(mem, "/d/t", { generation: 2 });
  assert.equal(text(mem, "/d/t"), "v2");
  assert.equal(restored.kept, undefined, "nothing to keep when the file was missing");
});

test("rollback() with no backups fails clearly and touches nothing", async () => {
  const { mem, fs } = memory();
  fs.writeFileSync("/d/t", "only");
  await assert.rejects(rollback(mem, "/d/t"), (e: unknown) => {
    assert.ok(e instanceof AtomFsError);
    assert.equal(e.code, "ENOENT");
    assert.equal(e.path, "/d/t");
    assert.match(e.message, /Cannot roll back '\/d\/t': it has no backups/);
    assert.match(e.message, /backups: N/);
    return true;
  });
  await assert.rejects(rollback(mem, "/d/missing"), /no backups/);
  await fs.writeFile("/d/t", "two", { backups: 1 });
  await assert.rejects(rollback(mem, "/d/t", { generation: 7 }), (e: unknown) => {
    assert.ok(e instanceof AtomFsError && e.code === "ENOENT");
    assert.match(e.message, /no such backup; it has generations 1/);
    return true;
  });
  assert.equal(text(mem, "/d/t"), "two");
  assert.deepEqual(mem.sync.readDir("/d").sort(), [".t.atomfs-000001.bak", "t"]);
});

test(`rollback() publishes ${CHANNELS.rollback} with path, from and the restored content's hash`, async () => {
  const { mem, fs } = memory();
  await fs.writeFile("/d/t", "first", { backups: 1 });
  await fs.writeFile("/d/t", "second", { backups: 1 });
  let receipt;
  const events = await rollbackEvents(async () => receipt = await rollback(mem, "/d/t"));
  assert.deepEqual(events, [{
    path: "/d/t",
    from: "/d/.t.atomfs-000001.bak",
    hash: sha256("first"),
  }]);
  assert.equal(receipt!.from, events[0]!.from);
  await onDisk(async (dir, fs, adapter) => {
    const t = join(dir, "t");
    await fs.writeFile(t, "a", { backups: 1 });
    await fs.writeFile(t, "b", { backups: 1 });
    const events = await rollbackEvents(() => rollback(adapter, t));
    assert.deepEqual(events, [{
      path: t,
      from: join(dir, ".t.atomfs-000001.bak"),
      hash: sha256("a"),
    }]);
  });
  const quiet = await rollbackEvents(async () => {});
  assert.deepEqual(quiet, []);
});

// Crash states: the explorer rebuilds every state a crash could leave.

const T = "/d/t";

function report(name: string, r: Awaited<ReturnType<typeof exploreCrashes>>): void {
  console.log(`crash states explored: ${name}: ${r.states} states at ${r.crashPoints} points`);
  assert.equal(
    r.counterexample,
    undefined,
    r.counterexample &&
      `${r.counterexample.message}\n${r.counterexample.trace.join("\n")}\n${
        JSON.stringify(r.counterexample.files)
      }`,
  );
  assert.ok(r.ok && r.exhaustive && r.states > 1);
}

/** Every backup in a crash state holds one whole version that really existed. */
function backupsWhole(state: CrashState, versions: readonly string[]): void {
  for (const name of state.list("/d")) {
    if (!isBackupName(name)) continue;
    const content = state.text(`/d/${name}`);
    assert.ok(versions.includes(content!), `backup ${name} holds ${JSON.stringify(content)}`);
  }
}

test("a crash during a write with backups leaves the old or the new file whole, and whole backups", async () => {
  report(
    "writeFile with backups: 1",
    await exploreCrashes(
      async (fs, { mark }) => {
        await fs.writeFile(T, "new content", { backups: 1 });
        mark("resolved");
      },
      (state, { marks }) => {
        const content = state.text(T);
        if (marks.includes("resolved")) assert.equal(content, "new content");
        else assert.ok(content === "v2" || content === "new content", JSON.stringify(content));
        backupsWhole(state, ["v1", "v2"]);
        assert.ok(state.list("/d").filter(isBackupName).length <= 2);
      },
      {
        setup: async (fs, mem) => {
          mem.sync.mkdir("/d", 0o755);
          await fs.writeFile(T, "v1");
          await fs.writeFile(T, "v2", { backups: 1 });
        },
      },
    ),
  );
});

test("a crash during rollback() leaves the current or the restored file whole; after it resolves, the restored one", async () => {
  report(
    "rollback",
    await exploreCrashes(
      async (fs, { mark }) => {
        await rollback(fs.adapter, T);
        mark("resolved");
      },
      (state, { marks }) => {
        const content = state.text(T);
        if (marks.includes("resolved")) assert.equal(content, "good");
        else assert.ok(content === "bad" || content === "good", JSON.stringify(content));
        backupsWhole(state, ["good", "bad"]);
      },
      {
        setup: async (fs, mem) => {
          mem.sync.mkdir("/d", 0o755);
          await fs.writeFile(T, "good");
          await fs.writeFile(T, "bad", { backups: 2 });
        },
      },
    ),
  );
});

// Fault injection: every call fails in turn, with every code that matters.

const CODES = ["EIO", "ENOSPC", "EACCES", "EPERM", "EMFILE"];

function world(): { mem: MemoryAdapter; fs: AtomicFs } {
  const { mem, fs } = memory();
  fs.writeFileSync(T, "v1");
  fs.writeFileSync(T, "v2", { backups: 1 });
  fs.writeFileSync(T, "old", { backups: 1 });
  return { mem, fs };
}

function backupsOf(mem: MemoryAdapter): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const name of mem.sync.readDir("/d").filter(isBackupName)) {
    out[name] = text(mem, `/d/${name}`);
  }
  return out;
}

for (
  const [name, run] of [
    [
      "writeFile()",
      (fs: AtomicFs) => fs.writeFile(T, "new", { backups: 1, retry: { timeoutMs: 0 } }),
    ],
    [
      "writeFileSync()",
      (fs: AtomicFs) =>
        Promise.resolve().then(() =>
          fs.writeFileSync(T, "new", { backups: 1, retry: { timeoutMs: 0 } })
        ),
    ],
  ] as const
) {
  test(`${name} with backups survives a failure of every call it makes: target untouched, no temp file, backups as they were`, async () => {
    const clean = world();
    const start = clean.mem.log.length;
    await run(clean.fs);
    const calls: FsCallName[] = clean.mem.log.slice(start);
    assert.equal(text(clean.mem, T), "new");
    const commitAt = calls.indexOf("rename");
    assert.ok(calls.indexOf("link") >= 0 && calls.indexOf("link") < commitAt, "linked first");
    const pruneAt = calls.lastIndexOf("unlink");
    assert.ok(pruneAt > commitAt, "pruned after the commit");
    let cases = 0;
    for (let i = 0; i < calls.length; i++) {
      const call = calls[i]!;
      const nth = calls.slice(0, i + 1).filter((c) => c === call).length;
      for (const code of CODES) {
        const label = `${call} #${nth} failing with ${code}`;
        const { mem, fs } = world();
        const before = backupsOf(mem);
        mem.inject({ call, nth, code, times: 1_000 });
        let error: unknown;
        try {
          await run(fs);
        } catch (e) {
          error = e;
        }
        mem.clearFaults();
        cases++;
        assert.deepEqual(mem.openHandles(), [], `${label}: no handle left open`);
        assert.deepEqual(mem.sync.readDir("/d").filter(isTempName), [], `${label}: no temp file`);
        if (i === pruneAt) {
          // Pruning is best-effort: the write succeeded, the next one prunes again.
          assert.equal(error, undefined, `${label}: tolerated`);
          assert.equal(text(mem, T), "new", label);
          continue;
        }
        assert.ok(error instanceof AtomFsError, `${label}: an AtomFsError, got ${String(error)}`);
        assert.equal(error.code, code, label);
        if (i < commitAt || (i === commitAt && call === "rename")) {
          assert.equal(text(mem, T), "old", `${label}: target untouched`);
          assert.deepEqual(backupsOf(mem), before, `${label}: backups as they were`);
        } else {
          assert.equal(text(mem, T), "new", `${label}: committed`);
        }
        if (call === "link") {
          assert.equal(error.op, "link", label);
          if (code === "EPERM") assert.match(error.message, /backups are hard links/, label);
        }
      }
    }
    assert.ok(cases >= calls.length * CODES.length);
  });
}

test("rollback() survives a failure of every call it makes: the current file or the restored one, no temp file", async () => {
  const setup = () => {
    const { mem, fs } = memory();
    fs.writeFileSync(T, "good");
    fs.writeFileSync(T, "bad", { backups: 2 });
    return mem;
  };
  const clean = setup();
  const start = clean.log.length;
  await rollback(clean, T);
  const calls: FsCallName[] = clean.log.slice(start);
  const commitAt = calls.indexOf("rename");
  assert.ok(commitAt > 0);
  for (let i = 0; i < calls.length; i++) {
    const call = calls[i]!;
    const nth = calls.slice(0, i + 1).filter((c) => c === call).length;
    for (const code of CODES) {
      const label = `${call} #${nth} failing with ${code}`;
      const mem = setup();
      const before = backupsOf(mem);
      mem.inject({ call, nth, code, times: 1_000 });
      await assert.rejects(
        rollback(mem, T, { retry: { timeoutMs: 0 } }),
        (e: unknown) => e instanceof AtomFsError && e.code === code,
        label,
      );
      mem.clearFaults();
      assert.deepEqual(mem.openHandles(), [], label);
      assert.deepEqual(mem.sync.readDir("/d").filter(isTempName), [], `${label}: no temp file`);
      if (i <= commitAt) {
        assert.equal(text(mem, T), "bad", `${label}: untouched`);
        assert.deepEqual(backupsOf(mem), before, `${label}: backups as they were`);
      } else {
        assert.equal(text(mem, T), "good", `${label}: restored, only its flush failed`);
      }
    }
  }
});
