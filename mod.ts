/**
 * atomfs replaces files atomically and durably on Node.js, Deno and Bun.
 *
 * After `await writeFile(path, data)` resolves, a crash or power loss leaves
 * the new file; before it resolves, readers in any process see the old file
 * or the new one, never a torn, empty or missing one.
 *
 * @example Replace a file
 * ```ts
 * import { writeFile } from "@atomfs/atomfs";
 *
 * const receipt = await writeFile("./settings.json", '{"theme":"dark"}');
 * console.log(receipt); // { path, bytes: 16, durability: "full", strategy: "rename", attempts: 1, superseded: false }
 * ```
 *
 * @module
 */

export {
  listBackups,
  openAtomic,
  probe,
  readDirectory,
  readFile,
  readJson,
  readTextFile,
  reloadable,
  rollback,
  rollbackDirectory,
  runtimeAdapter,
  sweep,
  watch,
  writeDirectory,
  writeFile,
  writeFileSync,
  writeJson,
} from "./_default.ts";
export type { FileVersion, FileWatch, WatchOptions, WatchSetup } from "./core/watch.ts";
export type { Reloadable, ReloadableOptions } from "./core/reloadable.ts";
export type { BackupInfo, RollbackOptions, RollbackReceipt } from "./core/backups.ts";
export type {
  DirectoryReceipt,
  DirectoryRollbackOptions,
  DirectoryRollbackReceipt,
  DirectorySnapshot,
  WriteDirectoryOptions,
} from "./core/write_directory.ts";
export { type AtomicFs, createAtomicFs } from "./core/atomic_fs.ts";
export type { AtomicFile } from "./core/atomic_file.ts";
export type { MountCapabilities, MountCapability } from "./core/probe.ts";
export { AtomFsError, type AtomFsErrorInit, type AtomFsOp } from "./core/errors.ts";
export {
  CHANNELS,
  type ReloadEvent,
  type ReloadTimeoutEvent,
  type RollbackEvent,
  type WriteCommittedEvent,
  type WriteFailedEvent,
  type WriteTimings,
} from "./core/events.ts";
export type {
  EntryKind,
  EventChannel,
  FileStat,
  FsAdapter,
  FsAsyncCalls,
  FsCallName,
  FsCapabilities,
  FsSyncCalls,
} from "./core/adapter.ts";
export type {
  Durability,
  ReadOptions,
  RetryOptions,
  SweepOptions,
  SweepReport,
  WriteData,
  WriteJsonOptions,
  WriteOptions,
  WriteReceipt,
  WriteStrategy,
  WriteSyncData,
} from "./core/options.ts";
