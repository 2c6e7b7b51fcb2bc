// npm run bench: run every scenario in bench/ on Node 20 (the system's), Node
// 24 (a devDependency), Deno and Bun, atomfs beside its peers and the
// hand-written floors, side by side in one run; print a table per scenario and
// a summary of the issue's targets, each marked met or missed. Each measurement
// is a fresh process (bench/_worker.mjs); repetitions are interleaved across
// runtimes and contenders, so that a noisy minute on this machine hits every
// contender alike.
//
//   npm run bench                                  A to E, 3 repetitions
//   npm run bench -- node24 deno                   only these runtimes
//   npm run bench -- --reps=5 --only=ac            more repetitions; scenarios A and C only
//   npm run bench -- --big                         also write a 3 GiB file once (D3G)
//   npm run bench -- --rev=HEAD                    measure a commit instead of the working tree
//   npm run bench -- --dir=/mnt/disk               temp dirs there instead of os.tmpdir()
//   npm run bench -- --out=bench/RESULTS.md        also write the report there
//
// The library measured is a snapshot taken at the start, of the working tree or
// (--rev) of a commit: Deno and Bun import its mod.ts, Node its npm build (tsc
// -p tsconfig.build.json, as `npm run build`, emitted into the snapshot rather
// than dist/). Edits, builds or a `rm -rf dist` made meanwhile by others then
// cannot change the library halfway through a run. The benchmark itself
// (bench/) and the peers (node_modules) are used from the working tree.

import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  cpSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statfsSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { cpus, loadavg, release, tmpdir } from "node:os";
import { dirname, join, relative, sep } from "node:path";
import process from "node:process";
import { fileURLToPath, pathToFileURL } from "node:url";
import { executable, filesystem, firstLine, systemNode } from "./_node.mjs";
import { fixed, int, table, verdict } from "../bench/_report.mjs";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const bin = join(root, "node_modules", ".bin");
const benchDir = join(root, "bench");
const args = process.argv.slice(2);
const option = (name) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const reps = Number(option("reps") ?? 3);
const only = option("only")?.toLowerCase();
const out = option("out");
const rev = option("rev");
const big = args.includes("--big");
const parent = realpathSync(option("dir") ?? tmpdir());
const chosen = args.filter((a) => !a.startsWith("--"));
const known = ["reps", "only", "out", "rev", "dir"];
const unknown = args.filter((a) =>
  a.startsWith("--") && a !== "--big" && !known.some((k) => a.startsWith(`--${k}=`))
);
if (unknown.length > 0) throw new TypeError(`unknown option ${unknown.join(", ")}`);
if (!Number.isInteger(reps) || reps < 1) {
  throw new RangeError(`--reps must be a positive integer, got ${option("reps")}`);
}
/**
 * Repetitions of a scenario: its own fixed count (`reps`), or the run's,
 * raised to its `minReps` (a scenario whose single runs swing widely).
 */
const roundsOf = (scenario) => scenario.reps ?? Math.max(reps, scenario.minReps ?? 1);

if (only !== undefined && !/^[a-z]+$/.test(only)) {
  throw new RangeError(`--only takes scenario letters (e.g. --only=ac), got ${only}`);
}

const git = (argv) => spawnSync("git", argv, { cwd: root, encoding: "utf8" }).stdout?.trim() ?? "";

/** A hash of the library's sources (every .ts outside tests/), to say what was measured. */
function sourceHash(dir) {
  const hash = createHash("sha256");
  const walk = (sub) => {
    for (
      const entry of readdirSync(join(dir, sub), { withFileTypes: true }).sort((a, b) =>
        a.name < b.name ? -1 : 1
      )
    ) {
      const rel = sub ? `${sub}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        if (!["node_modules", "tests", "dist", "bench", "scripts", ".git"].includes(rel)) walk(rel);
      } else if (entry.isFile() && rel.endsWith(".ts")) {
        hash.update(rel).update(readFileSync(join(dir, rel)));
      }
    }
  };
  walk("");
  return hash.digest("hex").slice(0, 12);
}

/**
 * Copy the working tree (not node_modules, .git or build output), or extract
 * commit `rev`, and build it for Node there. Returns the snapshot's directory
 * and a hash of its library sources.
 */
function snapshot() {
  const dir = mkdtempSync(join(tmpdir(), "atomfs-bench-lib-"));
  const fail = (message) => {
    rmSync(dir, { recursive: true, force: true });
    console.error(message);
    process.exit(1);
  };
  if (rev) {
    const archive = spawnSync(
      "sh",
      ["-c", 'git archive --format=tar "$1" | tar -x -C "$2"', "sh", rev, dir],
      { cwd: root, encoding: "utf8" },
    );
    if (archive.status !== 0) fail(`cannot extract --rev=${rev}: ${archive.stderr.trim()}`);
  } else {
    const skip = new Set(["node_modules", ".git", "dist", ".build", "bench", "scripts"]);
    cpSync(root, dir, {
      recursive: true,
      filter: (src) => {
        const rel = relative(root, src);
        return rel === "" || (!skip.has(rel.split(sep)[0]) && !rel.endsWith(".tgz"));
      },
    });
  }
  // For tsc's @types/node; package.json (copied) makes Node load the .js as ES modules.
  symlinkSync(join(root, "node_modules"), join(dir, "node_modules"));
  const tsc = spawnSync(join(bin, "tsc"), ["-p", join(dir, "tsconfig.build.json")], {
    cwd: dir,
    stdio: "inherit",
  });
  if (tsc.status !== 0) fail("tsc failed: cannot build the library for Node");
  return { dir, hash: sourceHash(dir) };
}

// Scenarios first: a typo in --only should not cost a build.
const found = [];
for (
  const file of readdirSync(benchDir).filter((f) => /^[a-z0-9][a-z0-9_]*\.mjs$/.test(f)).sort()
) {
  const module = await import(pathToFileURL(join(benchDir, file)).href);
  for (const value of Object.values(module)) {
    if (typeof value?.id === "string" && typeof value.report === "function") {
      found.push({ ...value, file: join(benchDir, file) });
    }
  }
}
found.sort((a, b) => (a.id < b.id ? -1 : 1));
const letter = (s) => s.id[0].toLowerCase();
const wanted = new Set(only ? [...only] : found.map(letter));
// E is read from the runs of A to C: asking for it brings them along.
for (const s of found.filter((s) => wanted.has(letter(s)) && s.uses)) {
  const added = s.uses.filter((id) => !wanted.has(id.toLowerCase()));
  if (added.length) console.log(`scenario ${s.id} needs ${added.join(", ")}: running them too`);
  for (const id of added) wanted.add(id.toLowerCase());
}
const scenarios = found.filter((s) => wanted.has(letter(s)));
if (scenarios.length === 0) {
  console.error(`no scenario in bench/${only ? ` with a letter in '${only}'` : ""}`);
  process.exit(1);
}

const lib = snapshot();
process.on("exit", () => rmSync(lib.dir, { recursive: true, force: true }));
process.on("SIGINT", () => process.exit(130));
// Node runs the compiled library (Node 20 cannot run .ts); Deno and Bun run the sources.
const distModule = join(lib.dir, "dist", "mod.js");
const srcModule = join(lib.dir, "mod.ts");
const worker = join(benchDir, "_worker.mjs");
const runtimes = [];
for (const node of [systemNode(root), join(bin, "node")]) {
  const version = node && executable(node) ? firstLine(node, ["--version"]) : undefined;
  if (!version) continue;
  const label = version.replace(/^v(\d+).*/, "node$1");
  if (runtimes.some((r) => r.label === label)) continue;
  runtimes.push({
    label,
    version: `Node ${version.slice(1)}`,
    command: node,
    argv: [],
    atomfs: distModule,
  });
}
const deno = join(bin, "deno");
if (executable(deno)) {
  runtimes.push({
    label: "deno",
    version: `Deno ${firstLine(deno, ["--version"])?.split(" ")[1]}`,
    command: deno,
    argv: ["run", "-A"],
    atomfs: srcModule,
  });
}
const bun = join(bin, "bun");
if (executable(bun)) {
  runtimes.push({
    label: "bun",
    version: `Bun ${firstLine(bun, ["--version"])}`,
    command: bun,
    argv: [],
    atomfs: srcModule,
  });
}
const selected = runtimes.filter((r) =>
  chosen.length === 0 || chosen.some((c) => r.label.startsWith(c))
);
const missing = ["node20", "node24", "deno", "bun"].filter((label) =>
  (chosen.length === 0 || chosen.some((c) => label.startsWith(c))) &&
  !runtimes.some((r) => r.label === label)
);
if (missing.length > 0) console.warn(`not found, skipped: ${missing.join(", ")}`);
if (selected.length === 0) {
  console.error("no runtime to benchmark");
  process.exit(1);
}

/**
 * Whether syscalls can be counted with strace here: -f follows every thread
 * (the runtimes' I/O pools); --seccomp-bpf stops the process only at the
 * traced syscalls, where the kernel supports it.
 */
function straceSupport() {
  const version = firstLine("strace", ["-V"]);
  if (!version) return { available: false, reason: "strace not found" };
  let error = "";
  for (const extra of [["--seccomp-bpf"], []]) {
    const argv = ["-f", "-qq", ...extra];
    const r = spawnSync("strace", [...argv, "-e", "trace=/^fsync$", "-o", "/dev/null", "true"], {
      encoding: "utf8",
    });
    if (r.status === 0) {
      return { available: true, version: version.replace(/^strace -- version /, "strace "), argv };
    }
    error = r.stderr.trim().split("\n")[0];
  }
  return { available: false, reason: `strace cannot trace here: ${error}` };
}
const strace = scenarios.some((s) => s.strace) ? straceSupport() : { available: false };

/**
 * One measurement: a fresh worker process. With `traceFile`, the worker runs
 * under strace, which writes the scenario's syscalls there.
 */
function measure(runtime, scenario, contender, traceFile) {
  const workerArgv = [
    ...runtime.argv,
    worker,
    `--scenario=${scenario.file}`,
    `--id=${scenario.id}`,
    `--contender=${contender}`,
    `--atomfs=${runtime.atomfs}`,
    `--dir=${parent}`,
  ];
  const [command, argv] = traceFile
    ? [
      "strace",
      [
        ...strace.argv,
        "-e",
        `trace=${scenario.strace.filter}`,
        "-o",
        traceFile,
        runtime.command,
        ...workerArgv,
      ],
    ]
    : [runtime.command, workerArgv];
  return new Promise((resolve) => {
    const child = spawn(command, argv, {
      cwd: root,
      env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" },
      stdio: ["ignore", "pipe", "pipe"],
      timeout: scenario.timeoutMs ?? 300_000,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("close", (code, signal) => {
      let result;
      try {
        result = JSON.parse(stdout.trim().split("\n").at(-1));
      } catch {
        // A crash rather than a reported failure: name the first error line it printed.
        // deno-lint-ignore no-control-regex
        const lines = stderr.replace(/\x1b\[[0-9;]*m/g, "").split("\n").map((l) => l.trim()).filter(
          Boolean,
        );
        result = { error: lines.find((l) => /error/i.test(l)) ?? lines.at(-1) ?? "no output" };
      }
      if (code !== 0 && !result.error) result = { error: "no error reported" };
      if (result.error !== undefined) result.error = `exit ${code ?? signal}: ${result.error}`;
      resolve(result);
    });
  });
}

const pad = (text, width) => String(text).padEnd(width);
const stallText = (stall) =>
  `${fixed(stall?.maxMs ?? 0, 1)} ms${
    stall?.busyMaxMs === undefined ? "" : ` (busy ${fixed(stall.busyMaxMs, 1)})`
  }`;
const defaultProgress = (r) =>
  `${int(r.ops / r.seconds).padStart(7)} writes/s   cpu ${int(r.cpuUs)} µs   p50 ${
    int(r.p50Us)
  } µs   p99 ${int(r.p99Us)} µs   stall ${stallText(r.stall)}`;

const started = new Date();
const clock = performance.now();
const loadBefore = loadavg()[0];
let failed = false;
const contexts = {};
for (const scenario of scenarios.filter((s) => s.run)) {
  const context = { scenario, runtimes: selected, results: {}, traced: {} };
  contexts[scenario.id] = context;
  // A scenario behind a flag (D3G: --big) still reports, as not run, so its target shows.
  const skipped = scenario.flag && !(scenario.flag === "big" && big)
    ? `pass --${scenario.flag} to run it`
    : scenario.skip?.(parent);
  if (skipped) {
    console.log(`\n===== scenario ${scenario.id}: skipped: ${skipped} =====`);
    context.skipped = skipped;
    continue;
  }
  const { contenders } = scenario;
  const rounds = roundsOf(scenario);
  const width = Math.max(...contenders.map((c) => c.length)) + 2;
  const begun = performance.now();
  console.log(`\n===== scenario ${scenario.id}: ${scenario.title} =====`);
  for (const runtime of selected) {
    context.results[runtime.label] = Object.fromEntries(contenders.map((c) => [c, []]));
  }
  for (let rep = 0; rep < rounds; rep++) {
    for (const runtime of selected) {
      // Rotate who goes first, so no contender always runs right after another's fsync storm.
      const order = contenders.map((_, i) => contenders[(i + rep) % contenders.length]);
      for (const contender of order) {
        const r = await measure(runtime, scenario, contender);
        context.results[runtime.label][contender][rep] = r;
        if (r.error) failed = true;
        console.log(
          `${scenario.id} ${rep + 1}/${rounds} ${pad(runtime.label, 7)}${pad(contender, width)}` +
            (r.error ? `FAILED ${r.error}` : (scenario.progress ?? defaultProgress)(r)),
        );
      }
    }
  }
  if (scenario.strace && strace.available) {
    const traceDir = mkdtempSync(join(tmpdir(), "atomfs-bench-strace-"));
    try {
      for (const runtime of selected) {
        context.traced[runtime.label] = {};
        for (const contender of contenders) {
          const file = join(traceDir, `${runtime.label}-${contender}.txt`);
          const r = await measure(runtime, scenario, contender, file);
          let counts;
          try {
            counts = r.error ? r : scenario.strace.parse(readFileSync(file, "utf8"));
          } catch (error) {
            counts = { error: error.message };
          }
          context.traced[runtime.label][contender] = counts;
          console.log(
            `${scenario.id} strace ${pad(runtime.label, 7)}${pad(contender, width)}` +
              (counts.error ? `FAILED ${counts.error}` : JSON.stringify(counts)),
          );
        }
      }
    } finally {
      rmSync(traceDir, { recursive: true, force: true });
    }
  }
  console.log(`scenario ${scenario.id}: ${Math.round((performance.now() - begun) / 1000)} s`);
}

const sections = [];
const targets = [];
for (const scenario of scenarios) {
  const context = contexts[scenario.id] ?? { scenario, runtimes: selected };
  const report = scenario.report({ ...context, all: contexts, strace });
  sections.push(report.text);
  targets.push(...report.targets);
}
const judged = targets.flatMap((t) => Object.values(t.cells)).filter((c) => c.met !== undefined);
const summary = [
  "## Summary: the issue's targets",
  "",
  `${judged.filter((c) => c.met).length} of ${judged.length} target cells met.`,
  "",
  table(
    ["target", ...selected.map((r) => r.label)],
    targets.map((t) => [
      t.name,
      ...selected.map((r) => {
        const cell = t.cells[r.label];
        return cell ? `${cell.text}${verdict(cell.met)}` : "";
      }),
    ]),
    ["l", ...selected.map(() => "l")],
  ),
].join("\n");

const seconds = (performance.now() - clock) / 1000;
const dirty = !rev && git(["status", "--porcelain", "--", "*.ts", ":!tests", ":!bench"]) !== "";
const cpu = cpus();
const peers = ["write-file-atomic", "atomically", "steno"].map((name) => {
  try {
    const { version } = JSON.parse(
      readFileSync(join(root, "node_modules", name, "package.json"), "utf8"),
    );
    return `${name} ${version}`;
  } catch {
    return `${name} (not installed)`;
  }
});
const { bavail, bsize } = statfsSync(parent);
// Scenarios run (not skipped) with another number of repetitions than the run's.
const exceptions = Object.values(contexts)
  .filter(({ scenario, skipped }) => !skipped && roundsOf(scenario) !== reps)
  .map(({ scenario }) => `${scenario.id}: ${roundsOf(scenario)}`);
const header = [
  `- Date: ${started.toISOString().replace(/\.\d+Z$/, "Z")} (whole run: ${Math.round(seconds)} s)`,
  `- Machine: ${cpu.length} × ${
    cpu[0]?.model.trim() ?? "unknown CPU"
  }, ${process.platform} ${release()}; load average ${fixed(loadBefore)} at the start, ${
    fixed(loadavg()[0])
  } at the end (1 min; other processes share the machine)`,
  `- Filesystem of the temp dirs (${parent}): ${filesystem(parent)}; ${
    fixed(bavail * bsize / 2 ** 30, 1)
  } GiB free`,
  `- Runtimes: ${selected.map((r) => r.version).join(", ")}`,
  `- Peers: ${peers.join(", ")} (Deno loads them from node_modules through package.json)`,
  `- atomfs: ${
    rev
      ? `--rev=${rev}, commit ${git(["rev-parse", "--short", rev])}`
      : `commit ${git(["rev-parse", "--short", "HEAD"])}${dirty ? " plus uncommitted changes" : ""}`
  } ` +
  `(library sources sha256 ${lib.hash}…); Node imports its npm build (dist/mod.js), Deno and Bun its mod.ts`,
  `- ${reps} repetition${reps === 1 ? "" : "s"} per contender and runtime${
    exceptions.length ? ` (${exceptions.join(", ")})` : ""
  }, each a fresh process, interleaved round by round`,
  `- Syscall counts (C): ${
    strace.available
      ? `${strace.version} (${strace.argv.join(" ")}), one extra run per contender`
      : strace.reason ?? "not asked for"
  }`,
  `- Command: \`npm run bench${args.length ? ` -- ${args.join(" ")}` : ""}\``,
].join("\n");
const report = `${header}\n\n${summary}\n\n${sections.join("\n\n")}\n`;
console.log(`\n${report}`);
if (out) {
  writeFileSync(
    out,
    `# Benchmark results\n\nOnly the ratios mean anything beyond this run; see README.md.\n\n${report}`,
  );
  // The suite runs `deno fmt --check` over bench/: a report written there must already be formatted.
  if (executable(deno)) spawnSync(deno, ["fmt", "-q", out], { cwd: root });
  console.log(`written to ${out}`);
}
process.exit(failed ? 1 : 0);
