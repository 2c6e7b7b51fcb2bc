// npm run bench: run every scenario in bench/ on Node 20 (the system's), Node
// 24 (a devDependency), Deno and Bun, side by side in one run, and end with a
// table per scenario. Each measurement is a fresh process (bench/_worker.mjs);
// repetitions are interleaved across runtimes and contenders, so that a noisy
// minute on this machine hits every contender alike.
//
//   npm run bench                                  everything, 7 repetitions
//   npm run bench -- node24 deno                   only these runtimes
//   npm run bench -- --reps=3 --only=a             fewer repetitions, scenarios whose file starts with "a"
//   npm run bench -- --dir=/mnt/disk               temp dirs there instead of os.tmpdir()
//   npm run bench -- --out=bench/RESULTS.md        also write the report there
//
// The library measured is a snapshot of the working tree taken at the start:
// Deno and Bun import its mod.ts, Node its npm build (tsc -p
// tsconfig.build.json, as `npm run build`, emitted into the snapshot rather
// than dist/). Edits, builds or a `rm -rf dist` made meanwhile by others then
// cannot change the library halfway through a run.

import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  cpSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { cpus, release, tmpdir } from "node:os";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { executable, systemNode } from "./_node.mjs";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const bin = join(root, "node_modules", ".bin");
const benchDir = join(root, "bench");
const args = process.argv.slice(2);
const option = (name) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const reps = Number(option("reps") ?? 7);
const only = option("only");
const out = option("out");
const parent = realpathSync(option("dir") ?? tmpdir());
const chosen = args.filter((a) => !a.startsWith("--"));
if (!Number.isInteger(reps) || reps < 1) {
  throw new RangeError(`--reps must be a positive integer, got ${option("reps")}`);
}

function firstLine(command, argv) {
  const r = spawnSync(command, argv, { encoding: "utf8" });
  return r.status === 0 ? r.stdout.split("\n")[0].trim() : undefined;
}

/**
 * Copy the working tree (not node_modules, .git or build output) and build it
 * for Node there. Returns the snapshot's directory and a hash of its library
 * sources, so that a report says exactly what was measured.
 */
function snapshot() {
  const dir = mkdtempSync(join(tmpdir(), "atomfs-bench-lib-"));
  const skip = new Set(["node_modules", ".git", "dist", ".build", "bench", "scripts"]);
  const hash = createHash("sha256");
  cpSync(root, dir, {
    recursive: true,
    filter: (src) => {
      const rel = relative(root, src);
      if (rel === "") return true;
      if (skip.has(rel.split(sep)[0]) || rel.endsWith(".tgz")) return false;
      if (rel.endsWith(".ts") && !rel.startsWith(`tests${sep}`)) {
        hash.update(rel).update(readFileSync(src));
      }
      return true;
    },
  });
  // For tsc's @types/node; package.json (copied) makes Node load the .js as ES modules.
  symlinkSync(join(root, "node_modules"), join(dir, "node_modules"));
  const tsc = spawnSync(join(bin, "tsc"), ["-p", join(dir, "tsconfig.build.json")], {
    cwd: dir,
    stdio: "inherit",
  });
  if (tsc.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    console.error("tsc failed: cannot build the library for Node");
    process.exit(1);
  }
  return { dir, hash: hash.digest("hex").slice(0, 12) };
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

/** What the temp directories live on: type, device, mount options. */
function filesystem(dir) {
  const found = spawnSync(
    "findmnt",
    ["-n", "-o", "FSTYPE,SOURCE,TARGET,OPTIONS", "--target", dir],
    { encoding: "utf8" },
  );
  if (found.status === 0) {
    const [type, source, target, options] = found.stdout.trim().split(/\s+/);
    return `${type} (${source} mounted at ${target}, ${options})`;
  }
  const df = spawnSync("df", ["-T", dir], { encoding: "utf8" });
  if (df.status === 0) {
    const [source, type] = df.stdout.trim().split("\n").at(-1).split(/\s+/);
    return `${type} (${source})`;
  }
  return "unknown";
}

const scenarios = [];
for (
  const file of readdirSync(benchDir).filter((f) => /^[a-z0-9][a-z0-9_]*\.mjs$/.test(f)).sort()
) {
  if (only && !file.startsWith(only)) continue;
  const { scenario } = await import(pathToFileURL(join(benchDir, file)).href);
  scenarios.push({ ...scenario, file: join(benchDir, file) });
}
if (scenarios.length === 0) {
  console.error(`no scenario in bench/${only ? ` whose file starts with '${only}'` : ""}`);
  process.exit(1);
}

function measure(runtime, scenario, contender) {
  const argv = [
    ...runtime.argv,
    worker,
    `--scenario=${scenario.file}`,
    `--contender=${contender}`,
    `--atomfs=${runtime.atomfs}`,
    `--dir=${parent}`,
  ];
  return new Promise((resolve) => {
    const child = spawn(runtime.command, argv, {
      cwd: root,
      env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" },
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 300_000,
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

const median = (values) => {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const int = (n) => Math.round(n).toLocaleString("en");
const ratio = (n) => n.toFixed(2);
const pad = (text, width) => String(text).padEnd(width);

const started = new Date();
const clock = performance.now();
let failed = false;
const sections = [];
for (const scenario of scenarios) {
  const { contenders, baseline, unit, op } = scenario;
  console.log(`\n===== scenario ${scenario.id}: ${scenario.title} =====`);
  // results[runtime][contender] = one entry per repetition, in round order.
  const results = Object.fromEntries(
    selected.map((r) => [r.label, Object.fromEntries(contenders.map((c) => [c, []]))]),
  );
  for (let rep = 0; rep < reps; rep++) {
    for (const runtime of selected) {
      // Rotate who goes first, so no contender always runs right after another's fsync storm.
      const order = contenders.map((_, i) => contenders[(i + rep) % contenders.length]);
      for (const contender of order) {
        const r = await measure(runtime, scenario, contender);
        const rate = r.error ? undefined : r.ops / r.seconds;
        results[runtime.label][contender][rep] = r.error ? { error: r.error } : { ...r, rate };
        if (r.error) failed = true;
        console.log(
          `${scenario.id} ${rep + 1}/${reps} ${pad(runtime.label, 7)}${pad(contender, 12)}` +
            (r.error
              ? `FAILED ${r.error}`
              : `${int(rate).padStart(7)} ${unit}   cpu ${int(r.cpuUs)} µs   p50 ${
                int(r.p50Us)
              } µs   p99 ${int(r.p99Us)} µs`),
        );
      }
    }
  }

  const rows = [];
  const ratios = [];
  for (const runtime of selected) {
    const byContender = results[runtime.label];
    const ok = (c) => byContender[c].filter((r) => r && !r.error);
    const base = ok(baseline);
    const baseMedian = base.length ? median(base.map((r) => r.rate)) : undefined;
    const ratioRow = [runtime.label];
    contenders.forEach((contender, i) => {
      const runs = ok(contender);
      const cell = [
        i === 0 ? `${runtime.label} (${runtime.version.split(" ")[1]})` : "",
        contender,
      ];
      if (runs.length === 0) {
        rows.push([...cell, "failed", "", "", "", "", ""]);
        if (contender !== baseline) ratioRow.push("failed");
        return;
      }
      const rates = runs.map((r) => r.rate);
      const m = median(rates);
      let vs = "";
      if (contender === baseline) {
        vs = "1.00";
      } else if (baseMedian === undefined) {
        vs = `no ${baseline}`;
        ratioRow.push(vs);
      } else {
        // Paired: this contender and the baseline measured in the same round.
        const paired = byContender[contender]
          .map((
            r,
            rep,
          ) => (r?.rate && byContender[baseline][rep]?.rate
            ? r.rate / byContender[baseline][rep].rate
            : undefined)
          )
          .filter((x) => x !== undefined);
        const range = paired.length
          ? ` (${ratio(Math.min(...paired))}–${ratio(Math.max(...paired))})`
          : "";
        vs = `**${ratio(m / baseMedian)}**${range}`;
        const extra = 1e6 / m - 1e6 / baseMedian;
        ratioRow.push(
          `${ratio(m / baseMedian)} (${extra < 0 ? "−" : "+"}${int(Math.abs(extra))} µs/${op})`,
        );
      }
      rows.push([
        ...cell,
        int(m) + (runs.length < reps ? ` (${runs.length} of ${reps} runs)` : ""),
        `${int(Math.min(...rates))}–${int(Math.max(...rates))}`,
        int(1e6 / m),
        int(median(runs.map((r) => r.cpuUs))),
        `${int(median(runs.map((r) => r.p50Us)))} / ${int(median(runs.map((r) => r.p99Us)))}`,
        vs,
      ]);
    });
    ratios.push(ratioRow);
  }
  const others = contenders.filter((c) => c !== baseline);
  const table = (head, body, align) =>
    [
      `| ${head.join(" | ")} |`,
      `|${align.map((a) => (a === "r" ? "---:" : "---")).join("|")}|`,
      ...body.map((r) => `| ${r.join(" | ")} |`),
    ].join("\n");
  sections.push(
    [
      `## Scenario ${scenario.id}: ${scenario.title}`,
      "",
      table(
        [
          "runtime",
          "contender",
          `median ${unit}`,
          `min–max ${unit}`,
          `µs/${op}`,
          `CPU µs/${op}`,
          `p50 / p99 µs`,
          `÷ ${baseline} (paired min–max)`,
        ],
        rows,
        ["l", "l", "r", "r", "r", "r", "r", "r"],
      ),
      "",
      `Ratio of medians per runtime (${baseline} = 1.00; higher is faster), and the time per ${op} it adds:`,
      "",
      table(["runtime", ...others.map((c) => `${c} ÷ ${baseline}`)], ratios, [
        "l",
        ...others.map(() => "r"),
      ]),
    ].join("\n"),
  );
}

const seconds = (performance.now() - clock) / 1000;
const git = (argv) => spawnSync("git", argv, { cwd: root, encoding: "utf8" }).stdout?.trim() ?? "";
const dirty = git(["status", "--porcelain", "--", "*.ts", ":!tests", ":!bench"]) !== "";
const cpu = cpus();
const header = [
  `- Date: ${started.toISOString().replace(/\.\d+Z$/, "Z")} (whole run: ${Math.round(seconds)} s)`,
  `- Machine: ${cpu.length} × ${
    cpu[0]?.model.trim() ?? "unknown CPU"
  }, ${process.platform} ${release()}`,
  `- Filesystem of the temp dirs (${parent}): ${filesystem(parent)}`,
  `- Runtimes: ${selected.map((r) => r.version).join(", ")}`,
  `- atomfs: commit ${git(["rev-parse", "--short", "HEAD"])}${
    dirty ? " plus uncommitted changes" : ""
  } ` +
  `(library sources sha256 ${lib.hash}…); Node imports its npm build (dist/mod.js), Deno and Bun its mod.ts`,
  `- ${reps} repetition${
    reps === 1 ? "" : "s"
  } per contender and runtime, each a fresh process, interleaved round by round`,
  `- Command: \`npm run bench${args.length ? ` -- ${args.join(" ")}` : ""}\``,
].join("\n");
const report = `${header}\n\n${sections.join("\n\n")}\n`;
console.log(`\n${report}`);
if (out) {
  writeFileSync(
    out,
    `# Benchmark results\n\nOnly the ratios mean anything beyond this run; see README.md.\n\n${report}`,
  );
  console.log(`written to ${out}`);
}
process.exit(failed ? 1 : 0);
