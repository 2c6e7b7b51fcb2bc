/**
 * Every atomfs function, bound to one filesystem adapter.
 *
 * @module
 */

import type { FsAdapter } from "./adapter.ts";
import { type AtomicFile, PendingAtomicFile } from "./atomic_file.ts";
import {
  type ReadOptions,
  type ResolvedWriteOptions,
  resolveReadOptions,
  resolveRollbackOptions,
  resolveSweepOptions,
  resolveWriteOptions,
  type SweepOptions,
  type SweepReport,
  type WriteData,
  type WriteJsonOptions,
  type WriteOptions,
  type WriteReceipt,
  type WriteSyncData,
} from "./options.ts";
import { AtomFsError } from "./errors.ts";
import { bytesOf, type ChunkSource, sourceOf } from "./_data.ts";
import { absolute, join, queueKey, toPath } from "./_path.ts";
import { begin, resolveTarget, type Target } from "./_protocol.ts";
import { DirSyncer } from "./_dir_sync.ts";
import { offloaderOf } from "./_offload.ts";
import { WriteEvents } from "./_write_events.ts";
import { type Alias, type InFlightRename, PathQueue, SOLO, type Ticket } from "./_queue.ts";
import { call, codeOf, runAsync, runSync, type StepContext } from "./_steps.ts";
import { isTempName } from "./_temp_name.ts";
import { type MountCapabilities, probeDir } from "./probe.ts";
import { coalescedReceipt, context, supersededReceipt, write } from "./_write.ts";
import { type FileWatch, watch as watchFile, type WatchOptions } from "./watch.ts";
import {
  type Reloadable,
  reloadable as reloadableFile,
  type ReloadableOptions,
} from "./reloadable.ts";
import {
  type BackupInfo,
  listBackups,
  rollback as rollbackFile,
  type RollbackOptions,
  type RollbackReceipt,
} from "./backups.ts";
import {
  type DirectoryReceipt,
  type DirectoryRollbackOptions,
  type DirectoryRollbackReceipt,
  type DirectorySnapshot,
  readDirectory,
  rollbackDirectory,
  writeDirectory as writeDirectorySet,
  type WriteDirectoryOptions,
} from "./write_directory.ts";

/** The atomfs API bound to one {@linkcode FsAdapter}; see {@linkcode createAtomicFs}. */
export interface AtomicFs {
  /** The adapter every call goes through. */
  readonly adapter: FsAdapter;
  /**
   * Replace a file atomically and durably.
   *
   * @param path The file (a string or a `file:` URL).
   * @param data The new content.
   * @param options How durable, which mode and owner, and more.
   * @returns What was achieved.
   * @throws {TypeError | RangeError} On bad arguments, before any I/O.
   * @throws {AtomFsError} On an I/O failure; the target is untouched and no temp file is left.
   */
  writeFile(path: string | URL, data: WriteData, options?: WriteOptions): Promise<WriteReceipt>;
  /**
   * The synchronous twin of `writeFile`, for in-memory content.
   *
   * @param path The file (a string or a `file:` URL).
   * @param data The new content.
   * @param options How durable, which mode and owner, and more.
   * @returns What was achieved.
   * @throws {TypeError | RangeError} On bad arguments, before any I/O.
   * @throws {AtomFsError} On an I/O failure; the target is untouched and no temp file is left.
   */
  writeFileSync(path: string | URL, data: WriteSyncData, options?: WriteOptions): WriteReceipt;
  /**
   * Replace a file with a value as JSON (followed by a newline).
   *
   * @param path The file (a string or a `file:` URL).
   * @param value Anything `JSON.stringify` accepts.
   * @param options Write options, plus `space` for indentation.
   * @returns What was achieved.
   * @throws {TypeError} If the value cannot be serialised, before any I/O.
   * @throws {AtomFsError} On an I/O failure.
   */
  writeJson(path: string | URL, value: unknown, options?: WriteJsonOptions): Promise<WriteReceipt>;
  /**
   * Start a new version of a file, to write piece by piece and then commit.
   *
   * @param path The file (a string or a `file:` URL).
   * @param options How durable, which mode and owner, and more.
   * @returns The pending file.
   * @throws {TypeError | RangeError} On bad arguments, before any I/O.
   * @throws {AtomFsError} If the temp file cannot be created.
   */
  openAtomic(path: string | URL, options?: WriteOptions): Promise<AtomicFile>;
  /**
   * Read a whole file.
   *
   * @param path The file (a string or a `file:` URL).
   * @param options A grace period for files that have not appeared yet, and a signal.
   * @returns Its bytes.
   * @throws {AtomFsError} On an I/O failure.
   */
  readFile(path: string | URL, options?: ReadOptions): Promise<Uint8Array>;
  /**
   * Read a whole file as UTF-8 text.
   *
   * @param path The file (a string or a `file:` URL).
   * @param options A grace period for files that have not appeared yet, and a signal.
   * @returns Its text.
   * @throws {AtomFsError} On an I/O failure.
   */
  readTextFile(path: string | URL, options?: ReadOptions): Promise<string>;
  /**
   * Read and parse a JSON file.
   *
   * @param path The file (a string or a `file:` URL).
   * @param options A grace period for files that have not appeared yet, and a signal.
   * @returns The parsed value.
   * @throws {SyntaxError} If the file is not valid JSON.
   * @throws {AtomFsError} On an I/O failure.
   */
  readJson<T = unknown>(path: string | URL, options?: ReadOptions): Promise<T>;
  /**
   * Remove the temp files that killed writers left in a directory.
   *
   * @param dir The directory (a string or a `file:` URL).
   * @param options How old a temp file must be to be removed.
   * @returns What was removed and what was kept.
   * @throws {AtomFsError} If the directory cannot be listed.
   */
  sweep(dir: string | URL, options?: SweepOptions): Promise<SweepReport>;
  /**
   * Find what a directory's filesystem can do, by trying it in a hidden
   * scratch file (removed afterwards). Cached per device for the process.
   *
   * @param dir The directory (a string or a `file:` URL).
   * @returns What works there, and the error codes seen where something does not.
   * @throws {AtomFsError} If the directory cannot be probed (missing, read-only, …).
   */
  probe(dir: string | URL): Promise<MountCapabilities>;
  /**
   * Versions of a file as it is replaced (see the module-level `watch`).
   *
   * @param path The file (a string or a `file:` URL).
   * @param options Initial version, polling, debounce, error reports, signal.
   * @returns An async iterable of versions; dispose it to stop.
   * @throws {TypeError | RangeError} On bad arguments.
   */
  watch(path: string | URL, options?: WatchOptions): FileWatch;
  /**
   * The latest valid parsed value of a file, reloaded as it is replaced (see the module-level `reloadable`).
   *
   * @param path The file (a string or a `file:` URL).
   * @param options How to parse it, the reload timeout, error reports.
   * @returns The reloadable value; dispose it to stop.
   * @throws {TypeError | RangeError} On bad arguments.
   */
  reloadable<T>(path: string | URL, options: ReloadableOptions<T>): Reloadable<T>;
  /**
   * The backups kept of a file by `{ backups: N }`, newest first.
   *
   * @param path The file (a string or a `file:` URL).
   * @returns Each backup's path, generation, hash, size and time.
   * @throws {AtomFsError} If the directory cannot be listed.
   */
  listBackups(path: string | URL): Promise<BackupInfo[]>;
  /**
   * Restore a backup atomically and durably, after the writes to the file
   * issued before it; the version it replaces becomes the newest backup.
   *
   * @param path The file (a string or a `file:` URL).
   * @param options Which generation (default the newest), durability, retry.
   * @returns What was restored, and where the replaced version was kept.
   * @throws {AtomFsError} With code `ENOENT` when there is no such backup.
   */
  rollback(path: string | URL, options?: RollbackOptions): Promise<RollbackReceipt>;
  /**
   * Replace a whole set of files at once (POSIX; see the module-level `writeDirectory`).
   *
   * @param dir The directory holding the set.
   * @param files File names and contents.
   * @param options Durability, backups, mode.
   * @returns The generation written, or that nothing changed.
   * @throws {TypeError | RangeError} On bad arguments, before any I/O.
   * @throws {AtomFsError} On an I/O failure, or with code `ENOTSUP` on Windows.
   */
  writeDirectory(
    dir: string | URL,
    files: Record<string, string | Uint8Array>,
    options?: WriteDirectoryOptions,
  ): Promise<DirectoryReceipt>;
  /**
   * Read every file of a directory set from one generation.
   *
   * @param dir The directory holding the set.
   * @returns The generation and its files.
   * @throws {AtomFsError} On an I/O failure; code `ENOENT` if `dir` holds no set.
   */
  readDirectory(dir: string | URL): Promise<DirectorySnapshot>;
  /**
   * Switch a directory set back to a backup generation (kept by `backups`).
   *
   * @param dir The directory holding the set.
   * @param options Which generation (default the newest backup), durability.
   * @returns What was restored, as which new generation.
   * @throws {AtomFsError} With code `ENOENT` when there is no set or no such backup.
   */
  rollbackDirectory(
    dir: string | URL,
    options?: DirectoryRollbackOptions,
  ): Promise<DirectoryRollbackReceipt>;
}

/** What a queued write needs when its turn comes. */
interface Queued {
  readonly content: Uint8Array | ChunkSource;
  readonly resolved: ResolvedWriteOptions;
  /** The resolved target, or the absolute path to resolve when the turn comes. */
  readonly target: Target | string;
  /** The file the lane writes (the target's path). */
  readonly realPath: string;
  readonly key: string;
  /** The write's context, when made at the call (events are published, or the path was resolved). */
  readonly ctx: StepContext | undefined;
}

/**
 * Bind every atomfs function to a filesystem adapter: another runtime's, the
 * in-memory one for tests, or your own wrapper. Writes through one `AtomicFs`
 * to the same path are applied in call order.
 *
 * @param adapter The filesystem to use.
 * @returns The API, bound to it.
 *
 * @example Test your code against an in-memory filesystem
 * ```ts
 * import { createAtomicFs } from "@atomfs/atomfs";
 * import { memoryAdapter } from "@atomfs/atomfs/memory";
 *
 * const fs = createAtomicFs(memoryAdapter());
 * await fs.writeFile("/config.json", '{"debug":true}');
 * console.log(await fs.readJson("/config.json")); // { debug: true }
 * ```
 */
export function createAtomicFs(adapter: FsAdapter): AtomicFs {
  const queue = new PathQueue();
  /** The task shared by writes joining a busy lane with the same options (see `enqueue`). */
  let joining:
    | {
      readonly known: Alias;
      readonly resolved: ResolvedWriteOptions;
      readonly file: string;
      readonly run: (ticket: Ticket, content: Uint8Array | ChunkSource) => Promise<WriteReceipt>;
    }
    | undefined;
  const { platform } = adapter;
  const cwd = () => adapter.cwd();
  const dirs = new DirSyncer();
  // The built-in adapters run small writes whole on a worker thread.
  const offload = offloaderOf(adapter);
  const events = new WriteEvents(adapter);
  // Async writes share directory fsyncs through `dirs`; a flush has its own
  // retries, and its failure is reported by every write that shared it.
  const syncDir = (dir: string, retryTimeoutMs: number) =>
    dirs.sync(
      dir,
      () => runAsync(context(adapter, { retryTimeoutMs }), call("syncDir", [dir], "sync-dir", dir)),
    );

  /**
   * Validate a write's path, once its options are resolved (which checks
   * them), before any I/O; returns the path as given. Two calls rather than
   * one returning both: a burst of calls allocates no object for it.
   */
  function start(path: unknown, resolved: ResolvedWriteOptions): string {
    const given = toPath(path, platform);
    if (resolved.signal?.aborted) throw resolved.signal.reason;
    return given;
  }

  /** A write's context: async writes share directory fsyncs; a synchronous one flushes its own. */
  const contextOf = (resolved: ResolvedWriteOptions, async: boolean) =>
    context(adapter, resolved, async ? syncDir : undefined);

  // The target is resolved synchronously, so that writes enter their path's
  // queue in call order even when they name it through different symlinks.
  function prepare(path: unknown, options: unknown) {
    const resolved = resolveWriteOptions(options);
    const given = start(path, resolved);
    const ctx = contextOf(resolved, true);
    const target = runSync(ctx, resolveTarget(ctx, given, resolved));
    return { resolved, ctx, target, key: queueKey(target.path, platform) };
  }

  // Not async: a burst of calls pays for no extra promise layers. Every
  // error, bad arguments included, still arrives as a rejection.
  function writeFile(
    path: string | URL,
    data: WriteData,
    options?: WriteOptions,
  ): Promise<WriteReceipt> {
    try {
      const content = bytesOf(data) ?? sourceOf(data);
      const resolved = resolveWriteOptions(options);
      const given = start(path, resolved);
      // Made absolute once, and this one form names the lane, the target and
      // the worker's job: a chdir during a burst cannot split a write.
      const file = absolute(given, cwd, platform);
      // A write that joins a lane is given its context when its turn comes,
      // so that one given way to in a burst never makes one.
      if (!events.active) return enqueue(content, resolved, file, undefined);
      const ctx = contextOf(resolved, true);
      const startedAt = events.start(ctx);
      let outcome: Promise<WriteReceipt>;
      try {
        outcome = enqueue(content, resolved, file, ctx);
      } catch (error) {
        // Resolving the target failed: published as a failed write too.
        outcome = Promise.reject(error);
      }
      return events.track(outcome, ctx, startedAt, file);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Queue a validated write to `file` (absolute) behind the earlier ones to
   * the same file; throws what resolving throws. `timed` is the write's
   * context when it must exist from the call (events are published);
   * otherwise it is made when first needed.
   */
  function enqueue(
    content: Uint8Array | ReturnType<typeof sourceOf>,
    resolved: ResolvedWriteOptions,
    file: string,
    timed: StepContext | undefined,
  ): Promise<WriteReceipt> {
    let ctx = timed;
    // While earlier writes through the same path are queued, this one joins
    // their lane without resolving the path again; it resolves it when its
    // turn comes (a burst of writes to one file costs one lstat, not one each).
    const name = queueKey(file, platform);
    const known = queue.alias(resolved.symlinks, name);
    let target: Target | string = file;
    let key: string;
    let realPath: string;
    if (known) {
      ({ key, path: realPath } = known);
    } else {
      // Resolving counts in the write's attempts: the same context goes on.
      const resolving = ctx ??= contextOf(resolved, true);
      target = runSync(resolving, resolveTarget(resolving, file, resolved));
      realPath = target.path;
      key = queueKey(realPath, platform);
    }
    const coalesced = resolved.coalesce ? coalescedReceipt : undefined;
    if (known && ctx === undefined) {
      // Joining a busy lane, as every call of a burst after the first does:
      // the same options to the same file share one task, given the content
      // alone, so such a call makes no object of its own here.
      let joined = joining;
      if (
        joined === undefined || joined.known !== known || joined.resolved !== resolved ||
        joined.file !== file
      ) {
        joined = joining = joinLane(known, resolved, file);
      }
      return queue.run(key, joined.run, content, coalesced);
    }
    const queued: Queued = { content, resolved, target, realPath, key, ctx };
    const result = queue.run(key, runQueued, queued, coalesced);
    if (!known) queue.remember(resolved.symlinks, name, key, realPath);
    return result;
  }

  /**
   * The task shared by writes to `file` joining the busy lane `known` with
   * options `resolved`. Made here, not in `enqueue`, whose every call would
   * otherwise make the closure's context.
   */
  function joinLane(known: Alias, resolved: ResolvedWriteOptions, file: string) {
    const { key, path } = known;
    const run = (ticket: Ticket, content: Uint8Array | ChunkSource) =>
      turn(ticket, content, resolved, file, path, key, undefined);
    return { known, resolved, file, run };
  }

  /** A queued write's turn, given what it needs in one object. */
  function runQueued(ticket: Ticket, queued: Queued): Promise<WriteReceipt> {
    const { content, resolved, target, realPath, key, ctx } = queued;
    return turn(ticket, content, resolved, target, realPath, key, ctx);
  }

  /**
   * A queued write's turn: dropped if a later write committed first, else
   * run in a worker or here. `ctx` is its context when it has one already.
   */
  function turn(
    ticket: Ticket,
    content: Uint8Array | ChunkSource,
    resolved: ResolvedWriteOptions,
    target: Target | string,
    realPath: string,
    key: string,
    made: StepContext | undefined,
  ): Promise<WriteReceipt> {
    const skipped = supersededReceipt(realPath, ticket, made?.attempts);
    if (skipped) return Promise.resolve(skipped);
    const ctx = made ?? contextOf(resolved, true);
    const here = () => runAsync(ctx, write(ctx, target, resolved, content, ticket));
    if (!offload || !(content instanceof Uint8Array) || !offload.accepts(content.length)) {
      return here();
    }
    return offload.write(key, realPath, target, resolved, content, ticket, here, ctx);
  }

  function writeFileSync(
    path: string | URL,
    data: WriteSyncData,
    options?: WriteOptions,
  ): WriteReceipt {
    const bytes = bytesOf(data);
    if (bytes === undefined) {
      throw new TypeError(
        `Invalid data: writeFileSync takes a string, an ArrayBufferView or an ArrayBuffer, got ${
          data === null ? "null" : typeof data
        }`,
      );
    }
    const resolved = resolveWriteOptions(options);
    const given = start(path, resolved);
    const ctx = contextOf(resolved, false);
    const startedAt = events.active ? events.start(ctx) : 0;
    try {
      const receipt = queue.idle && (!offload || offload.idle)
        // No write in flight on any path: none queued here, and none in a
        // worker (the offloader is the adapter's, shared with every AtomicFs
        // over it); none to wait for or make way for, and none can start
        // while this runs. The target is resolved as the write's first step.
        ? runSync(ctx, write(ctx, given, resolved, bytes, SOLO))
        : queuedSync(ctx, given, resolved, bytes);
      if (startedAt) events.committed(receipt, ctx, startedAt);
      return receipt;
    } catch (error) {
      // Only I/O failures are published (not bad input, such as a path that
      // cannot be made absolute, whose error this is then).
      if (error instanceof AtomFsError) events.failed(absolute(given, cwd, platform), error);
      throw error;
    }
  }

  /** A synchronous write while other writes are in flight: after those to its file. */
  function queuedSync(
    ctx: StepContext,
    given: string,
    resolved: ResolvedWriteOptions,
    bytes: Uint8Array,
  ): WriteReceipt {
    const target = runSync(ctx, resolveTarget(ctx, given, resolved));
    const key = queueKey(target.path, platform);
    return queue.runSync(key, (ticket) => {
      // Earlier async writes to this file, issued before this call, land
      // first; the target is then looked at again, as they changed it.
      const waited = offload?.fence(key);
      const inFlight = queue.renameInFlight(key);
      if (inFlight) renameFirst(ctx, inFlight);
      const now = waited || inFlight ? runSync(ctx, resolveTarget(ctx, given, resolved)) : target;
      return runSync(ctx, write(ctx, now, resolved, bytes, ticket));
    });
  }

  /**
   * Make the rename an earlier async write has in flight, now: this
   * synchronous write cannot wait for it, and must not be overtaken by it.
   * ENOENT means it has happened already. If it fails otherwise, the async
   * write, finding this one committed, neither retries its rename nor falls
   * back in place: it is dropped as superseded (see `renameAnnounced`).
   */
  function renameFirst(ctx: StepContext, rename: InFlightRename): void {
    try {
      runSync(ctx, call("rename", [rename.from, rename.to], "rename", rename.to, "replace"));
      rename.madeBySync = true;
    } catch {
      // See above.
    }
  }

  async function writeJson(
    path: string | URL,
    value: unknown,
    options?: WriteJsonOptions,
  ): Promise<WriteReceipt> {
    const space = options?.space;
    if (space !== undefined && typeof space !== "string" && typeof space !== "number") {
      throw new TypeError("Invalid option space: expected a string or a number");
    }
    const text = JSON.stringify(value, null, space);
    if (text === undefined) {
      throw new TypeError(`Invalid value: ${typeof value} cannot be written as JSON`);
    }
    const writeOptions: WriteOptions | undefined = options && { ...options };
    if (writeOptions) delete (writeOptions as WriteJsonOptions).space;
    return await writeFile(path, text + "\n", writeOptions);
  }

  async function openAtomic(path: string | URL, options?: WriteOptions): Promise<AtomicFile> {
    const { resolved, ctx, target } = prepare(path, options);
    const pending = await runAsync(ctx, begin(ctx, target, resolved));
    return new PendingAtomicFile(ctx, queue, pending, events);
  }

  async function readFile(path: string | URL, options?: ReadOptions): Promise<Uint8Array> {
    const { notFoundGraceMs, signal } = resolveReadOptions(options);
    const file = absolute(toPath(path, platform), cwd, platform);
    const deadline = Date.now() + notFoundGraceMs;
    for (let retry = 0;; retry++) {
      if (signal?.aborted) throw signal.reason;
      try {
        const ctx = context(adapter, { retryTimeoutMs: 10_000 });
        return await runAsync(ctx, call("readFile", [file], "read", file, "transient", ["ENOENT"]));
      } catch (error) {
        const left = deadline - Date.now();
        if (codeOf(error) !== "ENOENT") throw error;
        if (left <= 0) {
          throw new AtomFsError({ code: "ENOENT", op: "read", path: file, cause: error });
        }
        await delay(Math.min(left, 10 * 2 ** Math.min(retry, 5)), signal);
      }
    }
  }

  async function readTextFile(path: string | URL, options?: ReadOptions): Promise<string> {
    return new TextDecoder().decode(await readFile(path, options));
  }

  async function readJson<T = unknown>(path: string | URL, options?: ReadOptions): Promise<T> {
    const text = await readTextFile(path, options);
    try {
      return JSON.parse(text) as T;
    } catch (error) {
      const file = absolute(toPath(path, platform), cwd, platform);
      throw new SyntaxError(`Cannot parse '${file}' as JSON: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  async function sweep(dir: string | URL, options?: SweepOptions): Promise<SweepReport> {
    const { olderThanMs } = resolveSweepOptions(options);
    const folder = absolute(toPath(dir, platform, "dir"), cwd, platform);
    const ctx = context(adapter, { retryTimeoutMs: 10_000 });
    const names = await runAsync(ctx, call("readDir", [folder], "read-dir", folder));
    const removed: string[] = [];
    const kept: string[] = [];
    const now = Date.now();
    for (const name of names.filter(isTempName).sort()) {
      const file = join(folder, name, platform);
      await runAsync(
        ctx,
        (function* () {
          try {
            const stat = yield* call("lstat", [file], "stat", file, "transient", ["ENOENT"]);
            if (stat.kind !== "file") return;
            // A file stamped a moment ahead of this clock (tmpfs keeps
            // sub-millisecond times; network mounts have their own clocks) is
            // of age 0, not negative: `olderThanMs: 0` removes it too.
            if (Math.max(0, now - stat.mtimeMs) < olderThanMs) {
              kept.push(file);
              return;
            }
            yield* call("unlink", [file], "unlink", file, "transient", ["ENOENT"]);
            removed.push(file);
          } catch (error) {
            // Gone already: another sweeper, or the writer finished.
            if (codeOf(error) !== "ENOENT") throw error;
          }
        })(),
      );
    }
    return { dir: folder, removed, kept };
  }

  async function probe(dir: string | URL): Promise<MountCapabilities> {
    const folder = absolute(toPath(dir, platform, "dir"), cwd, platform);
    return await probeDir(adapter, folder);
  }

  async function rollback(path: string | URL, options?: RollbackOptions) {
    // After every write to the file issued before it, and before any issued after.
    resolveRollbackOptions(options); // bad options fail before any I/O
    const { key } = prepare(path, undefined);
    return await queue.run(
      key,
      (ticket) => rollbackFile(adapter, path, options, ticket),
      undefined,
    );
  }

  return {
    adapter,
    watch: (path, options) => watchFile(adapter, path, options),
    reloadable: (path, options) => reloadableFile(adapter, path, options),
    listBackups: (path) => listBackups(adapter, path),
    rollback,
    writeDirectory: (dir, files, options) => writeDirectorySet(adapter, dir, files, options),
    readDirectory: (dir) => readDirectory(adapter, dir),
    rollbackDirectory: (dir, options) => rollbackDirectory(adapter, dir, options),
    writeFile,
    writeFileSync,
    writeJson,
    openAtomic,
    readFile,
    readTextFile,
    readJson,
    sweep,
    probe,
  };
}

function delay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", aborted);
    };
    const aborted = () => {
      done();
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      done();
      resolve();
    }, ms);
    signal?.addEventListener("abort", aborted, { once: true });
  });
}
