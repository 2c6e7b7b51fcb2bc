// One whole write: begin, write the content, commit; discard on any failure.

import type { FsAdapter } from "./adapter.ts";
import type { ResolvedWriteOptions, WriteReceipt } from "./options.ts";
import {
  begin,
  commit,
  discard,
  type Pending,
  resolveTarget,
  type Target,
  writeAll,
} from "./_protocol.ts";
import type { ChunkSource } from "./_data.ts";
import type { Ticket, WriteTicket } from "./_queue.ts";
import { type StepContext, type Steps, wait } from "./_steps.ts";

/** A fresh context for one operation. */
export function context(
  adapter: FsAdapter,
  options: { retryTimeoutMs: number },
  syncDir?: StepContext["syncDir"],
): StepContext {
  return { adapter, retryTimeoutMs: options.retryTimeoutMs, attempts: 1, syncDir };
}

/**
 * The receipt of a write dropped before any I/O because a later one
 * committed first; `attempts` counts the retries made resolving its target.
 */
export function supersededReceipt(
  path: string,
  ticket: Ticket,
  attempts = 1,
): WriteReceipt | undefined {
  const later = ticket.superseded();
  if (later === undefined) return undefined;
  return {
    path,
    bytes: 0,
    durability: later,
    strategy: "rename",
    attempts,
    superseded: true,
  };
}

/** The receipt of a write coalesced into a later one: that write's outcome, marked superseded. */
export function coalescedReceipt(later: WriteReceipt): WriteReceipt {
  // Field by field, not a spread: a burst makes one per write given way to.
  return {
    path: later.path,
    bytes: 0,
    durability: later.durability,
    strategy: later.strategy,
    attempts: later.attempts,
    superseded: true,
  };
}

/**
 * Steps of a whole write, from in-memory bytes or from a stream (async driver
 * only). `target` is the resolved target, or the path to resolve now.
 */
export function* write(
  ctx: StepContext,
  target: Target | string,
  options: ResolvedWriteOptions,
  content: Uint8Array | ChunkSource,
  ticket: WriteTicket,
): Steps<WriteReceipt> {
  let pending: Pending | undefined;
  try {
    const resolved = typeof target === "string"
      ? yield* resolveTarget(ctx, target, options)
      : target;
    pending = yield* begin(ctx, resolved, options);
    if (content instanceof Uint8Array) {
      yield* writeAll(pending, content);
    } else {
      for (let chunk = yield* wait(content.next()); chunk; chunk = yield* wait(content.next())) {
        yield* writeAll(pending, chunk);
      }
    }
    return yield* commit(ctx, pending, ticket);
  } catch (error) {
    if (!(content instanceof Uint8Array)) yield* wait(content.close(error).catch(() => {}));
    if (pending) yield* discard(pending, error);
    throw error;
  }
}

/** Steps of an `AtomicFile` commit: discard the temp file if any step fails. */
export function* commitOrDiscard(
  ctx: StepContext,
  pending: Pending,
  ticket: Ticket,
): Steps<WriteReceipt> {
  try {
    return yield* commit(ctx, pending, ticket);
  } catch (error) {
    return yield* discard(pending, error);
  }
}
