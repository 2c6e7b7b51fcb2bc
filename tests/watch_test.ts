// watch(): the versions of a file as it is replaced, through directory events
// or polling; in memory, on real disk, across runtimes, under a SIGKILLed
// writer, and on the sshfs mount of the filesystem matrix (where another
// client's changes raise no event).

import { test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import {
  accessSync,
  constants,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  writeFileSync as writeRaw,
} from "node:fs";
import { join, relative } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import type { FileStat, FsAdapter } from "../core/adapter.ts";
import { createAtomicFs } from "../core/atomic_fs.ts";
import { AtomFsError } from "../core/errors.ts";
import { type FileVersion, type FileWatch, watch } from "../core/watch.ts";
import { memoryAdapter } from "../adapters/memory.ts";
import { bunAdapter } from "../adapters/bun.ts";
import { denoAdapter } from "../adapters/deno.ts";
import { nodeAdapter } from "../adapters/node.ts";
import { filesystemName, hosts, scratchParent } from "./_hosts.ts";
import { ext, runtime, spawnFixture } from "./_runtime.ts";
import { fixtureCommand, type TortureRuntime } from "./_torture.ts";
import { checkPayload, payload, TEMP_NAME } from "./fixtures/_process_payload.ts";

const TIMEOUT_MS = 60_000;
const decoder = new TextDecoder();
const text = (version: FileVersion) => decoder.decode(version.content);

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The next version, or a failure after `ms`. */
async function next(iterator: AsyncIterator<FileVersion>, ms = 5000): Promise<FileVersion> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no version within ${ms} ms`)), ms);
  });
  try {
    const result = await Promise.race([iterator.next(), late]);
    assert.equal(result.done, false, "the watch ended");
    return result.value as FileVersion;
  } finally {
    clearTimeout(timer);
  }
}

/** Whether the iterator yields nothing within `ms` (its pending next() is left to the caller). */
async function quiet(pending: Promise<IteratorResult<FileVersion>>, ms: number): Promise<boolean> {
  const timeout = Symbol("timeout");
  const winner = await Promise.race([pending, sleep(ms).then(() => timeout)]);
  return winner === timeout;
}

function memory(options: Parameters<typeof memoryAdapter>[0] = {}) {
  const mem = memoryAdapter(options);
  mem.sync.mkdir("/data", 0o755);
  return mem;
}

test("watch() yields each replaced version of a file, by content, and never an atomfs temp file", async () => {
  const mem = memory();
  const fs = createAtomicFs(mem);
  await fs.writeFile("/data/app.json", "v0");
  await using versions = watch(mem, "/data/app.json", { debounceMs: 0 });
  assert.deepEqual(await versions.ready, { events: true, pollMs: 1000 });
  const iterator = versions[Symbol.asyncIterator]();
  for (let i = 1; i <= 5; i++) {
    await fs.writeFile("/data/app.json", `v${i}`);
    const version = await next(iterator);
    assert.equal(text(version), `v${i}`);
    assert.equal(version.path, "/data/app.json");
    assert.equal(version.size, 2);
    assert.match(version.hash, /^[0-9a-f]{64}$/);
  }
  // A temp file left in the directory, and a write of the same content, yield nothing.
  mem.sync.close(mem.sync.openExclusive("/data/.atomfs-AAAAAAAAAAAAAAAAAAAAAA.tmp", 0o600));
  await fs.writeFile("/data/app.json", "v5");
  await fs.writeFile("/data/other.json", "v6");
  const pending = iterator.next();
  assert.ok(await quiet(pending, 200), "yielded a version that did not change");
  await fs.writeFile("/data/app.json", "v7");
  const result = await pending;
  assert.equal(text(result.value as FileVersion), "v7");
});

test("watch() hands a slow consumer the newest version, not a backlog of old ones", async () => {
  const mem = memory();
  const fs = createAtomicFs(mem);
  await fs.writeFile("/data/app.json", "v0");
  await using versions = watch(mem, "/data/app.json", { debounceMs: 0 });
  await versions.ready;
  const iterator = versions[Symbol.asyncIterator]();
  // Each version is read while nobody asks for it.
  for (let i = 1; i <= 4; i++) {
    await fs.writeFile("/data/app.json", `v${i}`);
    await sleep(30);
  }
  assert.equal(text(await next(iterator)), "v4");
  assert.ok(await quiet(iterator.next(), 200), "an older version was kept");
});

test("watch() with initial: true yields the current version first", async () => {
  const mem = memory();
  await createAtomicFs(mem).writeFile("/data/app.json", "current");
  await using versions = watch(mem, "/data/app.json", { initial: true });
  const first = await next(versions[Symbol.asyncIterator]());
  assert.equal(text(first), "current");
  assert.equal(first.mtimeMs, mem.sync.lstat("/data/app.json").mtimeMs);
});

test("watch() follows a file deleted and created again", async () => {
  const mem = memory();
  const fs = createAtomicFs(mem);
  await fs.writeFile("/data/app.json", "one");
  await using versions = watch(mem, "/data/app.json", { debounceMs: 0 });
  await versions.ready;
  const iterator = versions[Symbol.asyncIterator]();
  mem.sync.unlink("/data/app.json");
  await sleep(20);
  await fs.writeFile("/data/app.json", "two");
  assert.equal(text(await next(iterator)), "two");
  mem.sync.unlink("/data/app.json");
  await sleep(20);
  await fs.writeFile("/data/app.json", "three");
  assert.equal(text(await next(iterator)), "three");
});

test("watch() polls when the adapter has no watcher", async () => {
  const mem = memory({ lacks: ["watch"] });
  const fs = createAtomicFs(mem);
  await fs.writeFile("/data/app.json", "v0");
  await using versions = watch(mem, "/data/app.json");
  assert.deepEqual(await versions.ready, { events: false, pollMs: 100 });
  const iterator = versions[Symbol.asyncIterator]();
  for (let i = 1; i <= 3; i++) {
    await fs.writeFile("/data/app.json", `v${i}`);
    assert.equal(text(await next(iterator)), `v${i}`);
  }
});

test('watch() polls where the probe finds that a watch misses renames (poll: "auto")', async () => {
  const mem = memory();
  // A watcher that never reports: what probe() finds on a mount whose watch is blind.
  const silent: FsAdapter = { ...mem, watchDir: (dir) => mem.watchDir!(dir, () => {}) };
  const fs = createAtomicFs(mem);
  await fs.writeFile("/data/app.json", "v0");
  await using versions = watch(silent, "/data/app.json");
  assert.deepEqual(await versions.ready, { events: false, pollMs: 100 });
  const iterator = versions[Symbol.asyncIterator]();
  await fs.writeFile("/data/app.json", "v1");
  assert.equal(text(await next(iterator)), "v1");
});

test("watch() with poll: <ms> polls at that interval even where events work", async () => {
  const mem = memory();
  const fs = createAtomicFs(mem);
  await using versions = watch(mem, "/data/app.json", { poll: 20, debounceMs: 0 });
  assert.deepEqual(await versions.ready, { events: false, pollMs: 20 });
  const iterator = versions[Symbol.asyncIterator]();
  const started = Date.now();
  await fs.writeFile("/data/app.json", "created");
  assert.equal(text(await next(iterator)), "created");
  assert.ok(Date.now() - started < 1000);
});

/**
 * A ready watch of `path` whose reported errors are collected in `errors`,
 * with its iterator; disposing of it ends the watch.
 */
async function watchCollecting(adapter: FsAdapter, path: string, debounceMs: number) {
  const errors: unknown[] = [];
  const versions = watch(adapter, path, { debounceMs, onError: (error) => errors.push(error) });
  await versions.ready;
  return {
    errors,
    iterator: versions[Symbol.asyncIterator](),
    [Symbol.asyncDispose]: () => versions[Symbol.asyncDispose](),
  };
}

test("watch() reports a file that cannot be read, retries, and goes on watching", async () => {
  const mem = memory();
  const fs = createAtomicFs(mem);
  await using watched = await watchCollecting(mem, "/data/app.json", 0);
  const { errors, iterator } = watched;
  // 1 + 3 retries fail: reported.
  mem.inject({ call: "readFile", code: "EIO", times: 4 });
  await fs.writeFile("/data/app.json", "unreadable");
  const pending = iterator.next();
  assert.ok(await quiet(pending, 500));
  assert.equal(errors.length, 1);
  assert.ok(errors[0] instanceof AtomFsError);
  assert.equal(errors[0].code, "EIO");
  assert.equal(errors[0].op, "read");
  assert.equal(errors[0].path, "/data/app.json");
  // Fewer failures than retries: not reported; the version comes through.
  mem.inject({ call: "readFile", code: "EIO", times: 2 });
  await fs.writeFile("/data/app.json", "readable");
  assert.equal(text((await pending).value as FileVersion), "readable");
  assert.equal(errors.length, 1);
});

test("watch() does not yield a file that changes while it is read, and reports one that never settles", async () => {
  const mem = memory();
  const fs = createAtomicFs(mem);
  await fs.writeFile("/data/app.json", "v0");
  // An in-place writer, as lstat sees it: the size moves on every call.
  let moving = false;
  let calls = 0;
  const adapter: FsAdapter = {
    ...mem,
    async lstat(path: string): Promise<FileStat> {
      const stat = await mem.lstat(path);
      return moving ? { ...stat, size: stat.size + calls++ } : stat;
    },
  };
  await using watched = await watchCollecting(adapter, "/data/app.json", 1);
  const { errors, iterator } = watched;
  moving = true;
  await fs.writeFile("/data/app.json", "v1");
  const pending = iterator.next();
  assert.ok(await quiet(pending, 300), "yielded a version read while it changed");
  assert.equal(errors.length, 1);
  assert.equal((errors[0] as AtomFsError).code, "EAGAIN");
  moving = false;
  await fs.writeFile("/data/app.json", "v2");
  assert.equal(text((await pending).value as FileVersion), "v2");
});

test("watch() keeps reading a file replaced during every read, without an error, and yields the last version", async () => {
  const mem = memory();
  const fs = createAtomicFs(mem);
  await fs.writeFile("/data/app.json", "v0");
  // A writer faster than the reader: each of the next 40 reads (twice the
  // in-place limit) finds the file replaced between its two lstat calls.
  let replaceDuringRead = 0;
  let written = 0;
  const adapter: FsAdapter = {
    ...mem,
    async readFile(path: string): Promise<Uint8Array> {
      const content = await mem.readFile(path);
      if (replaceDuringRead > 0) {
        replaceDuringRead--;
        await fs.writeFile("/data/app.json", `fast ${++written}`);
      }
      return content;
    },
  };
  await using watched = await watchCollecting(adapter, "/data/app.json", 1);
  const { errors, iterator } = watched;
  replaceDuringRead = 40;
  await fs.writeFile("/data/app.json", "v1");
  const version = (await iterator.next()).value as FileVersion;
  assert.equal(replaceDuringRead, 0, "read while replaced, again and again");
  assert.equal(text(version), "fast 40", "the version read once the replacements stopped");
  assert.deepEqual(errors, []);
});

test("watch() ends on dispose, on break and on abort; dispose is idempotent", async () => {
  const mem = memory();
  const fs = createAtomicFs(mem);
  const versions = watch(mem, "/data/app.json");
  await versions.ready;
  const pending = versions[Symbol.asyncIterator]().next();
  await Promise.all([versions[Symbol.asyncDispose](), versions[Symbol.asyncDispose]()]);
  assert.deepEqual(await pending, { done: true, value: undefined });
  assert.throws(() => versions[Symbol.asyncIterator](), TypeError);

  const controller = new AbortController();
  const aborted = watch(mem, "/data/app.json", { signal: controller.signal, debounceMs: 0 });
  await aborted.ready;
  const seen: string[] = [];
  const loop = (async () => {
    for await (const version of aborted) seen.push(text(version));
  })();
  await fs.writeFile("/data/app.json", "before abort");
  await sleep(50);
  controller.abort();
  await loop;
  assert.deepEqual(seen, ["before abort"]);

  const broken = watch(mem, "/data/app.json", { initial: true });
  for await (const _ of broken) break;
  // Disposed by the break: a later dispose is a no-op.
  await broken[Symbol.asyncDispose]();

  const already = watch(mem, "/data/app.json", { signal: AbortSignal.abort() });
  assert.deepEqual(await already.ready, { events: false, pollMs: undefined });
  assert.deepEqual(await already[Symbol.asyncIterator]().next(), { done: true, value: undefined });
});

test("watch() rejects bad arguments before any I/O", () => {
  const mem = memory();
  const calls = mem.log.length;
  const bad: [unknown, unknown, new (...args: never[]) => Error][] = [
    ["", undefined, TypeError],
    [42, undefined, TypeError],
    ["/data/a\0b", undefined, TypeError],
    ["/data/a", null, TypeError],
    ["/data/a", { poll: 0 }, RangeError],
    ["/data/a", { poll: -1 }, RangeError],
    ["/data/a", { poll: "sometimes" }, TypeError],
    ["/data/a", { debounceMs: Infinity }, RangeError],
    ["/data/a", { initial: "yes" }, TypeError],
    ["/data/a", { onError: "log" }, TypeError],
    ["/data/a", { signal: {} }, TypeError],
  ];
  for (const [path, options, type] of bad) {
    assert.throws(
      () => watch(mem, path as string, options as undefined),
      type,
      `${String(path)} ${JSON.stringify(options)}`,
    );
  }
  assert.equal(mem.log.length, calls);
});

for (const host of hosts().filter((h) => h.real)) {
  test(
    `watch() on ${host.name} follows 50 replacements, a deletion and a re-creation on ${filesystemName()}`,
    {
      timeout: TIMEOUT_MS,
    },
    async () => {
      await host.withScratch(async ({ dir, fs, adapter }) => {
        const file = join(dir, "app.txt");
        await fs.writeFile(file, "v0");
        await using versions = watch(adapter, file);
        await versions.ready;
        const iterator = versions[Symbol.asyncIterator]();
        for (let i = 1; i <= 50; i++) {
          await fs.writeFile(file, `v${i}`);
          // Wait for each one: every replacement is a new inode under the same name.
          assert.equal(text(await next(iterator)), `v${i}`);
        }
        rmSync(file);
        await sleep(50);
        await fs.writeFile(file, "again");
        assert.equal(text(await next(iterator)), "again");
      });
    },
  );
}

// ------------------------------------------------------------ other processes

// Compiled tests run from .build/tests/, sources from tests/.
const root = fileURLToPath(new URL(ext === ".js" ? "../../" : "../", import.meta.url));
const bin = join(root, "node_modules", ".bin");

function nativeAdapter(): FsAdapter {
  return runtime === "deno" ? denoAdapter : runtime === "bun" ? bunAdapter : nodeAdapter;
}

/** The other runtimes, with the reason where one cannot run here. */
function otherRuntimes(): { runtime: TortureRuntime; missing: string | undefined }[] {
  const list = [];
  for (const kind of ["node", "deno", "bun"] as const) {
    if (kind === runtime) continue;
    const other: TortureRuntime = {
      label: kind === "node" ? "node24" : kind,
      kind,
      command: join(bin, kind),
    };
    let missing: string | undefined;
    try {
      accessSync(other.command, constants.X_OK);
      if (kind === "node") accessSync(fixtureCommand(root, other, "watch_follower", [])[1][0]!);
    } catch (error) {
      missing = `cannot run ${kind} here: ${(error as Error).message}`;
    }
    list.push({ runtime: other, missing });
  }
  return list;
}

/** What a follower printed. */
interface Followed {
  label: string;
  versions: number[];
  latencies: number[];
  bad: string[];
  errors: string[];
  done: boolean;
}

/** Start a follower and resolve once its watch is in place. */
function follow(
  other: TortureRuntime,
  file: string,
  last: number,
  extra: string[] = [],
): { ready: Promise<void>; finished: Promise<Followed>; child: ChildProcess } {
  const [command, argv] = fixtureCommand(root, other, "watch_follower", [
    file,
    String(last),
    "40000",
    ...extra,
  ]);
  const child = spawn(command, argv, { stdio: ["ignore", "pipe", "pipe"], cwd: root });
  const seen: Followed = {
    label: other.label,
    versions: [],
    latencies: [],
    bad: [],
    errors: [],
    done: false,
  };
  let stderr = "";
  let partial = "";
  let readyNow!: () => void;
  const ready = new Promise<void>((resolve) => readyNow = resolve);
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => stderr += chunk);
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
    const lines = (partial + chunk).split("\n");
    partial = lines.pop()!;
    for (const line of lines) {
      if (line === "ready") readyNow();
      else if (line === "done") seen.done = true;
      else if (line.startsWith("bad")) seen.bad.push(line);
      else if (line.startsWith("error") || line === "timeout") seen.errors.push(line);
      else {
        const [version, latency] = line.split(" ");
        seen.versions.push(Number(version));
        seen.latencies.push(Number(latency));
      }
    }
  });
  const finished = new Promise<Followed>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => {
      if (!seen.done) seen.errors.push(`exit ${code}: ${stderr.trim().split("\n").slice(-3)}`);
      resolve(seen);
    });
  });
  // A follower that dies before "ready" must not hang the test.
  void finished.then(() => readyNow());
  return { ready, finished, child };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
}

const others = otherRuntimes();
const runnable = others.filter((o) => !o.missing).map((o) => o.runtime);
const REPLACES = 1000;

test(
  `a ${runtime} writer replaces a file ${REPLACES} times; watches in ${
    runnable.map((r) => r.label).join(" and ") || "no other runtime"
  } yield only whole versions, in order, and always the last`,
  {
    timeout: TIMEOUT_MS,
    skip: runnable.length === 0
      ? others.map((o) => o.missing).join("; ") || "no other runtime"
      : false,
  },
  async () => {
    const dir = realpathSync(mkdtempSync(join(scratchParent(), "atomfs-watch-")));
    const children: ChildProcess[] = [];
    try {
      const file = join(dir, "data.bin");
      const fs = createAtomicFs(nativeAdapter());
      await fs.writeFile(file, payload(0, 4096));
      const followers = runnable.map((other) => follow(other, file, REPLACES));
      children.push(...followers.map((f) => f.child));
      await Promise.all(followers.map((f) => f.ready));
      const started = Date.now();
      for (let version = 1; version <= REPLACES; version++) {
        await fs.writeFile(file, payload(version, 4096));
      }
      const writeMs = Date.now() - started;
      const results = await Promise.all(followers.map((f) => f.finished));
      for (const r of results) {
        const sorted = [...r.latencies].sort((a, b) => a - b);
        console.log(
          `# watch: ${runtime} writer, ${r.label} watcher: ${REPLACES} replaces in ${writeMs} ms, ` +
            `${r.versions.length} versions yielded, ${r.bad.length} bad; latency from mtime ` +
            `p50 ${percentile(sorted, 0.5).toFixed(1)} ms, p99 ${
              percentile(sorted, 0.99).toFixed(1)
            } ms, max ${(sorted.at(-1) ?? NaN).toFixed(1)} ms`,
        );
        assert.deepEqual(r.bad, [], `${r.label} yielded torn versions`);
        assert.deepEqual(r.errors, [], `${r.label} reported errors`);
        assert.equal(r.versions.at(-1), REPLACES, `${r.label} did not see the last version`);
        for (let i = 1; i < r.versions.length; i++) {
          assert.ok(r.versions[i]! > r.versions[i - 1]!, `${r.label}: versions out of order`);
        }
      }
    } finally {
      for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test(
  "watch() follows a writer SIGKILLed mid-write again and again, and never yields its temp files",
  {
    timeout: TIMEOUT_MS,
  },
  async () => {
    const dir = realpathSync(mkdtempSync(join(scratchParent(), "atomfs-watch-kill-")));
    const adapter = nativeAdapter();
    try {
      const file = join(dir, "data.bin");
      writeRaw(file, payload(0));
      const seen: FileVersion[] = [];
      await using versions = watch(adapter, file, { debounceMs: 1 });
      await versions.ready;
      const loop = (async () => {
        for await (const version of versions) seen.push(version);
      })();
      // What a writer killed mid-write leaves: a torn temp file, created and renamed under watch.
      const torn = join(dir, ".atomfs-tttttttttttttttttttttt.tmp");
      writeRaw(torn, payload(7, 1 << 20).subarray(0, 1000));
      renameSync(torn, join(dir, ".atomfs-uuuuuuuuuuuuuuuuuuuuuu.tmp"));
      let leftovers = 0;
      for (let kill = 0; kill < 8; kill++) {
        // Large payloads make a kill likely to land mid-write.
        const writer = spawnFixture("process_writer", [
          file,
          "0",
          "--durability=file",
          `--max-body=${1 << 20}`,
        ]);
        let printed = 0;
        writer.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
          printed += chunk.split("\n").length - 1;
        });
        const closed = new Promise((resolve) => writer.on("close", resolve));
        // Let it write a while (start-up takes most of this), then kill it at a random moment.
        while (printed < 3 && writer.exitCode === null) await sleep(5);
        await sleep(Math.random() * 20);
        writer.kill("SIGKILL");
        await closed;
        leftovers = readdirSync(dir).filter((name) => TEMP_NAME.test(name)).length - 1;
      }
      const final = readFileSync(file);
      const finalCheck = checkPayload(final);
      assert.ok(finalCheck.ok);
      // The last version on disk is yielded.
      const deadline = Date.now() + 5000;
      while (Date.now() < deadline && seen.at(-1)?.size !== final.length) await sleep(20);
      await versions[Symbol.asyncDispose]();
      await loop;
      console.log(
        `# watch: ${seen.length} versions yielded across 8 SIGKILLed writers; ` +
          `${leftovers} temp files left by the kills`,
      );
      assert.ok(seen.length >= 8, `only ${seen.length} versions yielded`);
      for (const version of seen) {
        assert.equal(version.path, file);
        const check = checkPayload(version.content);
        assert.ok(check.ok, check.ok ? "" : check.reason);
      }
      assert.equal(checkPayload(seen.at(-1)!.content).ok && seen.at(-1)!.size, final.length);
      assert.deepEqual(seen.at(-1)!.content, new Uint8Array(final));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

// The filesystem matrix (scripts/test_fs.mjs, root only) sets ATOMFS_TEST_REMOTE_DIR on
// sshfs: the server's directory that the mount (ATOMFS_TEST_DIR) shows. A change made
// there is another client's change: no event reaches a watch through the mount.
const remote = process.env.ATOMFS_TEST_REMOTE_DIR;
const mountDir = process.env.ATOMFS_TEST_DIR;

test(
  "watch() on an sshfs mount sees another client's replacements by polling",
  {
    timeout: 150_000,
    skip: remote && mountDir
      ? false
      : "needs the sshfs mount of the filesystem matrix (npm run test:fs, as root)",
  },
  async () => {
    const dir = realpathSync(mkdtempSync(join(mountDir!, "atomfs-watch-sshfs-")));
    const serverDir = join(remote!, relative(mountDir!, dir));
    try {
      const file = join(dir, "app.txt");
      const serverFile = join(serverDir, "app.txt");
      const replace = (content: string) => {
        const temp = join(serverDir, ".atomfs-ssssssssssssssssssssss.tmp");
        writeRaw(temp, content);
        renameSync(temp, serverFile);
      };
      replace("v0");
      // sshfs caches attributes for 20 s (its cache_timeout): until they expire, lstat
      // through the mount shows the old file, so a change can take that long to show.
      for (const [options, replaces] of [[{ poll: 100 }, 2], [{}, 1]] as const) {
        const versions: FileWatch = watch(nativeAdapter(), file, options);
        try {
          const setup = await versions.ready;
          const iterator = versions[Symbol.asyncIterator]();
          for (let i = 1; i <= replaces; i++) {
            const started = Date.now();
            const content = `v${i} ${JSON.stringify(options)}`;
            replace(content);
            assert.equal(text(await next(iterator, 45_000)), content);
            console.log(
              `# watch on sshfs (${JSON.stringify(setup)}): another client's replacement seen ` +
                `after ${Date.now() - started} ms`,
            );
          }
        } finally {
          await versions[Symbol.asyncDispose]();
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
