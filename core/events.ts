/**
 * The events atomfs publishes on `node:diagnostics_channel`, for logs,
 * metrics and traces. Nothing is built or sent while a channel has no
 * subscriber. The channel names and message fields are part of the API.
 *
 * @example Log every committed write
 * ```ts
 * import diagnostics from "node:diagnostics_channel";
 * import { CHANNELS, type WriteCommittedEvent } from "@atomfs/atomfs";
 *
 * diagnostics.subscribe(CHANNELS.writeCommitted, (message) => {
 *   const event = message as WriteCommittedEvent;
 *   console.log(`${event.path}: ${event.bytes} bytes in ${event.totalMs.toFixed(2)} ms`);
 * });
 * ```
 *
 * @module
 */

import type { EventChannel, FsAdapter } from "./adapter.ts";

/** The channel names. */
export const CHANNELS: {
  /** A write put its content in place: {@linkcode WriteCommittedEvent}. */
  readonly writeCommitted: "atomfs:write:committed";
  /** A write failed: {@linkcode WriteFailedEvent}. */
  readonly writeFailed: "atomfs:write:failed";
  /** A watched value was reloaded: {@linkcode ReloadEvent}. */
  readonly reload: "atomfs:reload";
  /** A reload did not finish in time: {@linkcode ReloadTimeoutEvent}. */
  readonly reloadTimeout: "atomfs:reload:timeout";
  /** A file or directory was rolled back to a backup: {@linkcode RollbackEvent}. */
  readonly rollback: "atomfs:rollback";
} = {
  writeCommitted: "atomfs:write:committed",
  writeFailed: "atomfs:write:failed",
  reload: "atomfs:reload",
  reloadTimeout: "atomfs:reload:timeout",
  rollback: "atomfs:rollback",
};

/** Time spent in each step of a write, in milliseconds. */
export interface WriteTimings {
  /** Creating the temp file and writing the content. */
  readonly writeMs: number;
  /** Flushing the temp file (fsync). */
  readonly fsyncMs: number;
  /** Putting it in place (rename, or link for `overwrite: false`). */
  readonly renameMs: number;
  /** Flushing the directory (shared with concurrent writes when they overlap). */
  readonly dirSyncMs: number;
}

/** Published on `atomfs:write:committed`. */
export interface WriteCommittedEvent extends WriteTimings {
  /** The real path written. */
  readonly path: string;
  /** Bytes written. */
  readonly bytes: number;
  /** The durability achieved. */
  readonly durability: "full" | "file" | "none";
  /** How the content was put in place. */
  readonly strategy: "rename" | "link" | "in-place";
  /** 1 + retries. */
  readonly attempts: number;
  /** From the call to the commit, including time queued behind earlier writes to the same file. */
  readonly totalMs: number;
}

/** Published on `atomfs:write:failed`. */
export interface WriteFailedEvent {
  /** The target (the real path, when it was resolved). */
  readonly path: string;
  /** The OS error code (`ENOSPC`, …). */
  readonly code: string;
  /** The step that failed (`"sync"`, `"rename"`, …). */
  readonly op: string;
  /** The error the caller gets. */
  readonly error: unknown;
}

/** Published on `atomfs:reload`. */
export interface ReloadEvent {
  /** The file reloaded. */
  readonly path: string;
  /** SHA-256 of the new content, hex. */
  readonly hash: string;
  /** From the file's modification (its rename) to the new value being in use, in ms. */
  readonly latencyMs: number;
}

/** Published on `atomfs:reload:timeout`. */
export interface ReloadTimeoutEvent {
  /** The file whose reload timed out. */
  readonly path: string;
  /** The limit it exceeded. */
  readonly timeoutMs: number;
}

/** Published on `atomfs:rollback`. */
export interface RollbackEvent {
  /** The file or directory rolled back. */
  readonly path: string;
  /** The backup restored. */
  readonly from: string;
  /** SHA-256 of the restored content, hex. */
  readonly hash: string;
}

/**
 * The adapter's channel `name` if someone subscribes to it, else `undefined`:
 * callers build their message only when this returns a channel.
 */
export function listened(adapter: FsAdapter, name: string): EventChannel | undefined {
  const channel = adapter.channel?.(name);
  return channel?.hasSubscribers ? channel : undefined;
}
