// Publishes the write events of events.ts. Nobody subscribed: one property
// read per write, no timing, no message built.

import type { EventChannel, FsAdapter } from "./adapter.ts";
import { AtomFsError } from "./errors.ts";
import { CHANNELS, type WriteCommittedEvent, type WriteFailedEvent } from "./events.ts";
import type { WriteReceipt } from "./options.ts";
import { newTimings, type StepContext } from "./_steps.ts";

/** The write channels of one adapter. */
export class WriteEvents {
  readonly #committed: EventChannel | undefined;
  readonly #failed: EventChannel | undefined;

  constructor(adapter: FsAdapter) {
    this.#committed = adapter.channel?.(CHANNELS.writeCommitted);
    this.#failed = adapter.channel?.(CHANNELS.writeFailed);
  }

  /** Whether anyone listens to either channel (else a write publishes nothing). */
  get active(): boolean {
    return this.#committed?.hasSubscribers === true || this.#failed?.hasSubscribers === true;
  }

  /**
   * Start timing a write in `ctx` if anyone listens for commits; returns
   * when it started (0 when not timed).
   */
  start(ctx: StepContext): number {
    if (!this.#committed?.hasSubscribers) return 0;
    ctx.timings = newTimings();
    return performance.now();
  }

  /** Publish the outcome of a write started with `start` (commits only when timed). */
  track(
    outcome: Promise<WriteReceipt>,
    ctx: StepContext,
    startedAt: number,
    path: string,
  ): Promise<WriteReceipt> {
    outcome.then(
      (receipt) => this.committed(receipt, ctx, startedAt),
      (error) => this.failed(path, error),
    );
    return outcome;
  }

  /** Publish a commit (a write superseded by a later one did not commit: nothing). */
  committed(receipt: WriteReceipt, ctx: StepContext, startedAt: number): void {
    const timings = ctx.timings;
    if (!timings || receipt.superseded || !this.#committed?.hasSubscribers) return;
    const event: WriteCommittedEvent = {
      path: receipt.path,
      bytes: receipt.bytes,
      durability: receipt.durability,
      strategy: receipt.strategy,
      attempts: receipt.attempts,
      ...timings,
      totalMs: performance.now() - startedAt,
    };
    this.#committed.publish(event);
  }

  /** Publish an I/O failure (aborts and bad input are not published). */
  failed(path: string, error: unknown): void {
    if (!(error instanceof AtomFsError) || !this.#failed?.hasSubscribers) return;
    const event: WriteFailedEvent = {
      path: error.path || path,
      code: error.code,
      op: error.op,
      error,
    };
    this.#failed.publish(event);
  }
}
