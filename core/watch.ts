/**
 * `watch()`: the versions of a file as other processes replace it.
 *
 * @module
 */

import type { FileStat, FsAdapter } from "./adapter.ts";
import { AtomFsError } from "./errors.ts";
import { boolean, checkMs, checkSignal, options } from "./options.ts";
import { absolute, basename, dirname, join, toPath } from "./_path.ts";
import { probeDir } from "./probe.ts";
import { call, codeOf, runAsync, sleep, type StepContext } from "./_steps.ts";
import { context } from "./_write.ts";
import { isTempName } from "./_temp_name.ts";
import { sha256Hex } from "./_hash.ts";
import { DATA, readDirectory } from "./write_directory.ts";

/** One whole version of a watched file. */
export interface FileVersion {
  /** The watched path (absolute), as given: a symlink there is read through, not resolved. */
  readonly path: string;
  /** The whole content. */
  readonly content: Uint8Array;
  /** SHA-256 of `content`, lowercase hex: the version's identity. */
  readonly hash: string;
  /** `content.length`. */
  readonly size: number;
  /** The file's modification time when it was read, in ms since the epoch. */
  readonly mtimeMs: number;
  /**
   * For a directory written by `writeDirectory`: the generation switched to.
   * `content` is then a JSON manifest of the set (`{ generation, files: {
   * name: sha256 } }`), `size` the total size of its files, and `mtimeMs`
   * the time of the switch.
   */
  readonly generation?: number;
  /** For a directory written by `writeDirectory`: every file of the set, all of one generation. */
  readonly files?: Readonly<Record<string, Uint8Array>>;
}

/** Options of {@linkcode watch}. */
export interface WatchOptions {
  /**
   * Yield the file's current version first (when it exists), before any
   * change. Otherwise the current content is only the baseline that later
   * versions are compared with.
   *
   * @default {false}
   */
  initial?: boolean;
  /**
   * How changes are noticed. `"auto"`: directory events where `probe()` saw
   * a watch report a rename on this mount, plus a check every second that
   * catches what events miss (another client's change on a network mount,
   * where no event arrives here; a dropped event); where the watch is blind,
   * the runtime has no watcher, or the probe cannot run (a read-only
   * directory), a check every 100 ms. A number: no events, a check every that
   * many milliseconds. A check is one `lstat`; the file is read only when
   * its inode, size or modification time moved. On a network mount another
   * client's change shows only once the mount's attribute cache expires
   * (sshfs: up to 20 s, its `cache_timeout`; measured in tests/watch_test.ts).
   *
   * @default {"auto"}
   */
  poll?: "auto" | number;
  /**
   * How long to gather a burst of changes before reading the file: the first
   * change of a burst starts the clock, so a steady stream of changes is
   * still read at least this often.
   *
   * @default {10}
   */
  debounceMs?: number;
  /**
   * Called with each error that did not end the watch: a file that could not
   * be read after retries (an `AtomFsError`, `op: "read"`, or `"stat"`), a
   * file that kept changing while it was read (`code: "EAGAIN"`), a watcher
   * that could not be set up (then the watch polls instead). The watch goes
   * on and tries again at the next change. An error thrown by `onError` is
   * ignored. Without it, such errors are dropped.
   *
   * @default {undefined}
   */
  onError?: (error: unknown) => void;
  /**
   * Ends the watch (like disposing it): the iteration then finishes without
   * an error.
   *
   * @default {undefined}
   */
  signal?: AbortSignal;
}

/** How a watch notices changes, once it is in place: see {@linkcode FileWatch.ready}. */
export interface WatchSetup {
  /** Directory events are watched. */
  readonly events: boolean;
  /** The interval of `lstat` checks, or `undefined` for none. */
  readonly pollMs: number | undefined;
}

/**
 * The versions of one file, as an async iterable that owns a directory
 * watch (or a poll timer): dispose it, break out of the loop, or abort the
 * signal to stop. It can be iterated once. A consumer slower than the
 * changes gets the newest version, never a queue of stale ones.
 */
export interface FileWatch extends AsyncIterable<FileVersion>, AsyncDisposable {
  /** The watched path, absolute. */
  readonly path: string;
  /**
   * Resolves once the watch is in place and the baseline has been read:
   * any change after that is seen. Never rejects (setup errors go to
   * `onError`, and the watch polls instead).
   */
  readonly ready: Promise<WatchSetup>;
  /** Stop watching: idempotent; resolves when no call of the watch is still running. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** The check interval where events cannot be trusted. */
const POLL_MS = 100;
/** The safety check beside events (poll: "auto"). */
const SAFETY_POLL_MS = 1000;
/** Tries of a read that fails with an error other than ENOENT, and the waits between them. */
const READ_RETRY_MS = [10, 50, 250];
/** Reads in a row that saw the file change under them before that counts as an error. */
const MAX_UNSTABLE = 20;
/** How long reads may keep finding the file replaced under them before that counts as an error. */
const MAX_REPLACED_MS = 5000;

/**
 * Watch a file as it is replaced: yields each new version once it is whole
 * and its content differs from the last one yielded. Watches the file's
 * directory (a watch on the file itself goes silent after the first rename
 * over it: chokidar #601), so it follows any number of replacements,
 * deletions and re-creations; atomfs temp files never show. A burst of
 * changes is read once. A version is yielded only when two `lstat` calls
 * around the read agree and the size matches, so a file being written in
 * place is read again rather than yielded torn. A deleted file yields
 * nothing; its re-creation yields when its content differs from the last
 * version yielded.
 *
 * The watch starts at once (not at the first `next()`); await
 * {@linkcode FileWatch.ready} to know that it is in place.
 *
 * @param adapter The filesystem to watch through.
 * @param path The file to watch (its directory should exist; the file need not).
 * @param options See {@linkcode WatchOptions}.
 * @returns The watch: iterate it for versions; dispose it to stop.
 * @throws {TypeError} A bad path or option (before any I/O).
 * @throws {RangeError} A negative, zero or infinite `poll`, or a bad `debounceMs`.
 *
 * @example Reload a config file whenever it is replaced
 * ```ts
 * import { watch } from "@atomfs/atomfs";
 *
 * await using versions = watch("./config.json", { initial: true, onError: console.error });
 * for await (const version of versions) {
 *   console.log(`config ${version.hash.slice(0, 8)}: ${version.size} bytes`);
 * }
 * ```
 */
export function watch(adapter: FsAdapter, path: string | URL, options?: WatchOptions): FileWatch {
  const { platform } = adapter;
  const file = absolute(toPath(path, platform), () => adapter.cwd(), platform);
  return new VersionWatch(adapter, file, resolveWatchOptions(options));
}

interface ResolvedWatchOptions {
  initial: boolean;
  poll: "auto" | number;
  debounceMs: number;
  onError: ((error: unknown) => void) | undefined;
  signal: AbortSignal | undefined;
}

function resolveWatchOptions(value: unknown): ResolvedWatchOptions {
  const o = options(value);
  const initial = boolean("initial", o.initial, false);
  let poll: "auto" | number = "auto";
  if (o.poll !== undefined && o.poll !== "auto") {
    poll = checkMs("poll", o.poll, 0);
    if (poll === 0) throw new RangeError('Invalid option poll: expected "auto" or ms > 0');
  }
  if (o.onError !== undefined && typeof o.onError !== "function") {
    throw new TypeError("Invalid option onError: expected a function");
  }
  return {
    initial,
    poll,
    debounceMs: checkMs("debounceMs", o.debounceMs, 10),
    onError: o.onError as ((error: unknown) => void) | undefined,
    signal: checkSignal(o.signal),
  };
}

/** What a check compares: a change of inode, size, time or kind means "read it". */
function signature(stat: FileStat | undefined): string {
  return stat ? `${stat.kind}:${stat.ino}:${stat.size}:${stat.mtimeMs}` : "absent";
}

class VersionWatch implements FileWatch {
  readonly path: string;
  readonly ready: Promise<WatchSetup>;
  readonly #adapter: FsAdapter;
  readonly #options: ResolvedWatchOptions;
  #name: string;
  /** Watching a directory set (`writeDirectory`): one version per switch. */
  #set = false;
  #closed = false;
  #disposed: Promise<void> | undefined;
  #iterated = false;
  /** The version offered while no `next()` waited (only the latest is kept). */
  #slot: FileVersion | undefined;
  #waiter: ((result: IteratorResult<FileVersion>) => void) | undefined;
  #lastHash: string | undefined;
  #lastSignature: string | undefined;
  #dirty = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #poller: ReturnType<typeof setInterval> | undefined;
  #polling: Promise<void> | undefined;
  #reading: Promise<void> | undefined;
  #dirWatch: AsyncDisposable | undefined;
  #onAbort = () => void this[Symbol.asyncDispose]();

  constructor(adapter: FsAdapter, path: string, options: ResolvedWatchOptions) {
    this.#adapter = adapter;
    this.#options = options;
    this.path = path;
    this.#name = basename(path, adapter.platform);
    if (options.signal?.aborted) {
      this.#closed = true;
      this.ready = Promise.resolve({ events: false, pollMs: undefined });
      return;
    }
    options.signal?.addEventListener("abort", this.#onAbort, { once: true });
    this.ready = this.#start();
  }

  async #start(): Promise<WatchSetup> {
    const adapter = this.#adapter;
    const { poll } = this.#options;
    this.#set = await this.#isSet();
    if (this.#set) this.#name = DATA;
    const dir = this.#set ? this.path : dirname(this.path, adapter.platform);
    let events = false;
    let pollMs: number | undefined;
    if (typeof poll === "number") {
      pollMs = poll;
    } else if (!adapter.watchDir) {
      pollMs = POLL_MS;
    } else {
      let sees: boolean | undefined;
      try {
        sees = (await probeDir(adapter, dir)).watchSeesRename;
      } catch {
        // No probe (a read-only or missing directory): events if they come, checks anyway.
      }
      events = sees !== false;
      pollMs = sees === true ? SAFETY_POLL_MS : POLL_MS;
    }
    if (events && !this.#closed) {
      try {
        const dirWatch = await adapter.watchDir!(dir, (name) => this.#onName(name));
        if (this.#closed) await dirWatch[Symbol.asyncDispose]();
        else this.#dirWatch = dirWatch;
      } catch (error) {
        events = false;
        pollMs = POLL_MS;
        this.#report(
          error instanceof AtomFsError ? error : new AtomFsError({
            code: codeOf(error) ?? "EIO",
            op: "read-dir",
            path: dir,
            cause: error,
          }),
        );
      }
    }
    if (this.#closed) return { events: false, pollMs: undefined };
    // The baseline is read after the watch is in place, so no change falls between.
    const baseline = this.#read(this.#options.initial);
    this.#reading = baseline;
    await baseline;
    this.#reading = undefined;
    if (this.#closed) return { events: false, pollMs: undefined };
    if (pollMs !== undefined) {
      this.#poller = setInterval(() => {
        if (this.#polling === undefined && !this.#closed) {
          this.#polling = this.#poll().finally(() => this.#polling = undefined);
        }
      }, pollMs);
    }
    if (this.#dirty) this.#schedule();
    return { events, pollMs };
  }

  /** Whether the path is a directory holding a `writeDirectory` set. */
  async #isSet(): Promise<boolean> {
    try {
      const ctx = this.#context();
      const link = join(this.path, DATA, this.#adapter.platform);
      const stat = await runAsync(ctx, call("lstat", [this.path], "stat", this.path));
      if (stat.kind !== "directory") return false;
      return (await runAsync(ctx, call("lstat", [link], "stat", link))).kind === "symlink";
    } catch {
      return false;
    }
  }

  #onName(name: string): void {
    if (isTempName(name)) return;
    const same = this.#adapter.platform === "windows"
      ? name.toLowerCase() === this.#name.toLowerCase()
      : name === this.#name;
    if (same) this.#kick();
  }

  /** Something changed: read it after the debounce, or after the read in progress. */
  #kick(): void {
    if (this.#closed) return;
    this.#dirty = true;
    if (this.#timer === undefined && this.#reading === undefined) this.#schedule();
  }

  #schedule(): void {
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#closed) return;
      this.#dirty = false;
      const reading = this.#read(true);
      this.#reading = reading;
      void reading.then(() => {
        this.#reading = undefined;
        if (this.#dirty && !this.#closed) this.#schedule();
      });
    }, this.#options.debounceMs);
  }

  async #poll(): Promise<void> {
    try {
      const stat = await this.#lstat();
      // A symlink's own metadata says nothing of its target's content: read
      // it. A set's ..data link is new at every switch: its metadata is enough.
      const link = stat?.kind === "symlink" && !this.#set;
      if (link || signature(stat) !== this.#lastSignature) this.#kick();
    } catch {
      // The read that a change triggers reports errors; a failed check waits for the next one.
    }
  }

  #context(): StepContext {
    return context(this.#adapter, { retryTimeoutMs: 1000 });
  }

  async #lstat(): Promise<FileStat | undefined> {
    const path = this.#set ? join(this.path, DATA, this.#adapter.platform) : this.path;
    try {
      return await runAsync(
        this.#context(),
        call("lstat", [path], "stat", path, "transient", ["ENOENT"]),
      );
    } catch (error) {
      if (codeOf(error) === "ENOENT") return undefined;
      throw error;
    }
  }

  /**
   * Read the file until two `lstat` calls around the read agree, and pass the
   * version on when its content changed. Never throws: errors are retried,
   * then reported.
   */
  async #read(publish: boolean): Promise<void> {
    if (this.#set) return await this.#readSet(publish);
    let failures = 0;
    let unstable = 0;
    let replacedSince: number | undefined;
    while (!this.#closed) {
      try {
        const before = await this.#lstat();
        if (before === undefined) {
          this.#lastSignature = signature(undefined);
          return;
        }
        const content = await runAsync(
          this.#context(),
          call("readFile", [this.path], "read", this.path, "transient", ["ENOENT"]),
        );
        const after = await this.#lstat();
        const stable = after !== undefined && signature(before) === signature(after) &&
          (after.kind !== "file" || content.length === after.size);
        if (!stable) {
          // Replaced by a new file while it was read: the path names a newer
          // whole version; read again at once, for as long as replacements
          // keep coming (a writer that fast pauses at some point). The same
          // file changing under the read is a writer that writes in place.
          const replaced = after !== undefined && after.ino !== 0 &&
            (after.ino !== before.ino || after.dev !== before.dev);
          if (replaced) {
            replacedSince ??= Date.now();
            if (Date.now() - replacedSince < MAX_REPLACED_MS) {
              await sleep(1);
              continue;
            }
            throw new AtomFsError({
              code: "EAGAIN",
              op: "read",
              path: this.path,
              message: `Cannot read '${this.path}': it was replaced again during every read for ` +
                `${MAX_REPLACED_MS} ms`,
            });
          }
          if (++unstable < MAX_UNSTABLE) {
            await sleep(Math.max(1, this.#options.debounceMs));
            continue;
          }
          throw new AtomFsError({
            code: "EAGAIN",
            op: "read",
            path: this.path,
            message:
              `Cannot read '${this.path}': it kept changing while it was read (${MAX_UNSTABLE} tries); ` +
              "its writer replaces it in place: write it with atomfs to make every version whole",
          });
        }
        this.#lastSignature = signature(after);
        await this.#changed(publish, content, { size: content.length, mtimeMs: after.mtimeMs });
        return;
      } catch (error) {
        if (codeOf(error) === "ENOENT") {
          // Removed between the calls: absent, until a change says otherwise.
          this.#lastSignature = signature(undefined);
          return;
        }
        if (codeOf(error) === "EAGAIN" || failures >= READ_RETRY_MS.length) {
          this.#report(error);
          return;
        }
        await sleep(READ_RETRY_MS[failures++]!);
      }
    }
  }

  /** Read the whole set of one generation; pass it on when the generation changed. */
  async #readSet(publish: boolean): Promise<void> {
    for (let failures = 0; !this.#closed;) {
      try {
        const stat = await this.#lstat();
        const snapshot = await readDirectory(this.#adapter, this.path);
        const names = Object.keys(snapshot.files).sort();
        const files: Record<string, string> = {};
        let size = 0;
        for (const name of names) {
          files[name] = await sha256Hex(snapshot.files[name]!);
          size += snapshot.files[name]!.length;
        }
        const content = new TextEncoder().encode(
          JSON.stringify({ generation: snapshot.generation, files }),
        );
        this.#lastSignature = signature(stat);
        await this.#changed(publish, content, {
          size,
          mtimeMs: stat?.mtimeMs ?? Date.now(),
          generation: snapshot.generation,
          files: snapshot.files,
        });
        return;
      } catch (error) {
        if (failures >= READ_RETRY_MS.length) {
          this.#report(error);
          return;
        }
        await sleep(READ_RETRY_MS[failures++]!);
      }
    }
  }

  /** Hash a version read; pass it on (when `publish`) if its content changed. */
  async #changed(
    publish: boolean,
    content: Uint8Array,
    rest: Omit<FileVersion, "path" | "content" | "hash">,
  ): Promise<void> {
    const hash = await sha256Hex(content);
    if (hash === this.#lastHash) return;
    this.#lastHash = hash;
    if (publish) this.#offer({ path: this.path, content, hash, ...rest });
  }

  #report(error: unknown): void {
    if (this.#closed) return;
    try {
      this.#options.onError?.(error);
    } catch {
      // A failing error handler must not end the watch.
    }
  }

  #offer(version: FileVersion): void {
    if (this.#closed) return;
    const waiter = this.#waiter;
    if (waiter) {
      this.#waiter = undefined;
      waiter({ done: false, value: version });
    } else {
      this.#slot = version;
    }
  }

  #next(): Promise<IteratorResult<FileVersion>> {
    // Nothing is offered once closed, and closing empties the slot.
    const version = this.#slot;
    if (version) {
      this.#slot = undefined;
      return Promise.resolve({ done: false, value: version });
    }
    if (this.#closed) return Promise.resolve({ done: true, value: undefined });
    if (this.#waiter) throw new TypeError("FileWatch: next() called before the last one settled");
    return new Promise((resolve) => this.#waiter = resolve);
  }

  [Symbol.asyncIterator](): AsyncIterator<FileVersion> {
    if (this.#iterated) throw new TypeError("A FileWatch can be iterated only once");
    this.#iterated = true;
    return {
      next: () => this.#next(),
      return: async () => {
        await this[Symbol.asyncDispose]();
        return { done: true, value: undefined };
      },
    };
  }

  [Symbol.asyncDispose](): Promise<void> {
    this.#disposed ??= this.#dispose();
    return this.#disposed;
  }

  async #dispose(): Promise<void> {
    this.#closed = true;
    this.#options.signal?.removeEventListener("abort", this.#onAbort);
    clearTimeout(this.#timer);
    clearInterval(this.#poller);
    this.#slot = undefined;
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.({ done: true, value: undefined });
    await this.ready;
    await this.#dirWatch?.[Symbol.asyncDispose]();
    await this.#polling;
    await this.#reading;
  }
}
