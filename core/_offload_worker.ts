// The offload worker's side: whole writes run with the synchronous driver on a
// thread of their own, so a write costs the main thread one record in a ring
// and one wake-up instead of a thread-pool round trip per syscall. It runs the
// same step generators as every other write; the only difference is that the
// directory fsyncs of a batch (the writes that arrived together) are made
// once per directory after all its renames, and only then are the writes
// reported.

import type { FsAdapter } from "./adapter.ts";
import { AtomFsError, type AtomFsOp } from "./errors.ts";
import type { Durability, ResolvedWriteOptions, WriteReceipt } from "./options.ts";
import { sharedFlushError, type Target } from "./_protocol.ts";
import type { Ticket } from "./_queue.ts";
import { Ring } from "./_ring.ts";
import { call, newTimings, runSync, type StepContext, type StepTimings } from "./_steps.ts";
import { context, write } from "./_write.ts";

/** Slot states, one Int32 per write in flight, shared by both threads. */
export const SLOT = {
  /** Not in use. */
  FREE: 0,
  /** Sent to the worker, not finished. */
  QUEUED: 1,
  /** Its signal aborted: the worker stops it before the rename if it can. */
  ABORTED: 2,
  /** The worker has renamed it into place, or given up: nothing more happens to the target. */
  DONE: 3,
} as const;

/** Options as they cross to the worker (a signal cannot: its slot stands for it). */
export type WireOptions = Omit<ResolvedWriteOptions, "signal" | "coalesce">;

/** What the worker is told about a write; the content follows it in the record. */
export interface JobHeader {
  readonly id: number;
  readonly slot: number;
  /** The resolved target, or the absolute path to resolve when the write's turn comes. */
  readonly target: Target | string;
  readonly options: WireOptions;
  readonly signal: boolean;
  /** Time the steps (someone subscribes to the write events). */
  readonly timings: boolean;
}

/** A runtime error, as plain data. */
export interface WireCause {
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
  readonly props: Record<string, string | number | boolean>;
}

/** An error, as plain data. */
export type WireError =
  | {
    readonly kind: "atomfs";
    readonly code: string;
    readonly op: AtomFsOp;
    readonly path: string;
    readonly message: string;
    readonly cause?: WireCause;
    readonly suppressed: WireCause[];
  }
  | { readonly kind: "other"; readonly error: WireCause };

/** A write's outcome, as the worker reports it. */
export interface JobResult {
  readonly id: number;
  readonly receipt?: WriteReceipt;
  /** The durability its commit reached, when it put its content in place (even if a later step failed). */
  readonly committed?: Durability;
  readonly error?: WireError;
  /** Its signal stopped it; the main thread rejects with the signal's reason. */
  readonly aborted?: true;
  /** Its step timings, when asked for. */
  readonly timings?: StepTimings;
}

/** One write of a batch: its header and a view of its content. */
export interface Job {
  readonly header: JobHeader;
  readonly data: Uint8Array;
}

function causeToWire(error: unknown): WireCause {
  if (!(error instanceof Error)) {
    return { name: "Error", message: String(error), props: {} };
  }
  const props: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(error)) {
    if (["string", "number", "boolean"].includes(typeof value)) {
      props[key] = value as string | number | boolean;
    }
  }
  // Stacks are cut short: a record must fit in the results ring.
  return { name: error.name, message: error.message, stack: error.stack?.slice(0, 4096), props };
}

/** An error as plain data, keeping what `errorFromWire` needs to rebuild it. */
export function errorToWire(error: unknown): WireError {
  if (error instanceof AtomFsError) {
    return {
      kind: "atomfs",
      code: error.code,
      op: error.op,
      path: error.path,
      message: error.message,
      cause: error.cause === undefined ? undefined : causeToWire(error.cause),
      suppressed: error.suppressed.map(causeToWire),
    };
  }
  return { kind: "other", error: causeToWire(error) };
}

function causeFromWire(wire: WireCause): Error {
  const Type = ({ TypeError, RangeError, SyntaxError } as Record<string, ErrorConstructor>)[
    wire.name
  ] ?? Error;
  const error = new Type(wire.message);
  if (wire.name !== error.name) error.name = wire.name;
  if (wire.stack !== undefined) error.stack = wire.stack;
  Object.assign(error, wire.props);
  return error;
}

/** The error `errorToWire` described. */
export function errorFromWire(wire: WireError): Error {
  if (wire.kind === "other") return causeFromWire(wire.error);
  return new AtomFsError({
    code: wire.code,
    op: wire.op,
    path: wire.path,
    message: wire.message,
    cause: wire.cause && causeFromWire(wire.cause),
    suppressed: wire.suppressed.map(causeFromWire),
  });
}

const ABORT = Symbol("aborted");

/**
 * Run a batch of writes, each whole, then flush every directory they renamed
 * into once, then say how each went. A directory flush that fails fails every
 * write of the batch that relied on it, for its own target. `flags` holds the
 * slots (absent in tests, where nothing aborts).
 */
export function runBatch(
  adapter: FsAdapter,
  jobs: readonly Job[],
  flags?: Int32Array,
): JobResult[] {
  const outcomes: {
    header: JobHeader;
    receipt?: WriteReceipt;
    committed?: Durability;
    error?: unknown;
    dirs: string[];
    timings?: StepTimings;
  }[] = [];
  for (const { header, data } of jobs) {
    const { slot } = header;
    const outcome: (typeof outcomes)[number] = { header, dirs: [] };
    const signal = header.signal && flags
      ? {
        get aborted() {
          return Atomics.load(flags, slot) === SLOT.ABORTED;
        },
        reason: ABORT,
      }
      : undefined;
    const options: ResolvedWriteOptions = {
      ...header.options,
      coalesce: false,
      signal: signal as AbortSignal | undefined,
    };
    const ctx: StepContext = {
      ...context(adapter, options),
      deferDirSync: (dir) => outcome.dirs.push(dir),
      timings: header.timings ? newTimings() : undefined,
    };
    outcome.timings = ctx.timings;
    // Writes to one path reach the worker one at a time (the main thread's
    // queue waits for each outcome), so nothing can supersede a write here.
    const ticket = {
      superseded: () => undefined,
      committed: (durability: Durability) => outcome.committed = durability,
    } as unknown as Ticket;
    try {
      outcome.receipt = runSync(ctx, write(ctx, header.target, options, data, ticket));
    } catch (error) {
      outcome.error = error;
    }
    if (flags) {
      Atomics.store(flags, slot, SLOT.DONE);
      Atomics.notify(flags, slot);
    }
    outcomes.push(outcome);
  }
  const failed = new Map<string, unknown>();
  const flushed = new Map<string, number>();
  for (const outcome of outcomes) {
    if (!outcome.receipt) continue;
    for (const dir of outcome.dirs) {
      if (flushed.has(dir)) continue;
      const ctx = context(adapter, outcome.header.options);
      const start = performance.now();
      try {
        runSync(ctx, call("syncDir", [dir], "sync-dir", dir));
      } catch (error) {
        failed.set(dir, error);
      }
      flushed.set(dir, performance.now() - start);
    }
  }
  return outcomes.map(({ header, receipt, committed, error, dirs, timings }) => {
    // Each write waited for the flushes of its directories.
    if (timings) { for (const dir of dirs) timings.dirSyncMs += flushed.get(dir) ?? 0; }
    const dirError = dirs.map((dir) => failed.get(dir)).find((e) => e !== undefined);
    if (receipt && dirError !== undefined) error = sharedFlushError(dirError, receipt.path);
    if (error === undefined) return { id: header.id, receipt, committed, timings };
    if (error === ABORT) return { id: header.id, committed, aborted: true };
    return { id: header.id, committed, error: errorToWire(error) };
  });
}

/** The shared memory of one offload worker. */
export interface OffloadInit {
  readonly jobs: SharedArrayBuffer;
  readonly results: SharedArrayBuffer;
  readonly flags: SharedArrayBuffer;
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** Decode one job record: an int32 header length, the header as JSON, then the content. */
function decodeJob(record: Uint8Array): Job {
  const length = new DataView(record.buffer, record.byteOffset, 4).getInt32(0, true);
  // A copy: TextDecoder need not accept views of shared memory.
  const header = JSON.parse(decoder.decode(record.slice(4, 4 + length))) as JobHeader;
  return { header, data: record.subarray(4 + length) };
}

/**
 * The worker's loop: wait for jobs, run them as a batch, report. Never
 * returns; the worker is terminated with its process. `wake` tells the main
 * thread that results are waiting, where it cannot wait on the ring itself.
 */
export function serve(adapter: FsAdapter, init: OffloadInit, wake?: () => void): never {
  const jobs = new Ring(init.jobs);
  const results = new Ring(init.results);
  const flags = new Int32Array(init.flags);
  for (;;) {
    const seen = jobs.seq;
    const records = jobs.take();
    if (records.length === 0) {
      jobs.waitSync(seen);
      continue;
    }
    const outcomes = runBatch(adapter, records.map(decodeJob), flags);
    jobs.release();
    for (const outcome of outcomes) {
      const record = encoder.encode(JSON.stringify(outcome));
      while (!results.push([record])) results.waitForSpace(100);
    }
    wake?.();
  }
}
