// Multi-process behaviour on real disk, through this runtime's own adapter
// (the default functions of mod.ts): what readers in other processes see,
// what a killed writer leaves, descriptor hygiene on failure paths, racing
// no-clobber writers, and AtomicFiles dropped without commit or abort.

import { test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn, type SpawnOptions } from "node:child_process";
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmSync,
  writeFileSync as writeRaw,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { AtomFsError, sweep, writeFile, writeFileSync } from "../mod.ts";
import { commandFor, fixture, runtime, spawnFixture } from "./_runtime.ts";
import { checkPayload, payload, racerContent, TEMP_NAME } from "./fixtures/_process_payload.ts";

/** How a child process ended, and everything it printed. */
interface Outcome {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/** Processes a test started and has not seen end; killed if the test fails early. */
class Children {
  #all = new Set<ChildProcess>();

  spawn(name: string, args: string[], options: SpawnOptions = {}): ChildProcess {
    return this.add(spawnFixture(name, args, options));
  }

  add(child: ChildProcess): ChildProcess {
    this.#all.add(child);
    child.on("close", () => this.#all.delete(child));
    return child;
  }

  killAll(): void {
    for (const child of this.#all) child.kill("SIGKILL");
  }
}

/** Collect a child's output until it ends. */
function finished(child: ChildProcess): Promise<Outcome> {
  let stdout = "";
  let stderr = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => stdout += chunk);
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => stderr += chunk);
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Call `onLine` for each whole line the child prints to stdout. */
function onLines(child: ChildProcess, onLine: (line: string) => void): void {
  let partial = "";
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
    const lines = (partial + chunk).split("\n");
    partial = lines.pop()!;
    for (const line of lines) onLine(line);
  });
}

/** The first line the child prints; rejects if it ends first. */
function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = false;
    onLines(child, (line) => {
      if (!seen) resolve(line);
      seen = true;
    });
    child.on(
      "close",
      (code, signal) => reject(new Error(`child ended (${code ?? signal}) before printing a line`)),
    );
  });
}

function lastLine(text: string): string {
  return text.trimEnd().split("\n").at(-1) ?? "";
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function scratch(): string {
  return realpathSync(mkdtempSync(join(tmpdir(), "atomfs-process-")));
}

function tempFiles(dir: string): string[] {
  return readdirSync(dir).filter((name) => TEMP_NAME.test(name)).sort();
}

/** An assertion that an error is an AtomFsError with this code (and op). */
function atomFsError(code: string, op?: string): (error: unknown) => true {
  return (error) => {
    assert.ok(error instanceof AtomFsError, `expected an AtomFsError, got ${String(error)}`);
    assert.equal(error.code, code);
    if (op !== undefined) assert.equal(error.op, op);
    return true;
  };
}

test("a reader in another process never sees a torn, empty or missing file while another process replaces it 1,000 times", async () => {
  const dir = scratch();
  const children = new Children();
  try {
    const file = join(dir, "data.bin");
    await writeFile(file, payload(0));
    const reader = children.spawn("process_reader", [file], { stdio: ["pipe", "pipe", "pipe"] });
    const ready = firstLine(reader);
    const readerDone = finished(reader);
    assert.equal(await ready, "ready");
    const writer = children.spawn("process_writer", [file, "1000"]);
    const written = await finished(writer);
    reader.stdin!.end();
    const read = await readerDone;

    assert.equal(written.code, 0, `the writer failed: ${written.stderr}`);
    assert.equal(lastLine(written.stdout), "1000");
    assert.equal(read.code, 0, `the reader failed: ${read.stderr}`);
    const report = JSON.parse(lastLine(read.stdout)) as {
      reads: number;
      bad: number;
      examples: string[];
      versions: number;
    };
    assert.equal(report.bad, 0, `bad reads, e.g. ${report.examples.join("; ")}`);
    assert.ok(report.reads > 100, `only ${report.reads} reads overlapped the writes`);
    assert.ok(report.versions > 10, `the reader saw only ${report.versions} versions`);
    assert.deepEqual(checkPayload(readFileSync(file)), { ok: true, version: 1000 });
    assert.deepEqual(tempFiles(dir), []);
  } finally {
    children.killAll();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a writer SIGKILLed at random moments never leaves a torn file, and sweep() removes exactly its temp files", async () => {
  const dir = scratch();
  const children = new Children();
  const kills = 30;
  const budgetMs = 18_000;
  try {
    const file = join(dir, "data.bin");
    await writeFile(file, payload(0));
    const started = Date.now();
    let reported = 0;
    let done = 0;
    for (; done < kills && Date.now() - started < budgetMs; done++) {
      const writer = children.spawn("process_writer", [file, "0"]);
      onLines(writer, (line) => reported = Math.max(reported, Number(line)));
      const first = firstLine(writer);
      const ended = finished(writer);
      await first;
      await sleep(Math.random() * 20);
      writer.kill("SIGKILL");
      const outcome = await ended;
      assert.equal(outcome.signal, "SIGKILL", `the writer ended on its own: ${outcome.stderr}`);

      const check = checkPayload(readFileSync(file));
      assert.ok(check.ok, `kill ${done + 1} left a broken file: ${!check.ok && check.reason}`);
      assert.ok(
        check.version >= reported,
        `kill ${done + 1}: the file holds version ${check.version}, but ${reported} had resolved`,
      );
    }
    assert.ok(done >= 10, `only ${done} kills fit in ${budgetMs} ms`);

    // Each killed writer leaves at most the one temp file it was writing.
    const leftovers = tempFiles(dir);
    assert.ok(leftovers.length <= done, `${leftovers.length} temp files after ${done} kills`);
    assert.ok(leftovers.length > 0, `none of ${done} kills landed during a write`);
    // Things sweep() must keep: names that are not quite ours, and a directory that is.
    const decoys = [
      ".atomfs-short.tmp",
      "notes.atomfs-AAAAAAAAAAAAAAAAAAAAAA.tmp",
      "data.bin.tmp",
      "notes.txt",
    ];
    for (const name of decoys) writeRaw(join(dir, name), "keep me");
    mkdirSync(join(dir, ".atomfs-AAAAAAAAAAAAAAAAAAAAAA.tmp"));

    const report = await sweep(dir, { olderThanMs: 0 });
    assert.deepEqual([...report.removed].sort(), leftovers.map((name) => join(dir, name)));
    assert.deepEqual(report.kept, []);
    assert.deepEqual(
      readdirSync(dir).sort(),
      [...decoys, "data.bin", ".atomfs-AAAAAAAAAAAAAAAAAAAAAA.tmp"].sort(),
    );
    assert.ok(checkPayload(readFileSync(file)).ok);
  } finally {
    children.killAll();
    rmSync(dir, { recursive: true, force: true });
  }
});

test(
  "5,000 failing writes leave the open-descriptor count unchanged",
  { skip: process.platform !== "linux" && "counting open descriptors needs Linux's /proc/self/fd" },
  async () => {
    const dir = scratch();
    try {
      const aDirectory = join(dir, "a-directory");
      mkdirSync(aDirectory);
      const existing = join(dir, "existing.txt");
      writeRaw(existing, "old content");
      const streamed = join(dir, "streamed.txt");
      const boom = new Error("the source failed mid-way");
      const chunk = new Uint8Array(8 * 1024).fill(0x61);

      // Each case fails one way; the synchronous ones return nothing.
      const cases: (() => Promise<void> | void)[] = [
        // Fails before any descriptor is opened.
        () => assert.rejects(writeFile(aDirectory, "x"), atomFsError("EISDIR", "stat")),
        () => assert.throws(() => writeFileSync(aDirectory, "x"), atomFsError("EISDIR", "stat")),
        () => assert.rejects(writeFile(join(existing, "child"), "x"), atomFsError("ENOTDIR")),
        // Fails creating the temp file.
        () =>
          assert.rejects(
            writeFile(join(dir, "missing", "f.txt"), "x"),
            atomFsError("ENOENT", "open-temp"),
          ),
        () =>
          assert.throws(
            () => writeFileSync(join(dir, "missing", "f.txt"), "x"),
            atomFsError("ENOENT", "open-temp"),
          ),
        // Fails after the temp file was written, sealed and closed: unlink cleans up.
        () =>
          assert.rejects(
            writeFile(existing, chunk, { overwrite: false }),
            atomFsError("EEXIST", "link"),
          ),
        () =>
          assert.throws(
            () => writeFileSync(existing, chunk, { overwrite: false }),
            atomFsError("EEXIST", "link"),
          ),
        // Fails with the temp file open: close and unlink clean up.
        () =>
          assert.rejects(
            writeFile(
              streamed,
              (async function* () {
                yield chunk;
                yield "more";
                throw boom;
              })(),
            ),
            (error) => error === boom,
          ),
        () =>
          assert.rejects(
            writeFile(
              streamed,
              new ReadableStream<Uint8Array>({
                start(controller) {
                  controller.enqueue(chunk);
                },
                pull(controller) {
                  controller.error(boom);
                },
              }),
            ),
            (error) => error === boom,
          ),
        () => {
          const controller = new AbortController();
          return assert.rejects(
            writeFile(
              streamed,
              (function* () {
                yield chunk;
                controller.abort();
                yield chunk;
              })(),
              { signal: controller.signal },
            ),
            (error) => (error as Error).name === "AbortError",
          );
        },
      ];

      const descriptors = () => readdirSync("/proc/self/fd");
      // Warm up: anything a runtime opens once, lazily, is open before counting.
      for (let i = 0; i < 5; i++) for (const fail of cases) await fail();
      const before = descriptors();
      for (let i = 0; i < 5_000; i++) await cases[i % cases.length]!();
      const after = descriptors();

      const describe = (fds: string[]) =>
        fds.map((fd) => {
          try {
            return `${fd} -> ${readlinkSync(`/proc/self/fd/${fd}`)}`;
          } catch {
            return `${fd} (closed)`;
          }
        }).join(", ");
      assert.equal(
        after.length,
        before.length,
        `descriptors opened: ${describe(after.filter((fd) => !before.includes(fd)))}`,
      );
      assert.equal(readFileSync(existing, "utf8"), "old content");
      assert.deepEqual(readdirSync(dir).sort(), ["a-directory", "existing.txt"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test("20 racing overwrite: false writers in separate processes leave exactly one winner", async () => {
  const dir = scratch();
  const children = new Children();
  try {
    const file = join(dir, "claimed.txt");
    const racers = Array.from(
      { length: 20 },
      (_, id) =>
        children.spawn("process_racer", [file, String(id)], { stdio: ["pipe", "pipe", "pipe"] }),
    );
    const ready = racers.map(firstLine);
    const outcomes = racers.map(finished);
    assert.deepEqual(await Promise.all(ready), racers.map(() => "ready"));
    for (const racer of racers) racer.stdin!.end("go\n");
    const results = (await Promise.all(outcomes)).map((outcome) => {
      assert.equal(outcome.code, 0, `a racer failed: ${outcome.stderr}`);
      return JSON.parse(lastLine(outcome.stdout)) as {
        id: string;
        ok: boolean;
        strategy?: string;
        atomFsError?: boolean;
        code?: string;
        op?: string;
      };
    });

    const winners = results.filter((result) => result.ok);
    assert.equal(winners.length, 1, `winners: ${JSON.stringify(winners)}`);
    assert.equal(winners[0]!.strategy, "link");
    const losers = results.filter((result) => !result.ok);
    assert.equal(losers.length, 19);
    for (const loser of losers) {
      assert.deepEqual(loser, {
        id: loser.id,
        ok: false,
        atomFsError: true,
        code: "EEXIST",
        op: "link",
      });
    }
    assert.equal(readFileSync(file, "utf8"), racerContent(winners[0]!.id));
    assert.deepEqual(readdirSync(dir), ["claimed.txt"]);
  } finally {
    children.killAll();
    rmSync(dir, { recursive: true, force: true });
  }
});

/** The command that runs a fixture with a way to force garbage collection. */
function withGc(script: URL, args: string[]): [string, string[]] {
  const [command, argv] = commandFor(script, args);
  if (runtime === "node") return [command, ["--expose-gc", ...argv]];
  // ["run", "--v8-flags=--expose-gc", "-A", file, ...]
  if (runtime === "deno") return [command, [argv[0]!, "--v8-flags=--expose-gc", ...argv.slice(1)]];
  return [command, argv]; // Bun has Bun.gc()
}

test("an AtomicFile dropped without commit or abort is cleaned up when collected, without crashing the process", async () => {
  const dir = scratch();
  const children = new Children();
  try {
    const [command, argv] = withGc(fixture("process_dropped"), [dir, "200"]);
    const child = children.add(spawn(command, argv, { stdio: ["ignore", "pipe", "pipe"] }));
    const outcome = await finished(child);
    assert.equal(outcome.signal, null, `the process died of ${outcome.signal}: ${outcome.stderr}`);
    assert.equal(outcome.code, 0, `the process failed: ${outcome.stderr}`);
    assert.equal(outcome.stderr.trim(), "", "the process printed errors or warnings");
    const report = JSON.parse(lastLine(outcome.stdout)) as {
      tempsLeft: number;
      fdsBefore: number;
      fdsAfter: number;
    };
    assert.equal(
      report.tempsLeft,
      0,
      `temp files left after collection: ${lastLine(outcome.stdout)}`,
    );
    if (process.platform === "linux") {
      assert.equal(
        report.fdsAfter,
        report.fdsBefore,
        `descriptors left open: ${lastLine(outcome.stdout)}`,
      );
    }
    // Nothing was committed, and every temp file is gone.
    assert.deepEqual(readdirSync(dir), []);
  } finally {
    children.killAll();
    rmSync(dir, { recursive: true, force: true });
  }
});
