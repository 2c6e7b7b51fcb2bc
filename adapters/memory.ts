/**
 * An in-memory filesystem adapter with fault injection, for atomfs's own
 * tests and for testing code that uses atomfs: make the Nth call of any
 * operation fail with any error code, cut writes short, list open handles,
 * and model Windows, where a file cannot be replaced while a handle on it is
 * open and directories cannot be flushed.
 *
 * @module
 */

import { type Image, type JournalEvent, recorders, ROOT } from "./_memory_journal.ts";
import {
  type CrashContext,
  type CrashCounterexample,
  type CrashInvariant,
  type CrashReport,
  type CrashState,
  type CrashWorkload,
  type CrashWorkloadTools,
  explore,
  type ExploreCrashesOptions,
} from "./_crash.ts";
import type {
  FileStat,
  FsAdapter,
  FsAsyncCalls,
  FsCallName,
  FsSyncCalls,
} from "../core/adapter.ts";
import { diagnosticsChannel } from "./_channel.ts";

/** Options of {@linkcode memoryAdapter}. */
export interface MemoryAdapterOptions {
  /**
   * `"windows"`: renaming over or removing a file with an open handle fails
   * with `EPERM` (as a sharing violation does), and directories cannot be
   * synced. Paths keep POSIX syntax (`/dir/file`).
   *
   * @default {"posix"}
   */
  platform?: "posix" | "windows";
  /**
   * The umask applied to the mode of created files and directories.
   *
   * @default {0o022}
   */
  umask?: number;
  /**
   * The owner of files this "process" creates.
   *
   * @default {{ uid: 1000, gid: 1000 }}
   */
  owner?: { uid: number; gid: number };
  /**
   * The clock for modification times.
   *
   * @default {Date.now}
   */
  clock?: () => number;
  /**
   * What this filesystem cannot do, to test code against mounts that lack
   * it: `"link"`: `link` fails with `EPERM` (FAT, FUSE filesystems without
   * hard links); `"renameOver"`: `rename` onto an existing file fails with
   * `EPERM` (an SFTP server without the posix-rename extension); `"watch"`:
   * the adapter has no `watchDir`. By default it has a watcher that reports,
   * on a later microtask, every name created, removed or renamed in a
   * directory through this adapter.
   *
   * @default {[]}
   */
  lacks?: readonly ("link" | "renameOver" | "watch")[];
}

/** A planned failure: see {@linkcode MemoryAdapter.inject}. */
export interface Fault {
  /** Which call fails (sync and async forms count together). */
  call: FsCallName;
  /**
   * Which of the coming calls fails first: 1 is the next one.
   *
   * @default {1}
   */
  nth?: number;
  /** The error code to fail with (`EIO`, `ENOSPC`, `EACCES`, …). */
  code: string;
  /**
   * How many calls in a row fail, from the Nth on.
   *
   * @default {1}
   */
  times?: number;
}

/** An open handle, as {@linkcode MemoryAdapter.openHandles} reports it. */
export interface OpenHandle {
  /** The handle number. */
  readonly handle: number;
  /** The path it was opened with. */
  readonly path: string;
}

/** The in-memory adapter and its test controls. */
export interface MemoryAdapter extends FsAdapter<number> {
  /** Plan a failure. Faults on the same call are independent; each fires its `times` and is spent. */
  inject(fault: Fault): void;
  /** Forget every planned failure that has not fired. */
  clearFaults(): void;
  /**
   * Make every write accept at most this many bytes (a short write, as on a
   * nearly full disk); `Infinity` restores full writes.
   */
  limitWrites(maxBytes: number): void;
  /** Every call made so far, in order. */
  readonly log: readonly FsCallName[];
  /** Handles open now. */
  openHandles(): OpenHandle[];
  /** Open a read handle on a file, as another process would; close it with `sync.close`. */
  hold(path: string): number;
  /** Set a file's modification time. */
  setMtime(path: string, mtimeMs: number): void;
}

interface Meta {
  /** The inode number, for the persistence model. */
  ino: number;
  mode: number;
  uid: number;
  gid: number;
  mtimeMs: number;
}
interface FileNode extends Meta {
  kind: "file";
  data: Uint8Array;
  size: number;
}
interface DirNode extends Meta {
  kind: "directory";
  entries: Map<string, Node>;
}
interface LinkNode extends Meta {
  kind: "symlink";
  target: string;
}
type Node = FileNode | DirNode | LinkNode;

interface Handle {
  node: FileNode;
  path: string;
  position: number;
  writable: boolean;
}

interface Located {
  parent: DirNode;
  name: string;
  node: Node | undefined;
}

const MAX_LINKS = 40;

// Each memory filesystem is a device of its own, as `FileStat.dev` reports.
let nextDevice = 1;

function fail(code: string, syscall: string, path: string): never {
  throw Object.assign(new Error(`${code}: ${syscall} '${path}'`), { code, syscall, path });
}

/** Split an absolute path into components, resolving `.` and `..` textually. */
function components(path: string, windows: boolean): string[] {
  const parts: string[] = [];
  for (const part of path.split(windows ? /[\\/]/ : "/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  return parts;
}

/**
 * Make an in-memory filesystem adapter, starting with an empty root directory.
 * Its async calls settle on a later microtask, as real I/O does.
 *
 * @param options Platform, umask, owner and clock.
 * @returns The adapter, with its test controls.
 *
 * @example Prove a write leaves the old file when fsync fails
 * ```ts
 * import { createAtomicFs } from "@atomfs/atomfs";
 * import { memoryAdapter } from "@atomfs/atomfs/memory";
 *
 * const mem = memoryAdapter();
 * const fs = createAtomicFs(mem);
 * await fs.writeFile("/data.txt", "old");
 * mem.inject({ call: "fsync", code: "EIO" });
 * await fs.writeFile("/data.txt", "new").catch((err) => console.log(err.code)); // EIO
 * console.log(await fs.readTextFile("/data.txt")); // old
 * console.log(mem.sync.readDir("/")); // ["data.txt"]: no temp file left
 * ```
 */
export function memoryAdapter(options: MemoryAdapterOptions = {}): MemoryAdapter {
  const platform = options.platform ?? "posix";
  const windows = platform === "windows";
  const umask = options.umask ?? 0o022;
  const owner = options.owner ?? { uid: 1000, gid: 1000 };
  const clock = options.clock ?? Date.now;
  const lacks = new Set(options.lacks ?? []);
  const dev = nextDevice++;
  const root: DirNode = {
    kind: "directory",
    entries: new Map(),
    ino: ROOT,
    mode: 0o755,
    ...owner,
    mtimeMs: clock(),
  };
  let nextIno = ROOT + 1;
  // What the crash explorer records; undefined when it is not listening.
  let journal: JournalEvent[] | undefined;
  const record = (event: JournalEvent) => journal?.push(event);
  const attrs = (node: Node): JournalEvent => ({
    type: "attr",
    ino: node.ino,
    mode: node.mode,
    uid: node.uid,
    gid: node.gid,
  });
  /** Record a new inode and its directory entry. */
  const created = (parent: DirNode, name: string, node: Node) => {
    const { ino, kind, mode, uid, gid } = node;
    record({
      type: "inode",
      ino,
      kind,
      mode,
      uid,
      gid,
      target: node.kind === "symlink" ? node.target : "",
    });
    record({ type: "entry", dir: parent.ino, name, ino });
  };
  const handles = new Map<number, Handle>();
  let nextHandle = 3;
  let faults: { call: FsCallName; countdown: number; code: string; times: number }[] = [];
  let maxWrite = Infinity;
  const log: FsCallName[] = [];
  const watchers = new Map<DirNode, Set<(name: string) => void>>();

  /** Tell the watchers of `dir` that `name` changed, later, as a kernel would. */
  function changed(dir: DirNode, name: string): void {
    const listeners = watchers.get(dir);
    if (!listeners) return;
    for (const listener of listeners) queueMicrotask(() => listener(name));
  }

  /**
   * A new entry's metadata: the process's owner, the mode filtered by the
   * umask, and, in a set-group-ID directory, the directory's group (and, for
   * a directory, the set-group-ID bit), as on Linux.
   */
  function meta(mode: number, parent: DirNode, directory = false): Meta {
    const inherit = (parent.mode & 0o2000) !== 0;
    return {
      ino: nextIno++,
      mode: (mode & ~umask & 0o7777) | (inherit && directory ? 0o2000 : 0),
      uid: owner.uid,
      gid: inherit ? parent.gid : owner.gid,
      mtimeMs: clock(),
    };
  }

  function statOf(node: Node): FileStat {
    const size = node.kind === "file"
      ? node.size
      : node.kind === "symlink"
      ? node.target.length
      : 0;
    const { mode, uid, gid, mtimeMs, ino } = node;
    return { kind: node.kind, mode, uid, gid, size, mtimeMs, dev, ino };
  }

  /** Find the entry `path` names, following symlinks in every component but (unless asked) the last. */
  function locate(path: string, followLast: boolean, syscall: string): Located {
    let parts = components(path, windows);
    let links = 0;
    restart: for (;;) {
      let dir = root;
      for (let i = 0; i < parts.length; i++) {
        const name = parts[i]!;
        const node = dir.entries.get(name);
        const last = i === parts.length - 1;
        if (node?.kind === "symlink" && (!last || followLast)) {
          if (++links > MAX_LINKS) fail("ELOOP", syscall, path);
          const base = node.target.startsWith("/") ? [] : parts.slice(0, i);
          parts = components([...base, node.target, ...parts.slice(i + 1)].join("/"), windows);
          continue restart;
        }
        if (last) return { parent: dir, name, node };
        if (!node) fail("ENOENT", syscall, path);
        if (node.kind !== "directory") fail("ENOTDIR", syscall, path);
        dir = node;
      }
      // The root itself.
      return { parent: root, name: "", node: root };
    }
  }

  function existing(path: string, followLast: boolean, syscall: string): Node {
    const { node } = locate(path, followLast, syscall);
    if (!node) fail("ENOENT", syscall, path);
    return node;
  }

  function file(path: string, syscall: string): FileNode {
    const node = existing(path, true, syscall);
    if (node.kind === "directory") fail("EISDIR", syscall, path);
    return node as FileNode;
  }

  function handle(h: number, syscall: string): Handle {
    const entry = handles.get(h);
    if (!entry) fail("EBADF", syscall, String(h));
    return entry;
  }

  function open(node: FileNode, path: string, writable: boolean): number {
    const h = nextHandle++;
    handles.set(h, { node, path, position: 0, writable });
    return h;
  }

  function busy(node: Node | undefined): boolean {
    if (!windows || !node) return false;
    for (const entry of handles.values()) if (entry.node === node) return true;
    return false;
  }

  function enter(call: FsCallName): void {
    log.push(call);
    for (const fault of faults) {
      if (fault.call !== call || fault.times === 0) continue;
      if (--fault.countdown > 0) continue;
      fault.times--;
      fault.countdown = 1;
      faults = faults.filter((f) => f.times > 0);
      fail(fault.code, call, "(injected)");
    }
  }

  const sync: FsSyncCalls<number> = {
    openExclusive(path, mode) {
      enter("openExclusive");
      const { parent, name, node: existingNode } = locate(path, false, "open");
      if (existingNode) fail("EEXIST", "open", path);
      const node: FileNode = {
        kind: "file",
        data: new Uint8Array(0),
        size: 0,
        ...meta(mode, parent),
      };
      parent.entries.set(name, node);
      parent.mtimeMs = clock();
      created(parent, name, node);
      changed(parent, name);
      return open(node, path, true);
    },
    openRead(path) {
      enter("openRead");
      return open(file(path, "open"), path, false);
    },
    openTruncate(path) {
      enter("openTruncate");
      const node = file(path, "open");
      node.size = 0;
      node.mtimeMs = clock();
      record({ type: "truncate", ino: node.ino, size: 0 });
      return open(node, path, true);
    },
    write(h, data) {
      enter("write");
      const entry = handle(h, "write");
      if (!entry.writable) fail("EBADF", "write", entry.path);
      const n = Math.min(data.length, maxWrite);
      const { node } = entry;
      const end = entry.position + n;
      if (end > node.data.length) {
        const grown = new Uint8Array(Math.max(end, node.data.length * 2));
        grown.set(node.data.subarray(0, node.size));
        node.data = grown;
      }
      node.data.set(data.subarray(0, n), entry.position);
      record({ type: "write", ino: node.ino, offset: entry.position, bytes: data.slice(0, n) });
      entry.position = end;
      node.size = Math.max(node.size, end);
      node.mtimeMs = clock();
      return n;
    },
    read(h, buffer) {
      enter("read");
      const entry = handle(h, "read");
      const n = Math.max(0, Math.min(buffer.length, entry.node.size - entry.position));
      buffer.set(entry.node.data.subarray(entry.position, entry.position + n));
      entry.position += n;
      return n;
    },
    fsync(h) {
      enter("fsync");
      record({ type: "fsync", ino: handle(h, "fsync").node.ino });
    },
    close(h) {
      // As close(2) on Linux: the descriptor is released even when an error
      // (say, a deferred write error) is reported.
      const known = handles.delete(h);
      enter("close");
      if (!known) fail("EBADF", "close", String(h));
    },
    fstat(h) {
      enter("fstat");
      return statOf(handle(h, "fstat").node);
    },
    chmod(path, mode) {
      enter("chmod");
      const node = existing(path, true, "chmod");
      node.mode = mode & 0o7777;
      record(attrs(node));
    },
    chown(path, uid, gid) {
      enter("chown");
      if (windows) fail("ENOSYS", "chown", path);
      const node = existing(path, true, "chown");
      // Only root may give a file away (chown(2)).
      if (owner.uid !== 0 && (uid !== owner.uid || (gid !== owner.gid && gid !== node.gid))) {
        fail("EPERM", "chown", path);
      }
      node.uid = uid;
      node.gid = gid;
      node.mode &= ~0o6000;
      record(attrs(node));
    },
    rename(from, to) {
      enter("rename");
      const source = locate(from, false, "rename");
      if (!source.node) fail("ENOENT", "rename", from);
      const dest = locate(to, false, "rename");
      if (dest.node?.kind === "directory" && source.node.kind !== "directory") {
        fail("EISDIR", "rename", to);
      }
      if (busy(source.node) || busy(dest.node)) fail("EPERM", "rename", to);
      if (dest.node && lacks.has("renameOver")) fail("EPERM", "rename", to);
      source.parent.entries.delete(source.name);
      dest.parent.entries.set(dest.name, source.node);
      source.parent.mtimeMs = dest.parent.mtimeMs = clock();
      changed(source.parent, source.name);
      changed(dest.parent, dest.name);
      record({
        type: "rename",
        fromDir: source.parent.ino,
        fromName: source.name,
        toDir: dest.parent.ino,
        toName: dest.name,
        ino: source.node.ino,
      });
    },
    link(existingPath, newPath) {
      enter("link");
      const source = existing(existingPath, false, "link");
      if (source.kind === "directory" || lacks.has("link")) fail("EPERM", "link", existingPath);
      const dest = locate(newPath, false, "link");
      if (dest.node) fail("EEXIST", "link", newPath);
      dest.parent.entries.set(dest.name, source);
      dest.parent.mtimeMs = clock();
      changed(dest.parent, dest.name);
      record({ type: "entry", dir: dest.parent.ino, name: dest.name, ino: source.ino });
    },
    unlink(path) {
      enter("unlink");
      const { parent, name, node } = locate(path, false, "unlink");
      if (!node) fail("ENOENT", "unlink", path);
      if (node.kind === "directory") fail("EISDIR", "unlink", path);
      if (busy(node)) fail("EPERM", "unlink", path);
      parent.entries.delete(name);
      parent.mtimeMs = clock();
      record({ type: "entry", dir: parent.ino, name, ino: undefined });
      changed(parent, name);
    },
    lstat(path) {
      enter("lstat");
      return statOf(existing(path, false, "lstat"));
    },
    readlink(path) {
      enter("readlink");
      const node = existing(path, false, "readlink");
      if (node.kind !== "symlink") fail("EINVAL", "readlink", path);
      return node.target;
    },
    mkdir(path, mode) {
      enter("mkdir");
      const { parent, name, node } = locate(path, false, "mkdir");
      if (node) fail("EEXIST", "mkdir", path);
      const dir: DirNode = { kind: "directory", entries: new Map(), ...meta(mode, parent, true) };
      parent.entries.set(name, dir);
      parent.mtimeMs = clock();
      created(parent, name, dir);
      changed(parent, name);
    },
    readFile(path) {
      enter("readFile");
      const node = file(path, "open");
      return node.data.slice(0, node.size);
    },
    readDir(path) {
      enter("readDir");
      const node = existing(path, true, "scandir");
      if (node.kind !== "directory") fail("ENOTDIR", "scandir", path);
      return [...node.entries.keys()];
    },
    syncDir(path) {
      enter("syncDir");
      if (windows) fail("EPERM", "fsync", path);
      const node = existing(path, true, "open");
      if (node.kind !== "directory") fail("ENOTDIR", "open", path);
      record({ type: "syncDir", dir: node.ino });
    },
    symlink(target, path) {
      enter("symlink");
      const { parent, name, node } = locate(path, false, "symlink");
      if (node) fail("EEXIST", "symlink", path);
      const link: LinkNode = { kind: "symlink", target, ...meta(0o777, parent) };
      parent.entries.set(name, link);
      parent.mtimeMs = clock();
      created(parent, name, link);
      changed(parent, name);
    },
    rmdir(path) {
      enter("rmdir");
      const { parent, name, node } = locate(path, false, "rmdir");
      if (!node) fail("ENOENT", "rmdir", path);
      if (node.kind !== "directory") fail("ENOTDIR", "rmdir", path);
      if (node === root) fail("EBUSY", "rmdir", path);
      if (node.entries.size > 0) fail("ENOTEMPTY", "rmdir", path);
      watchers.delete(node);
      parent.entries.delete(name);
      parent.mtimeMs = clock();
      record({ type: "entry", dir: parent.ino, name, ino: undefined });
      changed(parent, name);
    },
  };

  // Each async call does its work on a later microtask, so that concurrent
  // operations interleave between their calls as they would on a thread pool.
  const later = <T>(work: () => T): Promise<T> => Promise.resolve().then(work);
  // A flush (fsync of a file or directory) takes effect when it is issued and
  // reports later: it covers what happened before it began, and nothing done
  // while it is in flight — the most a real fsync promises.
  const atIssue = new Set<FsCallName>(["fsync", "syncDir"]);
  const calls = Object.fromEntries(
    (Object.keys(sync) as FsCallName[]).map((name) => [
      name,
      (...args: unknown[]) => {
        const run = () => (sync[name] as (...a: unknown[]) => unknown)(...args);
        if (!atIssue.has(name)) return later(run);
        try {
          const value = run();
          return later(() => value);
        } catch (error) {
          return later(() => {
            throw error;
          });
        }
      },
    ]),
  ) as unknown as FsAsyncCalls<number>;

  function watchDir(path: string, onName: (name: string) => void): Promise<AsyncDisposable> {
    return later(() => {
      const dir = existing(path, true, "watch");
      if (dir.kind !== "directory") fail("ENOTDIR", "watch", path);
      const listeners = watchers.get(dir) ?? new Set();
      watchers.set(dir, listeners);
      // Each watch gets its own listener, so that disposing one leaves the others.
      const listener = (name: string) => onName(name);
      listeners.add(listener);
      return {
        [Symbol.asyncDispose]: () => later(() => void listeners.delete(listener)),
      };
    });
  }

  const adapter: MemoryAdapter = {
    name: windows ? "memory-windows" : "memory",
    platform,
    capabilities: { syncDir: !windows, chown: !windows },
    sync,
    ...calls,
    cwd: () => "/",
    ...(lacks.has("watch") ? {} : { watchDir }),
    channel: diagnosticsChannel,
    inject(fault) {
      const nth = fault.nth ?? 1;
      const times = fault.times ?? 1;
      if (!Number.isInteger(nth) || nth < 1) {
        throw new RangeError("Fault nth must be an integer ≥ 1");
      }
      if (!(times >= 1)) throw new RangeError("Fault times must be ≥ 1");
      faults.push({ call: fault.call, countdown: nth, code: fault.code, times });
    },
    clearFaults() {
      faults = [];
    },
    limitWrites(maxBytes) {
      if (!(maxBytes >= 1)) throw new RangeError("limitWrites needs at least 1 byte");
      maxWrite = maxBytes;
    },
    log,
    openHandles: () => [...handles].map(([h, { path }]) => ({ handle: h, path })),
    hold(path) {
      return open(file(path, "open"), path, false);
    },
    setMtime(path, mtimeMs) {
      existing(path, false, "utimes").mtimeMs = mtimeMs;
    },
  };
  recorders.set(adapter, {
    snapshot() {
      const image: Image = new Map();
      const visit = (node: Node) => {
        if (image.has(node.ino)) return;
        const { ino, kind, mode, uid, gid } = node;
        image.set(ino, {
          ino,
          kind,
          mode,
          uid,
          gid,
          data: node.kind === "file" ? node.data.slice(0, node.size) : new Uint8Array(0),
          entries: new Map(
            node.kind === "directory" ? [...node.entries].map(([n, c]) => [n, c.ino]) : [],
          ),
          target: node.kind === "symlink" ? node.target : "",
        });
        if (node.kind === "directory") node.entries.forEach(visit);
      };
      visit(root);
      // Open files that no entry names still exist (a temp file being written).
      for (const { node } of handles.values()) visit(node);
      return image;
    },
    record(events) {
      journal = events;
    },
  });
  return adapter;
}

export type {
  CrashContext,
  CrashCounterexample,
  CrashInvariant,
  CrashReport,
  CrashState,
  CrashWorkload,
  CrashWorkloadTools,
  ExploreCrashesOptions,
};

/**
 * Explore every state a crash or power loss could leave while `workload`
 * runs: the workload runs once on a fresh memory adapter that records every
 * operation; then, for each point of the run, every combination of the
 * operations no fsync had yet made durable is rebuilt (only `fsync(file)`
 * makes a file's data and metadata durable, only `fsync(dir)` a directory's
 * entries, as fsync(2) promises and ext4, xfs and btrfs without
 * `auto_da_alloc` give no more), and `invariant` runs on each distinct state.
 *
 * @param workload What to run; `tools.mark(label)` records how far it got
 * (say, that a write's promise resolved), for the invariant to read.
 * @param invariant Rejects a state by throwing, returning `false`, or
 * returning a message.
 * @param options Setup before recording, a wrapper for the adapter, limits.
 * @returns How many states were explored, and the first counter-example.
 *
 * @example Prove that a resolved write survives any crash
 * ```ts
 * import { exploreCrashes } from "@atomfs/atomfs/memory";
 *
 * const report = await exploreCrashes(
 *   async (fs, { mark }) => {
 *     await fs.writeFile("/config.json", "new");
 *     mark("resolved");
 *   },
 *   (state, { marks }) => {
 *     const text = state.text("/config.json");
 *     return marks.includes("resolved") ? text === "new" : text === "old" || text === "new";
 *   },
 *   { setup: (fs) => fs.writeFileSync("/config.json", "old") },
 * );
 * console.log(report.ok, report.states); // true, and how many crash states were checked
 * ```
 */
export function exploreCrashes(
  workload: CrashWorkload,
  invariant: CrashInvariant,
  options?: ExploreCrashesOptions,
): Promise<CrashReport> {
  return explore(memoryAdapter, workload, invariant, options);
}
