// probe(): what a directory's filesystem can do, found by trying it, cached
// per device; and how writeFile uses it (the no-clobber strategy of
// `overwrite: false`, and the error for a filesystem that cannot rename over
// a file).

import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import process from "node:process";
import type { FsAdapter } from "../core/adapter.ts";
import { createAtomicFs } from "../core/atomic_fs.ts";
import { AtomFsError } from "../core/errors.ts";
import type { MountCapability } from "../core/probe.ts";
import { isTempName } from "../core/_temp_name.ts";
import { type MemoryAdapter, memoryAdapter } from "../adapters/memory.ts";
import { filesystemName, hosts } from "./_hosts.ts";

const CAPABILITIES: MountCapability[] = [
  "exclusiveCreate",
  "renameOver",
  "hardLinks",
  "syncDir",
  "watchSeesRename",
];

/** A memory filesystem with a `/data` directory. */
function memory(options: Parameters<typeof memoryAdapter>[0] = {}): MemoryAdapter {
  const mem = memoryAdapter(options);
  mem.sync.mkdir("/data", 0o755);
  return mem;
}

function text(adapter: FsAdapter, path: string): string {
  return new TextDecoder().decode(adapter.sync.readFile(path));
}

// ATOMFS_TEST_LACKS names what the filesystem matrix expects a mount to lack.
const lacks = new Set((process.env.ATOMFS_TEST_LACKS ?? "").split(",").filter(Boolean));

for (const host of hosts().filter((h) => h.real)) {
  const expected = lacks.size === 0 ? "everything" : `everything but ${[...lacks].join(", ")}`;
  test(`[${host.name}] probe() on ${filesystemName()} finds ${expected}`, async () => {
    await host.withScratch(async (s) => {
      const caps = await s.fs.probe(s.dir);
      for (const capability of CAPABILITIES) {
        assert.equal(
          caps[capability],
          !lacks.has(capability),
          `${capability} (observed: ${caps.errors[capability] ?? "works"})`,
        );
        assert.equal(capability in caps.errors, lacks.has(capability), `errors.${capability}`);
      }
      assert.equal(caps.dev, s.adapter.sync.lstat(s.dir).dev);
    });
  });

  test(`[${host.name}] probe() leaves no file behind in a real directory`, async () => {
    await host.withScratch(async (s) => {
      await s.fs.probe(s.dir);
      assert.deepEqual(readdirSync(s.dir), []);
    });
  });
}

test("probe() on a memory filesystem finds everything, its watcher included", async () => {
  const mem = memory();
  const caps = await createAtomicFs(mem).probe("/data");
  assert.deepEqual(
    { ...caps },
    {
      probedIn: "/data",
      dev: mem.sync.lstat("/data").dev,
      exclusiveCreate: true,
      renameOver: true,
      hardLinks: true,
      syncDir: true,
      watchSeesRename: true,
      errors: {},
    },
  );
  assert.deepEqual(mem.sync.readDir("/data"), []);
  assert.ok(Object.isFrozen(caps) && Object.isFrozen(caps.errors), "the cached result is frozen");
});

test("probe() reports what a filesystem lacks, with the error codes it saw", async () => {
  const mem = memory({ lacks: ["link", "renameOver", "watch"] });
  const caps = await createAtomicFs(mem).probe("/data");
  assert.equal(caps.exclusiveCreate, true);
  assert.equal(caps.renameOver, false);
  assert.equal(caps.hardLinks, false);
  assert.equal(caps.syncDir, true);
  assert.equal(caps.watchSeesRename, false);
  assert.deepEqual(caps.errors, {
    renameOver: "EPERM",
    hardLinks: "EPERM",
    watchSeesRename: "ENOSYS",
  });
  assert.deepEqual(mem.sync.readDir("/data"), []);
});

test("probe() finds a failing directory fsync and a watch that stays silent", async () => {
  const mem = memory();
  mem.inject({ call: "syncDir", code: "EINVAL" });
  const silent: FsAdapter = { ...mem, watchDir: (dir) => mem.watchDir!(dir, () => {}) };
  const started = Date.now();
  const caps = await createAtomicFs(silent).probe("/data");
  assert.equal(caps.syncDir, false);
  assert.equal(caps.watchSeesRename, false);
  assert.deepEqual(caps.errors, { syncDir: "EINVAL", watchSeesRename: "ETIMEDOUT" });
  assert.ok(Date.now() - started >= 450, "waited for the watch");
  assert.deepEqual(mem.sync.readDir("/data"), []);
});

test("probe() removes its scratch files when a step fails, and caches no failure", async () => {
  const mem = memory();
  const fs = createAtomicFs(mem);
  mem.inject({ call: "close", code: "EIO" });
  await assert.rejects(fs.probe("/data"), (error: unknown) => {
    assert.ok(error instanceof AtomFsError);
    assert.equal(error.code, "EIO");
    assert.equal(error.op, "probe");
    return true;
  });
  assert.deepEqual(mem.sync.readDir("/data"), []);
  assert.deepEqual(mem.openHandles(), []);
  assert.equal((await fs.probe("/data")).renameOver, true, "the next call tries again");
});

test("probe() of a missing directory or a file fails with ENOENT or ENOTDIR", async () => {
  const mem = memory();
  const fs = createAtomicFs(mem);
  await assert.rejects(
    fs.probe("/nowhere"),
    (e: unknown) => e instanceof AtomFsError && e.code === "ENOENT" && e.op === "probe",
  );
  mem.sync.close(mem.sync.openExclusive("/data/file", 0o644));
  await assert.rejects(
    fs.probe("/data/file"),
    (e: unknown) => e instanceof AtomFsError && e.code === "ENOTDIR",
  );
  await assert.rejects(fs.probe(""), TypeError);
});

test("probe() is cached per device: a second call costs one lstat and no probing", async () => {
  const mem = memory();
  mem.sync.mkdir("/data/sub", 0o755);
  mem.sync.symlink("/data/sub", "/alias");
  let watches = 0;
  const counted: FsAdapter = {
    ...mem,
    watchDir(dir, onName) {
      watches++;
      return mem.watchDir!(dir, onName);
    },
  };
  const fs = createAtomicFs(counted);
  const first = await fs.probe("/data");
  const before = mem.log.length;
  assert.equal(await fs.probe("/data"), first);
  assert.deepEqual(mem.log.slice(before), ["lstat"]);
  const other = mem.log.length;
  assert.equal(await fs.probe("/alias"), first, "another directory on the same device");
  assert.deepEqual(mem.log.slice(other), ["lstat", "readlink", "lstat"]);
  assert.equal(watches, 1);
});

test("concurrent first calls of probe() share one probe", async () => {
  const mem = memory();
  const fs = createAtomicFs(mem);
  const [a, b] = await Promise.all([fs.probe("/data"), fs.probe("/data")]);
  assert.equal(a, b);
  assert.equal(mem.log.filter((call) => call === "link").length, 1);
});

test("a default writeFile() never probes: its calls are the write protocol's only", async () => {
  const mem = memory();
  const fs = createAtomicFs(mem);
  await fs.writeFile("/data/a.json", "{}");
  const before = mem.log.length;
  await fs.writeFile("/data/a.json", "[]");
  assert.deepEqual(mem.log.slice(before), [
    "lstat",
    "openExclusive",
    "write",
    "fstat",
    "fsync",
    "close",
    "rename",
    "syncDir",
  ]);
});

test("overwrite: false probes once per device, then costs one lstat more than before", async () => {
  const mem = memory();
  const fs = createAtomicFs(mem);
  await fs.writeFile("/data/a", "1", { overwrite: false });
  const before = mem.log.length;
  const receipt = await fs.writeFile("/data/b", "2", { overwrite: false });
  assert.equal(receipt.strategy, "link");
  assert.deepEqual(mem.log.slice(before), [
    "lstat",
    "lstat",
    "openExclusive",
    "write",
    "fsync",
    "close",
    "link",
    "unlink",
    "syncDir",
  ]);
});

test("overwrite: false where the probe cannot create its scratch file fails as a temp file would", async () => {
  const mem = memory();
  const fs = createAtomicFs(mem);
  mem.inject({ call: "openExclusive", code: "EACCES" });
  await assert.rejects(fs.writeFile("/data/new", "x", { overwrite: false }), (error: unknown) => {
    assert.ok(error instanceof AtomFsError);
    assert.equal(error.code, "EACCES");
    assert.equal(error.op, "open-temp");
    assert.equal(error.path, "/data/new");
    return true;
  });
  assert.deepEqual(mem.sync.readDir("/data"), []);
  assert.equal((await fs.writeFile("/data/new", "x", { overwrite: false })).strategy, "link");
});

test("overwrite: false without hard links fails before writing, naming the fallback", async () => {
  const mem = memory({ lacks: ["link"] });
  const fs = createAtomicFs(mem);
  await assert.rejects(fs.writeFile("/data/new", "x", { overwrite: false }), (error: unknown) => {
    assert.ok(error instanceof AtomFsError);
    assert.equal(error.code, "EPERM");
    assert.equal(error.op, "link");
    assert.match(error.message, /this filesystem has no hard links \(link\(2\) fails with EPERM/);
    assert.match(error.message, /fallback: "in-place"/);
    return true;
  });
  assert.throws(
    () => fs.writeFileSync("/data/new", "x", { overwrite: false }),
    (e: unknown) => e instanceof AtomFsError && e.code === "EPERM" && e.op === "link",
  );
  assert.deepEqual(mem.sync.readDir("/data"), []);
});

test('overwrite: false without hard links and with fallback: "in-place" creates the file exclusively and never clobbers', async () => {
  const mem = memory({ lacks: ["link"] });
  const fs = createAtomicFs(mem);
  const options = { overwrite: false, fallback: "in-place" } as const;
  const receipt = await fs.writeFile("/data/once", "first", options);
  assert.deepEqual(receipt, {
    path: "/data/once",
    bytes: 5,
    durability: "full",
    strategy: "in-place",
    attempts: 1,
    superseded: false,
  });
  const isEEXIST = (e: unknown) => e instanceof AtomFsError && e.code === "EEXIST";
  await assert.rejects(fs.writeFile("/data/once", "second", options), isEEXIST);
  assert.throws(() => fs.writeFileSync("/data/once", "third", options), isEEXIST);
  await assert.rejects(fs.openAtomic("/data/once", options), isEEXIST);
  assert.equal(text(mem, "/data/once"), "first");
  assert.equal(fs.writeFileSync("/data/sync", "sync", options).strategy, "in-place");
  const file = await fs.openAtomic("/data/pending", options);
  await file.write("pending");
  assert.equal((await file.commit()).strategy, "in-place");
  assert.equal(text(mem, "/data/pending"), "pending");
  assert.equal(
    (await fs.writeFile("/data/m/n/deep", "deep", { ...options, mkdir: true })).bytes,
    4,
  );
  assert.deepEqual(mem.sync.readDir("/data").filter(isTempName), []);
  assert.deepEqual(mem.openHandles(), []);
});

test('racing overwrite: false writers with fallback: "in-place": exactly one wins', async () => {
  const mem = memory({ lacks: ["link"] });
  // One AtomFs per writer, as separate processes would be: no shared queue.
  const results = await Promise.allSettled(
    Array.from(
      { length: 20 },
      (_, i) =>
        createAtomicFs(mem).writeFile(`/data/race`, `writer ${i}`, {
          overwrite: false,
          fallback: "in-place",
        }),
    ),
  );
  const won = results.flatMap((r, i) => r.status === "fulfilled" ? [i] : []);
  assert.equal(won.length, 1);
  assert.ok(
    results.every((r) => r.status === "fulfilled" || (r.reason as AtomFsError).code === "EEXIST"),
  );
  assert.equal(text(mem, "/data/race"), `writer ${won[0]}`);
  assert.deepEqual(mem.sync.readDir("/data"), ["race"]);
});

test("a failed in-place create removes the file it made, and only that file", async () => {
  const mem = memory({ lacks: ["link"] });
  const fs = createAtomicFs(mem);
  const options = { overwrite: false, fallback: "in-place" } as const;
  await fs.probe("/data");
  mem.inject({ call: "fsync", code: "EIO" });
  await assert.rejects(
    fs.writeFile("/data/f", "x", options),
    (e: unknown) => e instanceof AtomFsError && e.code === "EIO" && e.op === "sync",
  );
  assert.deepEqual(mem.sync.readDir("/data"), []);
  assert.deepEqual(mem.openHandles(), []);

  // A stream that fails after another writer has replaced the half-written file.
  const boom = new Error("source failed");
  let release!: () => void;
  const gate = new Promise<void>((resolve) => release = resolve);
  const chunks = async function* () {
    yield "partial";
    await gate;
    throw boom;
  };
  const failing = fs.writeFile("/data/g", chunks(), options);
  while (!mem.sync.readDir("/data").includes("g")) await new Promise((r) => setTimeout(r, 1));
  fs.writeFileSync("/data/g", "replaced by another writer");
  release();
  await assert.rejects(failing, boom);
  assert.equal(text(mem, "/data/g"), "replaced by another writer");
});

test("an in-place create knows its file by its handle, not by the name another writer may have taken", () => {
  const mem = memory({ lacks: ["link"] });
  const theirs = new TextEncoder().encode("another writer's file");
  // Between this write's exclusive create and its next call, someone removes
  // the new file and another writer creates its own under the same name.
  let raced = false;
  const adapter: FsAdapter<number> = {
    ...mem,
    sync: {
      ...mem.sync,
      openExclusive(path, mode) {
        const handle = mem.sync.openExclusive(path, mode);
        if (path === "/data/h" && !raced) {
          raced = true;
          mem.sync.unlink(path);
          const other = mem.sync.openExclusive(path, 0o644);
          mem.sync.write(other, theirs);
          mem.sync.close(other);
        }
        return handle;
      },
    },
  };
  const fs = createAtomicFs(adapter);
  mem.inject({ call: "fsync", code: "EIO" });
  assert.throws(
    () => fs.writeFileSync("/data/h", "mine", { overwrite: false, fallback: "in-place" }),
    (e: unknown) => e instanceof AtomFsError && e.code === "EIO" && e.op === "sync",
  );
  assert.ok(raced);
  // The failed write's cleanup must leave the other writer's file alone.
  assert.equal(text(mem, "/data/h"), "another writer's file");
  assert.deepEqual(mem.openHandles(), []);
});

test("a rename refused on a filesystem that cannot rename over files says so and names the fallback", async () => {
  const mem = memory({ lacks: ["renameOver"] });
  const fs = createAtomicFs(mem);
  assert.equal((await fs.writeFile("/data/conf", "old")).strategy, "rename", "a new name works");
  await assert.rejects(fs.writeFile("/data/conf", "new"), (error: unknown) => {
    assert.ok(error instanceof AtomFsError);
    assert.equal(error.code, "EPERM");
    assert.equal(error.op, "rename");
    assert.equal(error.path, "/data/conf");
    assert.match(error.message, /this filesystem cannot replace files by rename/);
    assert.match(error.message, /fallback: "in-place"/);
    return true;
  });
  assert.equal(text(mem, "/data/conf"), "old");
  assert.deepEqual(mem.sync.readDir("/data"), ["conf"]);
  const receipt = await fs.writeFile("/data/conf", "new", { fallback: "in-place" });
  assert.equal(receipt.strategy, "in-place");
  assert.equal(text(mem, "/data/conf"), "new");
});

test("a rename refused with EPERM where rename over files works keeps the plain error", async () => {
  const mem = memory();
  const fs = createAtomicFs(mem);
  await fs.writeFile("/data/conf", "old");
  mem.inject({ call: "rename", code: "EPERM" });
  await assert.rejects(fs.writeFile("/data/conf", "new"), (error: unknown) => {
    assert.ok(error instanceof AtomFsError);
    assert.equal(error.code, "EPERM");
    assert.doesNotMatch(error.message, /cannot replace files by rename/);
    return true;
  });
  assert.equal(text(mem, "/data/conf"), "old");
  assert.deepEqual(mem.sync.readDir("/data"), ["conf"]);
});

test("the memory watcher reports names changed in a directory until disposed", async () => {
  const mem = memory();
  const seen: string[] = [];
  const watch = await mem.watchDir!("/data", (name) => seen.push(name));
  const fs = createAtomicFs(mem);
  await fs.writeFile("/data/w", "x");
  await watch[Symbol.asyncDispose]();
  await fs.writeFile("/data/after", "x");
  await new Promise((r) => setTimeout(r, 5));
  assert.ok(seen.includes("w"));
  assert.ok(!seen.includes("after"));
});
