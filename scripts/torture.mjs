// npm run torture: for each runtime (Node 20, the system's; Node 24, a
// devDependency; Deno; Bun), SIGKILL a writer process at random moments, over
// and over, while readers in the other runtimes read the file it replaces;
// then print a table. Exits non-zero if any file was torn, any acknowledged
// write lost, any read bad, or anything else failed. The kill loop itself is
// tests/_torture.ts, which tests/torture_test.ts also runs (100 kills).
//
//   npm run torture                              3,000 kills per runtime, all four
//   npm run torture -- --kills=500 node24 deno   fewer kills, only these writers
//   npm run torture -- --dir=/mnt/disk           temp dirs there instead of os.tmpdir()
//   npm run torture -- --seed=42                 replay the same aims, sizes and delays
//   npm run torture -- --out=bench/TORTURE.md    also write the report there
//
// What runs is a snapshot of the working tree taken at the start and compiled
// there (tsc -p tsconfig.json into the snapshot's .build/, which Node runs;
// Deno and Bun run its sources), so that edits and builds made meanwhile
// cannot change the library or the fixtures halfway through a run.

import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  cpSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { cpus, release, tmpdir } from "node:os";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { executable, filesystem, firstLine, systemNode } from "./_node.mjs";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const bin = join(root, "node_modules", ".bin");
const args = process.argv.slice(2);
const option = (name) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const kills = Number(option("kills") ?? 3000);
const seed = Number(option("seed") ?? Math.floor(Math.random() * 2 ** 32));
const out = option("out");
const parent = realpathSync(option("dir") ?? tmpdir());
const chosen = args.filter((a) => !a.startsWith("--"));
if (!Number.isInteger(kills) || kills < 1) {
  throw new RangeError(`--kills must be a positive integer, got ${option("kills")}`);
}
if (!Number.isInteger(seed) || seed < 0) {
  throw new RangeError(`--seed must be a non-negative integer, got ${option("seed")}`);
}

/** Copy the working tree (not node_modules, .git or build output) and compile it there. */
function snapshot() {
  const dir = mkdtempSync(join(tmpdir(), "atomfs-torture-lib-"));
  const skip = new Set(["node_modules", ".git", "dist", ".build", "bench", "scripts"]);
  const hash = createHash("sha256");
  cpSync(root, dir, {
    recursive: true,
    filter: (src) => {
      const rel = relative(root, src);
      if (rel === "") return true;
      if (skip.has(rel.split(sep)[0]) || rel.endsWith(".tgz")) return false;
      if (rel.endsWith(".ts")) hash.update(rel).update(readFileSync(src));
      return true;
    },
  });
  symlinkSync(join(root, "node_modules"), join(dir, "node_modules"));
  const tsc = spawnSync(join(bin, "tsc"), ["-p", join(dir, "tsconfig.json")], {
    cwd: dir,
    stdio: "inherit",
  });
  if (tsc.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    console.error("tsc failed: cannot compile the library and fixtures for Node");
    process.exit(1);
  }
  return { dir, hash: hash.digest("hex").slice(0, 12) };
}

const runtimes = [];
for (const node of [systemNode(root), join(bin, "node")]) {
  const version = node && executable(node) ? firstLine(node, ["--version"]) : undefined;
  if (!version) continue;
  const label = version.replace(/^v(\d+).*/, "node$1");
  if (runtimes.some((r) => r.label === label)) continue;
  runtimes.push({ label, kind: "node", command: node, version: `Node ${version.slice(1)}` });
}
const deno = join(bin, "deno");
if (executable(deno)) {
  const version = firstLine(deno, ["--version"])?.split(" ")[1];
  runtimes.push({ label: "deno", kind: "deno", command: deno, version: `Deno ${version}` });
}
const bun = join(bin, "bun");
if (executable(bun)) {
  const version = firstLine(bun, ["--version"]);
  runtimes.push({ label: "bun", kind: "bun", command: bun, version: `Bun ${version}` });
}
const find = (label) => runtimes.find((r) => r.label === label);
const wanted = ["node20", "node24", "deno", "bun"].filter((label) =>
  chosen.length === 0 || chosen.some((c) => label.startsWith(c))
);
const missing = wanted.filter((label) => !find(label));
if (missing.length > 0) console.warn(`not found, skipped as writers: ${missing.join(", ")}`);
const writers = wanted.map(find).filter(Boolean);
if (writers.length === 0) {
  console.error("no runtime to torture");
  process.exit(1);
}

/**
 * One reader in each other runtime: Deno and Bun watch the Node writers,
 * Node 20 and Bun the Deno writer, Node 24 and Deno the Bun writer (either
 * Node when one is missing).
 */
function readersFor(writer) {
  const node = writer.kind === "bun" ? ["node24", "node20"] : ["node20", "node24"];
  const picks = { node: [["deno"], ["bun"]], deno: [node, ["bun"]], bun: [node, ["deno"]] };
  const readers = [];
  const skipped = [];
  for (const labels of picks[writer.kind]) {
    const reader = labels.map(find).find(Boolean);
    if (reader) readers.push(reader);
    else skipped.push(`${labels.join(" or ")}: not found`);
  }
  return { readers, skipped };
}

const int = (n) => Math.round(n).toLocaleString("en");
const duration = (ms) => {
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
};
const table = (head, body, align) =>
  [
    `| ${head.join(" | ")} |`,
    `|${align.map((a) => (a === "r" ? "---:" : "---")).join("|")}|`,
    ...body.map((r) => `| ${r.join(" | ")} |`),
  ].join("\n");

const lib = snapshot();
const dirs = [];
process.on("exit", () => {
  for (const dir of [lib.dir, ...dirs]) rmSync(dir, { recursive: true, force: true });
});
process.on("SIGINT", () => process.exit(130));
const { torture } = await import(pathToFileURL(join(lib.dir, ".build", "tests", "_torture.js")));

const started = new Date();
const clock = performance.now();
const results = [];
for (const [index, writer] of writers.entries()) {
  const { readers, skipped } = readersFor(writer);
  const dir = mkdtempSync(join(parent, `atomfs-torture-${writer.label}-`));
  dirs.push(dir);
  console.log(
    `\n===== ${writer.label}: ${int(kills)} kills, readers ${
      readers.map((r) => r.label).join(", ") || "none"
    }${skipped.length ? ` (skipped: ${skipped.join("; ")})` : ""} =====`,
  );
  const report = await torture({
    root: lib.dir,
    dir: realpathSync(dir),
    writer,
    readers,
    kills,
    // One seed per writer, derived from the run's, so that `--seed` replays every runtime.
    seed: (seed + index * 0x9e3779b9) >>> 0,
    onProgress: (r) =>
      console.log(
        `${writer.label} ${int(r.kills)}/${int(kills)} kills  ${
          (r.kills / (r.durationMs / 1000)).toFixed(1)
        } kills/s  torn ${r.torn}  lost ${r.lost}  temps left ${r.leftovers}, swept ${r.swept}`,
      ),
  });
  rmSync(dir, { recursive: true, force: true });
  results.push({ writer, report, skipped });
  for (const error of report.errors) console.error(`${writer.label}: ${error}`);
  for (const example of report.examples) console.error(`${writer.label}: ${example}`);
  for (const reader of report.readers) {
    for (const example of reader.examples) {
      console.error(`${writer.label}: ${reader.runtime} reader: ${example}`);
    }
  }
}
const seconds = (performance.now() - clock) / 1000;

const failed = results.some(({ report: r }) =>
  r.torn > 0 || r.lost > 0 || r.errors.length > 0 || r.readers.some((reader) => reader.bad > 0)
);
const main = table(
  [
    "runtime",
    "kills",
    "torn files",
    "lost acknowledged writes",
    "bad reads / reads (by reader runtime)",
    "leftover temps / swept",
    "duration",
    "kills/s",
    "writer start-up (median)",
    "errors",
  ],
  results.map(({ writer, report: r, skipped }) => [
    `${writer.label} (${writer.version.split(" ")[1]})`,
    int(r.kills),
    int(r.torn),
    int(r.lost),
    [
      ...r.readers.map((reader) => `${reader.runtime}: ${int(reader.bad)} / ${int(reader.reads)}`),
      ...skipped.map((s) => `skipped ${s}`),
    ].join("; ") || "no reader",
    `${int(r.leftovers)} / ${int(r.swept)}`,
    duration(r.durationMs),
    (r.kills / (r.durationMs / 1000)).toFixed(1),
    `${int(r.startupMs)} ms`,
    int(r.errors.length),
  ]),
  ["l", "r", "r", "r", "l", "r", "r", "r", "r", "r"],
);
const aimNames = {
  "start-up": "start-up: uniform over the writer's usual start-up, from spawn",
  "first-write": "first write: uniform over 1.2 × its usual duration, from `ready`",
  "mid-stream": "mid-stream: uniform over 6 × the usual interval, from the 1st resolve",
  "after-resolve": "after resolve: the moment the 1st, 2nd or 3rd resolved version is read",
  "exponential": "exponential: mean first write + interval, from `ready`",
};
const landed = table(
  [
    "runtime",
    "aim",
    "kills",
    "in start-up",
    "before the 1st write resolved",
    "after ≥ 1 resolved",
    "left a temp file (between open and rename)",
  ],
  results.flatMap(({ writer, report: r }) =>
    Object.entries(r.aims).map(([aim, a], i) => [
      i === 0 ? writer.label : "",
      aimNames[aim] ?? aim,
      int(a.kills),
      int(a.beforeReady),
      int(a.beforeFirstResolve),
      int(a.afterResolve),
      int(a.midWrite),
    ])
  ),
  ["l", "l", "r", "r", "r", "r", "r"],
);
const sizeNames = { 16: "≤ 16 B", 4096: "≤ 4 KiB", 65536: "≤ 64 KiB", 1048576: "≤ 1 MiB" };
const sizes = Object.keys(sizeNames);
const mix = table(
  [
    "runtime",
    ...sizes.map((s) => `kills at ${sizeNames[s]}`),
    'durability "full"',
    'durability "file"',
    "writes acknowledged",
    "file ahead of the last ack (max)",
  ],
  results.map(({ writer, report: r }) => [
    writer.label,
    ...sizes.map((s) => int(r.sizes[s] ?? 0)),
    int(r.durabilities.full ?? 0),
    int(r.durabilities.file ?? 0),
    int(r.acknowledged),
    int(r.maxAhead),
  ]),
  ["l", ...sizes.map(() => "r"), "r", "r", "r", "r"],
);

const git = (argv) => spawnSync("git", argv, { cwd: root, encoding: "utf8" }).stdout?.trim() ?? "";
const dirty = git(["status", "--porcelain", "--", "*.ts"]) !== "";
const cpu = cpus();
const header = [
  `- Date: ${started.toISOString().replace(/\.\d+Z$/, "Z")} (whole run: ${
    duration(seconds * 1000)
  })`,
  `- Machine: ${cpu.length} × ${
    cpu[0]?.model.trim() ?? "unknown CPU"
  }, ${process.platform} ${release()}`,
  `- Filesystem of the temp dirs (${parent}): ${filesystem(parent)}`,
  `- Runtimes: ${
    writers.map((r) => r.version).join(", ")
  }; the script itself ran on Node ${process.versions.node}`,
  `- atomfs: commit ${git(["rev-parse", "--short", "HEAD"]) || "unknown"}${
    dirty ? " plus uncommitted changes" : ""
  } (sources sha256 ${lib.hash}…); Node runs it compiled by tsc, Deno and Bun from source`,
  `- Seed: ${seed}`,
  `- Command: \`npm run torture${args.length ? ` -- ${args.join(" ")}` : ""}\``,
].join("\n");
const report = [
  header,
  main,
  "Where the kills landed, by aim (a kill's phase as the writer's output and the directory show it):",
  landed,
  "Payload sizes (the largest body a version may have; a third of the versions are ≤ 16 B whatever " +
  "the size) and durability options, per runtime:",
  mix,
  `Result: ${failed ? "**FAILED**" : "passed"}`,
].join("\n\n") + "\n";
console.log(`\n${report}`);
if (out) {
  writeFileSync(
    out,
    [
      "# Torture runs",
      "For each runtime, a writer process (tests/fixtures/process_writer.ts) replaces a file whose " +
      "content checks itself (length and checksum inside) and is SIGKILLed at a random moment, " +
      "then again, each time a fresh process. After each kill the file must be whole and hold " +
      "at least the last version the writer printed as resolved. Meanwhile readers in other " +
      "runtimes read the file without pause and count every torn, empty, missing or corrupt " +
      "read. The temp files the kills leave are counted and removed with " +
      "`sweep(dir, { olderThanMs: 0 })`, run by the writer's runtime. The loop is " +
      "tests/_torture.ts; tests/torture_test.ts runs 100 kills of it in `npm test`.",
      report,
    ].join("\n\n"),
  );
  // deno fmt --check covers bench/ (tests/packaging_test.ts): write the report as it would.
  if (executable(deno)) spawnSync(deno, ["fmt", "--quiet", out], { cwd: root, stdio: "inherit" });
  console.log(`written to ${out}`);
}
process.exit(failed ? 1 : 0);
