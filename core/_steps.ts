// The protocol is written once, as generators that yield filesystem calls;
// two drivers run them: one synchronously (writeFileSync), one with promises.
// Retrying transient failures and turning runtime errors into AtomFsError
// happen here, in one place, for both.

import type { FsAdapter, FsCallName, FsSyncCalls } from "./adapter.ts";
import { AtomFsError, type AtomFsOp } from "./errors.ts";

/** When a failed call may be tried again. */
export type RetryClass =
  | "never" // fsync and write: after a failed fsync the kernel may have dropped the dirty pages
  | "transient" // EMFILE, ENFILE, EAGAIN
  | "replace"; // transient, plus a rename refused on Windows while another process holds the target

/** One filesystem call a step wants made. */
export interface Call {
  readonly kind: "call";
  readonly name: FsCallName;
  readonly args: readonly unknown[];
  readonly op: AtomFsOp;
  /** The path to name in an error (the target, for the steps of a write). */
  readonly path: string;
  readonly retry: RetryClass;
  /** Codes the step handles itself: thrown as they are, not wrapped or retried. */
  readonly expect: readonly string[];
  /** Asked before each retry: `false` stops retrying, and the failure is thrown. */
  readonly proceed?: () => boolean;
}

/** A promise an async step waits for (reading a stream); the sync driver never meets one. */
export interface Wait {
  readonly kind: "wait";
  readonly promise: Promise<unknown>;
}

/** A generator of steps. */
export type Steps<T> = Generator<Call | Wait, T, unknown>;

/** State shared by a step generator and the driver running it. */
export interface StepContext {
  readonly adapter: FsAdapter;
  readonly retryTimeoutMs: number;
  /** 1 + retries so far. */
  attempts: number;
  /** When retrying stops: set at the first transient failure of the operation. */
  retryUntil?: number;
  /**
   * Shares directory fsyncs with concurrent writes (async operations only):
   * resolves once a flush of `dir` that began after the call has completed.
   * A flush this call starts retries transient failures for `retryTimeoutMs`.
   */
  syncDir?: (dir: string, retryTimeoutMs: number) => Promise<void>;
  /**
   * Leaves directory fsyncs to the caller (the offload worker's batch): the
   * write records each directory here and returns its receipt without
   * flushing; the caller flushes them all, then reports the writes.
   */
  deferDirSync?: (dir: string) => void;
  /** Set when someone subscribes to the write events: time spent per kind of step. */
  timings?: StepTimings;
}

/** Milliseconds spent in the steps of one write, by kind (see `events.ts`). */
export interface StepTimings {
  writeMs: number;
  fsyncMs: number;
  renameMs: number;
  dirSyncMs: number;
}

/** Fresh, zeroed timings. */
export function newTimings(): StepTimings {
  return { writeMs: 0, fsyncMs: 0, renameMs: 0, dirSyncMs: 0 };
}

const TIMED: Partial<Record<FsCallName, keyof StepTimings>> = {
  openExclusive: "writeMs",
  write: "writeMs",
  fstat: "writeMs",
  chmod: "writeMs",
  chown: "writeMs",
  mkdir: "writeMs",
  fsync: "fsyncMs",
  rename: "renameMs",
  link: "renameMs",
  syncDir: "dirSyncMs",
};

/** Add the time since `start` to the step's kind, if it has one. */
function timed(ctx: StepContext, name: FsCallName, start: number): void {
  const kind = TIMED[name];
  if (kind) ctx.timings![kind] += performance.now() - start;
}

/** No codes: one shared empty list, so that a call naming none allocates none. */
export const NONE: readonly string[] = Object.freeze([]);

/** Make one filesystem call and return its result. */
export function* call<K extends FsCallName>(
  name: K,
  args: Parameters<FsSyncCalls[K]>,
  op: AtomFsOp,
  path: string,
  retry: RetryClass = "transient",
  expect: readonly string[] = NONE,
  proceed?: () => boolean,
): Steps<ReturnType<FsSyncCalls[K]>> {
  return (yield { kind: "call", name, args, op, path, retry, expect, proceed }) as ReturnType<
    FsSyncCalls[K]
  >;
}

/** Remove each file named (one already gone is fine); returns the failures, in order. */
export function* unlinkAll(files: Iterable<string | undefined>): Steps<unknown[]> {
  const failures: unknown[] = [];
  for (const file of files) {
    if (file === undefined) continue;
    try {
      yield* call("unlink", [file], "unlink", file, "transient", ["ENOENT"]);
    } catch (error) {
      if (codeOf(error) !== "ENOENT") failures.push(error);
    }
  }
  return failures;
}

/** Wait for a promise (async driver only). */
export function* wait<T>(promise: Promise<T>): Steps<T> {
  return (yield { kind: "wait", promise }) as T;
}

/** The error code of a runtime error, or `undefined`. */
export function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

const TRANSIENT = new Set(["EMFILE", "ENFILE", "EAGAIN"]);
const WINDOWS_BUSY = new Set(["EPERM", "EACCES", "EBUSY"]);

/**
 * How long to sleep before trying a failed call again, or `undefined` when it
 * must not be retried. The budget (`retry.timeoutMs`) is for the whole
 * operation, not per call.
 */
function retryDelay(ctx: StepContext, c: Call, error: unknown, retry: number): number | undefined {
  const code = codeOf(error);
  if (code === undefined || c.retry === "never" || c.expect.includes(code)) return undefined;
  if (c.proceed && !c.proceed()) return undefined;
  const busy = c.retry === "replace" && ctx.adapter.platform === "windows" &&
    WINDOWS_BUSY.has(code);
  if (!TRANSIENT.has(code) && !busy) return undefined;
  const now = Date.now();
  ctx.retryUntil ??= now + ctx.retryTimeoutMs;
  if (now >= ctx.retryUntil) return undefined;
  ctx.attempts++;
  // Jittered exponential backoff: 1, 2, 4 … 100 ms, times a factor in [0.5, 1).
  return Math.min(ctx.retryUntil - now, Math.min(100, 2 ** retry) * (0.5 + Math.random() / 2));
}

/**
 * A runtime error as the `AtomFsError` of step `op` on `path`. Errors without
 * a code, `AtomFsError`s and the codes in `expect` pass as they are.
 */
export function stepError(
  error: unknown,
  op: AtomFsOp,
  path: string,
  expect: readonly string[] = NONE,
): unknown {
  const code = codeOf(error);
  if (code === undefined || expect.includes(code) || error instanceof AtomFsError) return error;
  return new AtomFsError({ code, op, path, cause: error });
}

function wrap(c: Call, error: unknown): unknown {
  return stepError(error, c.op, c.path, c.expect);
}

// Atomics.wait sleeps the thread for real; synchronous retries must not busy-spin.
const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Run steps synchronously. */
export function runSync<T>(ctx: StepContext, steps: Steps<T>): T {
  const sync = ctx.adapter.sync as unknown as Record<string, (...a: unknown[]) => unknown>;
  let next = steps.next();
  while (!next.done) {
    const step = next.value;
    if (step.kind === "wait") throw new TypeError("a synchronous write cannot wait for a promise");
    const start = ctx.timings ? performance.now() : 0;
    let value: unknown;
    let failure: unknown;
    let failed = false;
    for (let retry = 0;; retry++) {
      try {
        value = sync[step.name]!(...step.args);
        break;
      } catch (error) {
        const delay = retryDelay(ctx, step, error, retry);
        if (delay === undefined) {
          failed = true;
          failure = wrap(step, error);
          break;
        }
        Atomics.wait(sleeper, 0, 0, delay);
      }
    }
    if (ctx.timings) timed(ctx, step.name, start);
    next = failed ? steps.throw(failure) : steps.next(value);
  }
  return next.value;
}

/** Resolve after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Run steps with the adapter's async calls. */
export async function runAsync<T>(ctx: StepContext, steps: Steps<T>): Promise<T> {
  const calls = ctx.adapter as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
  let next = steps.next();
  while (!next.done) {
    const step = next.value;
    let outcome: { ok: true; value: unknown } | { ok: false; error: unknown };
    if (step.kind === "wait") {
      try {
        outcome = { ok: true, value: await step.promise };
      } catch (error) {
        outcome = { ok: false, error };
      }
    } else {
      const start = ctx.timings ? performance.now() : 0;
      for (let retry = 0;; retry++) {
        try {
          outcome = { ok: true, value: await calls[step.name]!(...step.args) };
          break;
        } catch (error) {
          const delay = retryDelay(ctx, step, error, retry);
          if (delay === undefined) {
            outcome = { ok: false, error: wrap(step, error) };
            break;
          }
          await sleep(delay);
        }
      }
      if (ctx.timings) timed(ctx, step.name, start);
    }
    next = outcome.ok ? steps.next(outcome.value) : steps.throw(outcome.error);
  }
  return next.value;
}
