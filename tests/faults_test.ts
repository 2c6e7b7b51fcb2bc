// Fault injection on the memory adapter: every adapter call of the protocol
// fails in turn, with every error code that matters; the target must be
// untouched, no temp file left, no handle open, and the error must say what
// failed, where and why.

import { test } from "node:test";
import assert from "node:assert/strict";
import type { FsCallName } from "../core/adapter.ts";
import { type AtomicFs, createAtomicFs } from "../core/atomic_fs.ts";
import { AtomFsError } from "../core/errors.ts";
import type { WriteOptions } from "../core/options.ts";
import { isTempName } from "../core/_temp_name.ts";
import { type MemoryAdapter, memoryAdapter } from "../adapters/memory.ts";

const CODES = ["EIO", "ENOSPC", "EACCES", "EPERM", "EMFILE"];
const OP: Partial<Record<FsCallName, string>> = {
  openExclusive: "open-temp",
  write: "write",
  fsync: "sync",
  close: "close",
  fstat: "stat",
  chmod: "chmod",
  chown: "chown",
  rename: "rename",
  link: "link",
  unlink: "unlink",
  syncDir: "sync-dir",
  readlink: "readlink",
  mkdir: "mkdir",
};
const decoder = new TextDecoder();

interface World {
  mem: MemoryAdapter;
  fs: AtomicFs;
}

interface Scenario {
  name: string;
  /** The file whose content the write replaces. */
  target: string;
  /** Its content before the write, if it exists. */
  old?: string;
  /** The content the write puts there. */
  next: string;
  setup?(world: World): void;
  run(fs: AtomicFs, options: WriteOptions): Promise<unknown>;
  /** Calls whose failure the protocol tolerates (best-effort steps). */
  tolerated?: FsCallName[];
  /** The path an error names when the Nth call of this name fails, if not the target. */
  errorPath?(call: FsCallName, nth: number): string | undefined;
}

const rootOwned = (w: World) => {
  w.mem.sync.chown("/d/t", 1234, 1234);
};

const SCENARIOS: Scenario[] = [
  {
    name: "writeFile() replacing a file",
    target: "/d/t",
    old: "old",
    next: "new",
    run: (fs, o) => fs.writeFile("/d/t", "new", o),
  },
  {
    name: "writeFile() creating a file",
    target: "/d/t",
    next: "new",
    run: (fs, o) => fs.writeFile("/d/t", "new", o),
  },
  {
    name: "writeFileSync() replacing a file",
    target: "/d/t",
    old: "old",
    next: "new",
    run: (fs, o) => Promise.resolve().then(() => fs.writeFileSync("/d/t", "new", o)),
  },
  {
    name: "writeFile() with overwrite: false",
    target: "/d/t",
    next: "new",
    // Its first write on a device probes the filesystem (probe_test.ts covers
    // the probe's failures): warm it, so that the trace is the write's own.
    setup: (w) => void w.fs.writeFileSync("/d/warm", "", { overwrite: false }),
    run: (fs, o) => fs.writeFile("/d/t", "new", { ...o, overwrite: false }),
  },
  {
    name: "writeFile() with mkdir: true",
    target: "/d/x/y/t",
    next: "new",
    run: (fs, o) => fs.writeFile("/d/x/y/t", "new", { ...o, mkdir: true }),
  },
  {
    name: "writeFile() with an explicit mode and owner, as root",
    target: "/d/t",
    old: "old",
    next: "new",
    run: (fs, o) => fs.writeFile("/d/t", "new", { ...o, mode: 0o600, owner: { uid: 7, gid: 7 } }),
  },
  {
    name: "writeFile() preserving another user's ownership, as root",
    target: "/d/t",
    old: "old",
    next: "new",
    setup: rootOwned,
    run: (fs, o) => fs.writeFile("/d/t", "new", o),
    tolerated: ["chown"],
  },
  {
    name: "writeFile() through a symlink",
    target: "/d/t",
    old: "old",
    next: "new",
    setup: (w) => w.mem.sync.symlink("t", "/d/link"),
    run: (fs, o) => fs.writeFile("/d/link", "new", o),
    // Resolving the chain inspects the link first, then reads it.
    errorPath: (
      call,
      nth,
    ) => (call === "readlink" || (call === "lstat" && nth === 1) ? "/d/link" : undefined),
  },
  {
    name: "writeFile() from a stream",
    target: "/d/t",
    old: "old",
    next: "new",
    run: (fs, o) =>
      fs.writeFile(
        "/d/t",
        (async function* () {
          yield "n";
          yield "ew";
        })(),
        o,
      ),
  },
  {
    name: "openAtomic() then commit()",
    target: "/d/t",
    old: "old",
    next: "new",
    run: async (fs, o) => {
      const file = await fs.openAtomic("/d/t", o);
      try {
        await file.write("ne");
        await file.write("w");
        return await file.commit();
      } finally {
        await file.abort();
      }
    },
  },
];

function world(scenario: Scenario): World {
  const mem = memoryAdapter({ owner: { uid: 0, gid: 0 } });
  mem.sync.mkdir("/d", 0o755);
  const w = { mem, fs: createAtomicFs(mem) };
  if (scenario.old !== undefined) {
    const h = mem.sync.openExclusive(scenario.target, 0o644);
    mem.sync.write(h, new TextEncoder().encode(scenario.old));
    mem.sync.close(h);
  }
  scenario.setup?.(w);
  return w;
}

function content(mem: MemoryAdapter, path: string): string | undefined {
  try {
    return decoder.decode(mem.sync.readFile(path));
  } catch {
    return undefined;
  }
}

function tempsUnder(mem: MemoryAdapter, dir: string): string[] {
  const found: string[] = [];
  for (const name of mem.sync.readDir(dir)) {
    const path = `${dir}/${name}`;
    if (isTempName(name)) found.push(path);
    if (mem.sync.lstat(path).kind === "directory") found.push(...tempsUnder(mem, path));
  }
  return found;
}

/** The calls a clean run makes, after setup. */
async function trace(scenario: Scenario): Promise<FsCallName[]> {
  const { mem, fs } = world(scenario);
  const start = mem.log.length;
  await scenario.run(fs, {});
  const calls = mem.log.slice(start);
  assert.equal(content(mem, scenario.target), scenario.next, "the clean run works");
  return calls;
}

for (const scenario of SCENARIOS) {
  test(`${scenario.name} survives a failure of every call it makes, with every error code`, async () => {
    const calls = await trace(scenario);
    const commitAt = calls.findIndex((c) => c === "rename" || c === "link");
    const firstOpen = calls.indexOf("openExclusive");
    assert.ok(commitAt > 0, "the trace has a commit point");
    let cases = 0;
    for (let i = 0; i < calls.length; i++) {
      const name = calls[i]!;
      const nth = calls.slice(0, i + 1).filter((c) => c === name).length;
      for (const code of CODES) {
        const label = `${name} #${nth} failing with ${code}`;
        const { mem, fs } = world(scenario);
        mem.inject({ call: name, nth, code, times: 1_000 });
        let error: unknown;
        try {
          await scenario.run(fs, { retry: { timeoutMs: 0 } });
        } catch (e) {
          error = e;
        }
        mem.clearFaults();
        cases++;
        assert.deepEqual(mem.openHandles(), [], `${label}: no handle left open`);
        if (scenario.tolerated?.includes(name)) {
          assert.equal(error, undefined, `${label}: tolerated`);
          assert.equal(content(mem, scenario.target), scenario.next, label);
          continue;
        }
        assert.ok(error instanceof AtomFsError, `${label}: an AtomFsError, got ${String(error)}`);
        assert.equal(error.code, code, label);
        assert.equal((error.cause as { code?: string }).code, code, `${label}: cause kept`);
        const op = name === "lstat" ? (i < firstOpen ? "stat" : "mkdir") : OP[name];
        assert.equal(error.op, op, label);
        assert.equal(error.path, scenario.errorPath?.(name, nth) ?? scenario.target, label);
        if (i <= commitAt) {
          assert.equal(content(mem, scenario.target), scenario.old, `${label}: target untouched`);
          assert.deepEqual(tempsUnder(mem, "/"), [], `${label}: no temp file left`);
        } else {
          // After the commit point the new content is in place; what failed
          // was flushing the directory, or removing the temp name after link().
          assert.equal(content(mem, scenario.target), scenario.next, `${label}: committed`);
          const left = tempsUnder(mem, "/");
          assert.deepEqual(left, name === "unlink" ? left.slice(0, 1) : [], label);
        }
      }
    }
    assert.ok(cases >= calls.length * CODES.length);
  });
}

test("EMFILE is retried, and the write then succeeds with the retries counted", async () => {
  const mem = memoryAdapter();
  const fs = createAtomicFs(mem);
  mem.inject({ call: "openExclusive", code: "EMFILE", times: 3 });
  const receipt = await fs.writeFile("/t", "new");
  assert.equal(receipt.attempts, 4);
  assert.equal(content(mem, "/t"), "new");
  mem.inject({ call: "syncDir", code: "ENFILE", times: 2 });
  assert.equal(fs.writeFileSync("/t", "sync").attempts, 3);
  assert.equal(content(mem, "/t"), "sync");
});

test("a write dropped before its turn, overtaken by a writeFileSync, still counts the retries made resolving its target", async () => {
  const mem = memoryAdapter();
  const fs = createAtomicFs(mem);
  // The target is resolved at the call: its lstat fails twice first.
  mem.inject({ call: "lstat", code: "EAGAIN", times: 2 });
  const dropped = fs.writeFile("/t", "older");
  fs.writeFileSync("/t", "newer");
  const receipt = await dropped;
  assert.equal(receipt.superseded, true);
  assert.equal(receipt.attempts, 3);
  assert.equal(content(mem, "/t"), "newer");
});

test("transient failures are retried only until retry.timeoutMs", async () => {
  const mem = memoryAdapter();
  const fs = createAtomicFs(mem);
  fs.writeFileSync("/t", "old");
  mem.inject({ call: "openExclusive", code: "EMFILE", times: 1e9 });
  for (
    const write of [
      () => fs.writeFile("/t", "new", { retry: { timeoutMs: 60 } }),
      () =>
        Promise.resolve().then(() => fs.writeFileSync("/t", "new", { retry: { timeoutMs: 60 } })),
    ]
  ) {
    const started = Date.now();
    await assert.rejects(write(), (e: unknown) => e instanceof AtomFsError && e.code === "EMFILE");
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 55 && elapsed < 2_000, `gave up after ${elapsed} ms`);
  }
  assert.equal(content(mem, "/t"), "old");
});

test("a synchronous retry sleeps instead of spinning", () => {
  const mem = memoryAdapter();
  const fs = createAtomicFs(mem);
  mem.inject({ call: "openExclusive", code: "EMFILE", times: 1e9 });
  const before = mem.log.length;
  assert.throws(() => fs.writeFileSync("/t", "x", { retry: { timeoutMs: 100 } }), AtomFsError);
  const tries = mem.log.length - before;
  // Backoff of 1, 2, 4 … 100 ms fits a handful of tries into 100 ms; a spin would make thousands.
  assert.ok(tries > 2 && tries < 30, `${tries} tries`);
});

test("fsync is never retried, even with a transient code", async () => {
  for (const code of ["EAGAIN", "EIO"]) {
    const mem = memoryAdapter();
    const fs = createAtomicFs(mem);
    fs.writeFileSync("/t", "old");
    mem.inject({ call: "fsync", code });
    const before = mem.log.length;
    await assert.rejects(
      fs.writeFile("/t", "new"),
      (e: unknown) => e instanceof AtomFsError && e.op === "sync",
    );
    assert.equal(mem.log.slice(before).filter((c) => c === "fsync").length, 1, code);
    assert.equal(content(mem, "/t"), "old");
    assert.deepEqual(mem.sync.readDir("/"), ["t"]);
  }
});

test("a cleanup failure never hides the original error, and is kept beside it", async () => {
  const mem = memoryAdapter();
  const fs = createAtomicFs(mem);
  fs.writeFileSync("/t", "old");
  mem.inject({ call: "fsync", code: "EIO" });
  mem.inject({ call: "unlink", code: "EACCES" });
  await assert.rejects(fs.writeFile("/t", "new"), (e: unknown) => {
    assert.ok(e instanceof AtomFsError);
    assert.equal(e.code, "EIO");
    assert.equal(e.op, "sync");
    assert.equal(e.suppressed.length, 1);
    assert.equal((e.suppressed[0] as AtomFsError).code, "EACCES");
    return true;
  });
  assert.equal(content(mem, "/t"), "old");
  assert.deepEqual(mem.openHandles(), []);
});

test("short writes are continued until every byte is written", async () => {
  const mem = memoryAdapter();
  const fs = createAtomicFs(mem);
  mem.limitWrites(7);
  const data = "0123456789".repeat(10);
  const before = mem.log.length;
  assert.equal((await fs.writeFile("/t", data)).bytes, 100);
  assert.equal(content(mem, "/t"), data);
  assert.equal(mem.log.slice(before).filter((c) => c === "write").length, 15);
});

test('a mount point (EBUSY on rename) fails with a message naming fallback: "in-place"', async () => {
  const mem = memoryAdapter();
  const fs = createAtomicFs(mem);
  fs.writeFileSync("/t", "old");
  mem.inject({ call: "rename", code: "EBUSY" });
  await assert.rejects(fs.writeFile("/t", "new"), (e: unknown) => {
    assert.ok(e instanceof AtomFsError);
    assert.equal(e.code, "EBUSY");
    assert.match(e.message, /mount point/);
    assert.match(e.message, /fallback: "in-place"/);
    return true;
  });
  assert.equal(content(mem, "/t"), "old");
  assert.deepEqual(mem.sync.readDir("/"), ["t"]);
});

test('fallback: "in-place" rewrites the target where rename is refused, and says so', async () => {
  for (const code of ["EBUSY", "ENOSYS", "ENOTSUP", "EPERM"]) {
    const mem = memoryAdapter();
    const fs = createAtomicFs(mem);
    fs.writeFileSync("/t", "old content, longer than the new");
    mem.inject({ call: "rename", code });
    const receipt = await fs.writeFile("/t", "new", { fallback: "in-place" });
    assert.equal(receipt.strategy, "in-place", code);
    assert.equal(receipt.durability, "full", code);
    assert.equal(content(mem, "/t"), "new", code);
    assert.deepEqual(mem.sync.readDir("/"), ["t"], code);
    assert.deepEqual(mem.openHandles(), [], code);
  }
});

test("a failure during the in-place fallback says the target may be partial, and cleans up", async () => {
  const mem = memoryAdapter();
  const fs = createAtomicFs(mem);
  fs.writeFileSync("/t", "old");
  mem.inject({ call: "rename", code: "EBUSY" });
  mem.inject({ call: "openTruncate", code: "ENOSPC" });
  await assert.rejects(fs.writeFile("/t", "new", { fallback: "in-place" }), (e: unknown) => {
    assert.ok(e instanceof AtomFsError);
    assert.equal(e.op, "in-place");
    assert.equal(e.code, "ENOSPC");
    assert.match(e.message, /partial/);
    return true;
  });
  assert.deepEqual(mem.sync.readDir("/"), ["t"]);
  assert.deepEqual(mem.openHandles(), []);
});

test("a failed write through openAtomic() removes the temp file at once", async () => {
  const mem = memoryAdapter();
  const fs = createAtomicFs(mem);
  const file = await fs.openAtomic("/t");
  mem.inject({ call: "write", code: "ENOSPC" });
  await assert.rejects(
    file.write("x"),
    (e: unknown) => e instanceof AtomFsError && e.code === "ENOSPC",
  );
  assert.deepEqual(mem.sync.readDir("/"), []);
  assert.deepEqual(mem.openHandles(), []);
  await assert.rejects(
    file.commit(),
    (e: unknown) => e instanceof AtomFsError && e.code === "ENOSPC",
  );
  await file.abort();
});

test("sweep() counts a temp file stamped ahead of the clock as new, and olderThanMs: 0 removes it", async () => {
  const mem = memoryAdapter();
  const fs = createAtomicFs(mem);
  const temp = "/.atomfs-CCCCCCCCCCCCCCCCCCCCCC.tmp";
  fs.writeFileSync(temp, "x");
  mem.setMtime(temp, Date.now() + 0.7);
  assert.deepEqual((await fs.sweep("/", { olderThanMs: 1_000 })).kept, [temp]);
  assert.deepEqual((await fs.sweep("/", { olderThanMs: 0 })).removed, [temp]);
});
