// The offload worker's side: whole writes run with the synchronous driver on a
// thread of their own, so a write costs the main thread one record in a ring
// and one wake-up instead of a thread-pool round trip per syscall. It runs the
// same step generators as every other write; the only difference is that the
// directory fsyncs of a batch (the writes that arrived together) are made
// once per directory after all its renames, and only then are the writes
// reported.

import type { FsAdapter } from "./adapter.ts";
import type { Durability, WriteReceipt } from "./options.ts";
import { sharedFlushError } from "./_protocol.ts";
import { SOLO, type WriteTicket } from "./_queue.ts";
import { Ring } from "./_ring.ts";
import { call, newTimings, runSync, type StepContext, type StepTimings } from "./_steps.ts";
import {
  errorToWire,
  fromWire,
  type Job,
  JobDecoder,
  type JobHeader,
  type JobResult,
  ResultEncoder,
} from "./_wire.ts";
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
    const options = fromWire(header.options, signal as AbortSignal | undefined);
    const ctx: StepContext = {
      adapter,
      retryTimeoutMs: options.retryTimeoutMs,
      deferDirSync: (dir) => outcome.dirs.push(dir),
      timings: header.timings ? newTimings() : undefined,
      // Retries begun on the main thread count here, and keep their deadline.
      attempts: header.attempts,
      retryUntil: header.retryUntil,
    };
    outcome.timings = ctx.timings;
    // Writes to one path reach the worker one at a time (the main thread's
    // queue waits for each outcome), so nothing can supersede a write here.
    // A synchronous write to the path waits for this write's slot to be DONE
    // instead (`Offloader.fence`): its rename needs no announcing.
    const ticket: WriteTicket = {
      superseded: SOLO.superseded,
      renaming: SOLO.renaming,
      committed: (durability: Durability) => outcome.committed = durability,
    };
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
  const timed = outcomes.some((outcome) => outcome.timings);
  for (const outcome of outcomes) {
    if (!outcome.receipt) continue;
    for (const dir of outcome.dirs) {
      if (flushed.has(dir)) continue;
      const ctx = context(adapter, outcome.header.options);
      const start = timed ? performance.now() : 0;
      try {
        runSync(ctx, call("syncDir", [dir], "sync-dir", dir));
      } catch (error) {
        failed.set(dir, error);
      }
      flushed.set(dir, timed ? performance.now() - start : 0);
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

/**
 * The worker's loop: wait for jobs, run them as a batch, report. Never
 * returns; the worker is terminated with its process. `wake` tells the main
 * thread that results are waiting, where it cannot wait on the ring itself.
 */
export function serve(adapter: FsAdapter, init: OffloadInit, wake?: () => void): never {
  const jobs = new Ring(init.jobs);
  const results = new Ring(init.results);
  const flags = new Int32Array(init.flags);
  const jobDecoder = new JobDecoder();
  const resultEncoder = new ResultEncoder();
  for (;;) {
    const seen = jobs.seq;
    const records = jobs.take();
    if (records.length === 0) {
      jobs.waitSync(seen);
      continue;
    }
    const outcomes = runBatch(adapter, records.map((r) => jobDecoder.decode(r)), flags);
    jobs.release();
    for (const outcome of outcomes) {
      const parts = resultEncoder.parts(outcome);
      while (!results.push(parts)) results.waitForSpace(100);
    }
    wake?.();
  }
}
