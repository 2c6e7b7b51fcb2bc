// The behaviour suite every adapter must pass (DESIGN §5): the public API's
// promises, checked on whatever filesystem the host provides.

import { test } from "node:test";
import assert from "node:assert/strict";
import { createAtomicFs } from "../core/atomic_fs.ts";
import { AtomFsError } from "../core/errors.ts";
import { isTempName } from "../core/_temp_name.ts";
import { basename } from "../core/_path.ts";
import {
  expectedDifference,
  expectFailure,
  type Host,
  lowerLayerDir,
  type Scratch,
} from "./_hosts.ts";

const decoder = new TextDecoder();

/** The text of a file, read straight through the adapter. */
export function text(s: Scratch, path: string): string {
  return decoder.decode(s.adapter.sync.readFile(path));
}

/** Names in a directory that are atomfs temp files. */
export function temps(s: Scratch, dir: string = s.dir): string[] {
  return s.adapter.sync.readDir(dir).filter(isTempName);
}

/** Assert an AtomFsError with these fields. */
export function isAtomFsError(
  expected: { code: string; op?: string; path?: string },
): (error: unknown) => true {
  return (error) => {
    assert.ok(error instanceof AtomFsError, `expected an AtomFsError, got ${String(error)}`);
    assert.equal(error.code, expected.code);
    if (expected.op) assert.equal(error.op, expected.op);
    if (expected.path) assert.equal(error.path, expected.path);
    assert.ok(
      error.cause !== undefined || error.code === "EISDIR" || error.code === "ELOOP",
      "cause is kept",
    );
    return true;
  };
}

function modeOf(s: Scratch, path: string): number {
  return s.adapter.sync.lstat(path).mode & 0o777;
}

/**
 * The scratch's adapter with its first async `rename` of a temp file (or its
 * first async `link`) held until `release()`, either before the call happens
 * or after it, before its result arrives: an async write caught with that
 * call in flight. Made by spreading the adapter, so its own calls run on the
 * main thread (no offload worker).
 */
function holdCall(s: Scratch, name: "rename" | "link", when: "before" | "after") {
  let release!: () => void;
  const released = new Promise<void>((resolve) => release = resolve);
  let issued!: () => void;
  const reached = new Promise<void>((resolve) => issued = resolve);
  const { adapter } = s;
  let held = false;
  const hold = async (from: string, to: string) => {
    const call = () => adapter[name](from, to);
    const platform = adapter.platform;
    if (held || (name === "rename" && !isTempName(basename(from, platform)))) return call();
    held = true;
    if (when === "before") {
      issued();
      await released;
      return call();
    }
    const result = await call();
    issued();
    await released;
    return result;
  };
  return { fs: createAtomicFs({ ...adapter, [name]: hold }), reached, release };
}

/** Register the suite for one host. */
export function conformance(host: Host): void {
  const t = (name: string, body: (s: Scratch) => Promise<void> | void, skip?: string) => {
    const differs = host.real ? expectedDifference(name) : undefined;
    const run = () => host.withScratch(body);
    test(
      `[${host.name}] ${name}${differs ? " (expected to fail here)" : ""}`,
      skip ? { skip } : {},
      differs ? () => expectFailure(differs, run) : run,
    );
  };
  const realOnly = host.real ? undefined : "needs a real filesystem";

  t("writeFile() creates a new file and returns an honest receipt", async (s) => {
    const path = `${s.dir}/new.txt`;
    const receipt = await s.fs.writeFile(path, "hello");
    assert.equal(text(s, path), "hello");
    assert.deepEqual(receipt, {
      path,
      bytes: 5,
      durability: s.adapter.capabilities.syncDir ? "full" : "file",
      strategy: "rename",
      attempts: 1,
      superseded: false,
    });
    assert.deepEqual(temps(s), []);
  });

  t("writeFile() replaces an existing file and leaves no temp file", async (s) => {
    const path = `${s.dir}/a.txt`;
    await s.fs.writeFile(path, "old content that is longer");
    await s.fs.writeFile(path, "new");
    assert.equal(text(s, path), "new");
    assert.deepEqual(s.adapter.sync.readDir(s.dir), ["a.txt"]);
  });

  t("writeFileSync() replaces a file and returns a receipt", (s) => {
    const path = `${s.dir}/sync.txt`;
    s.fs.writeFileSync(path, "one");
    const receipt = s.fs.writeFileSync(path, new Uint8Array([116, 119, 111]));
    assert.equal(text(s, path), "two");
    assert.equal(receipt.bytes, 3);
    assert.equal(receipt.strategy, "rename");
    assert.deepEqual(temps(s), []);
  });

  t("writeFile() accepts every kind of content", async (s) => {
    const cases: [string, unknown, string][] = [
      ["string", "héllo", "héllo"],
      ["Uint8Array", new TextEncoder().encode("bytes"), "bytes"],
      [
        "a view into a larger buffer",
        new Uint8Array(new TextEncoder().encode("xxviewxx").buffer, 2, 4),
        "view",
      ],
      ["DataView", new DataView(new TextEncoder().encode("data").buffer), "data"],
      ["ArrayBuffer", new TextEncoder().encode("buffer").buffer, "buffer"],
      ["Blob", new Blob(["bl", "ob"]), "blob"],
      ["ReadableStream", new Blob(["stre", "am"]).stream(), "stream"],
      [
        "async iterable",
        (async function* () {
          yield "as";
          yield new TextEncoder().encode("ync");
        })(),
        "async",
      ],
      ["iterable", ["it", new TextEncoder().encode("er")], "iter"],
    ];
    for (const [name, data, expected] of cases) {
      const path = `${s.dir}/${name.replaceAll(" ", "-")}`;
      const receipt = await s.fs.writeFile(path, data as string);
      assert.equal(text(s, path), expected, name);
      assert.equal(receipt.bytes, new TextEncoder().encode(expected).length, name);
    }
    assert.deepEqual(temps(s), []);
  });

  t("writeFile() writes large content whole, from memory and from a stream", async (s) => {
    const big = new Uint8Array(3 * 1024 * 1024 + 17).map((_, i) => (i * 31) % 251);
    await s.fs.writeFile(`${s.dir}/big`, big);
    assert.deepEqual(s.adapter.sync.readFile(`${s.dir}/big`), big);
    const chunks = function* () {
      for (let i = 0; i < big.length; i += 65_536) yield big.subarray(i, i + 65_536);
    };
    const receipt = await s.fs.writeFile(`${s.dir}/streamed`, chunks());
    assert.equal(receipt.bytes, big.length);
    assert.deepEqual(s.adapter.sync.readFile(`${s.dir}/streamed`), big);
  });

  t(
    "writeJson() and readJson() round-trip a value, with indentation and a final newline",
    async (s) => {
      const path = `${s.dir}/v.json`;
      await s.fs.writeJson(path, { a: [1, 2] }, { space: 2 });
      assert.equal(text(s, path), '{\n  "a": [\n    1,\n    2\n  ]\n}\n');
      assert.deepEqual(await s.fs.readJson(path), { a: [1, 2] });
      await assert.rejects(s.fs.writeJson(path, undefined), TypeError);
      await s.fs.writeFile(path, "{not json");
      await assert.rejects(
        s.fs.readJson(path),
        (e: unknown) => e instanceof SyntaxError && e.message.includes(path),
      );
    },
  );

  t("readFile() and readTextFile() read what was written", async (s) => {
    await s.fs.writeFile(`${s.dir}/r`, "read me");
    assert.deepEqual(await s.fs.readFile(`${s.dir}/r`), new TextEncoder().encode("read me"));
    assert.equal(await s.fs.readTextFile(`${s.dir}/r`), "read me");
    await assert.rejects(
      s.fs.readFile(`${s.dir}/missing`),
      isAtomFsError({ code: "ENOENT", op: "read", path: `${s.dir}/missing` }),
    );
  });

  t("readFile() waits notFoundGraceMs for a file to appear, and no longer", async (s) => {
    const path = `${s.dir}/late`;
    setTimeout(() => s.fs.writeFileSync(path, "arrived"), 50);
    assert.equal(await s.fs.readTextFile(path, { notFoundGraceMs: 5_000 }), "arrived");
    const started = Date.now();
    await assert.rejects(
      s.fs.readFile(`${s.dir}/never`, { notFoundGraceMs: 100 }),
      isAtomFsError({ code: "ENOENT" }),
    );
    assert.ok(Date.now() - started >= 95, "waited the grace period");
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 30);
    await assert.rejects(
      s.fs.readFile(`${s.dir}/never`, { notFoundGraceMs: 10_000, signal: controller.signal }),
      (e: unknown) => (e as Error).name === "AbortError",
    );
  });

  t("openAtomic() shows nothing to readers until commit()", async (s) => {
    const path = `${s.dir}/pending.txt`;
    await s.fs.writeFile(path, "old");
    const file = await s.fs.openAtomic(path);
    assert.equal(file.path, path);
    await file.write("new ");
    await file.write(new TextEncoder().encode("content"));
    assert.equal(text(s, path), "old");
    assert.equal(temps(s).length, 1);
    const receipt = await file.commit();
    assert.equal(text(s, path), "new content");
    assert.equal(receipt.bytes, 11);
    assert.equal(await file.commit(), receipt, "commit() again returns the same receipt");
    await file.abort(); // a no-op after commit
    assert.equal(text(s, path), "new content");
    await assert.rejects(file.write("more"), TypeError);
    assert.deepEqual(temps(s), []);
  });

  t("openAtomic() abort() leaves the target untouched and is idempotent", async (s) => {
    const path = `${s.dir}/kept.txt`;
    await s.fs.writeFile(path, "old");
    const file = await s.fs.openAtomic(path);
    await file.write("discarded");
    await file.abort();
    await file.abort();
    assert.equal(text(s, path), "old");
    assert.deepEqual(temps(s), []);
    await assert.rejects(file.commit(), TypeError);
  });

  t("await using an uncommitted AtomicFile removes its temp file", async (s) => {
    const path = `${s.dir}/disposed.txt`;
    {
      await using file = await s.fs.openAtomic(path);
      await file.write("never committed");
      assert.equal(temps(s).length, 1);
    }
    assert.deepEqual(s.adapter.sync.readDir(s.dir), []);
    {
      await using file = await s.fs.openAtomic(path);
      await file.write("committed");
      await file.commit();
    }
    assert.equal(text(s, path), "committed");
  });

  t("openAtomic().writable accepts a piped stream", async (s) => {
    const path = `${s.dir}/piped.txt`;
    const file = await s.fs.openAtomic(path);
    await new Blob(["pi", "ped"]).stream().pipeTo(file.writable);
    await file.commit();
    assert.equal(text(s, path), "piped");
  });

  t("overwrite: false creates a new file with link() and never clobbers", async (s) => {
    const path = `${s.dir}/once.txt`;
    const caps = await s.fs.probe(s.dir);
    if (!caps.hardLinks) return await withoutHardLinks(s, path, caps.errors.hardLinks!);
    const receipt = await s.fs.writeFile(path, "first", { overwrite: false });
    assert.equal(receipt.strategy, "link");
    await assert.rejects(
      s.fs.writeFile(path, "second", { overwrite: false }),
      isAtomFsError({ code: "EEXIST", op: "link", path }),
    );
    assert.throws(
      () => s.fs.writeFileSync(path, "third", { overwrite: false }),
      isAtomFsError({ code: "EEXIST" }),
    );
    assert.equal(text(s, path), "first");
    assert.deepEqual(s.adapter.sync.readDir(s.dir), ["once.txt"]);
  });

  t("mkdir: true creates missing parent directories; without it the error says so", async (s) => {
    const path = `${s.dir}/a/b/c/file.txt`;
    await assert.rejects(
      s.fs.writeFile(path, "x"),
      (e: unknown) =>
        isAtomFsError({ code: "ENOENT", op: "open-temp", path })(e) &&
        /mkdir: true/.test((e as Error).message),
    );
    await s.fs.writeFile(path, "deep", { mkdir: true });
    assert.equal(text(s, path), "deep");
    s.fs.writeFileSync(`${s.dir}/x/y.txt`, "sync deep", { mkdir: true });
    assert.equal(text(s, `${s.dir}/x/y.txt`), "sync deep");
  });

  t("a symlink chain is followed to its final target, which is replaced", async (s) => {
    const sync = s.adapter.sync;
    await s.fs.writeFile(`${s.dir}/real.txt`, "old");
    await symlink(s, "real.txt", `${s.dir}/link1`);
    await symlink(s, `${s.dir}/link1`, `${s.dir}/link2`);
    const receipt = await s.fs.writeFile(`${s.dir}/link2`, "new");
    assert.equal(receipt.path, `${s.dir}/real.txt`);
    assert.equal(text(s, `${s.dir}/real.txt`), "new");
    assert.equal(sync.lstat(`${s.dir}/link1`).kind, "symlink");
    assert.equal(sync.lstat(`${s.dir}/link2`).kind, "symlink");
  });

  t("a dangling symlink is written through, not replaced", async (s) => {
    await symlink(s, "target.txt", `${s.dir}/dangling`);
    const receipt = await s.fs.writeFile(`${s.dir}/dangling`, "created");
    assert.equal(receipt.path, `${s.dir}/target.txt`);
    assert.equal(s.adapter.sync.lstat(`${s.dir}/dangling`).kind, "symlink");
    assert.equal(text(s, `${s.dir}/target.txt`), "created");
  });

  t('symlinks: "replace" replaces the link itself', async (s) => {
    await s.fs.writeFile(`${s.dir}/real.txt`, "untouched");
    await symlink(s, "real.txt", `${s.dir}/link`);
    const receipt = await s.fs.writeFile(`${s.dir}/link`, "own file", { symlinks: "replace" });
    assert.equal(receipt.path, `${s.dir}/link`);
    assert.equal(s.adapter.sync.lstat(`${s.dir}/link`).kind, "file");
    assert.equal(text(s, `${s.dir}/link`), "own file");
    assert.equal(text(s, `${s.dir}/real.txt`), "untouched");
  });

  t(
    'a write with symlinks: "replace" does not queue behind a write through the same link: they are different files',
    async (s) => {
      await s.fs.writeFile(`${s.dir}/real.txt`, "old");
      await symlink(s, "real.txt", `${s.dir}/link`);
      const { fs, reached, release } = holdCall(s, "rename", "before");
      const followed = fs.writeFile(`${s.dir}/link`, "through the link");
      // Awaited below; if an assertion fails first, its rejection must not go unhandled.
      followed.catch(() => {});
      await reached;
      // Resolved "follow", the link names real.txt's lane; "replace" names the link's own.
      const replaced = fs.writeFile(`${s.dir}/link`, "own file", { symlinks: "replace" });
      let timer: ReturnType<typeof setTimeout> | undefined;
      const stuck = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error("waited for the write through the link")), 5_000);
      });
      try {
        assert.equal((await Promise.race([replaced, stuck])).path, `${s.dir}/link`);
      } finally {
        clearTimeout(timer);
        release();
      }
      assert.equal((await followed).path, `${s.dir}/real.txt`);
      assert.equal(text(s, `${s.dir}/real.txt`), "through the link");
      assert.equal(s.adapter.sync.lstat(`${s.dir}/link`).kind, "file");
      assert.equal(text(s, `${s.dir}/link`), "own file");
    },
  );

  t("a symlink loop fails with ELOOP and creates nothing", async (s) => {
    await symlink(s, "b", `${s.dir}/a`);
    await symlink(s, "a", `${s.dir}/b`);
    await assert.rejects(s.fs.writeFile(`${s.dir}/a`, "x"), isAtomFsError({ code: "ELOOP" }));
    assert.deepEqual(s.adapter.sync.readDir(s.dir).sort(), ["a", "b"]);
  });

  t("a directory as the target fails with EISDIR before any temp file is made", async (s) => {
    s.adapter.sync.mkdir(`${s.dir}/d`, 0o755);
    await assert.rejects(
      s.fs.writeFile(`${s.dir}/d`, "x"),
      isAtomFsError({ code: "EISDIR", op: "stat" }),
    );
    assert.deepEqual(s.adapter.sync.readDir(s.dir), ["d"]);
  });

  t("a new file gets 0o666 filtered by the umask", async (s) => {
    await s.fs.writeFile(`${s.dir}/fresh`, "x");
    assert.equal(modeOf(s, `${s.dir}/fresh`), 0o666 & ~host.umask());
  });

  t("the old file's mode is kept, and an explicit mode is set exactly", async (s) => {
    const path = `${s.dir}/moded`;
    await s.fs.writeFile(path, "x", { mode: 0o640 });
    assert.equal(modeOf(s, path), 0o640);
    await s.fs.writeFile(path, "y");
    assert.equal(modeOf(s, path), 0o640, "kept");
    s.fs.writeFileSync(path, "z", { mode: 0o600 });
    assert.equal(modeOf(s, path), 0o600, "explicit, sync");
    await s.fs.writeFile(path, "w", { mode: 0o777 });
    assert.equal(modeOf(s, path), 0o777, "explicit modes ignore the umask");
  });

  t('durability "file" and "none" are reported as such', async (s) => {
    assert.equal(
      (await s.fs.writeFile(`${s.dir}/f`, "x", { durability: "file" })).durability,
      "file",
    );
    assert.equal(
      (await s.fs.writeFile(`${s.dir}/n`, "x", { durability: "none" })).durability,
      "none",
    );
    assert.equal(text(s, `${s.dir}/n`), "x");
  });

  t("an aborted signal rejects with its reason and touches nothing", async (s) => {
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(
      s.fs.writeFile(`${s.dir}/x`, "x", { signal: controller.signal }),
      (e: unknown) => (e as Error).name === "AbortError",
    );
    const reason = new Error("stop");
    await assert.rejects(
      s.fs.writeFile(`${s.dir}/x`, "x", { signal: AbortSignal.abort(reason) }),
      reason,
    );
    assert.deepEqual(s.adapter.sync.readDir(s.dir), []);
  });

  t("aborting during a streamed write removes the temp file and keeps the target", async (s) => {
    const path = `${s.dir}/streamed`;
    await s.fs.writeFile(path, "old");
    const controller = new AbortController();
    const chunks = async function* () {
      yield "first";
      controller.abort();
      yield "second";
    };
    await assert.rejects(
      s.fs.writeFile(path, chunks(), { signal: controller.signal }),
      (e: unknown) => (e as Error).name === "AbortError",
    );
    assert.equal(text(s, path), "old");
    assert.deepEqual(temps(s), []);
  });

  t("a stream that fails part-way leaves the target untouched", async (s) => {
    const path = `${s.dir}/failing`;
    await s.fs.writeFile(path, "old");
    const boom = new Error("source failed");
    const chunks = async function* () {
      yield "partial";
      throw boom;
    };
    await assert.rejects(s.fs.writeFile(path, chunks()), boom);
    assert.equal(text(s, path), "old");
    assert.deepEqual(temps(s), []);
  });

  t("sweep() removes stale temp files only", async (s) => {
    const stale = `${s.dir}/.atomfs-AAAAAAAAAAAAAAAAAAAAAA.tmp`;
    const young = `${s.dir}/.atomfs-BBBBBBBBBBBBBBBBBBBBBB.tmp`;
    const lookalike = `${s.dir}/.atomfs-short.tmp`;
    for (const path of [stale, young, lookalike, `${s.dir}/data.txt`]) {
      s.fs.writeFileSync(path, "x");
    }
    s.age(stale, 2 * 3_600_000);
    s.age(lookalike, 2 * 3_600_000);
    const report = await s.fs.sweep(s.dir);
    assert.deepEqual(report, { dir: s.dir, removed: [stale], kept: [young] });
    assert.deepEqual(s.adapter.sync.readDir(s.dir).sort(), [
      ".atomfs-BBBBBBBBBBBBBBBBBBBBBB.tmp",
      ".atomfs-short.tmp",
      "data.txt",
    ]);
    assert.deepEqual((await s.fs.sweep(s.dir, { olderThanMs: 0 })).removed, [young]);
  });

  t("500 un-awaited writes to one path leave the last one's data", async (s) => {
    const path = `${s.dir}/raced`;
    const writes = Array.from(
      { length: 500 },
      (_, i) => s.fs.writeFile(path, `version ${i}`, { durability: "none" }),
    );
    const receipts = await Promise.all(writes);
    assert.equal(text(s, path), "version 499");
    assert.ok(receipts.every((r) => !r.superseded));
    assert.deepEqual(temps(s), []);
  });

  t("writes through different symlinks to one file are applied in call order", async (s) => {
    await symlink(s, "file", `${s.dir}/alias`);
    const a = s.fs.writeFile(`${s.dir}/alias`, "first");
    const b = s.fs.writeFile(`${s.dir}/file`, "second");
    await Promise.all([a, b]);
    assert.equal(text(s, `${s.dir}/file`), "second");
  });

  t(
    "writeFileSync() after un-awaited writeFile() wins, and the earlier write says it was superseded",
    async (s) => {
      const path = `${s.dir}/mixed`;
      const earlier = s.fs.writeFile(path, "async, earlier");
      s.fs.writeFileSync(path, "sync, later");
      const receipt = await earlier;
      assert.equal(receipt.superseded, true);
      assert.equal(receipt.bytes, 0, "none of its bytes were put in place");
      assert.equal(text(s, path), "sync, later");
      assert.deepEqual(temps(s), []);
    },
  );

  for (const when of ["before", "after"] as const) {
    t(
      `writeFileSync() while an async write's rename is in flight (held ${when} it happens) lands last`,
      async (s) => {
        const path = `${s.dir}/held`;
        const held = holdCall(s, "rename", when);
        held.fs.writeFileSync(path, "first");
        const earlier = held.fs.writeFile(path, "async, earlier");
        await held.reached;
        const later = held.fs.writeFileSync(path, "sync, later");
        held.release();
        const receipt = await earlier;
        assert.equal(text(s, path), "sync, later");
        assert.deepEqual(temps(s), []);
        // The earlier content was put in place (by whichever rename came
        // first), then replaced: it committed, it was not dropped.
        assert.equal(receipt.superseded, false);
        assert.equal(receipt.bytes, "async, earlier".length);
        assert.equal(later.superseded, false);
      },
    );
  }

  t("writeFileSync() while a rollback's rename is in flight lands last", async (s) => {
    await whereBackupsWork(s, async () => {
      const path = `${s.dir}/held`;
      const held = holdCall(s, "rename", "before");
      held.fs.writeFileSync(path, "first", { backups: 1 });
      held.fs.writeFileSync(path, "second", { backups: 1 });
      const rollback = held.fs.rollback(path);
      await held.reached;
      held.fs.writeFileSync(path, "sync, later");
      held.release();
      assert.equal((await rollback).path, path);
      assert.equal(text(s, path), "sync, later");
      assert.deepEqual(temps(s), []);
    });
  });

  t(
    "writeFileSync() during an async write's backup step drops that write: it never lands over the newer content",
    async (s) => {
      await whereBackupsWork(s, async () => {
        const path = `${s.dir}/held`;
        const held = holdCall(s, "link", "before");
        held.fs.writeFileSync(path, "first");
        const earlier = held.fs.writeFile(path, "async, earlier", { backups: 1 });
        await held.reached;
        held.fs.writeFileSync(path, "sync, later");
        held.release();
        const receipt = await earlier;
        assert.equal(receipt.superseded, true);
        assert.equal(receipt.bytes, 0, "none of its bytes were put in place");
        assert.equal(text(s, path), "sync, later");
        assert.deepEqual(temps(s), []);
        // The backup link it made is removed with it.
        assert.deepEqual(await s.fs.listBackups(path), []);
      });
    },
  );

  t("writeFileSync() during a rollback's backup step drops the rollback", async (s) => {
    await whereBackupsWork(s, async () => {
      const path = `${s.dir}/held`;
      const held = holdCall(s, "link", "before");
      held.fs.writeFileSync(path, "first", { backups: 1 });
      held.fs.writeFileSync(path, "second", { backups: 1 });
      const before = await s.fs.listBackups(path);
      const rollback = held.fs.rollback(path);
      await held.reached;
      held.fs.writeFileSync(path, "sync, later");
      held.release();
      const receipt = await rollback;
      assert.equal(receipt.superseded, true);
      assert.equal(receipt.kept, undefined);
      assert.equal(text(s, path), "sync, later");
      assert.deepEqual(temps(s), []);
      assert.deepEqual(await s.fs.listBackups(path), before);
    });
  });

  t(
    "an async rename still failing when a writeFileSync commits is dropped, not retried over it",
    async (s) => {
      const path = `${s.dir}/busy`;
      const { adapter } = s;
      const busy = () => Object.assign(new Error("resource busy, try again"), { code: "EAGAIN" });
      let failing = true;
      let asyncTemp: string | undefined;
      let reached!: () => void;
      const failed = new Promise<void>((resolve) => reached = resolve);
      const fs = createAtomicFs({
        ...adapter,
        rename: (from: string, to: string) => {
          if (isTempName(basename(from, adapter.platform))) {
            asyncTemp ??= from;
            if (from === asyncTemp && failing) {
              reached();
              return Promise.reject(busy());
            }
          }
          return adapter.rename(from, to);
        },
        sync: {
          ...adapter.sync,
          rename: (from: string, to: string) => {
            if (from === asyncTemp && failing) throw busy();
            adapter.sync.rename(from, to);
          },
        },
      });
      fs.writeFileSync(path, "first");
      const earlier = fs.writeFile(path, "async, earlier");
      await failed;
      // Its rename of the earlier write's temp file fails too; its own succeeds.
      fs.writeFileSync(path, "sync, later", { retry: { timeoutMs: 30 } });
      failing = false;
      const receipt = await earlier;
      assert.equal(receipt.superseded, true);
      assert.equal(receipt.bytes, 0, "none of its bytes were put in place");
      assert.equal(text(s, path), "sync, later");
      assert.deepEqual(temps(s), []);
    },
  );

  t(
    "writeFileSync() with backups after an in-flight async write that created the file keeps that write's content",
    async (s) => {
      await whereBackupsWork(s, async () => {
        const path = `${s.dir}/new`;
        const held = holdCall(s, "rename", "before");
        const earlier = held.fs.writeFile(path, "async, earlier");
        await held.reached;
        held.fs.writeFileSync(path, "sync, later", { backups: 1 });
        held.release();
        await earlier;
        assert.equal(text(s, path), "sync, later");
        const backups = await s.fs.listBackups(path);
        assert.equal(backups.length, 1);
        assert.equal(text(s, backups[0]!.path), "async, earlier");
      });
    },
  );

  t("a file: URL is accepted as the path", async (s) => {
    if (!s.dir.startsWith("/")) return;
    const receipt = await s.fs.writeFile(new URL(`file://${s.dir}/url%20name.txt`), "via url");
    assert.equal(receipt.path, `${s.dir}/url name.txt`);
    assert.equal(await s.fs.readTextFile(new URL(`file://${s.dir}/url%20name.txt`)), "via url");
  });

  t("the caller's options object is never mutated", async (s) => {
    const options = Object.freeze({
      durability: "file" as const,
      mode: 0o600,
      retry: Object.freeze({ timeoutMs: 100 }),
      space: 2,
    });
    const before = JSON.stringify(options);
    await s.fs.writeFile(`${s.dir}/a`, "x", options);
    s.fs.writeFileSync(`${s.dir}/b`, "x", options);
    await s.fs.writeJson(`${s.dir}/c`, {}, options);
    await (await s.fs.openAtomic(`${s.dir}/d`, options)).commit();
    assert.equal(JSON.stringify(options), before);
  });

  t(
    "an options object changed after a call does not change the write that call issued",
    async (s) => {
      const options = { mode: 0o600 };
      const writes = [
        s.fs.writeFile(`${s.dir}/a`, "x", options),
        s.fs.writeFile(`${s.dir}/queued`, "1", options),
      ];
      options.mode = 0o640;
      // Issued while the first write to `queued` is still in flight: it waits its turn.
      writes.push(s.fs.writeFile(`${s.dir}/queued`, "2", options));
      options.mode = 0o604;
      await Promise.all(writes);
      assert.equal(modeOf(s, `${s.dir}/a`), 0o600);
      assert.equal(modeOf(s, `${s.dir}/queued`), 0o640);
      assert.equal(text(s, `${s.dir}/queued`), "2");
    },
  );

  const lower = lowerLayerDir();
  t(
    "writeFile() replaces a file that exists only in an overlay's lower layer",
    async (s) => {
      // One file per adapter, put in the lower layer by the matrix (scripts/test_fs.mjs).
      const path = `${lower}/${host.name}.txt`;
      assert.equal(text(s, path), "from the lower layer\n");
      await assert.rejects(
        s.fs.writeFile(path, "x", { overwrite: false }),
        isAtomFsError({ code: "EEXIST" }),
      );
      const receipt = await s.fs.writeFile(path, "replaced through the merged directory\n");
      assert.equal(receipt.strategy, "rename");
      assert.equal(text(s, path), "replaced through the merged directory\n");
      assert.deepEqual(temps(s, lower), []);
    },
    host.real && lower
      ? undefined
      : "needs an overlayfs mount whose lower layer holds files (npm run test:fs sets ATOMFS_TEST_LOWER_DIR)",
  );

  t("a relative path is resolved against the working directory", async (s) => {
    const receipt = await s.fs.writeFile(relativeTo(s), "relative");
    assert.equal(receipt.path, `${s.dir}/rel.txt`);
    assert.equal(text(s, `${s.dir}/rel.txt`), "relative");
  }, realOnly);
}

/**
 * `overwrite: false` where `probe()` finds no hard links: it fails before
 * writing anything, naming the fallback; with `fallback: "in-place"` it
 * creates the file exclusively, and still never clobbers.
 */
/**
 * Run `body` where backups work (they are hard links); elsewhere check that
 * asking for one fails saying why, and changes nothing.
 */
async function whereBackupsWork(s: Scratch, body: () => Promise<void>): Promise<void> {
  const caps = await s.fs.probe(s.dir);
  if (caps.hardLinks) return await body();
  const path = `${s.dir}/unbacked`;
  s.fs.writeFileSync(path, "first");
  assert.throws(
    () => s.fs.writeFileSync(path, "second", { backups: 1 }),
    (e: unknown) =>
      isAtomFsError({ code: caps.errors.hardLinks!, op: "link", path })(e) &&
      /backups are hard links/.test(String(e)),
  );
  assert.equal(text(s, path), "first");
  assert.deepEqual(temps(s), []);
}

async function withoutHardLinks(s: Scratch, path: string, code: string): Promise<void> {
  await assert.rejects(
    s.fs.writeFile(path, "first", { overwrite: false }),
    (e: unknown) =>
      isAtomFsError({ code, op: "link", path })(e) && /fallback: "in-place"/.test(String(e)),
  );
  assert.deepEqual(s.adapter.sync.readDir(s.dir), []);
  const options = { overwrite: false, fallback: "in-place" } as const;
  const receipt = await s.fs.writeFile(path, "first", options);
  assert.equal(receipt.strategy, "in-place");
  await assert.rejects(
    s.fs.writeFile(path, "second", options),
    isAtomFsError({ code: "EEXIST", op: "in-place", path }),
  );
  assert.throws(
    () => s.fs.writeFileSync(path, "third", options),
    isAtomFsError({ code: "EEXIST" }),
  );
  assert.equal(text(s, path), "first");
  assert.deepEqual(s.adapter.sync.readDir(s.dir), ["once.txt"]);
}

/** A path to `<dir>/rel.txt` relative to the adapter's working directory. */
function relativeTo(s: Scratch): string {
  const cwd = s.adapter.cwd().split("/").filter(Boolean);
  const dir = s.dir.split("/").filter(Boolean);
  let common = 0;
  while (common < cwd.length && cwd[common] === dir[common]) common++;
  return [...cwd.slice(common).map(() => ".."), ...dir.slice(common), "rel.txt"].join("/");
}

async function symlink(s: Scratch, target: string, path: string): Promise<void> {
  if (s.memory) {
    s.memory.sync.symlink(target, path);
  } else {
    const { symlinkSync } = await import("node:fs");
    symlinkSync(target, path);
  }
}
