// npm test: compile for Node, then run the whole suite on Node 20 (the
// system's), Node 24 (a devDependency), Deno and Bun, and end with one
// "<runtime>: N passed, N failed" line per runtime.
//
//   npm test                      everything
//   npm test -- deno bun          only these runtimes
//   npm test -- --only=faults     only test files whose name contains "faults"
//   npm test -- --built           skip the compile (the caller has just made .build)

import { spawn, spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { executable, systemNode } from "./_node.mjs";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const bin = join(root, "node_modules", ".bin");
const args = process.argv.slice(2);
const only = args.find((a) => a.startsWith("--only="))?.slice(7);
const chosen = args.filter((a) => !a.startsWith("--"));

function nodeVersion(node) {
  return spawnSync(node, ["--version"], { encoding: "utf8" }).stdout.trim();
}

const testFiles = (dir, ext) =>
  readdirSync(dir)
    .filter((f) => f.endsWith(`_test${ext}`) && (!only || f.includes(only)))
    .sort()
    .map((f) => join(dir, f));

function run(command, argv, env = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, argv, {
      cwd: root,
      env: { ...process.env, NO_COLOR: "1", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    const relay = (stream, target) =>
      stream.on("data", (chunk) => {
        output += chunk;
        target.write(chunk);
      });
    relay(child.stdout, process.stdout);
    relay(child.stderr, process.stderr);
    child.on("close", (code, signal) => {
      // Colour codes are stripped, should a runner print them anyway.
      // deno-lint-ignore no-control-regex
      const plain = output.replace(/\x1b\[[0-9;]*m/g, "");
      resolve({ code: code ?? 1, signal, output: plain });
    });
  });
}

function count(output, pattern) {
  const matches = [...output.matchAll(pattern)];
  return matches.length ? Number(matches.at(-1)[1]) : undefined;
}

const runtimes = [];
const node20 = systemNode(root);
const node24 = join(bin, "node");
for (const [label, node] of [["node20", node20], ["node24", node24]]) {
  if (!node || !executable(node)) {
    runtimes.push({ label, missing: `no ${label} binary found` });
    continue;
  }
  const major = nodeVersion(node).replace(/^v(\d+).*/, "node$1");
  runtimes.push({
    label: major,
    async run() {
      const files = testFiles(join(root, ".build", "tests"), ".js");
      const r = await run(node, ["--expose-gc", "--test", "--test-reporter=tap", ...files]);
      return {
        ...r,
        passed: count(r.output, /^# pass (\d+)/gm),
        failed: count(r.output, /^# fail (\d+)/gm),
        skipped: count(r.output, /^# skipped (\d+)/gm),
      };
    },
  });
}
runtimes.push({
  label: "deno",
  async run() {
    const r = await run(join(bin, "deno"), [
      "test",
      "-A",
      "--v8-flags=--expose-gc",
      ...testFiles(join(root, "tests"), ".ts"),
    ]);
    const summary =
      /(?:ok|FAILED) \| (\d+) passed(?: \(\d+ steps?\))? \| (\d+) failed(?: \| (\d+) ignored)?/
        .exec(r.output);
    return {
      ...r,
      passed: summary ? Number(summary[1]) : undefined,
      failed: summary ? Number(summary[2]) : undefined,
      skipped: summary?.[3] ? Number(summary[3]) : 0,
    };
  },
});
runtimes.push({
  label: "bun",
  async run() {
    // bun test ignores the timeout in bunfig.toml (measured on 1.4.5): pass it here.
    const r = await run(join(bin, "bun"), [
      "test",
      "--timeout",
      "120000",
      ...testFiles(join(root, "tests"), ".ts"),
    ]);
    return {
      ...r,
      passed: count(r.output, /^\s*(\d+) pass$/gm),
      failed: count(r.output, /^\s*(\d+) fail$/gm) ?? 0,
      skipped: count(r.output, /^\s*(\d+) skip$/gm) ?? 0,
    };
  },
});

const selected = runtimes.filter((r) =>
  chosen.length === 0 || chosen.some((c) => r.label.startsWith(c))
);

// One compile serves both Node versions: Node 20 cannot strip types. A caller
// that has just compiled (scripts/test_fs.mjs) says so with --built.
if (selected.some((r) => r.label.startsWith("node")) && !args.includes("--built")) {
  const tsc = await run(join(bin, "tsc"), ["-p", "tsconfig.json"]);
  if (tsc.code !== 0) {
    console.error("tsc failed: the suite cannot run on Node");
    process.exit(1);
  }
}

const lines = [];
let bad = false;
for (const runtime of selected) {
  if (runtime.missing) {
    lines.push(`${runtime.label}: 0 passed, 1 failed (${runtime.missing})`);
    bad = true;
    continue;
  }
  console.log(`\n===== ${runtime.label} =====`);
  const r = await runtime.run();
  let { passed, failed, skipped } = r;
  if (passed === undefined || failed === undefined) {
    // The runner died before printing its summary: count it as a failure.
    passed ??= 0;
    failed = (failed ?? 0) + 1;
  }
  if (r.code !== 0 && failed === 0) failed = 1;
  if (failed > 0) bad = true;
  lines.push(
    `${runtime.label}: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`,
  );
}
console.log("");
for (const line of lines) console.log(line);
process.exit(bad ? 1 : 0);
