/**
 * The Deno filesystem adapter, over the native `Deno.*` API, with Deno's
 * errors mapped to OS error codes.
 *
 * @module
 */

import type { FileStat, FsAdapter, FsAsyncCalls, FsSyncCalls } from "../core/adapter.ts";
import { withOffload } from "../core/_offload.ts";
import { basename } from "../core/_path.ts";
import { workerSpawner } from "./_offload.ts";
import { diagnosticsChannel } from "./_channel.ts";

// The part of the Deno namespace this adapter uses, declared here so that the
// file also type-checks (and imports) outside Deno.
interface DenoFile {
  write(data: Uint8Array): Promise<number>;
  writeSync(data: Uint8Array): number;
  read(buffer: Uint8Array): Promise<number | null>;
  readSync(buffer: Uint8Array): number | null;
  sync(): Promise<void>;
  syncSync(): void;
  stat(): Promise<DenoFileInfo>;
  statSync(): DenoFileInfo;
  close(): void;
}
interface DenoOpenOptions {
  read?: boolean;
  write?: boolean;
  truncate?: boolean;
  createNew?: boolean;
  mode?: number;
}
interface DenoFileInfo {
  isFile: boolean;
  isDirectory: boolean;
  isSymlink: boolean;
  size: number;
  mtime: Date | null;
  mode: number | null;
  uid: number | null;
  gid: number | null;
  dev: number;
  ino: number | null;
}
interface DenoFsWatcher extends AsyncIterable<{ kind: string; paths: string[] }> {
  close(): void;
}
interface DenoApi {
  build: { os: string };
  errors: Record<string, new (...args: never[]) => Error>;
  open(path: string, options: DenoOpenOptions): Promise<DenoFile>;
  openSync(path: string, options: DenoOpenOptions): DenoFile;
  chmod(path: string, mode: number): Promise<void>;
  chmodSync(path: string, mode: number): void;
  chown(path: string, uid: number, gid: number): Promise<void>;
  chownSync(path: string, uid: number, gid: number): void;
  rename(from: string, to: string): Promise<void>;
  renameSync(from: string, to: string): void;
  link(existing: string, newPath: string): Promise<void>;
  linkSync(existing: string, newPath: string): void;
  remove(path: string): Promise<void>;
  removeSync(path: string): void;
  lstat(path: string): Promise<DenoFileInfo>;
  lstatSync(path: string): DenoFileInfo;
  readLink(path: string): Promise<string>;
  readLinkSync(path: string): string;
  symlink(target: string, path: string): Promise<void>;
  symlinkSync(target: string, path: string): void;
  mkdir(path: string, options: { mode: number }): Promise<void>;
  mkdirSync(path: string, options: { mode: number }): void;
  readFile(path: string): Promise<Uint8Array>;
  readFileSync(path: string): Uint8Array;
  readDir(path: string): AsyncIterable<{ name: string }>;
  readDirSync(path: string): Iterable<{ name: string }>;
  cwd(): string;
  watchFs(paths: string, options: { recursive: boolean }): DenoFsWatcher;
}

function deno(): DenoApi {
  return (globalThis as unknown as { Deno: DenoApi }).Deno;
}

// Deno's error classes, by name, for errors that arrive without a code.
const CODES: Record<string, string> = {
  NotFound: "ENOENT",
  PermissionDenied: "EACCES",
  AlreadyExists: "EEXIST",
  IsADirectory: "EISDIR",
  NotADirectory: "ENOTDIR",
  Busy: "EBUSY",
  FilesystemLoop: "ELOOP",
  InvalidData: "EINVAL",
  WriteZero: "EIO",
  UnexpectedEof: "EIO",
  Interrupted: "EINTR",
  WouldBlock: "EAGAIN",
};

/**
 * Give every error a string `code`. Deno's sandbox denial (`NotCapable`) has
 * none: it becomes `EPERM`, its message naming the missing permission.
 */
function normalise(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" && code !== "") return error;
  if (error.name === "NotCapable") {
    return Object.assign(new Error(error.message, { cause: error }), {
      code: "EPERM",
      detail: `Deno denied the permission: ${error.message}`,
    });
  }
  const mapped = CODES[error.name];
  return mapped ? Object.assign(error, { code: mapped }) : error;
}

function guard<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R {
  return (...args) => {
    try {
      return fn(...args);
    } catch (error) {
      throw normalise(error);
    }
  };
}

function guardAsync<A extends unknown[], R>(
  fn: (...args: A) => Promise<R>,
): (...args: A) => Promise<R> {
  return async (...args) => {
    try {
      return await fn(...args);
    } catch (error) {
      throw normalise(error);
    }
  };
}

function toStat(info: DenoFileInfo): FileStat {
  return {
    kind: info.isFile
      ? "file"
      : info.isDirectory
      ? "directory"
      : info.isSymlink
      ? "symlink"
      : "other",
    mode: (info.mode ?? 0o666) & 0o7777,
    uid: info.uid ?? 0,
    gid: info.gid ?? 0,
    size: info.size,
    mtimeMs: info.mtime?.getTime() ?? 0,
    dev: info.dev,
    ino: info.ino ?? 0,
  };
}

const CREATE_EXCLUSIVE = (mode: number): DenoOpenOptions => ({
  write: true,
  createNew: true,
  mode,
});
const READ: DenoOpenOptions = { read: true };
const TRUNCATE: DenoOpenOptions = { write: true, truncate: true };

/** The synchronous calls, over `Deno.*Sync`. */
const denoSyncCalls: FsSyncCalls<DenoFile> = {
  openExclusive: guard((path, mode) => deno().openSync(path, CREATE_EXCLUSIVE(mode))),
  openRead: guard((path) => deno().openSync(path, READ)),
  openTruncate: guard((path) => deno().openSync(path, TRUNCATE)),
  write: guard((file, data) => file.writeSync(data)),
  read: guard((file, buffer) => file.readSync(buffer) ?? 0),
  fsync: guard((file) => file.syncSync()),
  fstat: guard((file) => toStat(file.statSync())),
  close: guard((file) => file.close()),
  chmod: guard((path, mode) => deno().chmodSync(path, mode)),
  chown: guard((path, uid, gid) => deno().chownSync(path, uid, gid)),
  rename: guard((from, to) => deno().renameSync(from, to)),
  link: guard((existing, newPath) => deno().linkSync(existing, newPath)),
  unlink: guard((path) => deno().removeSync(path)),
  lstat: guard((path) => toStat(deno().lstatSync(path))),
  readlink: guard((path) => deno().readLinkSync(path)),
  mkdir: guard((path, mode) => deno().mkdirSync(path, { mode })),
  readFile: guard((path) => deno().readFileSync(path)),
  readDir: guard((path) => [...deno().readDirSync(path)].map((entry) => entry.name)),
  syncDir: guard((path) => {
    const dir = deno().openSync(path, READ);
    try {
      dir.syncSync();
    } finally {
      dir.close();
    }
  }),
  symlink: guard((target, path) => deno().symlinkSync(target, path)),
  // Deno has no rmdir: a non-recursive remove of a directory fails unless it is empty.
  rmdir: guard((path) => deno().removeSync(path)),
};

/** The asynchronous calls, over `Deno.*`. */
const denoAsyncCalls: FsAsyncCalls<DenoFile> = {
  openExclusive: guardAsync((path, mode) => deno().open(path, CREATE_EXCLUSIVE(mode))),
  openRead: guardAsync((path) => deno().open(path, READ)),
  openTruncate: guardAsync((path) => deno().open(path, TRUNCATE)),
  write: guardAsync((file, data) => file.write(data)),
  read: guardAsync(async (file, buffer) => (await file.read(buffer)) ?? 0),
  fsync: guardAsync((file) => file.sync()),
  fstat: guardAsync(async (file) => toStat(await file.stat())),
  close: guardAsync((file) => Promise.resolve().then(() => file.close())),
  chmod: guardAsync((path, mode) => deno().chmod(path, mode)),
  chown: guardAsync((path, uid, gid) => deno().chown(path, uid, gid)),
  rename: guardAsync((from, to) => deno().rename(from, to)),
  link: guardAsync((existing, newPath) => deno().link(existing, newPath)),
  unlink: guardAsync((path) => deno().remove(path)),
  lstat: guardAsync(async (path) => toStat(await deno().lstat(path))),
  readlink: guardAsync((path) => deno().readLink(path)),
  mkdir: guardAsync((path, mode) => deno().mkdir(path, { mode })),
  readFile: guardAsync((path) => deno().readFile(path)),
  readDir: guardAsync(async (path) => {
    const names: string[] = [];
    for await (const entry of deno().readDir(path)) names.push(entry.name);
    return names;
  }),
  syncDir: guardAsync(async (path) => {
    const dir = await deno().open(path, READ);
    try {
      await dir.sync();
    } finally {
      dir.close();
    }
  }),
  symlink: guardAsync((target, path) => deno().symlink(target, path)),
  rmdir: guardAsync((path) => deno().remove(path)),
};

/**
 * Watch a directory with `Deno.watchFs`. Disposing the watch closes it and
 * waits for its event loop to end, so no operation outlives it.
 */
function watchDir(dir: string, onName: (name: string) => void): Promise<AsyncDisposable> {
  let watcher: DenoFsWatcher;
  try {
    watcher = deno().watchFs(dir, { recursive: false });
  } catch (error) {
    return Promise.reject(normalise(error));
  }
  const done = (async () => {
    try {
      for await (const event of watcher) {
        for (const path of event.paths) {
          onName(basename(path, deno().build.os === "windows" ? "windows" : "posix"));
        }
      }
    } catch {
      // The watch ended with an error (its directory was removed, say).
    }
  })();
  return Promise.resolve({
    [Symbol.asyncDispose]: () => {
      watcher.close();
      return done;
    },
  });
}

const POSIX = { syncDir: true, chown: true } as const;
const WINDOWS = { syncDir: false, chown: false } as const;

/**
 * The filesystem of Deno, through `Deno.*`. Needs `--allow-read` and
 * `--allow-write` for the paths written; a denied permission surfaces as an
 * `AtomFsError` with code `EPERM` whose message names the permission.
 *
 * @example Use the Deno adapter explicitly
 * ```ts
 * import { createAtomicFs } from "@atomfs/atomfs";
 * import { denoAdapter } from "@atomfs/atomfs/deno";
 *
 * const fs = createAtomicFs(denoAdapter);
 * await fs.writeFile("./state.json", "{}");
 * ```
 */
export const denoAdapter: FsAdapter<unknown> = withOffload({
  name: "deno",
  get platform() {
    return deno().build.os === "windows" ? "windows" : "posix";
  },
  get capabilities() {
    return deno().build.os === "windows" ? WINDOWS : POSIX;
  },
  sync: denoSyncCalls as FsSyncCalls<unknown>,
  ...(denoAsyncCalls as FsAsyncCalls<unknown>),
  cwd: () => deno().cwd(),
  watchDir,
  channel: diagnosticsChannel,
}, workerSpawner("deno"));
