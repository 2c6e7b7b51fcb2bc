/**
 * The small interface between the runtime-agnostic write protocol in `core/`
 * and a runtime's filesystem. An adapter does syscalls and maps errors; it
 * holds no algorithm.
 *
 * @module
 */

/** What kind of entry a path names, from `lstat`/`stat`. */
export type EntryKind = "file" | "directory" | "symlink" | "other";

/** The metadata the protocol needs from `lstat`/`stat`. */
export interface FileStat {
  /** Kind of entry (`lstat` reports `"symlink"` for a link; `stat` never does). */
  readonly kind: EntryKind;
  /** Permission bits and special bits (`mode & 0o7777`). */
  readonly mode: number;
  /** Owner user id (0 where the platform has none). */
  readonly uid: number;
  /** Owner group id (0 where the platform has none). */
  readonly gid: number;
  /** Size in bytes. */
  readonly size: number;
  /** Last modification time, in milliseconds since the epoch. */
  readonly mtimeMs: number;
  /** The device (filesystem) the entry is on: `probe()` results are cached per device. */
  readonly dev: number;
  /** The inode number, unique on its device (0 where the platform has none). */
  readonly ino: number;
}

/**
 * What an adapter can do. The core reads these flags instead of checking the
 * operating system itself.
 */
export interface FsCapabilities {
  /** Directories can be opened and fsynced (false on Windows). */
  readonly syncDir: boolean;
  /** Files have POSIX owners that `chown` can change (false on Windows). */
  readonly chown: boolean;
}

/**
 * Synchronous filesystem calls. Every call throws an error with a string
 * `code` (`ENOENT`, `EACCES`, …) on failure; adapters map their runtime's
 * errors to that shape.
 *
 * `H` is the adapter's handle type (a file descriptor number, a `Deno.FsFile`,
 * …); the core never looks inside it.
 */
export interface FsSyncCalls<H = unknown> {
  /** Create `path` with `O_CREAT|O_EXCL|O_WRONLY` and permission bits `mode` (filtered by the umask). */
  openExclusive(path: string, mode: number): H;
  /** Open an existing file for reading. */
  openRead(path: string): H;
  /** Open an existing file for writing with `O_TRUNC` (the in-place fallback). */
  openTruncate(path: string): H;
  /** Write `data` at the handle's position; may write fewer bytes than asked and returns how many. */
  write(handle: H, data: Uint8Array): number;
  /** Read up to `buffer.length` bytes at the handle's position; 0 at end of file. */
  read(handle: H, buffer: Uint8Array): number;
  /** `fsync(2)` the file: its data and metadata reach stable storage. */
  fsync(handle: H): void;
  /** Close the handle. */
  close(handle: H): void;
  /**
   * Metadata of the open file (`fstat(2)`): the mode and owner a created file
   * actually got, after the umask, a set-group-ID directory and default ACLs.
   */
  fstat(handle: H): FileStat;
  /** Set permission bits. */
  chmod(path: string, mode: number): void;
  /** Set owner and group. */
  chown(path: string, uid: number, gid: number): void;
  /** Atomically replace `to` with `from`. */
  rename(from: string, to: string): void;
  /** Make `newPath` a hard link to `existing`; fails with `EEXIST` if `newPath` exists. */
  link(existing: string, newPath: string): void;
  /** Remove a file or symlink. */
  unlink(path: string): void;
  /** Metadata of `path` itself (a symlink is not followed). */
  lstat(path: string): FileStat;
  /** The target text of the symlink at `path`. */
  readlink(path: string): string;
  /** Create one directory (not recursive); fails with `EEXIST` if it exists. */
  mkdir(path: string, mode: number): void;
  /** The whole content of a file. */
  readFile(path: string): Uint8Array;
  /** The names in a directory (without `.` and `..`). */
  readDir(path: string): string[];
  /** Open the directory and `fsync` it, so that renames and links in it are durable. */
  syncDir(path: string): void;
  /**
   * Create a symlink at `path` whose text is `target`, stored as given (a
   * relative target is resolved from the link's directory when followed);
   * fails with `EEXIST` if `path` exists. Used by `writeDirectory`, which is
   * POSIX only (on Windows a symlink needs a privilege).
   */
  symlink(target: string, path: string): void;
  /** Remove an empty directory (`rmdir(2)`); fails with `ENOTEMPTY` if it has entries. */
  rmdir(path: string): void;
}

/** The asynchronous twin of {@linkcode FsSyncCalls}: same calls, same errors, as promises. */
export interface FsAsyncCalls<H = unknown> {
  /** See {@linkcode FsSyncCalls.openExclusive}. */
  openExclusive(path: string, mode: number): Promise<H>;
  /** See {@linkcode FsSyncCalls.openRead}. */
  openRead(path: string): Promise<H>;
  /** See {@linkcode FsSyncCalls.openTruncate}. */
  openTruncate(path: string): Promise<H>;
  /** See {@linkcode FsSyncCalls.write}. */
  write(handle: H, data: Uint8Array): Promise<number>;
  /** See {@linkcode FsSyncCalls.read}. */
  read(handle: H, buffer: Uint8Array): Promise<number>;
  /** See {@linkcode FsSyncCalls.fsync}. */
  fsync(handle: H): Promise<void>;
  /** See {@linkcode FsSyncCalls.close}. */
  close(handle: H): Promise<void>;
  /** See {@linkcode FsSyncCalls.fstat}. */
  fstat(handle: H): Promise<FileStat>;
  /** See {@linkcode FsSyncCalls.chmod}. */
  chmod(path: string, mode: number): Promise<void>;
  /** See {@linkcode FsSyncCalls.chown}. */
  chown(path: string, uid: number, gid: number): Promise<void>;
  /** See {@linkcode FsSyncCalls.rename}. */
  rename(from: string, to: string): Promise<void>;
  /** See {@linkcode FsSyncCalls.link}. */
  link(existing: string, newPath: string): Promise<void>;
  /** See {@linkcode FsSyncCalls.unlink}. */
  unlink(path: string): Promise<void>;
  /** See {@linkcode FsSyncCalls.lstat}. */
  lstat(path: string): Promise<FileStat>;
  /** See {@linkcode FsSyncCalls.readlink}. */
  readlink(path: string): Promise<string>;
  /** See {@linkcode FsSyncCalls.mkdir}. */
  mkdir(path: string, mode: number): Promise<void>;
  /** See {@linkcode FsSyncCalls.readFile}. */
  readFile(path: string): Promise<Uint8Array>;
  /** See {@linkcode FsSyncCalls.readDir}. */
  readDir(path: string): Promise<string[]>;
  /** See {@linkcode FsSyncCalls.syncDir}. */
  syncDir(path: string): Promise<void>;
  /** See {@linkcode FsSyncCalls.symlink}. */
  symlink(target: string, path: string): Promise<void>;
  /** See {@linkcode FsSyncCalls.rmdir}. */
  rmdir(path: string): Promise<void>;
}

/** The name of one filesystem call, shared by the sync and async forms. */
export type FsCallName = keyof FsSyncCalls;

/**
 * A runtime's filesystem, as the atomfs core uses it: async calls, their
 * synchronous twins under `sync`, and a few facts about the platform.
 *
 * @example Wrap an adapter to count renames
 * ```ts
 * import { createAtomicFs, type FsAdapter } from "@atomfs/atomfs";
 * import { memoryAdapter } from "@atomfs/atomfs/memory";
 *
 * const base: FsAdapter = memoryAdapter();
 * let renames = 0;
 * const counting: FsAdapter = {
 *   ...base,
 *   rename(from, to) {
 *     renames++;
 *     return base.rename(from, to);
 *   },
 * };
 * const fs = createAtomicFs(counting);
 * await fs.writeFile("/a.txt", "hello");
 * console.log(renames); // 1
 * ```
 */
export interface FsAdapter<H = unknown> extends FsAsyncCalls<H> {
  /** A short name for messages and test titles (`"node"`, `"deno"`, `"memory"`, …). */
  readonly name: string;
  /** Path syntax and replace rules: `"windows"` retries busy renames and skips directory fsync. */
  readonly platform: "posix" | "windows";
  /** What this filesystem can do. */
  readonly capabilities: FsCapabilities;
  /** The synchronous calls, used by `writeFileSync`. */
  readonly sync: FsSyncCalls<H>;
  /** The current working directory, to make relative paths absolute. */
  cwd(): string;
  /**
   * Watch a directory: call `onName` with the name of each entry created,
   * removed or renamed in it (by any process, as far as the filesystem tells),
   * until the returned watch is disposed. Resolves once the watch is in place.
   * Optional: an adapter without a watcher leaves it out, and `probe()` then
   * reports `watchSeesRename: false`.
   */
  watchDir?(dir: string, onName: (name: string) => void): Promise<AsyncDisposable>;
  /**
   * The named `node:diagnostics_channel` channel, where atomfs publishes its
   * events (see `events.ts`). Optional: without it nothing is published.
   */
  channel?(name: string): EventChannel;
}

/** A publish-subscribe channel, as `node:diagnostics_channel` provides it. */
export interface EventChannel {
  /** Whether anyone listens: events are built only when someone does. */
  readonly hasSubscribers: boolean;
  /** Deliver a message to every subscriber, synchronously. */
  publish(message: unknown): void;
}
