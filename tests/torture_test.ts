// The quick torture run (scripts/torture.mjs runs the long one): a writer in
// this runtime SIGKILLed 100 times at random moments, with readers in the
// other runtimes reading the file throughout.

import { test } from "node:test";
import assert from "node:assert/strict";
import { accessSync, constants, mkdtempSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { ext, runtime } from "./_runtime.ts";
import { fixtureCommand, torture, type TortureRuntime } from "./_torture.ts";

const KILLS = 100;
const BUDGET_MS = 25_000;
// bun test stops a test after 5 s unless the test says otherwise (bunfig.toml's
// `timeout` key is not one bun reads).
const TIMEOUT_MS = 120_000;

// Compiled tests run from .build/tests/, sources from tests/.
const root = fileURLToPath(new URL(ext === ".js" ? "../../" : "../", import.meta.url));
const bin = join(root, "node_modules", ".bin");

const writer: TortureRuntime = {
  label: runtime === "node" ? `node${process.versions.node.split(".")[0]}` : runtime,
  kind: runtime,
  command: process.execPath,
};

/** Why `path` cannot be run, or undefined if it can. */
function notRunnable(path: string, what: string): string | undefined {
  try {
    accessSync(path, constants.X_OK);
    return undefined;
  } catch {
    return `no ${what} at ${path} (npm ci installs it)`;
  }
}

/** One reader in each other runtime, or the reason it cannot run here. */
const candidates: { runtime: TortureRuntime; missing: string | undefined }[] = [];
for (const kind of ["node", "deno", "bun"] as const) {
  if (kind === runtime) continue;
  const reader: TortureRuntime = {
    label: kind === "node" ? "node24" : kind,
    kind,
    command: join(bin, kind),
  };
  let missing = notRunnable(reader.command, `${kind} binary`);
  if (!missing && kind === "node") {
    // Node runs the compiled fixtures, which `npm test` builds before any Node run.
    const [, [script]] = fixtureCommand(root, reader, "process_reader", []);
    try {
      accessSync(script!);
    } catch {
      missing = `the compiled fixture ${script} is missing (npx tsc -p tsconfig.json builds it)`;
    }
  }
  candidates.push({ runtime: reader, missing });
}
const readers = candidates.filter((c) => !c.missing).map((c) => c.runtime);
const names = readers.map((r) => r.label).join(" and ") || "no other runtime";

test(
  `a ${writer.label} writer SIGKILLed ${KILLS} times at random moments leaves a whole file holding every acknowledged write, and readers in ${names} never see a bad one`,
  { timeout: TIMEOUT_MS },
  async () => {
    const dir = realpathSync(mkdtempSync(join(tmpdir(), "atomfs-torture-")));
    try {
      const report = await torture({
        root,
        dir,
        writer,
        readers,
        kills: KILLS,
        budgetMs: BUDGET_MS,
        sweepEvery: KILLS,
      });
      const summary = JSON.stringify(report);
      assert.deepEqual(report.errors, [], summary);
      assert.ok(report.kills >= KILLS / 2, `only ${report.kills} kills fit in ${BUDGET_MS} ms`);
      assert.equal(report.torn, 0, `torn files: ${report.examples.join("; ")}`);
      assert.equal(report.lost, 0, `lost acknowledged writes: ${report.examples.join("; ")}`);
      for (const reader of report.readers) {
        assert.equal(
          reader.bad,
          0,
          `${reader.runtime} bad reads, e.g. ${reader.examples.join("; ")}`,
        );
        assert.ok(reader.reads > 0, `the ${reader.runtime} reader read nothing`);
      }
      assert.equal(report.readers.length, readers.length);
      // The kills landed in every phase of a write.
      const aims = Object.values(report.aims);
      const sum = (key: "beforeFirstResolve" | "afterResolve" | "midWrite") =>
        aims.reduce((total, aim) => total + aim[key], 0);
      assert.ok(
        sum("beforeFirstResolve") > 0,
        `no kill before the first write resolved: ${summary}`,
      );
      assert.ok(sum("afterResolve") > 0, `no kill after a write resolved: ${summary}`);
      assert.ok(
        sum("midWrite") > 0,
        `no kill between creating a temp file and renaming it: ${summary}`,
      );
      assert.ok(report.acknowledged > 0, "no write resolved before its kill");
      assert.equal(report.swept, report.leftovers);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

for (const { runtime: reader, missing } of candidates) {
  if (!missing) continue;
  test(
    `a ${reader.label} reader never sees a bad file while a ${writer.label} writer is SIGKILLed`,
    { skip: missing },
    () => {},
  );
}
