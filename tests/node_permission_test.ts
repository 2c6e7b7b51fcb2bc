// Node's permission model (--permission) refuses fsync on a file descriptor:
// under it writeFile, openAtomic and rollback flush through FileHandles, and
// writeFileSync, which cannot flush, fails saying so and leaves nothing behind.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fixture, lastJson, runtime } from "./_runtime.ts";

const onlyNode = runtime === "node"
  ? {}
  : { skip: "Node's permission model exists only under Node" };

test(
  "under Node's permission model, async writes flush file and directory; writeFileSync fails with ERR_ACCESS_DENIED",
  onlyNode,
  () => {
    const dir = mkdtempSync(join(tmpdir(), "atomfs-perm-"));
    try {
      // --experimental-permission on older Node versions (20).
      const flag = process.allowedNodeEnvironmentFlags.has("--permission")
        ? "--permission"
        : "--experimental-permission";
      const script = decodeURIComponent(fixture("node_permission").pathname);
      const run = spawnSync(
        process.execPath,
        [flag, "--allow-fs-read=*", `--allow-fs-write=${dir}`, "--expose-gc", script, dir],
        { encoding: "utf8" },
      );
      assert.equal(run.status, 0, run.stderr);
      // Node warns when it has to close a FileHandle left open for the collector.
      assert.doesNotMatch(run.stderr, /garbage collection/);
      const result = lastJson(run.stdout);
      assert.equal(result.permission, "object", "the model is on");
      // Each durable write flushes the temp file and the directory.
      for (const name of ["small", "replace", "large", "atomic", "backedUp"]) {
        const outcome = result[name];
        assert.equal(outcome.ok, true, `${name}: ${JSON.stringify(outcome)}`);
        assert.equal(outcome.value.durability, "full", name);
        assert.equal(outcome.syncs, 2, `${name}: FileHandle flushes`);
      }
      // A rollback renames a backup's link into place and flushes the directory.
      assert.equal(result.rollback.ok, true, JSON.stringify(result.rollback));
      assert.equal(result.rollback.value.durability, "full");
      assert.equal(result.rollback.syncs, 1);
      assert.equal(readFileSync(join(dir, "small"), "utf8"), "xx");
      assert.equal(readFileSync(join(dir, "large")).length, 2 << 20);
      assert.equal(readFileSync(join(dir, "atomic"), "utf8"), "piece");
      // writeDirectory needs symlink(2), which the model allows only with
      // unrestricted read and write: it fails and leaves the directory empty.
      assert.equal(result.set.ok, false);
      assert.equal(result.set.code, "ERR_ACCESS_DENIED");
      assert.equal(result.set.op, "symlink");
      assert.deepEqual(readdirSync(join(dir, "set")), []);
      const { sync } = result;
      assert.equal(sync.ok, false);
      assert.equal(sync.name, "AtomFsError");
      assert.equal(sync.code, "ERR_ACCESS_DENIED");
      assert.equal(sync.op, "sync");
      assert.match(sync.message, /permission model/);
      assert.match(sync.message, /durability: "none"/);
      assert.deepEqual(result.dropped, [], "a dropped AtomicFile's temp file is removed");
      assert.equal(result.syncNone.ok, true, JSON.stringify(result.syncNone));
      assert.equal(result.syncNone.value.durability, "none");
      // The failed synchronous write left neither its file nor a temp file.
      assert.deepEqual(result.names, [
        ".atomic.atomfs-000001.bak",
        ".atomic.atomfs-000002.bak",
        "atomic",
        "large",
        "none",
        "set",
        "small",
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
