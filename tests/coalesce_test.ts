// coalesce: true — latest wins: a burst of writes to one file commits the
// first and the last, and every promise resolves only once its own content or
// newer content is durably in place.

import { test } from "node:test";
import assert from "node:assert/strict";
import v8 from "node:v8";
import vm from "node:vm";
import { createAtomicFs } from "../core/atomic_fs.ts";
import type { FsAdapter } from "../core/adapter.ts";
import type { WriteReceipt } from "../core/options.ts";
import { exploreCrashes, memoryAdapter } from "../adapters/memory.ts";
import { nativeHost } from "./_hosts.ts";
import { offloaderOf } from "../core/_offload.ts";

const decoder = new TextDecoder();

test("a burst of 1,000 coalesced writes makes at most 3 renames and leaves the last call's data", async () => {
  const mem = memoryAdapter();
  const fs = createAtomicFs(mem);
  const writes = Array.from(
    { length: 1_000 },
    (_, i) => fs.writeFile("/t", `v${i}`, { coalesce: true }),
  );
  const receipts = await Promise.all(writes);
  assert.equal(decoder.decode(mem.sync.readFile("/t")), "v999");
  const renames = mem.log.filter((c) => c === "rename").length;
  assert.ok(renames <= 3, `${renames} renames`);
  assert.equal(receipts.at(-1)!.superseded, false);
  const coalesced = receipts.filter((r) => r.superseded);
  assert.equal(coalesced.length, 1_000 - renames);
  for (const r of coalesced) {
    assert.equal(r.durability, "full");
    assert.equal(r.bytes, 0);
    assert.equal(r.path, "/t");
  }
  assert.deepEqual(mem.sync.readDir("/"), ["t"]);
});

test("a coalesced write resolves only after its own or newer content is committed and flushed", async () => {
  const mem = memoryAdapter();
  // Every resolution must find the last rename it depends on followed by a directory fsync.
  const fs = createAtomicFs(mem);
  const seen: [number, string, boolean][] = [];
  const writes = Array.from(
    { length: 50 },
    (_, i) =>
      fs.writeFile("/t", `${i}`, { coalesce: true }).then(() => {
        const log = mem.log;
        const flushed = log.lastIndexOf("syncDir") > log.lastIndexOf("rename");
        seen.push([i, decoder.decode(mem.sync.readFile("/t")), flushed]);
      }),
  );
  await Promise.all(writes);
  for (const [i, content, flushed] of seen) {
    assert.ok(Number(content) >= i, `write ${i} resolved while the file held ${content}`);
    assert.ok(flushed, `write ${i} resolved before the directory was flushed`);
  }
});

test("writes coalesced into a failing write share its error, and the file keeps committed data", async () => {
  const mem = memoryAdapter();
  const fs = createAtomicFs(mem);
  fs.writeFileSync("/t", "old");
  const boom = new Error("the last source failed");
  // Issued together, all three coalesce into the last one, which fails.
  const first = fs.writeFile("/t", "first", { coalesce: true });
  const middle = fs.writeFile("/t", "middle", { coalesce: true });
  const last = fs.writeFile(
    "/t",
    (async function* () {
      yield "par";
      throw boom;
    })(),
    { coalesce: true },
  );
  for (const write of [first, middle, last]) await assert.rejects(write, boom);
  assert.equal(decoder.decode(mem.sync.readFile("/t")), "old");
  assert.deepEqual(mem.sync.readDir("/"), ["t"]);
  // A write that had already committed keeps its content when later ones fail.
  await fs.writeFile("/t", "committed", { coalesce: true });
  await assert.rejects(
    fs.writeFile("/t", [new Uint8Array(1), 42 as unknown as string], { coalesce: true }),
  );
  assert.equal(decoder.decode(mem.sync.readFile("/t")), "committed");
});

test("without coalesce every write is put in place", async () => {
  const mem = memoryAdapter();
  const fs = createAtomicFs(mem);
  await Promise.all(Array.from({ length: 20 }, (_, i) => fs.writeFile("/t", `v${i}`)));
  assert.equal(mem.log.filter((c) => c === "rename").length, 20);
});

test("coalesced writes on real disk: few renames, the last data, no temp files", async () => {
  await nativeHost().withScratch(async (s) => {
    let renames = 0;
    const counting: FsAdapter = {
      ...s.adapter,
      rename(from, to) {
        renames++;
        return s.adapter.rename(from, to);
      },
    };
    const fs = createAtomicFs(counting);
    const path = `${s.dir}/burst`;
    await Promise.all(
      Array.from({ length: 300 }, (_, i) => fs.writeFile(path, `v${i}`, { coalesce: true })),
    );
    assert.equal(decoder.decode(s.adapter.sync.readFile(path)), "v299");
    assert.ok(renames <= 3, `${renames} renames`);
    assert.deepEqual(s.adapter.sync.readDir(s.dir), ["burst"]);
  });
});

test("coalesced writes through the offload worker (the default path): the last data, at most 3 put in place", async () => {
  await nativeHost().withScratch(async (s) => {
    assert.ok(offloaderOf(s.adapter), "the runtime's adapter offloads small writes");
    const fs = createAtomicFs(s.adapter);
    const path = `${s.dir}/burst`;
    const receipts = await Promise.all(
      Array.from({ length: 300 }, (_, i) => fs.writeFile(path, `v${i}`, { coalesce: true })),
    );
    assert.equal(decoder.decode(s.adapter.sync.readFile(path)), "v299");
    const placed = receipts.filter((r) => !r.superseded);
    assert.ok(placed.length >= 1 && placed.length <= 3, `${placed.length} writes put in place`);
    assert.equal(receipts.at(-1)!.superseded, false, "the last call's own write is put in place");
    assert.ok(receipts.every((r) => r.durability === "full"));
    assert.deepEqual(s.adapter.sync.readDir(s.dir), ["burst"]);
  });
});

test("every crash state after a coalesced write resolved holds that write's data or newer", async () => {
  const report = await exploreCrashes(async (fs, { mark }) => {
    await Promise.all(
      [1, 2, 3, 4].map((v) =>
        fs.writeFile("/d/t", `v${v}`, { coalesce: true }).then(() => mark(`${v}`))
      ),
    );
  }, (state, { marks }) => {
    const version = Number(state.text("/d/t")?.slice(1) ?? 0);
    for (const m of marks) {
      assert.ok(version >= Number(m), `v${m} resolved, the crash left v${version}`);
    }
  }, {
    setup: (fs, mem) => {
      mem.sync.mkdir("/d", 0o755);
      fs.writeFileSync("/d/t", "v0");
    },
  });
  console.log(
    `crash states explored: 4 coalesced writes: ${report.states} states at ${report.crashPoints} crash points`,
  );
  assert.equal(report.counterexample, undefined, report.counterexample?.trace.join("\n"));
  assert.ok(report.ok && report.exhaustive);
});

test("a non-boolean coalesce is refused before any I/O", async () => {
  const mem = memoryAdapter();
  const fs = createAtomicFs(mem);
  await assert.rejects(
    fs.writeFile("/t", "x", { coalesce: "yes" as unknown as boolean }),
    TypeError,
  );
  assert.deepEqual(mem.log, []);
});

test("a write without coalesce queued among coalescing ones is never replaced: its content is put in place", async () => {
  const mem = memoryAdapter();
  const renamed: string[] = [];
  const watching: FsAdapter = {
    ...mem,
    rename: async (from: string, to: string) => {
      renamed.push(decoder.decode(mem.sync.readFile(from)));
      return await mem.rename(from, to);
    },
  };
  const watched = createAtomicFs(watching);
  const writes = [
    watched.writeFile("/t", "a1", { coalesce: true }),
    watched.writeFile("/t", "a2", { coalesce: true }),
    watched.writeFile("/t", "plain"),
    watched.writeFile("/t", "c1", { coalesce: true }),
    watched.writeFile("/t", "c2", { coalesce: true }),
  ];
  const receipts = await Promise.all(writes);
  assert.ok(renamed.includes("plain"), `renamed: ${renamed.join(", ")}`);
  assert.equal(receipts[2]!.superseded, false);
  assert.equal(renamed.at(-1), "c2");
  assert.equal(receipts[4]!.superseded, false);
  // Each replaced coalescing write settles with a newer write's outcome.
  assert.equal(receipts[0]!.superseded, true);
  assert.equal(receipts[3]!.superseded, true);
  assert.equal(decoder.decode(mem.sync.readFile("/t")), "c2");
});

/** A full collection, in whichever runtime runs the test. */
function collectGarbage(): void {
  const g = globalThis as { gc?: () => void; Bun?: { gc(force: boolean): void } };
  // npm test starts Node with --expose-gc and Deno with --v8-flags=--expose-gc.
  if (g.gc) return g.gc();
  if (g.Bun) return g.Bun.gc(true);
  v8.setFlagsFromString("--expose-gc");
  (vm.runInNewContext("gc") as () => void)();
}

test("the queue keeps alive only the content of the running and the waiting write, not of writes finished or given way to", async () => {
  // A state store saving a large document on every change must not hold
  // every version until the burst settles: memory would grow with the burst.
  const mem = memoryAdapter();
  let release!: () => void;
  const released = new Promise<void>((resolve) => release = resolve);
  let reached!: () => void;
  const held = new Promise<void>((resolve) => reached = resolve);
  const HELD = 2;
  const fs = createAtomicFs({
    ...mem,
    rename: async (from: string, to: string) => {
      // Write 2's rename waits; writes are told apart by their first byte.
      if (mem.sync.readFile(from)[0] === HELD) {
        reached();
        await released;
      }
      return await mem.rename(from, to);
    },
  });
  const alive: WeakRef<Uint8Array>[] = [];
  const writes: Promise<WriteReceipt>[] = [];
  const write = (i: number, coalesce: boolean) => {
    const content = new Uint8Array(64 * 1024).fill(i);
    alive.push(new WeakRef(content));
    writes.push(fs.writeFile("/t", content, { coalesce }));
  };
  // Writes 0 and 1 finish while 2 is held at its rename; with 3 queued behind
  // them, their places stay in the path's queue until it drains.
  for (let i = 0; i <= HELD; i++) write(i, false);
  write(HELD + 1, true);
  await held;
  // Then a burst: each write takes the place of the one waiting (3 first).
  for (let i = HELD + 2; i < 100; i++) write(i, true);
  for (let i = 0; i < 2; i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    collectGarbage();
  }
  const kept = alive.flatMap((ref, i) => ref.deref() ? [i] : []);
  assert.ok(!kept.includes(0) && !kept.includes(1), `finished writes' content kept: ${kept}`);
  // Two are still needed (2, running, and 99, waiting); a few more allow for a
  // collector that scans the stack conservatively.
  assert.ok(kept.length <= 10, `${kept.length} of 100 contents alive: ${kept}`);
  release();
  const receipts = await Promise.all(writes);
  assert.equal(mem.sync.readFile("/t")[0], 99);
  assert.equal(receipts[HELD]!.superseded, false);
  assert.equal(receipts[HELD + 1]!.superseded, true);
  assert.equal(receipts.at(-1)!.superseded, false);
});

test("writes joining a busy lane each keep their own options and content", async () => {
  // Writes issued while the lane is busy share one task per options and
  // file: a change of options (or of file) in the middle must not reuse the
  // previous one's.
  const mem = memoryAdapter();
  const fs = createAtomicFs(mem);
  const modes: number[] = [];
  const done = [
    fs.writeFile("/t", "a", { mode: 0o600 }),
    fs.writeFile("/t", "b", { mode: 0o640 }),
    fs.writeFile("/u", "x", { mode: 0o600 }),
    fs.writeFile("/t", "c", { mode: 0o640 }),
    fs.writeFile("/t", "d", { mode: 0o644 }),
  ].map((write, i) =>
    write.then((receipt) => {
      modes[i] = mem.sync.lstat(receipt.path).mode;
      return decoder.decode(mem.sync.readFile(receipt.path));
    })
  );
  assert.deepEqual(await Promise.all(done), ["a", "b", "x", "c", "d"]);
  assert.deepEqual(modes, [0o600, 0o640, 0o600, 0o640, 0o644]);
});
