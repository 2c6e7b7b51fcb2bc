// The kill loop of the torture runs (`npm run torture`, tests/torture_test.ts).
// A writer process in one runtime replaces a self-validating payload file
// version after version and is SIGKILLed at a random moment, over and over,
// while readers in other runtimes read the file without pause. After each
// kill the file must be one whole payload holding at least the last version
// the writer reported as resolved; the readers count every read that is not
// one whole payload; sweep() must remove exactly the temp files the kills
// left behind.

import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { setPriority } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { checkPayload, payload, TEMP_NAME } from "./fixtures/_process_payload.ts";
import { lastJson } from "./_runtime.ts";

/** A runtime that runs the fixtures. */
export interface TortureRuntime {
  /** `node20`, `node24`, `deno` or `bun`. */
  readonly label: string;
  readonly kind: "node" | "deno" | "bun";
  /** Its executable. */
  readonly command: string;
}

/**
 * The command line that runs fixture `name` (tests/fixtures/) of the project
 * at `root` in `runtime`: Node runs the compiled fixtures (.build/, from
 * `tsc -p tsconfig.json`; Node 20 cannot run TypeScript), Deno and Bun the
 * sources.
 */
export function fixtureCommand(
  root: string,
  runtime: TortureRuntime,
  name: string,
  args: string[],
): [string, string[]] {
  if (runtime.kind === "node") {
    return [runtime.command, [join(root, ".build", "tests", "fixtures", `${name}.js`), ...args]];
  }
  const source = join(root, "tests", "fixtures", `${name}.ts`);
  const argv = runtime.kind === "deno" ? ["run", "-A", source, ...args] : [source, ...args];
  return [runtime.command, argv];
}

/**
 * Where a kill is aimed. The writer prints "ready" just before its first
 * write starts and each version once its write has resolved.
 * - `start-up`: while the runtime starts and loads atomfs, before any write;
 * - `first-write`: within the first write (uniform over its usual duration);
 * - `mid-stream`: anywhere in the next few writes after the first resolved;
 * - `after-resolve`: the moment the 1st, 2nd or 3rd resolved version is seen;
 * - `exponential`: after "ready", exponentially distributed (mostly early).
 */
export type Aim = "start-up" | "first-write" | "mid-stream" | "after-resolve" | "exponential";

/** How often each aim is picked. */
const AIMS: readonly (readonly [Aim, number])[] = [
  ["start-up", 1],
  ["first-write", 6],
  ["mid-stream", 6],
  ["after-resolve", 4],
  ["exponential", 3],
];

/** The payload sizes (the largest body; see payload()), picked alike. */
export const SIZES: readonly number[] = [16, 4 * 1024, 64 * 1024, 1024 * 1024];

/** Where the kills of one aim landed. */
export interface AimReport {
  kills: number;
  /** Killed before "ready": during start-up. */
  beforeReady: number;
  /** Killed after "ready" and before the first write resolved. */
  beforeFirstResolve: number;
  /** Killed after at least one write resolved. */
  afterResolve: number;
  /** Kills that left a temp file: they landed between creating it and renaming it. */
  midWrite: number;
}

/** What one reader process saw. */
export interface ReaderReport {
  readonly runtime: string;
  reads: number;
  /** Reads that were torn, empty, missing, or failed their checksum. */
  bad: number;
  examples: string[];
  /** How many distinct versions it read. */
  versions: number;
}

/** What a torture run found. */
export interface TortureReport {
  readonly writer: string;
  kills: number;
  /** Kills after which the file was not one whole payload (torn, empty, missing, bad checksum). */
  torn: number;
  /** Kills after which the file held an older version than the writer had reported resolved. */
  lost: number;
  /** Writes the writers reported as resolved, over all kills. */
  acknowledged: number;
  /** The largest lead of the file's version over the last one reported (1 is expected). */
  maxAhead: number;
  readers: ReaderReport[];
  /** Temp files the kills left behind. */
  leftovers: number;
  /** Temp files sweep() removed. */
  swept: number;
  durationMs: number;
  /** Median time from spawning a writer to its "ready" line: the start-up cost of a kill. */
  startupMs: number;
  aims: Record<Aim, AimReport>;
  /** Kills per payload size (the largest body) and per durability. */
  sizes: Record<string, number>;
  durabilities: Record<string, number>;
  /** Torn and lost files, described. */
  examples: string[];
  /** Anything else that went wrong: a writer or reader that failed, a sweep that did not match. */
  errors: string[];
}

/** What a torture run does. */
export interface TortureOptions {
  /** The project whose fixtures run (the snapshot in `npm run torture`). */
  readonly root: string;
  /** An empty directory for the payload file. */
  readonly dir: string;
  readonly writer: TortureRuntime;
  readonly readers: readonly TortureRuntime[];
  readonly kills: number;
  /** Stop early after this long. @default Infinity */
  readonly budgetMs?: number;
  /** Sweep once this many temp files have piled up (and at the end). @default 200 */
  readonly sweepEvery?: number;
  /**
   * Seeds the choice of aims, delays, sizes and durability, so that a run's
   * choices can be replayed (not its timings). @default random
   */
  readonly seed?: number;
  /** Called every `progressEvery` kills. */
  readonly onProgress?: (report: TortureReport) => void;
  /** @default 250 */
  readonly progressEvery?: number;
}

/** mulberry32: a small seeded generator, so that a run's choices can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T>(rng: () => number, weighted: readonly (readonly [T, number])[]): T {
  const total = weighted.reduce((sum, [, weight]) => sum + weight, 0);
  let r = rng() * total;
  for (const [value, weight] of weighted) {
    if ((r -= weight) < 0) return value;
  }
  return weighted.at(-1)![0];
}

/** A running mean that follows the machine as it speeds up or slows down. */
class Ewma {
  #value: number;
  constructor(initial: number) {
    this.#value = initial;
  }
  get value(): number {
    return this.#value;
  }
  add(sample: number): void {
    this.#value += (sample - this.#value) / 8;
  }
}

/** What one killed writer did. */
interface WriterRun {
  sawReady: boolean;
  /** Milliseconds from spawn to "ready". */
  startupMs: number | undefined;
  /** The last version it reported as resolved; undefined if none. */
  reported: number | undefined;
  versions: number;
  code: number | null;
  signal: string | null;
  killed: boolean;
  stuck: boolean;
  stderr: string;
  garbage: string | undefined;
}

const WATCHDOG_MS = 20_000;

/** Sleep until `deadline` (performance.now()) without yielding: timers cannot aim below 1 ms. */
function spinUntil(deadline: number): void {
  while (performance.now() < deadline) { /* spin */ }
}

/** Start a writer and kill it at the moment `aim` and the timings say. */
function runWriter(
  command: string,
  argv: string[],
  cwd: string,
  aim: Aim,
  rng: () => number,
  timing: { startup: Ewma; firstWrite: Ewma; interval: Ewma },
): Promise<WriterRun> {
  return new Promise((resolve) => {
    const spawnedAt = performance.now();
    const child: ChildProcess = spawn(command, argv, {
      cwd,
      env: { ...process.env, NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const run: WriterRun = {
      sawReady: false,
      startupMs: undefined,
      reported: undefined,
      versions: 0,
      code: null,
      signal: null,
      killed: false,
      stuck: false,
      stderr: "",
      garbage: undefined,
    };
    let timer: ReturnType<typeof setTimeout> | undefined;
    const kill = () => {
      if (run.killed) return;
      run.killed = true;
      clearTimeout(timer);
      child.kill("SIGKILL");
    };
    const killIn = (ms: number) => {
      if (run.killed || timer !== undefined) return;
      if (ms < 2) {
        spinUntil(performance.now() + ms);
        kill();
      } else {
        timer = setTimeout(kill, ms);
      }
    };
    const watchdog = setTimeout(() => {
      run.stuck = true;
      kill();
    }, WATCHDOG_MS);
    const afterResolveAt = 1 + Math.floor(rng() * 3);
    if (aim === "start-up") killIn(rng() * timing.startup.value);

    let readyAt = 0;
    let lastAt = 0;
    let partial = "";
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
      const lines = (partial + chunk).split("\n");
      partial = lines.pop()!;
      const now = performance.now();
      for (const line of lines) {
        if (line === "ready" && !run.sawReady) {
          run.sawReady = true;
          readyAt = now;
          run.startupMs = now - spawnedAt;
          timing.startup.add(run.startupMs);
          if (aim === "first-write") killIn(rng() * 1.2 * timing.firstWrite.value);
          if (aim === "exponential") {
            const mean = timing.firstWrite.value + timing.interval.value;
            killIn(Math.min(-Math.log(1 - rng()) * mean, 20 * mean));
          }
          continue;
        }
        const version = Number(line);
        if (!run.sawReady || !Number.isInteger(version) || line.trim() !== line) {
          run.garbage ??= line;
          continue;
        }
        run.reported = version;
        run.versions++;
        // Lines read after the kill, or together in one chunk, say nothing about timing.
        const since = run.versions === 1 ? readyAt : lastAt;
        if (!run.killed && now > since) {
          (run.versions === 1 ? timing.firstWrite : timing.interval).add(now - since);
        }
        lastAt = now;
        if (aim === "mid-stream" && run.versions === 1) {
          killIn(rng() * 6 * timing.interval.value);
        }
        if (aim === "after-resolve" && run.versions === afterResolveAt) kill();
      }
    });
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => run.stderr += chunk);
    child.on("error", (error) => {
      run.stderr += String(error);
    });
    child.on("close", (code, signal) => {
      clearTimeout(watchdog);
      clearTimeout(timer);
      run.code = code;
      run.signal = signal;
      resolve(run);
    });
  });
}

/** A reader process, started before the kills and stopped after them. */
interface Reader {
  readonly runtime: TortureRuntime;
  readonly ready: Promise<void>;
  readonly done: Promise<{ code: number | null; signal: string | null; out: string; err: string }>;
  readonly child: ChildProcess;
}

function startReader(root: string, runtime: TortureRuntime, file: string): Reader {
  const [command, argv] = fixtureCommand(root, runtime, "process_reader", [file]);
  const child = spawn(command, argv, {
    cwd: root,
    env: { ...process.env, NO_COLOR: "1" },
    stdio: ["pipe", "pipe", "pipe"],
  });
  try {
    // Readers spin; below the writer's priority, they take the CPU it leaves idle
    // (while it waits for fsync) instead of slowing every writer's start-up.
    setPriority(child.pid!, 10);
  } catch {
    // Not permitted or not supported: readers compete as equals, kills are slower.
  }
  let out = "";
  let err = "";
  child.stdout!.setEncoding("utf8");
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => err += chunk);
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout!.on("data", (chunk: string) => {
      out += chunk;
      if (out.startsWith("ready\n")) resolve();
    });
    child.on("close", (code, signal) =>
      reject(
        new Error(
          `the ${runtime.label} reader ended (${code ?? signal}) before it was ready: ${err}`,
        ),
      ));
  });
  // Its rejection is reported through `done` when it ends before being ready.
  ready.catch(() => {});
  const done = new Promise<
    { code: number | null; signal: string | null; out: string; err: string }
  >(
    (resolve) => {
      child.on("error", (error) => err += String(error));
      child.on("close", (code, signal) => resolve({ code, signal, out, err }));
    },
  );
  return { runtime, ready, done, child };
}

function temps(dir: string): string[] {
  return readdirSync(dir).filter((name) => TEMP_NAME.test(name)).sort();
}

/** Run a fixture to its end and return its stdout, or throw with its stderr. */
function runFixture(
  root: string,
  runtime: TortureRuntime,
  name: string,
  args: string[],
): Promise<string> {
  const [command, argv] = fixtureCommand(root, runtime, name, args);
  return new Promise((resolve, reject) => {
    const child = spawn(command, argv, {
      cwd: root,
      env: { ...process.env, NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => out += chunk);
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => err += chunk);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      if (code === 0) resolve(out);
      else {reject(
          new Error(`${name} in ${runtime.label} failed (${code ?? signal}): ${err.trim()}`),
        );}
    });
  });
}

/** Replace the file with a whole payload, atomically, without atomfs: to go on after a torn file. */
function restore(file: string, version: number): void {
  const spare = `${file}.restore`;
  writeFileSync(spare, payload(version));
  renameSync(spare, file);
}

/** Kill a writer `options.kills` times with readers watching; see the top of this file. */
export async function torture(options: TortureOptions): Promise<TortureReport> {
  const { root, dir, writer, kills } = options;
  const budgetMs = options.budgetMs ?? Infinity;
  const sweepEvery = options.sweepEvery ?? 200;
  const progressEvery = options.progressEvery ?? 250;
  const rng = random(options.seed ?? Math.floor(Math.random() * 2 ** 32));
  const file = join(dir, "data.bin");
  const report: TortureReport = {
    writer: writer.label,
    kills: 0,
    torn: 0,
    lost: 0,
    acknowledged: 0,
    maxAhead: 0,
    readers: [],
    leftovers: 0,
    swept: 0,
    durationMs: 0,
    startupMs: 0,
    aims: Object.fromEntries(
      AIMS.map((
        [aim],
      ) => [aim, {
        kills: 0,
        beforeReady: 0,
        beforeFirstResolve: 0,
        afterResolve: 0,
        midWrite: 0,
      }]),
    ) as Record<Aim, AimReport>,
    sizes: {},
    durabilities: {},
    examples: [],
    errors: [],
  };
  const started = performance.now();
  const startups: number[] = [];
  const problem = (list: string[], text: string) => {
    if (list.length < 20) list.push(text);
  };

  writeFileSync(file, payload(0));
  const readers = options.readers.map((runtime) => startReader(root, runtime, file));
  try {
    await Promise.all(readers.map((reader) => reader.ready));
    const startup = new Ewma(60);
    const timings = new Map<string, { startup: Ewma; firstWrite: Ewma; interval: Ewma }>();
    let pending = 0;
    let lastGood = 0;

    const sweepNow = async () => {
      const before = temps(dir);
      const out = await runFixture(root, writer, "process_sweep", [dir]);
      const swept = lastJson(out) as {
        removed: string[];
        kept: string[];
      };
      report.swept += swept.removed.length;
      const removed = swept.removed.map((path) => path.slice(dir.length + 1)).sort();
      if (removed.join() !== before.join() || swept.kept.length > 0) {
        problem(
          report.errors,
          `sweep() removed [${removed.join(", ")}] and kept [${swept.kept.join(", ")}] ` +
            `where [${before.join(", ")}] were left`,
        );
      }
      const after = readdirSync(dir);
      if (after.join() !== "data.bin") {
        problem(report.errors, `after sweep() the directory holds ${after.join(", ")}`);
      }
      pending = temps(dir).length;
    };

    for (let i = 0; i < kills && performance.now() - started < budgetMs; i++) {
      const aim = pick(rng, AIMS);
      const maxBody = SIZES[Math.floor(rng() * SIZES.length)]!;
      const durability = rng() < 0.8 ? "full" : "file";
      const key = `${maxBody}/${durability}`;
      if (!timings.has(key)) {
        timings.set(key, { startup, firstWrite: new Ewma(5), interval: new Ewma(5) });
      }
      const [command, argv] = fixtureCommand(root, writer, "process_writer", [
        file,
        "0",
        "--ready",
        `--durability=${durability}`,
        `--max-body=${maxBody}`,
      ]);
      const run = await runWriter(command, argv, root, aim, rng, timings.get(key)!);
      report.kills++;
      report.sizes[maxBody] = (report.sizes[maxBody] ?? 0) + 1;
      report.durabilities[durability] = (report.durabilities[durability] ?? 0) + 1;
      const landed = report.aims[aim];
      landed.kills++;
      if (!run.sawReady) landed.beforeReady++;
      else if (run.versions === 0) landed.beforeFirstResolve++;
      else landed.afterResolve++;
      report.acknowledged += run.versions;
      if (run.startupMs !== undefined) startups.push(run.startupMs);

      if (run.signal !== "SIGKILL" || run.stuck || run.garbage !== undefined) {
        problem(
          report.errors,
          `kill ${report.kills}: the ${writer.label} writer ` +
            (run.stuck
              ? `was still waiting for its moment after ${WATCHDOG_MS} ms`
              : run.garbage !== undefined
              ? `printed ${JSON.stringify(run.garbage)}`
              : `ended on its own (${run.code ?? run.signal})`) +
            (run.stderr.trim() ? `: ${run.stderr.trim().split("\n").slice(0, 5).join(" | ")}` : ""),
        );
      }

      let check;
      try {
        check = checkPayload(readFileSync(file));
      } catch (error) {
        check = { ok: false as const, reason: `read failed: ${(error as { code?: string }).code}` };
      }
      const acked = run.reported ?? lastGood;
      if (!check.ok) {
        report.torn++;
        problem(report.examples, `kill ${report.kills} (${aim}, ${key}): ${check.reason}`);
        lastGood = acked + 1;
        restore(file, lastGood);
      } else if (check.version < acked) {
        report.lost++;
        problem(
          report.examples,
          `kill ${report.kills} (${aim}, ${key}): the file holds version ${check.version}, ` +
            `but ${acked} had resolved`,
        );
        lastGood = check.version;
      } else {
        report.maxAhead = Math.max(report.maxAhead, check.version - acked);
        lastGood = check.version;
      }

      const left = temps(dir).length;
      const fresh = left - pending;
      pending = left;
      report.leftovers += Math.max(fresh, 0);
      if (fresh === 1) landed.midWrite++;
      else if (fresh !== 0) {
        problem(report.errors, `kill ${report.kills}: ${fresh} new temp files, at most 1 expected`);
      }
      if (pending >= sweepEvery) await sweepNow();
      if (report.kills % progressEvery === 0) {
        report.durationMs = performance.now() - started;
        options.onProgress?.(report);
      }
    }
    await sweepNow();
  } catch (error) {
    problem(report.errors, String((error as Error).message ?? error));
  } finally {
    for (const reader of readers) reader.child.stdin!.end();
    for (const reader of readers) {
      const end = await reader.done;
      try {
        const seen = lastJson(end.out) as Omit<
          ReaderReport,
          "runtime"
        >;
        report.readers.push({ runtime: reader.runtime.label, ...seen });
      } catch {
        report.readers.push({
          runtime: reader.runtime.label,
          reads: 0,
          bad: 0,
          examples: [],
          versions: 0,
        });
        problem(
          report.errors,
          `the ${reader.runtime.label} reader failed (${
            end.code ?? end.signal
          }): ${end.err.trim()}`,
        );
      }
    }
  }
  report.durationMs = performance.now() - started;
  startups.sort((a, b) => a - b);
  report.startupMs = startups[startups.length >> 1] ?? 0;
  return report;
}
