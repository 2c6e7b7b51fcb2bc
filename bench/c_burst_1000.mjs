// Scenario C: a burst of 1,000 writes of 1 KiB to one file, issued without
// awaiting any (as a state store saving on every change does), then awaited
// together. What matters is how much of the burst reaches the disk: a writer
// that coalesces does a handful of renames, one that replays every call does
// 1,000 full replaces. Reports the time from the first call until every promise
// settled, the renames and fsyncs done meanwhile, whether the file ends with the
// last call's data, and how many atomfs receipts say `superseded`.
//
// Syscalls are counted by the runner, in one extra run per runtime and
// contender under `strace -f --seccomp-bpf` (every thread; the timed runs are
// not traced). The burst is bracketed by two marker renames of paths that do not
// exist, so that start-up and warm-up calls (Deno's caches, module loading) are
// not counted. The floor (each call chained after the previous one) must show
// exactly 1,000 renames and 2,000 fsyncs: if it does not, the runtime moved the
// calls out of strace's sight (io_uring) and the counts are flagged.

import { renameSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import process from "node:process";
import { floorWriteFile } from "./_floor.mjs";
import {
  fixed,
  int,
  median,
  runtimeCell,
  succeeded,
  table,
  unavailable,
  verdict,
} from "./_report.mjs";
import { startStallProbe } from "./_stall.mjs";

const CALLS = 1_000;
const SIZE = 1024;
const WARMUP = 10;
const MARK = "/nonexistent-atomfs-bench-mark";

/** @type {Record<string, (loadAtomfs: () => Promise<any>, dir: string) => Promise<(path: string, data: Uint8Array) => Promise<unknown>>>} */
const CONTENDERS = {
  // A user's first answer to "writes must not overtake each other": chain them.
  floor: (_load, dir) => {
    let tail = Promise.resolve();
    return Promise.resolve((path, data) => {
      const done = tail.then(() => floorWriteFile(dir, path, data));
      tail = done.catch(() => {});
      return done;
    });
  },
  atomfs: async (load) => {
    const { writeFile } = await load();
    // `coalesce` is the option the issue adds; until then atomfs ignores it.
    const options = { coalesce: true };
    return (path, data) => writeFile(path, data, options);
  },
  "write-file-atomic": async () => {
    const { default: writeFileAtomic } = await import("write-file-atomic");
    return (path, data) => writeFileAtomic(path, data);
  },
  atomically: async () => {
    const { writeFile } = await import("atomically");
    return (path, data) => writeFile(path, data);
  },
  steno: async () => {
    const { Writer } = await import("steno");
    const writers = new Map();
    return (path, data) => {
      if (!writers.has(path)) writers.set(path, new Writer(path));
      return writers.get(path).write(data);
    };
  },
};

/** A rename that fails at once (ENOENT) and names `name` in strace's output. */
function mark(name) {
  try {
    renameSync(`${MARK}-${name}`, `${MARK}-${name}-to`);
  } catch {
    // Expected: the marker's only purpose is the syscall.
  }
}

function content(i) {
  return new TextEncoder().encode(`call ${String(i).padStart(6, "0")} `.padEnd(SIZE, "."));
}

function equal(a, b) {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

/** Renames and fsyncs between the markers, from `strace -f -o` output. */
function parseTrace(text) {
  const counts = { renames: 0, fsyncs: 0, ioUring: 0 };
  let state = "before";
  for (const line of text.split("\n")) {
    if (line.includes(`${MARK}-start`)) state = "inside";
    else if (line.includes(`${MARK}-end`)) state = "after";
    else if (state === "inside") {
      // "1234 fsync(18) = 0", or "1234 fsync(18 <unfinished ...>" then "<... fsync resumed>".
      const call = /^(?:\[pid\s+\d+\]\s*|\d+\s+)?([a-z0-9_]+)\(/.exec(line)?.[1];
      if (call === undefined) continue;
      if (call.startsWith("rename")) counts.renames++;
      else if (call === "fsync" || call === "fdatasync") counts.fsyncs++;
      else if (call.startsWith("io_uring")) counts.ioUring++;
    }
  }
  if (state !== "after") throw new Error("the burst's markers are missing from strace's output");
  return counts;
}

export const scenario = {
  id: "C",
  title: `a burst of ${CALLS.toLocaleString("en")} un-awaited ${
    SIZE / 1024
  } KiB writes to one file, then await all`,
  contenders: Object.keys(CONTENDERS),
  /** strace's syscall filter (a regex, so that a syscall missing on some architecture is no error). */
  strace: {
    filter: "/^(rename|renameat|renameat2|fsync|fdatasync|io_uring_enter)$",
    parse: parseTrace,
  },
  /**
   * @param {{ contender: string, loadAtomfs: () => Promise<any>, dir: string }} context
   */
  async run({ contender, loadAtomfs, dir }) {
    const write = await CONTENDERS[contender](loadAtomfs, dir);
    const path = `${dir}/state.json`;
    for (let i = 0; i < WARMUP; i++) await write(path, content(-1 - i));
    const calls = Array.from({ length: CALLS }, (_, i) => content(i));
    mark("start");
    const stopProbe = startStallProbe();
    const cpu = process.cpuUsage();
    const start = performance.now();
    const promises = calls.map((data) => write(path, data));
    const issued = performance.now();
    const settled = await Promise.allSettled(promises);
    const seconds = (performance.now() - start) / 1000;
    const { user, system } = process.cpuUsage(cpu);
    const stall = stopProbe();
    mark("end");
    const rejected = settled.filter((s) => s.status === "rejected");
    const receipts = settled.map((s) => s.value).filter((v) => v && typeof v === "object");
    const names = await readdir(dir);
    return {
      ops: CALLS,
      seconds,
      issueMs: Math.round((issued - start) * 100) / 100,
      cpuUs: Math.round((user + system) / CALLS),
      finalIsLast: equal(await readFile(path), calls.at(-1)),
      rejected: rejected.length,
      firstRejection: rejected[0] ? String(rejected[0].reason) : undefined,
      superseded: receipts.length
        ? receipts.filter((receipt) => receipt.superseded === true).length
        : undefined,
      leftovers: names.filter((name) => name !== "state.json").length,
      stall,
    };
  },
  progress: (r) =>
    `${fixed(r.seconds * 1000, 0).padStart(6)} ms   issue ${fixed(r.issueMs, 1)} ms   final ${
      r.finalIsLast ? "= last" : "≠ last"
    }   superseded ${r.superseded ?? "—"}   stall ${fixed(r.stall.maxMs, 1)} ms (busy ${
      fixed(r.stall.busyMaxMs ?? 0, 1)
    })`,
  report({ scenario, results, traced, runtimes, strace }) {
    const rows = [];
    const targets = {
      renames: { name: "C: atomfs renames during the burst ≤ 3", cells: {} },
      speed: { name: "C: atomfs ≥ 100× faster than write-file-atomic", cells: {} },
      final: { name: "C: atomfs leaves the last call's data", cells: {} },
    };
    const calibration = [];
    for (const runtime of runtimes) {
      const byContender = results[runtime.label];
      const ms = (c) => {
        const runs = succeeded(byContender[c]);
        return runs.length ? median(runs.map((r) => r.seconds * 1000)) : undefined;
      };
      const atomfsMs = ms("atomfs");
      const counts = (c) => {
        if (!strace.available) return { text: `n/a (${strace.reason})` };
        const t = traced[runtime.label]?.[c];
        if (!t) return { text: "n/a (not traced)" };
        if (t.error) return { text: unavailable([t]) };
        return t;
      };
      const floorCounts = counts("floor");
      const calibrated = floorCounts.renames === CALLS && floorCounts.fsyncs === 2 * CALLS;
      if (strace.available && floorCounts.renames !== undefined && !calibrated) {
        calibration.push(
          `${runtime.label}: the floor showed ${floorCounts.renames} renames and ` +
            `${floorCounts.fsyncs} fsyncs instead of ${CALLS} and ${2 * CALLS}: counts unreliable`,
        );
      }
      scenario.contenders.forEach((contender, i) => {
        const all = byContender[contender];
        const runs = succeeded(all);
        const cell = [i === 0 ? runtimeCell(runtime) : "", contender];
        if (runs.length === 0) {
          rows.push([...cell, unavailable(all), "", "", "", "", "", "", ""]);
          return;
        }
        const times = runs.map((r) => r.seconds * 1000);
        const m = median(times);
        const c = counts(contender);
        const finals = runs.filter((r) => r.finalIsLast).length;
        const superseded = runs[0].superseded === undefined
          ? "—"
          : int(median(runs.map((r) => r.superseded)));
        const rejected = runs.reduce((n, r) => n + r.rejected, 0);
        rows.push([
          ...cell,
          `${int(m)} (${int(Math.min(...times))}–${int(Math.max(...times))})`,
          fixed(median(runs.map((r) => r.issueMs)), 1),
          c.text ?? `${int(c.renames)}${c.ioUring ? ` (+${c.ioUring} io_uring)` : ""}`,
          c.text ?? int(c.fsyncs),
          superseded,
          `${
            finals === runs.length ? "yes" : `**no** (${runs.length - finals} of ${runs.length})`
          }${rejected ? `; ${rejected} rejected` : ""}`,
          atomfsMs === undefined ? "" : fixed(m / atomfsMs),
        ]);
      });
      const atomfsCounts = counts("atomfs");
      targets.renames.cells[runtime.label] = atomfsCounts.text
        ? { text: atomfsCounts.text, met: undefined }
        : { text: int(atomfsCounts.renames), met: atomfsCounts.renames <= 3 };
      const wfaMs = ms("write-file-atomic");
      targets.speed.cells[runtime.label] = atomfsMs === undefined || wfaMs === undefined
        ? {
          text: unavailable(byContender[atomfsMs === undefined ? "atomfs" : "write-file-atomic"]),
          met: undefined,
        }
        : { text: `${fixed(wfaMs / atomfsMs)}×`, met: wfaMs / atomfsMs >= 100 };
      const atomfsRuns = succeeded(byContender.atomfs);
      targets.final.cells[runtime.label] = atomfsRuns.length
        ? {
          text: `${atomfsRuns.filter((r) => r.finalIsLast).length} of ${atomfsRuns.length} runs`,
          met: atomfsRuns.every((r) => r.finalIsLast && r.rejected === 0),
        }
        : { text: unavailable(byContender.atomfs), met: undefined };
    }
    const speed = runtimes.map((runtime) => {
      const cell = targets.speed.cells[runtime.label];
      return `${runtime.label} ${cell.text}${verdict(cell.met)}`;
    });
    const text = [
      `## Scenario ${scenario.id}: ${scenario.title}`,
      "",
      table(
        [
          "runtime",
          "contender",
          "median ms (min–max)",
          "issuing ms",
          "renames",
          "fsyncs",
          "superseded",
          "final = last call",
          "time ÷ atomfs's",
        ],
        rows,
        ["l", "l", "r", "r", "r", "r", "r", "l", "r"],
      ),
      "",
      "`ms` runs from the first call until all 1,000 promises settled; `issuing ms` is how long the " +
      "1,000 calls themselves took (synchronous work before the first await). atomfs is called " +
      "with `{ coalesce: true }`. Renames and fsyncs: " +
      (strace.available
        ? `one extra run under strace (${strace.version}), counted between the burst's markers; ` +
          "the floor chains every call, so it must show exactly 1,000 and 2,000."
        : `not counted (${strace.reason}).`) +
      " `superseded`: receipts saying so (— when the contender returns no receipt).",
      ...(calibration.length ? ["", ...calibration.map((line) => `**${line}**`)] : []),
      "",
      `write-file-atomic's time ÷ atomfs's (target ≥ 100): ${speed.join(", ")}.`,
    ].join("\n");
    return { text, targets: Object.values(targets) };
  },
};
