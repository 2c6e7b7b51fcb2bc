// The crash-state explorer proves the durability contract: every state a
// crash or power loss could leave, at every point of a write, holds what the
// durability level promises. And it can fail: weaker levels and broken
// protocols are caught with a counter-example.

import { test } from "node:test";
import assert from "node:assert/strict";
import type { FsAdapter } from "../core/adapter.ts";
import { isTempName } from "../core/_temp_name.ts";
import {
  type CrashReport,
  type CrashState,
  exploreCrashes,
  type ExploreCrashesOptions,
  type MemoryAdapter,
} from "../adapters/memory.ts";

const T = "/d/t";

const withOld: ExploreCrashesOptions = {
  setup: (fs, mem) => {
    mem.sync.mkdir("/d", 0o755);
    fs.writeFileSync(T, "old");
  },
};
const empty: ExploreCrashesOptions = {
  setup: (_fs, mem) => mem.sync.mkdir("/d", 0o755),
};

function explored(name: string, report: CrashReport): CrashReport {
  console.log(
    `crash states explored: ${name}: ${report.states} states at ${report.crashPoints} crash points ` +
      `(${report.operations} operations)${report.exhaustive ? "" : ", not exhaustive"}`,
  );
  return report;
}

function proven(name: string, report: CrashReport): void {
  explored(name, report);
  assert.equal(
    report.counterexample,
    undefined,
    report.counterexample &&
      `${report.counterexample.message}\n${report.counterexample.trace.join("\n")}\n${
        JSON.stringify(report.counterexample.files)
      }`,
  );
  assert.ok(report.ok && report.exhaustive);
  assert.ok(report.states > 1);
}

/** Old or new, whole; after `resolved`, exactly new. */
function fullContract(old: string | undefined, next: string) {
  return (state: CrashState, { marks }: { marks: readonly string[] }) => {
    const text = state.text(T);
    if (marks.includes("resolved")) {
      assert.equal(text, next, "a resolved write must survive");
    } else {
      assert.ok(text === old || text === next, `old or new, got ${JSON.stringify(text)}`);
    }
  };
}

/** Old or new, whole, never missing when an old file existed; resolution promises nothing more. */
function fileContract(old: string | undefined, next: string) {
  return (state: CrashState) => {
    const text = state.text(T);
    assert.ok(text === old || text === next, `old or new, got ${JSON.stringify(text)}`);
  };
}

test('writeFile() with durability "full": after it resolves every crash leaves the new file; before, old or new', async () => {
  proven(
    'writeFile "full", replacing',
    await exploreCrashes(
      async (fs, { mark }) => {
        await fs.writeFile(T, "new content");
        mark("resolved");
      },
      fullContract("old", "new content"),
      withOld,
    ),
  );
  proven(
    'writeFile "full", creating',
    await exploreCrashes(
      async (fs, { mark }) => {
        await fs.writeFile(T, "new content");
        mark("resolved");
      },
      fullContract(undefined, "new content"),
      empty,
    ),
  );
  proven(
    'writeFileSync "full", replacing',
    await exploreCrashes(
      (fs, { mark }) => {
        fs.writeFileSync(T, "new content");
        mark("resolved");
      },
      fullContract("old", "new content"),
      withOld,
    ),
  );
});

test('a streamed "full" write is never torn, whatever the crash', async () => {
  proven(
    'writeFile "full" from 3 chunks',
    await exploreCrashes(
      async (fs, { mark }) => {
        await fs.writeFile(T, ["one ", "two ", "three"]);
        mark("resolved");
      },
      fullContract("old", "one two three"),
      withOld,
    ),
  );
});

test('durability "file": old or new, never torn, never missing when an old file existed', async () => {
  proven(
    'writeFile "file"',
    await exploreCrashes(
      async (fs) => {
        await fs.writeFile(T, "new content", { durability: "file" });
      },
      fileContract("old", "new content"),
      withOld,
    ),
  );
});

test('durability "file" does not promise the new file after it resolves, and the explorer shows it', async () => {
  const report = explored(
    'writeFile "file", checked against the "full" contract',
    await exploreCrashes(
      async (fs, { mark }) => {
        await fs.writeFile(T, "new", { durability: "file" });
        mark("resolved");
      },
      fullContract("old", "new"),
      withOld,
    ),
  );
  assert.equal(report.ok, false);
  assert.deepEqual(report.counterexample?.marks, ["resolved"]);
  assert.equal(report.counterexample?.files[T], "old");
});

test('durability "none": the explorer finds the empty file and the missing file it allows', async () => {
  const replaced = explored(
    'writeFile "none", replacing',
    await exploreCrashes(
      async (fs) => {
        await fs.writeFile(T, "new content", { durability: "none" });
      },
      fileContract("old", "new content"),
      withOld,
    ),
  );
  assert.equal(replaced.ok, false);
  assert.equal(replaced.counterexample?.files[T], "", "the rename survived, the data did not");
  assert.ok(replaced.counterexample?.trace.some((line) => line.startsWith("✓ rename")));
  assert.ok(replaced.counterexample?.trace.some((line) => line.startsWith("✗ write")));

  const created = explored(
    'writeFile "none", creating',
    await exploreCrashes(
      async (fs, { mark }) => {
        await fs.writeFile(T, "new", { durability: "none" });
        mark("resolved");
      },
      (state, { marks }) => !marks.includes("resolved") || state.text(T) === "new",
      empty,
    ),
  );
  assert.equal(created.ok, false);
  assert.ok(
    created.counterexample?.files[T] === undefined || created.counterexample?.files[T] === "",
  );
});

test('overwrite: false, "full": after it resolves the file exists whole; before, absent or whole', async () => {
  proven(
    "writeFile overwrite: false",
    await exploreCrashes(
      async (fs, { mark }) => {
        await fs.writeFile(T, "first", { overwrite: false });
        mark("resolved");
      },
      fullContract(undefined, "first"),
      empty,
    ),
  );
  proven(
    'writeFile overwrite: false, "file"',
    await exploreCrashes(
      async (fs) => {
        await fs.writeFile(T, "first", { overwrite: false, durability: "file" });
      },
      fileContract(undefined, "first"),
      empty,
    ),
  );
});

test('openAtomic().commit(), "full": after commit resolves the new file survives; before, old or new', async () => {
  proven(
    "openAtomic + 2 writes + commit",
    await exploreCrashes(
      async (fs, { mark }) => {
        const file = await fs.openAtomic(T);
        await file.write("new ");
        await file.write("content");
        await file.commit();
        mark("resolved");
      },
      fullContract("old", "new content"),
      withOld,
    ),
  );
});

test("a sequence of 3 writes: after the Nth resolves, a crash leaves version N or N+1, whole", async () => {
  const versions = ["old", "version 1", "version 2", "version 3"];
  proven(
    "3 sequential writeFile calls",
    await exploreCrashes(async (fs, { mark }) => {
      for (const [i, v] of versions.slice(1).entries()) {
        await fs.writeFile(T, v);
        mark(`v${i + 1}`);
      }
    }, (state, { marks }) => {
      const n = marks.length;
      const allowed = versions.slice(n, n + 2);
      const text = state.text(T);
      assert.ok(allowed.includes(text!), `after ${n} writes: ${JSON.stringify(text)}`);
    }, withOld),
  );
});

test('mkdir: true, "full": after it resolves the new directories and the file survive', async () => {
  proven(
    "writeFile mkdir: true, two new directories",
    await exploreCrashes(async (fs, { mark }) => {
      await fs.writeFile("/d/a/b/t", "deep", { mkdir: true });
      mark("resolved");
    }, (state, { marks }) => {
      const text = state.text("/d/a/b/t");
      assert.ok(
        marks.includes("resolved") ? text === "deep" : text === undefined || text === "deep",
      );
    }, empty),
  );
});

test("temp files a crash leaves behind are only ever atomfs temp files", async () => {
  proven(
    "leftovers of a crashed write",
    await exploreCrashes(async (fs) => {
      await fs.writeFile(T, "new");
    }, (state) => {
      for (const name of state.list("/d")) assert.ok(name === "t" || isTempName(name), name);
    }, withOld),
  );
});

/** The memory adapter with one call turned into a no-op: a protocol that skips a step. */
function skipping(call: "syncDir" | "fsync") {
  return (mem: MemoryAdapter): FsAdapter<number> => ({
    ...mem,
    [call]: () => Promise.resolve(),
    sync: { ...mem.sync, [call]: () => {} },
  });
}

test("a protocol that skips the directory fsync is caught: a resolved write can be lost", async () => {
  const report = explored(
    "broken: no directory fsync",
    await exploreCrashes(
      async (fs, { mark }) => {
        await fs.writeFile(T, "new");
        mark("resolved");
      },
      fullContract("old", "new"),
      { ...withOld, wrap: skipping("syncDir") },
    ),
  );
  assert.equal(report.ok, false);
  assert.deepEqual(report.counterexample?.marks, ["resolved"]);
  assert.equal(report.counterexample?.files[T], "old");
  assert.ok(report.counterexample?.trace.some((line) => line.startsWith("✗ rename")));
});

test("a protocol that skips the temp file's fsync is caught: the target can be left empty", async () => {
  const report = explored(
    "broken: no temp fsync",
    await exploreCrashes(
      async (fs) => {
        await fs.writeFile(T, "new");
      },
      fileContract("old", "new"),
      { ...withOld, wrap: skipping("fsync") },
    ),
  );
  assert.equal(report.ok, false);
  assert.equal(report.counterexample?.files[T], "");
});

test("a protocol that renames before its fsync is caught: the target can be left empty", async () => {
  const encoder = new TextEncoder();
  const report = explored(
    "broken: rename before fsync",
    await exploreCrashes(
      (_fs, { adapter }) => {
        const s = adapter.sync;
        const h = s.openExclusive("/d/.tmp", 0o644);
        s.write(h, encoder.encode("new"));
        s.rename("/d/.tmp", T);
        s.fsync(h);
        s.close(h);
        s.syncDir("/d");
      },
      fileContract("old", "new"),
      withOld,
    ),
  );
  assert.equal(report.ok, false);
  assert.equal(report.counterexample?.files[T], "");
  assert.ok(report.counterexample!.crashAfter < report.operations);
});

test("the explorer stops at maxStates and says it was not exhaustive", async () => {
  const report = await exploreCrashes(
    async (fs) => {
      for (let i = 0; i < 4; i++) await fs.writeFile(`/d/f${i}`, `v${i}`, { durability: "none" });
    },
    () => true,
    { ...empty, maxStates: 50 },
  );
  assert.equal(report.ok, true);
  assert.equal(report.exhaustive, false);
  assert.ok(report.states <= 50);
});

test("a protocol that flushes only the target's directory after mkdir is caught: the new directories can vanish", async () => {
  const report = explored(
    "broken: mkdir without flushing the parents",
    await exploreCrashes(
      async (fs, { mark }) => {
        await fs.writeFile("/d/a/b/t", "deep", { mkdir: true });
        mark("resolved");
      },
      (state, { marks }) => !marks.includes("resolved") || state.text("/d/a/b/t") === "deep",
      {
        ...empty,
        wrap: (mem) => ({
          ...mem,
          syncDir: (dir) => dir === "/d/a/b" ? mem.syncDir(dir) : Promise.resolve(),
        }),
      },
    ),
  );
  assert.equal(report.ok, false);
  assert.deepEqual(report.counterexample?.marks, ["resolved"]);
});
