/**
 * `reloadable()`: a value parsed from a file, kept current as the file is
 * replaced, that never takes a version that fails to parse.
 *
 * @module
 */

import type { FsAdapter } from "./adapter.ts";
import { CHANNELS, listened, type ReloadEvent, type ReloadTimeoutEvent } from "./events.ts";
import { checkMs } from "./options.ts";
import { type FileVersion, type FileWatch, watch, type WatchOptions } from "./watch.ts";

/** Options of {@linkcode reloadable}. */
export interface ReloadableOptions<T> extends Omit<WatchOptions, "initial" | "onError"> {
  /**
   * Turn a version's bytes into the value, and validate it: throw (or
   * reject) to refuse the version, which keeps the last good value.
   */
  parse: (content: Uint8Array, version: FileVersion) => T | Promise<T>;
  /**
   * How long one `parse` may take. A parse still running then is reported
   * as a `TimeoutError` (and on `atomfs:reload:timeout`) and abandoned: its
   * result, should it come later, is discarded, and the last good value
   * stays until the file changes again.
   *
   * @default {5000}
   */
  timeoutMs?: number;
  /**
   * Called after each new value is in use.
   *
   * @default {undefined}
   */
  onReload?: (value: T, version: FileVersion) => void;
  /**
   * Called with each error that kept a version out: a parse that threw (the
   * error, with the refused version), a parse that timed out (a
   * `DOMException` named `"TimeoutError"`), or a file that could not be
   * read (an `AtomFsError`, without a version). The last good value stays.
   * The latest is also kept as {@linkcode Reloadable.error}.
   *
   * @default {undefined}
   */
  onError?: (error: unknown, version: FileVersion | undefined) => void;
}

/**
 * The latest valid value parsed from a file, kept current while the file is
 * replaced. Owns a watch: dispose it to stop.
 */
export interface Reloadable<T> extends AsyncDisposable {
  /** The watched path, absolute. */
  readonly path: string;
  /** The value in use: the latest version that parsed, or `undefined` before the first. */
  readonly value: T | undefined;
  /** SHA-256 (hex) of the version `value` came from: its version, or `undefined`. */
  readonly hash: string | undefined;
  /** When `value` was put in use (ms since the epoch), or `undefined`. */
  readonly reloadedAt: number | undefined;
  /** The last error that kept a version out since the last good reload, else `undefined`. */
  readonly error: unknown;
  /**
   * The value, once there is one: at once if there is, else at the first
   * good reload. Rejects if the reloadable is disposed first.
   */
  ready(): Promise<T>;
  /** Stop watching: idempotent. The last value stays readable. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Keep a parsed value current as its file is replaced (hot reload of a
 * config file, say): reads the file now and at every change
 * ({@linkcode watch}), parses each new version, and puts it in use only if
 * `parse` accepts it within `timeoutMs`. A version that fails keeps the last
 * good value and is reported. Each reload in use is published on
 * `atomfs:reload` ({@linkcode ReloadEvent}: its latency is from the file's
 * modification time to the value being in use), each timeout on
 * `atomfs:reload:timeout` ({@linkcode ReloadTimeoutEvent}).
 *
 * @param adapter The filesystem to watch through.
 * @param path The file to follow.
 * @param options `parse` (required), `timeoutMs`, `onReload`, `onError`, and the watch's `poll`, `debounceMs`, `signal`.
 * @returns The reloadable value; dispose it to stop.
 * @throws {TypeError} A bad path or option, or a missing `parse` (before any I/O).
 * @throws {RangeError} A bad `timeoutMs`, `poll` or `debounceMs`.
 *
 * @example Hot-reload a JSON config, keeping the last good one
 * ```ts
 * import { reloadable } from "@atomfs/atomfs";
 *
 * await using config = reloadable("./config.json", {
 *   parse: (bytes) => JSON.parse(new TextDecoder().decode(bytes)) as { port: number },
 *   onError: (error) => console.error(`config not reloaded: ${error}`),
 * });
 * const { port } = await config.ready();
 * console.log(port, config.hash);
 * ```
 */
export function reloadable<T>(
  adapter: FsAdapter,
  path: string | URL,
  options: ReloadableOptions<T>,
): Reloadable<T> {
  if (typeof options !== "object" || options === null) {
    throw new TypeError("Invalid options: expected an object with a parse function");
  }
  if (typeof options.parse !== "function") {
    throw new TypeError("Invalid option parse: expected a function");
  }
  for (const name of ["onReload", "onError"] as const) {
    if (options[name] !== undefined && typeof options[name] !== "function") {
      throw new TypeError(`Invalid option ${name}: expected a function`);
    }
  }
  const timeoutMs = checkMs("timeoutMs", options.timeoutMs, 5000);
  return new ReloadableValue(adapter, path, options, timeoutMs);
}

const TIMED_OUT = Symbol("timed out");
const STOPPED = Symbol("stopped");

class ReloadableValue<T> implements Reloadable<T> {
  readonly path: string;
  readonly #adapter: FsAdapter;
  readonly #options: ReloadableOptions<T>;
  readonly #timeoutMs: number;
  readonly #watch: FileWatch;
  readonly #loop: Promise<void>;
  #value: T | undefined;
  #hash: string | undefined;
  /** Set with the first valid value, so `undefined` also means "nothing loaded yet". */
  #reloadedAt: number | undefined;
  #error: unknown;
  #closed = false;
  #disposed: Promise<void> | undefined;
  #waiters: { resolve: (value: T) => void; reject: (error: unknown) => void }[] = [];
  #stop!: () => void;
  readonly #stopped = new Promise<typeof STOPPED>((resolve) => this.#stop = () => resolve(STOPPED));

  constructor(
    adapter: FsAdapter,
    path: string | URL,
    options: ReloadableOptions<T>,
    timeoutMs: number,
  ) {
    this.#adapter = adapter;
    this.#options = options;
    this.#timeoutMs = timeoutMs;
    const { parse: _parse, timeoutMs: _t, onReload: _r, onError: _e, ...watchOptions } = options;
    this.#watch = watch(adapter, path, {
      ...watchOptions,
      initial: true,
      onError: (error) => this.#fail(error, undefined),
    });
    this.path = this.#watch.path;
    this.#loop = this.#run();
  }

  get value(): T | undefined {
    return this.#value;
  }

  get hash(): string | undefined {
    return this.#hash;
  }

  get reloadedAt(): number | undefined {
    return this.#reloadedAt;
  }

  get error(): unknown {
    return this.#error;
  }

  ready(): Promise<T> {
    if (this.#reloadedAt !== undefined) return Promise.resolve(this.#value as T);
    if (this.#closed) return Promise.reject(closedError(this.path));
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  async #run(): Promise<void> {
    for await (const version of this.#watch) await this.#reload(version);
    // The watch ended (disposed, or its signal aborted).
    this.#close();
  }

  #close(): void {
    this.#closed = true;
    this.#stop();
    for (const waiter of this.#waiters.splice(0)) waiter.reject(closedError(this.path));
  }

  async #reload(version: FileVersion): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<typeof TIMED_OUT>((resolve) => {
      timer = setTimeout(() => resolve(TIMED_OUT), this.#timeoutMs);
    });
    let value: T | typeof TIMED_OUT | typeof STOPPED;
    try {
      // A parse still running at dispose is left behind, as one that timed out is.
      value = await Promise.race([
        (async () => await this.#options.parse(version.content, version))(),
        late,
        this.#stopped,
      ]);
    } catch (error) {
      this.#fail(error, version);
      return;
    } finally {
      clearTimeout(timer);
    }
    if (value === TIMED_OUT) {
      if (this.#closed) return;
      listened(this.#adapter, CHANNELS.reloadTimeout)?.publish(
        { path: this.path, timeoutMs: this.#timeoutMs } satisfies ReloadTimeoutEvent,
      );
      this.#fail(
        new DOMException(
          `Reloading '${this.path}' took longer than ${this.#timeoutMs} ms; ` +
            "the last good value stays in use",
          "TimeoutError",
        ),
        version,
      );
      return;
    }
    if (value === STOPPED || this.#closed) return;
    this.#value = value;
    this.#hash = version.hash;
    this.#reloadedAt = Date.now();
    this.#error = undefined;
    listened(this.#adapter, CHANNELS.reload)?.publish(
      {
        path: this.path,
        hash: version.hash,
        latencyMs: Math.max(0, this.#reloadedAt - version.mtimeMs),
      } satisfies ReloadEvent,
    );
    for (const waiter of this.#waiters.splice(0)) waiter.resolve(value);
    this.#call(() => this.#options.onReload?.(value, version));
  }

  #fail(error: unknown, version: FileVersion | undefined): void {
    if (this.#closed) return;
    this.#error = error;
    this.#call(() => this.#options.onError?.(error, version));
  }

  /** A user callback: what it throws must not stop the reloads. */
  #call(callback: () => void): void {
    try {
      callback();
    } catch {
      // Ignored: see onReload and onError.
    }
  }

  [Symbol.asyncDispose](): Promise<void> {
    this.#disposed ??= (async () => {
      this.#close();
      await this.#watch[Symbol.asyncDispose]();
      await this.#loop;
    })();
    return this.#disposed;
  }
}

function closedError(path: string): DOMException {
  return new DOMException(`The reloadable value of '${path}' was disposed`, "AbortError");
}
