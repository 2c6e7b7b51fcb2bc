// Deno's sandbox: a denied permission is an AtomFsError with code EPERM whose
// message names the permission.

import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fixture, runtime } from "./_runtime.ts";

test(
  "under Deno, a write without --allow-write fails with EPERM naming the permission, and leaves nothing",
  runtime === "deno" ? {} : { skip: "Deno's permissions exist only under Deno" },
  () => {
    const dir = mkdtempSync(join(tmpdir(), "atomfs-perm-"));
    try {
      const script = decodeURIComponent(fixture("deno_write").pathname);
      const out = execFileSync(process.execPath, ["run", `--allow-read`, script, dir], {
        encoding: "utf8",
      });
      const result = JSON.parse(out.trim().split("\n").at(-1)!);
      assert.equal(result.ok, false);
      assert.equal(result.atomFs, true);
      assert.equal(result.code, "EPERM");
      assert.match(result.message, /write/i);
      assert.match(result.message, /allow-write|permission/i);
      assert.deepEqual(readdirSync(dir), []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test(
  "under Deno, --allow-read and --allow-write are enough to replace a file: keeping its owner needs no --allow-sys",
  runtime === "deno" ? {} : { skip: "Deno's permissions exist only under Deno" },
  () => {
    const dir = mkdtempSync(join(tmpdir(), "atomfs-perm-"));
    try {
      writeFileSync(join(dir, "state.txt"), "old");
      const script = decodeURIComponent(fixture("deno_write").pathname);
      const out = execFileSync(
        process.execPath,
        ["run", `--allow-read=${dir}`, `--allow-write=${dir}`, script, dir],
        { encoding: "utf8" },
      );
      const result = JSON.parse(out.trim().split("\n").at(-1)!);
      assert.equal(result.ok, true, out);
      assert.equal(result.receipt.durability, "full");
      assert.equal(readFileSync(join(dir, "state.txt"), "utf8"), "x");
      assert.deepEqual(readdirSync(dir), ["state.txt"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
