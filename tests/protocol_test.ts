// The write protocol's steps, in order, as the memory adapter's call log shows them.

import { test } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import type { FsCallName } from "../core/adapter.ts";
import { createAtomicFs } from "../core/atomic_fs.ts";
import { isTempName, tempName } from "../core/_temp_name.ts";
import { memoryAdapter } from "../adapters/memory.ts";

function recorder(options: Parameters<typeof memoryAdapter>[0] = {}) {
  const mem = memoryAdapter(options);
  const fs = createAtomicFs(mem);
  return {
    mem,
    fs,
    /** The calls `body` makes. */
    async calls(body: () => unknown): Promise<FsCallName[]> {
      const start = mem.log.length;
      await body();
      return mem.log.slice(start);
    },
  };
}

test('a "full" write makes exactly the protocol\'s calls, in order', async () => {
  const { fs, calls } = recorder();
  fs.writeFileSync("/t", "old");
  // fstat: the temp file got the old file's mode (0o644) and owner when it
  // was created, so neither chmod nor chown is needed.
  assert.deepEqual(await calls(() => fs.writeFile("/t", "new")), [
    "lstat",
    "openExclusive",
    "write",
    "fstat",
    "fsync",
    "close",
    "rename",
    "syncDir",
  ]);
  assert.deepEqual(await calls(() => fs.writeFile("/fresh", "new")), [
    "lstat",
    "openExclusive",
    "write",
    "fsync",
    "close",
    "rename",
    "syncDir",
  ]);
});

test('"file" skips only the directory fsync, and "none" every fsync', async () => {
  const { fs, calls } = recorder();
  const file = await calls(() => fs.writeFile("/t", "x", { durability: "file" }));
  assert.ok(file.includes("fsync") && !file.includes("syncDir"));
  const none = await calls(() => fs.writeFile("/t", "x", { durability: "none" }));
  assert.ok(!none.includes("fsync") && !none.includes("syncDir"));
});

test("overwrite: false commits with link, removes the temp name, then flushes the directory", async () => {
  const { fs, calls } = recorder();
  assert.deepEqual((await calls(() => fs.writeFile("/t", "x", { overwrite: false }))).slice(-3), [
    "link",
    "unlink",
    "syncDir",
  ]);
});

test("mkdir: true flushes every directory whose entries changed", async () => {
  const { mem, fs, calls } = recorder();
  const synced: string[] = [];
  const syncDir = mem.sync.syncDir;
  mem.sync.syncDir = (path) => {
    synced.push(path);
    syncDir(path);
  };
  await calls(() => fs.writeFileSync("/a/b/t", "x", { mkdir: true }));
  assert.deepEqual(synced.sort(), ["/", "/a", "/a/b"]);
});

test("a temp file is created with the permission bits it must end with, so its content is never more visible than the target's", async () => {
  const { mem, fs, calls } = recorder();
  fs.writeFileSync("/t", "old", { mode: 0o600 });
  const modes: number[] = [];
  const open = mem.sync.openExclusive;
  mem.sync.openExclusive = (path, mode) => {
    modes.push(mode);
    return open(path, mode);
  };
  const kept = await calls(() => fs.writeFileSync("/t", "secret"));
  const chosen = await calls(() => fs.writeFileSync("/new", "x", { mode: 0o640 }));
  fs.writeFileSync("/plain", "x");
  // Set-id bits are never asked of open(2): chmod sets them (after any chown).
  const setId = await calls(() => fs.writeFileSync("/tool", "x", { mode: 0o4750 }));
  assert.deepEqual(modes, [0o600, 0o640, 0o666, 0o750]);
  // The umask (0o022) let these through: nothing to change.
  assert.ok(!kept.includes("chmod") && !chosen.includes("chmod"));
  assert.ok(setId.includes("chmod"));
  assert.equal(mem.sync.lstat("/t").mode, 0o600);
  assert.equal(mem.sync.lstat("/new").mode, 0o640);
  assert.equal(mem.sync.lstat("/plain").mode, 0o644);
  assert.equal(mem.sync.lstat("/tool").mode, 0o4750);
});

test("a mode the umask would filter is set with chmod, and only then", async () => {
  const { mem, fs, calls } = recorder({ umask: 0o027 });
  fs.writeFileSync("/shared", "old", { mode: 0o666 });
  assert.equal(mem.sync.lstat("/shared").mode, 0o666);
  // Created 0o666 & ~0o027 = 0o640: the old mode comes back through chmod.
  const made = await calls(() => fs.writeFile("/shared", "new"));
  assert.deepEqual(made.filter((c) => c === "fstat" || c === "chmod"), ["fstat", "chmod"]);
  assert.equal(mem.sync.lstat("/shared").mode, 0o666);
});

test("the owner is set before the mode, so chown cannot clear set-id bits", async () => {
  const { mem, fs, calls } = recorder({ owner: { uid: 0, gid: 0 } });
  const made = await calls(() =>
    fs.writeFile("/t", "x", { owner: { uid: 5, gid: 5 }, mode: 0o4755 })
  );
  assert.ok(made.indexOf("chown") < made.indexOf("chmod"));
  assert.equal(mem.sync.lstat("/t").mode, 0o4755);
  assert.equal(mem.sync.lstat("/t").uid, 5);
});

test('owner "preserve" gives the new file the old owner where allowed, and tolerates a refusal', async () => {
  const root = recorder({ owner: { uid: 0, gid: 0 } });
  root.fs.writeFileSync("/t", "old");
  root.mem.sync.chown("/t", 1234, 4321);
  root.fs.writeFileSync("/t", "new");
  assert.equal(root.mem.sync.lstat("/t").uid, 1234);
  assert.equal(root.mem.sync.lstat("/t").gid, 4321);

  const user = recorder({ owner: { uid: 1000, gid: 1000 } });
  user.fs.writeFileSync("/t", "old");
  // The old file belongs to someone else; an unprivileged process cannot
  // give the new one away (the memory adapter refuses as chown(2) does).
  const lstat = user.mem.sync.lstat;
  user.mem.sync.lstat = (path) => path === "/t" ? { ...lstat(path), uid: 1234 } : lstat(path);
  const refused = await user.calls(() => assert.equal(user.fs.writeFileSync("/t", "new").bytes, 3));
  assert.ok(refused.includes("chown"));
  assert.equal(lstat("/t").uid, 1000);
  user.mem.sync.lstat = lstat;
  const none = await user.calls(() => user.fs.writeFile("/t", "x", { owner: "none" }));
  assert.ok(!none.includes("chown"));
});

test('owner "preserve" keeps the old group in a set-group-ID directory, whose group new files get', () => {
  const { mem, fs } = recorder({ owner: { uid: 0, gid: 0 } });
  mem.sync.mkdir("/shared", 0o775);
  mem.sync.chown("/shared", 0, 50);
  mem.sync.chmod("/shared", 0o2775);
  fs.writeFileSync("/shared/t", "old");
  assert.equal(mem.sync.lstat("/shared/t").gid, 50, "a new file takes the directory's group");
  // The old file's group is the process's own, not the directory's.
  mem.sync.chown("/shared/t", 0, 0);
  fs.writeFileSync("/shared/t", "new");
  assert.equal(mem.sync.lstat("/shared/t").gid, 0);
  fs.writeFileSync("/shared/fresh", "x");
  assert.equal(mem.sync.lstat("/shared/fresh").gid, 50);
});

test("temp names are hidden, fixed-length, made of portable characters, and unique", () => {
  const names = new Set(Array.from({ length: 10_000 }, tempName));
  assert.equal(names.size, 10_000);
  for (const name of [...names].slice(0, 100)) {
    assert.match(name, /^\.atomfs-[A-Za-z0-9_-]{22}\.tmp$/);
    assert.equal(name.length, 34);
    assert.ok(isTempName(name));
  }
  assert.ok(!isTempName(".atomfs-short.tmp"));
  assert.ok(!isTempName("atomfs-AAAAAAAAAAAAAAAAAAAAAA.tmp"));
});

test("a temp name carries all 128 random bits: each bit of its base64url payload varies", () => {
  const any = new Uint8Array(16);
  const all = new Uint8Array(16).fill(0xff);
  for (let i = 0; i < 2_000; i++) {
    const payload = Buffer.from(tempName().slice(".atomfs-".length, -".tmp".length), "base64url");
    assert.equal(payload.length, 16);
    for (let b = 0; b < 16; b++) {
      any[b]! |= payload[b]!;
      all[b]! &= payload[b]!;
    }
  }
  // A bit lost in the encoding would stay 0 (or 1) in every name.
  assert.deepEqual([...any], new Array(16).fill(0xff));
  assert.deepEqual([...all], new Array(16).fill(0));
});

test("a temp name collision is survived by drawing a new name", async () => {
  const { mem, fs } = recorder();
  mem.inject({ call: "openExclusive", code: "EEXIST" });
  assert.equal((await fs.writeFile("/t", "x")).bytes, 1);
  assert.deepEqual(mem.sync.readDir("/"), ["t"]);
});
