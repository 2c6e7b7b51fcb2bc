/**
 * Backups kept by `writeFile(path, data, { backups: N })`, and rollback to
 * one of them.
 *
 * A write with `backups: N` hard-links the file it replaces to
 * `.<name>.atomfs-<generation>.bak` beside it (generation `000001`,
 * `000002`, …; the highest is the newest) just before the rename, and keeps
 * the newest N. {@linkcode rollback} puts one back atomically and durably;
 * the version it replaces is kept as the newest backup, so a rollback can be
 * rolled back too.
 *
 * @module
 */

import type { FsAdapter } from "./adapter.ts";
import { AtomFsError } from "./errors.ts";
import { CHANNELS, listened, type RollbackEvent } from "./events.ts";
import {
  type Durability,
  resolveRollbackOptions,
  resolveWriteOptions,
  type RetryOptions,
} from "./options.ts";
import { absolute, join, toPath } from "./_path.ts";
import { renameAnnounced, resolveTarget, type Target } from "./_protocol.ts";
import { SOLO, type WriteTicket } from "./_queue.ts";
import { type Backup, backupName, findBackups, linkBackup } from "./_backups.ts";
import { call, codeOf, runAsync, type StepContext, type Steps, unlinkAll } from "./_steps.ts";
import { tempName } from "./_temp_name.ts";
import { sha256Hex } from "./_hash.ts";
import { context } from "./_write.ts";

/** One backup of a file, as {@linkcode listBackups} reports it. */
export interface BackupInfo {
  /** The backup's absolute path (`.<name>.atomfs-<generation>.bak` beside the file). */
  readonly path: string;
  /** Its generation: 1 for the first backup ever kept of the file; higher is newer. */
  readonly generation: number;
  /** SHA-256 of its content, as 64 lowercase hex digits. */
  readonly hash: string;
  /** Its size in bytes. */
  readonly size: number;
  /**
   * When this version was written, in milliseconds since the epoch (a backup
   * is a hard link to the old file, so it keeps that file's modification time).
   */
  readonly mtimeMs: number;
}

/** Options of {@linkcode rollback}. */
export interface RollbackOptions {
  /**
   * The generation to restore, as {@linkcode listBackups} reports it.
   *
   * @default {the newest backup}
   */
  generation?: number;
  /**
   * How durable the restore is, as for a write: `"full"` fsyncs the directory
   * so that a power loss after the promise resolves leaves the restored file.
   *
   * @default {"full"}
   */
  durability?: Durability;
  /** How long transient failures (`EMFILE`, …) are retried, as for a write. */
  retry?: RetryOptions;
}

/** What {@linkcode rollback} did. */
export interface RollbackReceipt {
  /** The file restored: absolute, after following symlinks. */
  readonly path: string;
  /** The backup it was restored from (still there afterwards). */
  readonly from: string;
  /** That backup's generation. */
  readonly generation: number;
  /**
   * The backup that now holds the version the rollback replaced, or
   * `undefined` when there was none (the file was missing, or already was
   * that backup).
   */
  readonly kept: string | undefined;
  /** The durability achieved, e.g. `"file"` on Windows when `"full"` was asked. */
  readonly durability: Durability;
  /**
   * `true` when a `writeFileSync` to the file, issued after this rollback,
   * committed before its rename: the backup was not put over the newer
   * content, and nothing was kept.
   */
  readonly superseded: boolean;
}

const RETRY_TIMEOUT_MS = 10_000;

/** Validate a path (before any I/O) and resolve its symlink chain, as a write would. */
async function locate(
  adapter: FsAdapter,
  path: string | URL,
  retryTimeoutMs = RETRY_TIMEOUT_MS,
): Promise<{ ctx: StepContext; target: Target }> {
  const { platform } = adapter;
  const given = absolute(toPath(path, platform), () => adapter.cwd(), platform);
  const ctx = context(adapter, { retryTimeoutMs });
  const options = resolveWriteOptions({});
  return { ctx, target: await runAsync(ctx, resolveTarget(ctx, given, options)) };
}

/**
 * List the backups kept of a file, newest first, with the SHA-256, size and
 * time of each. A symlink is followed: the backups are those of the file it
 * leads to, as a write through it makes them.
 *
 * @param adapter The filesystem.
 * @param path The file (a string or a `file:` URL), not a backup.
 * @returns Its backups, newest first; empty when it has none.
 * @throws {TypeError} On a bad path, before any I/O.
 * @throws {AtomFsError} If the directory cannot be listed or a backup cannot be read.
 *
 * @example List the versions kept of a file
 * ```ts
 * import { createAtomicFs } from "@atomfs/atomfs";
 * import { memoryAdapter } from "@atomfs/atomfs/memory";
 *
 * const adapter = memoryAdapter();
 * const fs = createAtomicFs(adapter);
 * for (const text of ["one", "two", "three"]) {
 *   await fs.writeFile("/app.json", text, { backups: 5 });
 * }
 * for (const backup of await fs.listBackups("/app.json")) {
 *   console.log(backup.generation, backup.size, backup.hash.slice(0, 12));
 * }
 * // 2 3 …  ("two")
 * // 1 3 …  ("one")
 * ```
 */
export async function listBackups(adapter: FsAdapter, path: string | URL): Promise<BackupInfo[]> {
  const { ctx, target } = await locate(adapter, path);
  const found = await runAsync(ctx, findBackups(target.dir, target.path, adapter.platform));
  const list: BackupInfo[] = [];
  for (const { path, generation } of found.reverse()) {
    const read = await runAsync(ctx, readBackup(path));
    if (!read) continue;
    list.push({
      path,
      generation,
      hash: await sha256Hex(read.bytes),
      size: read.size,
      mtimeMs: read.mtimeMs,
    });
  }
  return list;
}

/** A backup's metadata and content, or `undefined` if it was pruned meanwhile. */
function* readBackup(
  path: string,
): Steps<{ size: number; mtimeMs: number; bytes: Uint8Array } | undefined> {
  try {
    const stat = yield* call("lstat", [path], "stat", path, "transient", ["ENOENT"]);
    const bytes = yield* call("readFile", [path], "read", path, "transient", ["ENOENT"]);
    return { size: bytes.length, mtimeMs: stat.mtimeMs, bytes };
  } catch (error) {
    if (codeOf(error) === "ENOENT") return undefined;
    throw error;
  }
}

/**
 * Put a backup of a file back in its place, atomically and durably: the
 * backup is hard-linked to a fresh temp name, renamed over the file, and the
 * directory is fsynced (`durability: "full"`). Readers see the current
 * version or the restored one, never a mix; a crash leaves one of the two.
 *
 * The version replaced is not lost: it is hard-linked as the newest backup
 * first (the receipt's `kept`), so rolling back again restores it; pass
 * `generation` to walk further back. The restored backup stays where it was.
 * Nothing is pruned: the next write with `backups: N` prunes to N. A file
 * that is missing is restored too.
 *
 * Publishes a {@linkcode RollbackEvent} on `atomfs:rollback` when someone
 * subscribes. This function is not queued behind writes in this process;
 * `rollback(path)` of `mod.ts` (and of an `AtomicFs`) is.
 *
 * @param adapter The filesystem.
 * @param path The file (a string or a `file:` URL); a symlink is followed.
 * @param options Which generation to restore, and how durably.
 * @param ticket Its place in a path's queue, when it is queued (internal).
 * @returns What was restored, and where the replaced version went.
 * @throws {TypeError | RangeError} On a bad path or options, before any I/O.
 * @throws {AtomFsError} `ENOENT` when the file has no backups (or not the
 *   generation asked); any I/O failure, the file then untouched.
 *
 * @example Undo a bad write
 * ```ts
 * import { createAtomicFs } from "@atomfs/atomfs";
 * import { memoryAdapter } from "@atomfs/atomfs/memory";
 *
 * const adapter = memoryAdapter();
 * const fs = createAtomicFs(adapter);
 * await fs.writeFile("/app.json", '{"port":80}', { backups: 3 });
 * await fs.writeFile("/app.json", '{"port":', { backups: 3 }); // oops
 * await fs.rollback("/app.json");
 * console.log(await fs.readTextFile("/app.json")); // {"port":80}
 * ```
 */
export async function rollback(
  adapter: FsAdapter,
  path: string | URL,
  options?: RollbackOptions,
  ticket: WriteTicket = SOLO,
): Promise<RollbackReceipt> {
  const resolved = resolveRollbackOptions(options);
  const { ctx, target } = await locate(adapter, path, resolved.retryTimeoutMs);
  const receipt = await runAsync(ctx, restore(ctx, target, resolved, ticket));
  const channel = listened(adapter, CHANNELS.rollback);
  if (channel && !receipt.superseded) {
    // The backup and the file are one inode now; the backup is read in case
    // another writer has replaced the file since.
    const read = await runAsync(ctx, readBackup(receipt.from));
    const bytes = read?.bytes ??
      await runAsync(ctx, call("readFile", [receipt.path], "read", receipt.path));
    const event: RollbackEvent = {
      path: receipt.path,
      from: receipt.from,
      hash: await sha256Hex(bytes),
    };
    channel.publish(event);
  }
  return receipt;
}

function noBackup(target: Target, generation: number | undefined, found: Backup[]): AtomFsError {
  const example = backupName(target.path.slice(target.dir.length).replace(/^[\\/]/, ""), 1);
  return new AtomFsError({
    code: "ENOENT",
    op: "stat",
    path: target.path,
    message: found.length === 0
      ? `Cannot roll back '${target.path}': it has no backups (no '${example}' or later ` +
        "generation beside it); only writes with { backups: N } keep them"
      : `Cannot roll back '${target.path}' to generation ${generation}: there is no such ` +
        `backup; it has generations ${found.map((b) => b.generation).join(", ")}`,
  });
}

/** The steps of a rollback: keep the current version, link the backup to a temp name, rename it over. */
function* restore(
  ctx: StepContext,
  target: Target,
  options: { generation: number | undefined; durability: Durability },
  ticket: WriteTicket,
): Steps<RollbackReceipt> {
  const { adapter } = ctx;
  const { platform } = adapter;
  const found = yield* findBackups(target.dir, target.path, platform);
  const chosen = options.generation === undefined
    ? found.at(-1)
    : found.find((b) => b.generation === options.generation);
  if (!chosen) throw noBackup(target, options.generation, found);
  const achieved: Durability = options.durability === "full" && !adapter.capabilities.syncDir
    ? "file"
    : options.durability;
  const receipt = (kept: Backup | undefined, superseded = false): RollbackReceipt => ({
    path: target.path,
    from: chosen.path,
    generation: chosen.generation,
    kept: kept?.path,
    durability: achieved,
    superseded,
  });
  const source = yield* call("lstat", [chosen.path], "stat", chosen.path);
  // Already that version: rename(2) between two links to one file does
  // nothing and would leave the temp name behind, so there is nothing to do.
  if (target.old && target.old.dev === source.dev && target.old.ino === source.ino) {
    if (achieved === "full") yield* call("syncDir", [target.dir], "sync-dir", target.path);
    return receipt(undefined);
  }
  const kept = target.old ? yield* linkBackup(target.path, target.dir, found, platform) : undefined;
  let temp: string | undefined;
  let placed: boolean;
  try {
    for (let tries = 0;; tries++) {
      const name = join(target.dir, tempName(), platform);
      try {
        yield* call("link", [chosen.path, name], "link", target.path, "transient", ["EEXIST"]);
        temp = name;
        break;
      } catch (error) {
        // 128 random bits: a second name settles a collision.
        if (codeOf(error) !== "EEXIST" || tries >= 3) throw error;
      }
    }
    // The steps above waited on the disk: a synchronous write may have committed since.
    placed = ticket.superseded() === undefined &&
      (yield* renameAnnounced(ticket, temp, target.path));
  } catch (error) {
    const failures = yield* unlinkAll([temp, kept?.path]);
    if (error instanceof AtomFsError) (error.suppressed as unknown[]).push(...failures);
    throw error;
  }
  if (!placed) {
    const failures = yield* unlinkAll([temp, kept?.path]);
    if (failures.length > 0) throw failures[0];
    return receipt(undefined, true);
  }
  if (achieved === "full") yield* call("syncDir", [target.dir], "sync-dir", target.path);
  return receipt(kept);
}
