// writeDirectory: the ..data layout, skipping unchanged sets, removing names
// and generations, Windows refusal, readers in another process, and every
// state a crash during a switch could leave.

import { test } from "node:test";
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { FsAdapter } from "../core/adapter.ts";
import { AtomFsError } from "../core/errors.ts";
import {
  readDirectory,
  writeDirectory,
  type WriteDirectoryOptions,
} from "../core/write_directory.ts";
import {
  type CrashState,
  exploreCrashes,
  type MemoryAdapter,
  memoryAdapter,
} from "../adapters/memory.ts";
import { denoAdapter } from "../adapters/deno.ts";
import { nodeAdapter } from "../adapters/node.ts";
import { scratchParent } from "./_hosts.ts";
import { lastJson, spawnFixture } from "./_runtime.ts";

const decoder = new TextDecoder();

function fresh(): MemoryAdapter {
  const mem = memoryAdapter();
  mem.sync.mkdir("/d", 0o755);
  return mem;
}

function text(mem: MemoryAdapter, path: string): string {
  return decoder.decode(mem.sync.readFile(path));
}

function listing(mem: MemoryAdapter, dir = "/d"): string[] {
  return mem.sync.readDir(dir).sort();
}

test("symlink() and rmdir() adapter calls behave as their syscalls, on memory and this runtime", async () => {
  const mem = fresh();
  await mem.symlink("target", "/d/link");
  assert.equal(mem.sync.readlink("/d/link"), "target");
  assert.throws(() => mem.sync.symlink("x", "/d/link"), { code: "EEXIST" });
  mem.sync.mkdir("/d/sub", 0o755);
  mem.sync.symlink("x", "/d/sub/l");
  assert.throws(() => mem.sync.rmdir("/d/sub"), { code: "ENOTEMPTY" });
  await mem.unlink("/d/sub/l");
  await mem.rmdir("/d/sub");
  assert.throws(() => mem.sync.rmdir("/d/sub"), { code: "ENOENT" });
  assert.deepEqual(listing(mem), ["link"]);

  const native: FsAdapter = "Deno" in globalThis ? denoAdapter : nodeAdapter;
  const dir = mkdtempSync(join(scratchParent(), "atomfs-wd-"));
  try {
    await native.symlink("target", `${dir}/link`);
    assert.equal(native.sync.readlink(`${dir}/link`), "target");
    await assert.rejects(native.symlink("x", `${dir}/link`), { code: "EEXIST" });
    native.sync.mkdir(`${dir}/sub`, 0o755);
    native.sync.symlink("x", `${dir}/sub/l`);
    assert.throws(() => native.sync.rmdir(`${dir}/sub`), { code: "ENOTEMPTY" });
    native.sync.unlink(`${dir}/sub/l`);
    await native.rmdir(`${dir}/sub`);
    assert.deepEqual(native.sync.readDir(dir), ["link"]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("writeDirectory() makes one generation, a ..data link to it and a link per name", async () => {
  const mem = fresh();
  const receipt = await writeDirectory(mem, "/d", { a: "1 a", b: new Uint8Array([50]) });
  assert.deepEqual(receipt, {
    dir: "/d",
    generation: 1,
    previous: undefined,
    files: ["a", "b"],
    switched: true,
    durability: "full",
  });
  assert.deepEqual(listing(mem), ["..1", "..data", "a", "b"]);
  assert.equal(mem.sync.readlink("/d/..data"), "..1");
  assert.equal(mem.sync.readlink("/d/a"), "..data/a");
  assert.equal(mem.sync.readlink("/d/b"), "..data/b");
  assert.equal(mem.sync.lstat("/d/..1/a").kind, "file");
  assert.equal(text(mem, "/d/a"), "1 a");
  assert.equal(text(mem, "/d/b"), "2");
  assert.deepEqual(mem.openHandles(), []);
  const snapshot = await readDirectory(mem, "/d");
  assert.equal(snapshot.generation, 1);
  assert.deepEqual(Object.keys(snapshot.files).sort(), ["a", "b"]);
  assert.equal(decoder.decode(snapshot.files.a), "1 a");
});

test("writeDirectory() with the same set skips the switch", async () => {
  const mem = fresh();
  await writeDirectory(mem, "/d", { a: "x", b: "y" });
  const start = mem.log.length;
  const receipt = await writeDirectory(mem, "/d", { b: "y", a: new TextEncoder().encode("x") });
  assert.equal(receipt.switched, false);
  assert.equal(receipt.generation, 1);
  assert.equal(receipt.previous, 1);
  const calls = mem.log.slice(start);
  for (const call of ["mkdir", "openExclusive", "symlink", "rename", "syncDir"] as const) {
    assert.ok(!calls.includes(call), `no ${call} when nothing changed`);
  }
  assert.deepEqual(listing(mem), ["..1", "..data", "a", "b"]);
  // One byte of difference is a change.
  assert.equal((await writeDirectory(mem, "/d", { a: "x", b: "z" })).switched, true);
});

test("writeDirectory() compares names before contents, and reads no file past the first difference", async () => {
  const mem = fresh();
  await writeDirectory(mem, "/d", { a: "1", b: "1", c: "1" });
  /** How many files a write of `files` reads, checking whether it switched. */
  const reads = async (files: Record<string, string>, switched = true) => {
    const start = mem.log.length;
    assert.equal((await writeDirectory(mem, "/d", files)).switched, switched);
    return mem.log.slice(start).filter((call) => call === "readFile").length;
  };
  // Another set of names: no content is read.
  assert.equal(await reads({ a: "1", b: "1", d: "1" }), 0);
  // Same names, the first (in name order) differs: one file read.
  assert.equal(await reads({ a: "2", b: "1", d: "1" }), 1);
  // Unchanged: every file read once, and no switch.
  assert.equal(await reads({ d: "1", b: "1", a: "2" }, false), 3);
});

test("writeDirectory() with a changed set switches and removes names no longer in it", async () => {
  const mem = fresh();
  await writeDirectory(mem, "/d", { a: "1", b: "1" });
  const receipt = await writeDirectory(mem, "/d", { b: "2", c: "2" });
  assert.equal(receipt.switched, true);
  assert.equal(receipt.generation, 2);
  assert.equal(receipt.previous, 1);
  assert.deepEqual(listing(mem), ["..2", "..data", "b", "c"]);
  assert.equal(text(mem, "/d/b"), "2");
  assert.equal(text(mem, "/d/c"), "2");
  // An empty set is a set too.
  await writeDirectory(mem, "/d", {});
  assert.deepEqual(listing(mem), ["..3", "..data"]);
});

test("writeDirectory() keeps `backups` generations and removes older ones", async () => {
  const mem = fresh();
  for (let i = 1; i <= 5; i++) {
    await writeDirectory(mem, "/d", { a: `${i}` }, { backups: 2 });
  }
  assert.deepEqual(listing(mem), ["..3", "..4", "..5", "..data", "a"]);
  assert.equal(text(mem, "/d/..4/a"), "4", "a backup is a whole, usable set");
  assert.equal(text(mem, "/d/a"), "5");
  // Fewer backups later removes the surplus at the next switch.
  await writeDirectory(mem, "/d", { a: "6" });
  assert.deepEqual(listing(mem), ["..6", "..data", "a"]);
});

test('writeDirectory() with durability "file" removes old names and generations at the next write', async () => {
  const mem = fresh();
  await writeDirectory(mem, "/d", { a: "1", b: "1" });
  await writeDirectory(mem, "/d", { b: "2" }, { durability: "file" });
  // Removing them before the switch is durable could outlive a switch a crash undoes.
  assert.deepEqual(listing(mem), ["..1", "..2", "..data", "a", "b"]);
  assert.throws(() => mem.sync.readFile("/d/a"), { code: "ENOENT" }, "a dangles: not in the set");
  const receipt = await writeDirectory(mem, "/d", { b: "2" }, { durability: "file" });
  assert.equal(receipt.switched, false);
  assert.deepEqual(listing(mem), ["..2", "..data", "b"]);
});

test("writeDirectory() never clobbers a name it did not make", async () => {
  const mem = fresh();
  const h = mem.sync.openExclusive("/d/a", 0o644);
  mem.sync.close(h);
  await assert.rejects(
    writeDirectory(mem, "/d", { a: "new" }),
    (e: unknown) => e instanceof AtomFsError && e.code === "EEXIST" && e.path === "/d/a",
  );
  assert.deepEqual(listing(mem), ["a"], "nothing made");
});

test("writeDirectory() on Windows fails clearly, before any I/O", async () => {
  const mem = memoryAdapter({ platform: "windows" });
  await assert.rejects(
    writeDirectory(mem, "/d", { a: "1" }),
    (e: unknown) =>
      e instanceof AtomFsError && e.code === "ENOTSUP" && /POSIX only/.test(e.message) &&
      /Windows/.test(e.message),
  );
  await assert.rejects(readDirectory(mem, "/d"), { code: "ENOTSUP" });
  assert.deepEqual(mem.log, []);
});

test("writeDirectory() rejects bad arguments with TypeError or RangeError before any I/O", async () => {
  const mem = fresh();
  const start = mem.log.length;
  const bad: [unknown, unknown, WriteDirectoryOptions | undefined, ErrorConstructor][] = [
    ["", {}, undefined, TypeError],
    ["/d", null, undefined, TypeError],
    ["/d", ["a"], undefined, TypeError],
    ["/d", { "..data": "x" }, undefined, TypeError],
    ["/d", { "..x": "x" }, undefined, TypeError],
    ["/d", { "a/b": "x" }, undefined, TypeError],
    ["/d", { ".": "x" }, undefined, TypeError],
    ["/d", { a: 1 }, undefined, TypeError],
    ["/d", { a: "x" }, { backups: -1 }, RangeError],
    ["/d", { a: "x" }, { backups: 1.5 }, RangeError],
    ["/d", { a: "x" }, { mode: 0o10000 }, RangeError],
    ["/d", { a: "x" }, { durability: "most" as "full" }, TypeError],
  ];
  for (const [dir, files, options, kind] of bad) {
    await assert.rejects(
      writeDirectory(mem, dir as string, files as Record<string, string>, options),
      kind,
      `${JSON.stringify([dir, files, options])}`,
    );
  }
  assert.equal(mem.log.length, start);
});

test("a failed write leaves the old set current and nothing of the new one", async () => {
  const mem = fresh();
  await writeDirectory(mem, "/d", { a: "1" });
  const failures = [
    ["openExclusive", 2],
    ["fsync", 2],
    ["syncDir", 1],
    ["symlink", 1],
    ["syncDir", 2],
    ["symlink", 2],
    ["rename", 1],
  ] as const;
  for (const [call, nth] of failures) {
    mem.inject({ call, code: "EIO", nth });
    await assert.rejects(writeDirectory(mem, "/d", { a: "2", b: "2" }), { code: "EIO" });
    mem.clearFaults();
    const label = `${call} #${nth}`;
    assert.equal(mem.sync.readlink("/d/..data"), "..1", label);
    assert.equal(text(mem, "/d/a"), "1", label);
    assert.deepEqual(listing(mem), ["..1", "..data", "a"], label);
    assert.deepEqual(mem.openHandles(), [], label);
  }
});

test("readDirectory() starts over when a switch happens between two reads", async () => {
  const mem = fresh();
  await writeDirectory(mem, "/d", { a: "1 a", b: "1 b" });
  let switched = false;
  const racing: FsAdapter = {
    ...mem,
    async readFile(path) {
      const bytes = await mem.readFile(path);
      if (!switched) {
        switched = true;
        await writeDirectory(mem, "/d", { a: "2 a", b: "2 b" });
      }
      return bytes;
    },
  };
  const { generation, files } = await readDirectory(racing, "/d");
  assert.ok(switched);
  assert.equal(generation, 2);
  assert.equal(decoder.decode(files.a), "2 a");
  assert.equal(decoder.decode(files.b), "2 b");
  await assert.rejects(readDirectory(fresh(), "/d"), { code: "ENOENT" });
});

/** What the visible names show: name → text, for every name that resolves to a file. */
function visible(state: CrashState, names: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) {
    const t = state.text(`/d/${name}`);
    if (t !== undefined) out[name] = t;
  }
  return out;
}

const OLD = { a: "1 a", b: "1 b" };
const NEW = { b: "2 b", c: "2 c" };

function setOnly(durability: "full" | "file") {
  return (state: CrashState, { marks }: { marks: readonly string[] }) => {
    const seen = visible(state, ["a", "b", "c"]);
    const pinned: Record<string, string> = {};
    for (const name of state.list("/d/..data")) pinned[name] = state.text(`/d/..data/${name}`)!;
    assert.deepEqual(seen, pinned, "the visible names show the ..data generation");
    if (marks.includes("resolved") && durability === "full") {
      assert.deepEqual(seen, NEW, "a resolved full write survives");
    } else {
      const ok = JSON.stringify(seen) === JSON.stringify(OLD) ||
        JSON.stringify(seen) === JSON.stringify(NEW);
      assert.ok(ok, `old set or new set, got ${JSON.stringify(seen)}`);
    }
  };
}

function crashReport(name: string, report: Awaited<ReturnType<typeof exploreCrashes>>) {
  console.log(
    `crash states explored: ${name}: ${report.states} states at ${report.crashPoints} crash points ` +
      `(${report.operations} operations)`,
  );
  const c = report.counterexample;
  assert.ok(
    report.ok && report.exhaustive,
    c && `${c.message}\n${c.trace.join("\n")}\n${JSON.stringify(c.files)}`,
  );
}

for (const durability of ["full", "file"] as const) {
  test(`a crash during a writeDirectory() switch (durability "${durability}") leaves the old set or the new one`, async () => {
    const report = await exploreCrashes(
      async (_fs, { adapter, mark }) => {
        await writeDirectory(adapter, "/d", NEW, { durability });
        mark("resolved");
        // The next write finishes what a "file" write left; still old or new.
        await writeDirectory(adapter, "/d", NEW, { durability });
      },
      setOnly(durability),
      {
        setup: async (_fs, mem) => {
          mem.sync.mkdir("/d", 0o755);
          await writeDirectory(mem, "/d", OLD);
        },
      },
    );
    crashReport(`writeDirectory ${durability}`, report);
    assert.ok(report.states > 10);
  });
}

test("the crash explorer catches a switch made without flushing the payload's directory entry first", async () => {
  const report = await exploreCrashes(
    async (_fs, { adapter }) => {
      let flushes = 0;
      // Drop the flushes before the switch: the generation's entry may then be lost.
      const careless: FsAdapter = {
        ...adapter,
        syncDir: (path) => ++flushes <= 2 ? Promise.resolve() : adapter.syncDir(path),
      };
      await writeDirectory(careless, "/d", NEW);
    },
    setOnly("file"),
    {
      setup: async (_fs, mem) => {
        mem.sync.mkdir("/d", 0o755);
        await writeDirectory(mem, "/d", OLD);
      },
    },
  );
  assert.equal(report.ok, false);
  assert.match(report.counterexample!.message, /old set or new set|\.\.data generation/);
});

test("readers in another process see a matching pair through readDirectory during 1,000 switches", {
  timeout: 300_000,
}, async () => {
  const adapter: FsAdapter = "Deno" in globalThis ? denoAdapter : nodeAdapter;
  const dir = mkdtempSync(join(scratchParent(), "atomfs-wd-"));
  const set = (n: number) => ({ a: `${n} a`, b: `${n} b` });
  let reader: ChildProcess | undefined;
  try {
    await writeDirectory(adapter, dir, set(1));
    reader = spawnFixture("write_directory_reader", [dir], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    reader.stdout!.setEncoding("utf8").on("data", (chunk: string) => stdout += chunk);
    reader.stderr!.setEncoding("utf8").on("data", (chunk: string) => stderr += chunk);
    const closed = new Promise<number | null>((resolve) => reader!.on("close", resolve));
    while (!stdout.includes("ready\n")) {
      if (reader.exitCode !== null) assert.fail(`the reader ended: ${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    for (let n = 2; n <= 1_001; n++) {
      // "none": this is about what readers see, not about power loss (the crash tests are).
      const receipt = await writeDirectory(adapter, dir, set(n), { durability: "none" });
      assert.equal(receipt.generation, n);
    }
    reader.stdin!.end();
    assert.equal(await closed, 0, stderr);
    const report = lastJson(stdout);
    console.log(`writeDirectory readers: ${JSON.stringify(report)}`);
    assert.equal(report.bad, 0, JSON.stringify(report.examples));
    assert.ok(report.reads > 0);
  } finally {
    reader?.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
});
