/**
 * A pending atomic file: write it piece by piece, then commit or abort.
 *
 * @module
 */

import type { FsAdapter } from "./adapter.ts";
import type { WriteReceipt } from "./options.ts";
import { chunkBytes } from "./_data.ts";
import { cleanup, discard, type Pending, writeAll } from "./_protocol.ts";
import type { PathQueue } from "./_queue.ts";
import { queueKey } from "./_path.ts";
import { runAsync, type StepContext } from "./_steps.ts";
import { commitOrDiscard, context } from "./_write.ts";
import type { WriteEvents } from "./_write_events.ts";

/**
 * A new version of a file, written to a hidden temp file beside the target
 * and put in place only by {@linkcode AtomicFile.commit}. Until then readers
 * keep seeing the old file. Disposing it without a commit aborts it, so
 * `await using` never leaves a temp file behind.
 *
 * @example Stream rows into a file that appears whole or not at all
 * ```ts
 * import { openAtomic } from "@atomfs/atomfs";
 *
 * await using file = await openAtomic("./report.csv");
 * await file.write("id,name\n");
 * for (const [id, name] of [[1, "ada"], [2, "linus"]]) {
 *   await file.write(`${id},${name}\n`);
 * }
 * const receipt = await file.commit(); // without this line the temp file is removed
 * console.log(receipt.bytes);
 * ```
 */
export interface AtomicFile extends AsyncDisposable {
  /** The path of the file that commit replaces (after following symlinks). */
  readonly path: string;
  /**
   * Append a chunk to the new content. Writes are applied in call order.
   *
   * @param chunk A string (written as UTF-8) or bytes.
   * @throws {TypeError} If the chunk is neither, or the file is committed or aborted.
   * @throws {AtomFsError} If the write fails; the temp file is then removed.
   */
  write(chunk: string | ArrayBufferView): Promise<void>;
  /** A `WritableStream` over {@linkcode AtomicFile.write}; closing it does not commit. */
  readonly writable: WritableStream<Uint8Array>;
  /**
   * Put the new content in place: set mode and owner, fsync, rename, fsync
   * the directory (as the durability level asks). Calling it again returns
   * the same receipt.
   *
   * @returns What was achieved.
   * @throws {AtomFsError} If a step fails; the target is then untouched
   * (except for a failure of the final directory fsync, which the message says).
   */
  commit(): Promise<WriteReceipt>;
  /** Remove the temp file and leave the target untouched. Idempotent; a no-op after commit. */
  abort(): Promise<void>;
  /** Abort unless committed. */
  [Symbol.asyncDispose](): Promise<void>;
}

type State = "open" | "committing" | "committed" | "aborted" | "failed";

// A pending file dropped without commit or abort is cleaned up when it is
// garbage-collected: its handle closed, its temp file removed, through the
// async calls that opened it (handles never pass between an adapter's sync
// and async calls). The cleanup holds `pending` until it is done, so the
// handle is never collected open (Node ≥ 22 and Bun crash on a FileHandle
// collected open; Node's adapter holds FileHandles under its permission model).
const dropped = new FinalizationRegistry<{ adapter: FsAdapter; pending: Pending }>(
  ({ adapter, pending }) => {
    // cleanup() collects failures instead of throwing; nobody is left to tell.
    runAsync(context(adapter, { retryTimeoutMs: 0 }), cleanup(pending)).catch(() => {});
  },
);

/** The `AtomicFile` that `openAtomic` returns. */
export class PendingAtomicFile implements AtomicFile {
  #ctx: StepContext;
  #events: WriteEvents | undefined;
  #queue: PathQueue;
  #pending: Pending;
  #state: State = "open";
  #failure: unknown;
  #writes: Promise<void> = Promise.resolve();
  #commit: Promise<WriteReceipt> | undefined;
  #writable: WritableStream<Uint8Array> | undefined;

  /**
   * Wrap a temp file that `begin` created.
   *
   * @param ctx The operation's context.
   * @param queue The per-path queue that orders commits.
   * @param pending The temp file.
   * @param events Where its commit or failure is published.
   */
  constructor(ctx: StepContext, queue: PathQueue, pending: Pending, events?: WriteEvents) {
    this.#ctx = ctx;
    this.#events = events;
    this.#queue = queue;
    this.#pending = pending;
    dropped.register(this, { adapter: ctx.adapter, pending }, this);
  }

  get path(): string {
    return this.#pending.target.path;
  }

  #closed(verb: string): Error {
    if (this.#state === "failed") return this.#failure as Error;
    return new TypeError(`Cannot ${verb} '${this.path}': the AtomicFile is already ${this.#state}`);
  }

  #fail(error: unknown): void {
    this.#state = "failed";
    this.#failure = error;
    dropped.unregister(this);
  }

  write(chunk: string | ArrayBufferView): Promise<void> {
    if (this.#state !== "open") return Promise.reject(this.#closed("write to"));
    let bytes: Uint8Array;
    try {
      bytes = chunkBytes(chunk);
    } catch (error) {
      return Promise.reject(error);
    }
    const written = this.#writes.then(async () => {
      if (this.#state !== "open" && this.#state !== "committing") throw this.#closed("write to");
      try {
        await runAsync(this.#ctx, writeAll(this.#pending, bytes));
      } catch (error) {
        // A failed write discards the temp file at once: nothing is left
        // behind even if the caller never aborts.
        this.#fail(error);
        await runAsync(this.#ctx, discard(this.#pending, error));
      }
    });
    this.#writes = written.catch(() => {});
    return written;
  }

  get writable(): WritableStream<Uint8Array> {
    this.#writable ??= new WritableStream<Uint8Array>({
      write: (chunk) => this.write(chunk),
      abort: () => this.abort(),
    });
    return this.#writable;
  }

  commit(): Promise<WriteReceipt> {
    if (this.#commit) return this.#commit;
    if (this.#state !== "open") return Promise.reject(this.#closed("commit"));
    this.#state = "committing";
    this.#commit = this.#writes.then(() => {
      if (this.#state === "failed") throw this.#failure;
      const key = queueKey(this.path, this.#ctx.adapter.platform);
      const events = this.#events?.active ? this.#events : undefined;
      const startedAt = events ? events.start(this.#ctx) : 0;
      const outcome = this.#queue.run(
        key,
        (ticket) => runAsync(this.#ctx, commitOrDiscard(this.#ctx, this.#pending, ticket)),
        undefined,
      );
      return events ? events.track(outcome, this.#ctx, startedAt, this.path) : outcome;
    }).then(
      (receipt) => {
        this.#state = "committed";
        dropped.unregister(this);
        return receipt;
      },
      (error) => {
        this.#fail(error);
        throw error;
      },
    );
    return this.#commit;
  }

  async abort(): Promise<void> {
    if (this.#commit) {
      await this.#commit.catch(() => {});
      return;
    }
    if (this.#state !== "open") return;
    this.#state = "aborted";
    dropped.unregister(this);
    await this.#writes;
    const failures = await runAsync(this.#ctx, cleanup(this.#pending));
    if (failures.length > 0) throw failures[0];
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#state !== "committed") await this.abort();
  }
}
