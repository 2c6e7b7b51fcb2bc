// Group commit: concurrent writes to one directory share its fsyncs, and
// every write still resolves only after a flush that began after its rename.

import { test } from "node:test";
import assert from "node:assert/strict";
import { createAtomicFs } from "../core/atomic_fs.ts";
import { AtomFsError } from "../core/errors.ts";
import { exploreCrashes, memoryAdapter } from "../adapters/memory.ts";

test("64 concurrent writes to one directory share directory fsyncs", async () => {
  const mem = memoryAdapter();
  const fs = createAtomicFs(mem);
  mem.sync.mkdir("/d", 0o755);
  const receipts = await Promise.all(
    Array.from({ length: 64 }, (_, i) => fs.writeFile(`/d/f${i}`, `${i}`)),
  );
  assert.ok(receipts.every((r) => r.durability === "full"));
  const flushes = mem.log.filter((c) => c === "syncDir").length;
  assert.ok(flushes >= 1 && flushes < 64, `${flushes} directory fsyncs for 64 writes`);
});

test("every crash state after a write resolved holds it, when concurrent writes share flushes", async () => {
  const report = await exploreCrashes(async (fs, { mark }) => {
    // Different chunk counts stagger the writes, so that one's rename lands
    // while another's directory fsync is in flight.
    await Promise.all(
      [1, 2, 3].map((i) =>
        fs.writeFile(`/d/f${i}`, ["new", ...Array(i * 2).fill(""), ` ${i}`]).then(() =>
          mark(`${i}`)
        )
      ),
    );
  }, (state, { marks }) => {
    for (const i of [1, 2, 3]) {
      const text = state.text(`/d/f${i}`);
      if (marks.includes(`${i}`)) assert.equal(text, `new ${i}`, `f${i} resolved`);
      else assert.ok(text === `old ${i}` || text === `new ${i}`, `f${i}: ${text}`);
    }
  }, {
    setup: (fs, mem) => {
      mem.sync.mkdir("/d", 0o755);
      for (const i of [1, 2, 3]) fs.writeFileSync(`/d/f${i}`, `old ${i}`);
    },
    // A slow disk: a directory fsync takes effect when issued and reports
    // 20 ms later, so renames land while a flush is in flight.
    wrap: (mem) => ({
      ...mem,
      syncDir: (dir) => {
        const flushed = mem.syncDir(dir);
        return new Promise((resolve) => setTimeout(resolve, 20)).then(() => flushed);
      },
    }),
  });
  console.log(
    `crash states explored: 3 concurrent writes sharing flushes: ${report.states} states`,
  );
  assert.equal(report.counterexample, undefined, report.counterexample?.trace.join("\n"));
  assert.ok(report.ok && report.exhaustive);
});

test("a shared directory fsync that fails fails every write sharing it, each naming its own file", async () => {
  const mem = memoryAdapter();
  const fs = createAtomicFs(mem);
  mem.sync.mkdir("/d", 0o755);
  mem.inject({ call: "syncDir", code: "EIO", times: 1_000 });
  const results = await Promise.allSettled([1, 2, 3].map((i) => fs.writeFile(`/d/f${i}`, `${i}`)));
  results.forEach((r, i) => {
    assert.equal(r.status, "rejected");
    const e = (r as PromiseRejectedResult).reason;
    assert.ok(e instanceof AtomFsError);
    assert.equal(e.code, "EIO");
    assert.equal(e.op, "sync-dir");
    assert.equal(e.path, `/d/f${i + 1}`);
    assert.match(e.message, /in place/);
  });
});
