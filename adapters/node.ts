/**
 * The Node.js filesystem adapter (`node:fs`). Bun reuses it; Deno can host it
 * too through its Node compatibility layer.
 *
 * @module
 */

import * as fs from "node:fs";
import process from "node:process";
import type { FileStat, FsAdapter, FsAsyncCalls, FsSyncCalls } from "../core/adapter.ts";
import { withOffload } from "../core/_offload.ts";
import { workerSpawner } from "./_offload.ts";
import { diagnosticsChannel } from "./_channel.ts";

// Handles are plain descriptor numbers, not FileHandle objects: Node ≥ 22 and
// Bun crash the process when a FileHandle is garbage-collected while open.
type Fd = number;

function toStat(s: fs.Stats): FileStat {
  return {
    kind: s.isFile()
      ? "file"
      : s.isDirectory()
      ? "directory"
      : s.isSymbolicLink()
      ? "symlink"
      : "other",
    mode: s.mode & 0o7777,
    uid: s.uid,
    gid: s.gid,
    size: s.size,
    mtimeMs: s.mtimeMs,
    dev: s.dev,
    ino: s.ino,
  };
}

function isWindows(): boolean {
  return process.platform === "win32";
}

/** A plain Uint8Array view of a Buffer's bytes (no copy), as every runtime returns. */
function plain(buffer: Buffer): Uint8Array {
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

// Node (libuv) and Bun open every descriptor close-on-exec themselves, so
// child processes never inherit a temp file.
const { O_CREAT, O_EXCL, O_WRONLY, O_RDONLY, O_TRUNC } = fs.constants;

/**
 * The synchronous calls, over `node:fs`: the `sync` member of
 * {@linkcode nodeAdapter}, for building an adapter of your own.
 *
 * @example Count the fsyncs of a synchronous write
 * ```ts
 * import { createAtomicFs, type FsAdapter } from "@atomfs/atomfs";
 * import { nodeAdapter, nodeSyncCalls } from "@atomfs/atomfs/node";
 *
 * let fsyncs = 0;
 * const counting: FsAdapter<number> = {
 *   ...nodeAdapter,
 *   sync: {
 *     ...nodeSyncCalls,
 *     fsync(fd) {
 *       fsyncs++;
 *       nodeSyncCalls.fsync(fd);
 *     },
 *   },
 * };
 * createAtomicFs(counting).writeFileSync("./state.json", "{}");
 * console.log(fsyncs); // 1: the temp file (the directory is flushed by syncDir)
 * ```
 */
export const nodeSyncCalls: FsSyncCalls<number> = {
  openExclusive: (path, mode) => fs.openSync(path, O_CREAT | O_EXCL | O_WRONLY, mode),
  openRead: (path) => fs.openSync(path, O_RDONLY),
  openTruncate: (path) => fs.openSync(path, O_WRONLY | O_TRUNC),
  write: (fd, data) => fs.writeSync(fd, data, 0, data.length),
  read: (fd, buffer) => fs.readSync(fd, buffer, 0, buffer.length, null),
  fsync: (fd) => fs.fsyncSync(fd),
  close: (fd) => fs.closeSync(fd),
  fstat: (fd) => toStat(fs.fstatSync(fd)),
  chmod: (path, mode) => fs.chmodSync(path, mode),
  chown: (path, uid, gid) => fs.chownSync(path, uid, gid),
  rename: (from, to) => fs.renameSync(from, to),
  link: (existing, newPath) => fs.linkSync(existing, newPath),
  unlink: (path) => fs.unlinkSync(path),
  lstat: (path) => toStat(fs.lstatSync(path)),
  readlink: (path) => fs.readlinkSync(path),
  mkdir: (path, mode) => void fs.mkdirSync(path, mode),
  readFile: (path) => plain(fs.readFileSync(path)),
  readDir: (path) => fs.readdirSync(path),
  syncDir: (path) => {
    const fd = fs.openSync(path, O_RDONLY);
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  },
  symlink: (target, path) => fs.symlinkSync(target, path),
  rmdir: (path) => fs.rmdirSync(path),
};

function settle<T>(resolve: (value: T) => void, reject: (error: unknown) => void) {
  return (error: NodeJS.ErrnoException | null, value?: T) =>
    error ? reject(error) : resolve(value as T);
}

function promised<T>(
  start: (done: (error: NodeJS.ErrnoException | null, value?: T) => void) => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => start(settle(resolve, reject)));
}

/**
 * The asynchronous calls, over the callback API of `node:fs` (one thread-pool
 * trip each): the async members of {@linkcode nodeAdapter}, for building an
 * adapter of your own. (Not under Node's permission model, where
 * `nodeAdapter` uses `FileHandle`s instead: see there.)
 *
 * @example Log every rename
 * ```ts
 * import { createAtomicFs, type FsAdapter } from "@atomfs/atomfs";
 * import { nodeAdapter, nodeAsyncCalls } from "@atomfs/atomfs/node";
 *
 * const logging: FsAdapter<number> = {
 *   ...nodeAdapter,
 *   async rename(from, to) {
 *     console.log(`rename ${from} -> ${to}`);
 *     await nodeAsyncCalls.rename(from, to);
 *   },
 * };
 * await createAtomicFs(logging).writeFile("./state.json", "{}");
 * ```
 */
export const nodeAsyncCalls: FsAsyncCalls<number> = {
  openExclusive: (path, mode) =>
    promised((done) => fs.open(path, O_CREAT | O_EXCL | O_WRONLY, mode, done)),
  openRead: (path) => promised((done) => fs.open(path, O_RDONLY, done)),
  openTruncate: (path) => promised((done) => fs.open(path, O_WRONLY | O_TRUNC, done)),
  write: (fd, data) => promised((done) => fs.write(fd, data, 0, data.length, null, done)),
  read: (fd, buffer) => promised((done) => fs.read(fd, buffer, 0, buffer.length, null, done)),
  fsync: (fd) => promised((done) => fs.fsync(fd, done)),
  close: (fd) => promised((done) => fs.close(fd, done)),
  fstat: (fd) => promised<fs.Stats>((done) => fs.fstat(fd, done)).then(toStat),
  chmod: (path, mode) => promised((done) => fs.chmod(path, mode, done)),
  chown: (path, uid, gid) => promised((done) => fs.chown(path, uid, gid, done)),
  rename: (from, to) => promised((done) => fs.rename(from, to, done)),
  link: (existing, newPath) => promised((done) => fs.link(existing, newPath, done)),
  unlink: (path) => promised((done) => fs.unlink(path, done)),
  lstat: (path) => promised<fs.Stats>((done) => fs.lstat(path, done)).then(toStat),
  readlink: (path) => promised((done) => fs.readlink(path, done)),
  mkdir: (path, mode) =>
    promised<string | undefined>((done) => fs.mkdir(path, mode, done)).then(() => {}),
  readFile: (path) => promised<Buffer>((done) => fs.readFile(path, done)).then(plain),
  readDir: (path) => promised((done) => fs.readdir(path, done)),
  syncDir: async (path) => {
    const fd = await promised<Fd>((done) => fs.open(path, O_RDONLY, done));
    try {
      await promised((done) => fs.fsync(fd, done));
    } finally {
      await promised((done) => fs.close(fd, done));
    }
  },
  symlink: (target, path) => promised((done) => fs.symlink(target, path, done)),
  rmdir: (path) => promised((done) => fs.rmdir(path, done)),
};

/**
 * Watch a directory with `fs.watch` (inotify on Linux, FSEvents/kqueue on
 * macOS, ReadDirectoryChangesW on Windows). The directory, not a file: a watch
 * on a file goes silent after the first rename over it.
 */
function watchDir(dir: string, onName: (name: string) => void): Promise<AsyncDisposable> {
  return new Promise((resolve, reject) => {
    let watcher: fs.FSWatcher;
    try {
      watcher = fs.watch(dir, { persistent: false }, (_event, name) => {
        if (name !== null) onName(String(name));
      });
    } catch (error) {
      reject(error);
      return;
    }
    // An error ends the watch (the directory was removed, say); it must not
    // become an uncaught 'error' event.
    watcher.on("error", () => watcher.close());
    resolve({ [Symbol.asyncDispose]: () => Promise.resolve(watcher.close()) });
  });
}

/** Node's permission model is on (`--permission`): see {@linkcode nodeAdapter}. */
const PERMISSION_MODEL = typeof (process as { permission?: unknown }).permission === "object";

/** The asynchronous calls that take a handle, over `FileHandle`s: how writes flush under the permission model. */
const fileHandleCalls: FsAsyncCalls<fs.promises.FileHandle> = {
  ...(nodeAsyncCalls as unknown as FsAsyncCalls<fs.promises.FileHandle>),
  openExclusive: (path, mode) => fs.promises.open(path, O_CREAT | O_EXCL | O_WRONLY, mode),
  openRead: (path) => fs.promises.open(path, O_RDONLY),
  openTruncate: (path) => fs.promises.open(path, O_WRONLY | O_TRUNC),
  write: async (handle, data) => (await handle.write(data, 0, data.length, null)).bytesWritten,
  read: async (handle, buffer) => (await handle.read(buffer, 0, buffer.length, null)).bytesRead,
  fsync: (handle) => handle.sync(),
  close: (handle) => handle.close(),
  fstat: async (handle) => toStat(await handle.stat()),
  syncDir: async (path) => {
    const handle = await fs.promises.open(path, O_RDONLY);
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
};

/** A synchronous flush under the permission model: refused, with what to do instead. */
function refuseSyncFlush(): never {
  throw Object.assign(
    new Error(
      "Node's permission model (--permission) disables fsync on file descriptors, so a " +
        "synchronous write cannot be flushed; writeFile() flushes through a FileHandle, or pass " +
        '{ durability: "none" } to write without flushing',
    ),
    { code: "ERR_ACCESS_DENIED" },
  );
}

const POSIX = { syncDir: true, chown: true } as const;
const WINDOWS = { syncDir: false, chown: false } as const;

/**
 * The filesystem of Node.js, through `node:fs`.
 *
 * Under Node's permission model (`--permission`), which refuses fsync on a
 * file descriptor, its asynchronous calls hold `FileHandle`s instead of
 * descriptor numbers (a `FileHandle` may flush), writes are not offloaded to
 * a worker, and a synchronous write that must flush fails with
 * `ERR_ACCESS_DENIED` (`writeFileSync` with `durability: "none"` works).
 *
 * @example Use the Node adapter explicitly
 * ```ts
 * import { createAtomicFs } from "@atomfs/atomfs";
 * import { nodeAdapter } from "@atomfs/atomfs/node";
 *
 * const fs = createAtomicFs(nodeAdapter);
 * const receipt = await fs.writeFile("./state.json", "{}");
 * console.log(receipt.durability); // "full"
 * ```
 */
export const nodeAdapter: FsAdapter<number> = makeNodeAdapter();

function makeNodeAdapter(): FsAdapter<number> {
  const adapter: FsAdapter<number> = {
    name: "node",
    get platform() {
      return isWindows() ? "windows" : "posix";
    },
    get capabilities() {
      // Windows cannot flush a directory (FlushFileBuffers needs write access) nor chown.
      return isWindows() ? WINDOWS : POSIX;
    },
    sync: nodeSyncCalls,
    ...nodeAsyncCalls,
    cwd: () => process.cwd(),
    watchDir,
    channel: diagnosticsChannel,
  };
  if (!PERMISSION_MODEL) return withOffload(adapter, workerSpawner("node"));
  // The model refuses fsync on a descriptor, synchronous or not, but lets a
  // FileHandle flush. Handles never pass between the sync and async calls.
  return {
    ...adapter,
    ...(fileHandleCalls as unknown as FsAsyncCalls<number>),
    sync: { ...nodeSyncCalls, fsync: refuseSyncFlush, syncDir: refuseSyncFlush },
  };
}
