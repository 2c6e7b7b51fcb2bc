// Deno's sandbox: a denied permission is an AtomFsError with code EPERM whose
// message names the permission.

import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fixture, lastJson, runtime } from "./_runtime.ts";

const onlyDeno = runtime === "deno" ? {} : { skip: "Deno's permissions exist only under Deno" };

/**
 * Run a fixture under `deno run` with the permission flags `flags` gives for
 * a fresh directory (set up by `setup`), and return its last line as JSON and
 * the directory, which `check` inspects before it is removed.
 */
function denoRun(
  name: string,
  flags: (dir: string) => string[],
  // deno-lint-ignore no-explicit-any
  check: (result: any, dir: string) => void,
  setup?: (dir: string) => void,
): void {
  const dir = mkdtempSync(join(tmpdir(), "atomfs-perm-"));
  try {
    setup?.(dir);
    const script = decodeURIComponent(fixture(name).pathname);
    const out = execFileSync(process.execPath, ["run", ...flags(dir), script, dir], {
      encoding: "utf8",
    });
    check(lastJson(out), dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test(
  "under Deno, a write without --allow-write fails with EPERM naming the permission, and leaves nothing",
  onlyDeno,
  () => {
    denoRun("deno_write", () => ["--allow-read"], (result, dir) => {
      assert.equal(result.ok, false);
      assert.equal(result.atomFs, true);
      assert.equal(result.code, "EPERM");
      assert.match(result.message, /write/i);
      assert.match(result.message, /allow-write|permission/i);
      assert.deepEqual(readdirSync(dir), []);
    });
  },
);

test(
  "under Deno, --allow-read and --allow-write are enough to replace a file: keeping its owner needs no --allow-sys",
  onlyDeno,
  () => {
    denoRun(
      "deno_write",
      (dir) => [`--allow-read=${dir}`, `--allow-write=${dir}`],
      (result, dir) => {
        assert.equal(result.ok, true, JSON.stringify(result));
        assert.equal(result.receipt.durability, "full");
        assert.equal(readFileSync(join(dir, "state.txt"), "utf8"), "x");
        assert.deepEqual(readdirSync(dir), ["state.txt"]);
      },
      (dir) => writeFileSync(join(dir, "state.txt"), "old"),
    );
  },
);

test("under Deno, importing atomfs needs no permission: it does no I/O at import", onlyDeno, () => {
  denoRun("deno_import", () => ["--no-prompt"], (result) => assert.equal(result.ok, true));
});
