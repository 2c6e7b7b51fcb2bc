/**
 * Options, receipts and data types of the public API, and their validation.
 *
 * @module
 */

/** How much a write survives, once its promise has resolved. */
export type Durability = "full" | "file" | "none";

/** How the new content was put in place. */
export type WriteStrategy = "rename" | "link" | "in-place";

/** Everything `writeFile` accepts as content. */
export type WriteData =
  | string
  | ArrayBufferView
  | ArrayBuffer
  | Blob
  | ReadableStream<Uint8Array>
  | AsyncIterable<Uint8Array | string>
  | Iterable<Uint8Array | string>;

/** What `writeFileSync` accepts as content. */
export type WriteSyncData = string | ArrayBufferView | ArrayBuffer;

/** Options of every write. The caller's object is never mutated. */
export interface WriteOptions {
  /**
   * `"full"`: the temp file and the directory are fsynced; after the promise
   * resolves a power loss leaves the new file. `"file"`: only the temp file is
   * fsynced; a power loss leaves the old or the new file. `"none"`: nothing is
   * fsynced; atomic for readers only.
   *
   * @default {"full"}
   */
  durability?: Durability;
  /**
   * Permission bits of the new file, exactly (the umask does not apply).
   *
   * @default {the old file's mode; for a new file 0o666 filtered by the umask}
   */
  mode?: number;
  /**
   * `"preserve"` gives the new file the old file's owner where the process
   * may (best-effort: a failure is ignored); `"none"` leaves the owner the
   * process gives; `{ uid, gid }` sets it and fails if it cannot. Ignored on
   * Windows.
   *
   * @default {"preserve"}
   */
  owner?: "preserve" | "none" | { uid: number; gid: number };
  /**
   * `false` never replaces an existing file: the write fails with `EEXIST`
   * (done with `link(2)`, so two racing writers cannot both win).
   *
   * @default {true}
   */
  overwrite?: boolean;
  /**
   * Create missing parent directories (fsynced into their parents under
   * `durability: "full"`).
   *
   * @default {false}
   */
  mkdir?: boolean;
  /**
   * `"follow"` writes through a symlink chain to its final target, also when
   * that target does not exist yet; `"replace"` replaces the link itself.
   *
   * @default {"follow"}
   */
  symlinks?: "follow" | "replace";
  /**
   * `"in-place"`: where rename cannot replace the target (a mount point,
   * `EBUSY`; a filesystem without rename, `ENOSYS`/`ENOTSUP`), truncate and
   * rewrite it in place, then fsync. Durable, but NOT atomic for readers.
   *
   * @default {"none"}
   */
  fallback?: "none" | "in-place";
  /**
   * Latest wins: a write still waiting for earlier writes to the same path
   * when a later write is issued is never put in place itself. Its promise
   * resolves once the later content is committed (durable as that write's
   * receipt says, which this write's receipt repeats, with `superseded: true`),
   * or rejects with that write's error. A burst of N un-awaited writes to one
   * file then costs about two renames instead of N.
   *
   * @default {false}
   */
  coalesce?: boolean;
  /**
   * Keep this many previous versions of the file beside it, as hidden hard
   * links named `.<name>.atomfs-<generation>.bak` (generation 000001, 000002,
   * …; the highest is the newest). Before the rename, the old file is linked
   * under the next generation (no copy); after it, generations beyond the
   * newest `backups` are removed (best-effort: a failure is left for the next
   * write to retry). `rollback()` restores one, `listBackups()` lists them.
   * Needs hard links (a filesystem without them fails the write with the
   * `link` error), and is not kept when `fallback: "in-place"` overwrites the
   * file (the link would share the overwritten content).
   *
   * @default {0}
   */
  backups?: number;
  /** Abort before the commit: the temp file is removed and the target untouched. */
  signal?: AbortSignal;
  /** How long transient failures are retried. */
  retry?: RetryOptions;
}

/** Retry settings for transient failures. */
export interface RetryOptions {
  /**
   * Retry transient failures (`EMFILE`, `ENFILE`, `EAGAIN`; on Windows also a
   * rename refused while another process holds the target) for at most this
   * long, with jittered exponential backoff. `0` never retries.
   *
   * @default {10000}
   */
  timeoutMs?: number;
}

/** Options of `writeJson`. */
export interface WriteJsonOptions extends WriteOptions {
  /**
   * Indentation, as for `JSON.stringify`.
   *
   * @default {undefined (no indentation)}
   */
  space?: string | number;
}

/** What a write actually achieved. */
export interface WriteReceipt {
  /** The path of the file actually written: absolute, after following symlinks. */
  readonly path: string;
  /** How many bytes the file holds. */
  readonly bytes: number;
  /** The durability achieved, e.g. `"file"` on Windows when `"full"` was asked. */
  readonly durability: Durability;
  /** How the content was put in place. */
  readonly strategy: WriteStrategy;
  /** 1 + the number of retries of transient failures. */
  readonly attempts: number;
  /**
   * `true` when this write's content was never put in place because a later
   * write to the same path replaced it first: with `coalesce: true`, or when
   * a `writeFileSync` committed while this write was queued. `durability` is
   * then what the later write achieved, and `bytes` is 0.
   */
  readonly superseded: boolean;
}

/** Options of the read functions. */
export interface ReadOptions {
  /**
   * Retry `ENOENT` this long, for eventually consistent mounts.
   *
   * @default {0}
   */
  notFoundGraceMs?: number;
  /** Abort the read (also while waiting for the file to appear). */
  signal?: AbortSignal;
}

/** Options of `sweep`. */
export interface SweepOptions {
  /**
   * Remove only temp files whose last change is older than this.
   *
   * @default {3600000 (one hour)}
   */
  olderThanMs?: number;
}

/** What `sweep` did. */
export interface SweepReport {
  /** The directory swept. */
  readonly dir: string;
  /** The temp files removed (absolute paths). */
  readonly removed: readonly string[];
  /** Temp files left because they are younger than `olderThanMs` (absolute paths). */
  readonly kept: readonly string[];
}

/** Write options after validation, with every default filled in. */
export interface ResolvedWriteOptions {
  readonly durability: Durability;
  readonly mode: number | undefined;
  readonly owner: "preserve" | "none" | { readonly uid: number; readonly gid: number };
  readonly overwrite: boolean;
  readonly mkdir: boolean;
  readonly symlinks: "follow" | "replace";
  readonly fallback: "none" | "in-place";
  readonly coalesce: boolean;
  readonly backups: number;
  readonly signal: AbortSignal | undefined;
  readonly retryTimeoutMs: number;
}

const DEFAULT_RETRY_TIMEOUT_MS = 10_000;

// The allowed values of each option, made once: a literal in the call would
// be a new array on every write.
const DURABILITIES = ["full", "file", "none"] as const;
const SYMLINKS = ["follow", "replace"] as const;
const FALLBACKS = ["none", "in-place"] as const;

function oneOf<T extends string>(
  name: string,
  value: unknown,
  allowed: readonly T[],
  fallback: T,
): T {
  if (value === undefined) return fallback;
  if (typeof value !== "string" || !(allowed as readonly string[]).includes(value)) {
    throw new TypeError(
      `Invalid option ${name}: ${String(value)}; expected ${
        allowed.map((a) => `"${a}"`).join(" | ")
      }`,
    );
  }
  return value as T;
}

/** A boolean option, or `fallback` when absent. */
export function boolean(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") {
    throw new TypeError(`Invalid option ${name}: expected a boolean, got ${typeof value}`);
  }
  return value;
}

function id(name: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new TypeError(`Invalid option ${name}: expected an integer`);
  }
  if (value < 0 || value > 0xffff_ffff) {
    throw new RangeError(`Invalid option ${name}: ${value} is out of range`);
  }
  return value + 0; // -0 as 0: numbers resolved compare equal with ===
}

/** A count: an integer ≥ 0. */
function count(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new TypeError(`Invalid option ${name}: expected an integer ≥ 0, got ${String(value)}`);
  }
  if (value < 0 || !Number.isSafeInteger(value)) {
    throw new RangeError(`Invalid option ${name}: ${value} must be an integer ≥ 0`);
  }
  return value + 0; // -0 as 0
}

/** A duration in milliseconds: a finite number ≥ 0. */
export function checkMs(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || Number.isNaN(value)) {
    throw new TypeError(`Invalid option ${name}: expected a number of milliseconds`);
  }
  if (value < 0 || value === Infinity) {
    throw new RangeError(`Invalid option ${name}: ${value} must be finite and ≥ 0`);
  }
  return value + 0; // -0 as 0
}

/** An `AbortSignal` or nothing. */
export function checkSignal(value: unknown): AbortSignal | undefined {
  if (value === undefined) return undefined;
  if (
    typeof value !== "object" || value === null ||
    typeof (value as AbortSignal).aborted !== "boolean" ||
    typeof (value as AbortSignal).addEventListener !== "function"
  ) {
    throw new TypeError("Invalid option signal: expected an AbortSignal");
  }
  return value as AbortSignal;
}

/** An options argument: an object, or none. */
export function options(value: unknown): Record<string, unknown> {
  if (value === undefined) return {};
  if (typeof value !== "object" || value === null) {
    throw new TypeError(
      `Invalid options: expected an object, got ${value === null ? "null" : typeof value}`,
    );
  }
  return value as Record<string, unknown>;
}

function retryTimeout(retry: unknown): number {
  if (retry === undefined) return DEFAULT_RETRY_TIMEOUT_MS;
  if (typeof retry !== "object" || retry === null) {
    throw new TypeError("Invalid option retry: expected { timeoutMs?: number }");
  }
  return checkMs("retry.timeoutMs", (retry as RetryOptions).timeoutMs, DEFAULT_RETRY_TIMEOUT_MS);
}

/**
 * The write options resolved last, which equal options reuse (never any
 * with a signal, which is not kept alive here).
 */
let lastResolved: ResolvedWriteOptions | undefined;

/** What `undefined` resolves to: the defaults, made once. */
const DEFAULT_WRITE_OPTIONS: ResolvedWriteOptions = resolve({}, false);

/**
 * Validate write options and fill in defaults. Throws `TypeError`/`RangeError`.
 *
 * Options that resolve exactly as the last ones did (the same object passed
 * to every write of a burst, or an equal one) return that same frozen result:
 * reading each value once and comparing it costs less than validating it
 * again and building a new object, which in a cold process is much of what a
 * call costs before its first `await`.
 */
export function resolveWriteOptions(value: unknown): ResolvedWriteOptions {
  return value === undefined ? DEFAULT_WRITE_OPTIONS : resolve(value, true);
}

/** `resolveWriteOptions` without reusing an earlier result (the reference its tests compare to). */
export function resolveWriteOptionsAfresh(value: unknown): ResolvedWriteOptions {
  return resolve(value, false);
}

function resolve(value: unknown, reuse: boolean): ResolvedWriteOptions {
  // Each option read once: the value checked is the value kept, even from a
  // getter that changes its answer.
  const {
    signal,
    durability,
    mode,
    owner,
    overwrite,
    mkdir,
    symlinks,
    fallback,
    coalesce,
    backups,
    retry,
  } = options(value);
  const r = lastResolved;
  // Only values that pass validation can equal the fields of `r`, so a match
  // needs no checking. What an option left out resolves to comes from the
  // defaults, made below.
  if (reuse && r !== undefined && signal === undefined) {
    const d = DEFAULT_WRITE_OPTIONS;
    if (
      (durability === undefined ? d.durability : durability) === r.durability &&
      (mode === undefined ? d.mode : mode) === r.mode &&
      (overwrite === undefined ? d.overwrite : overwrite) === r.overwrite &&
      (mkdir === undefined ? d.mkdir : mkdir) === r.mkdir &&
      (symlinks === undefined ? d.symlinks : symlinks) === r.symlinks &&
      (fallback === undefined ? d.fallback : fallback) === r.fallback &&
      (coalesce === undefined ? d.coalesce : coalesce) === r.coalesce &&
      (backups === undefined ? d.backups : backups) === r.backups &&
      sameOwner(owner, r.owner) && sameRetry(retry, r.retryTimeoutMs)
    ) {
      return r;
    }
  }
  let checkedMode: number | undefined;
  if (mode !== undefined) {
    if (typeof mode !== "number" || !Number.isInteger(mode)) {
      throw new TypeError("Invalid option mode: expected an integer such as 0o644");
    }
    if (mode < 0 || mode > 0o7777) {
      throw new RangeError(`Invalid option mode: 0o${mode.toString(8)} is not within 0o0-0o7777`);
    }
    checkedMode = mode + 0; // -0 as 0
  }
  let checkedOwner: ResolvedWriteOptions["owner"];
  if (owner === undefined || owner === "preserve" || owner === "none") {
    checkedOwner = owner ?? "preserve";
  } else if (typeof owner === "object" && owner !== null) {
    const { uid, gid } = owner as { uid: unknown; gid: unknown };
    checkedOwner = Object.freeze({ uid: id("owner.uid", uid), gid: id("owner.gid", gid) });
  } else {
    throw new TypeError(
      `Invalid option owner: ${String(owner)}; expected "preserve" | "none" | { uid, gid }`,
    );
  }
  const retryTimeoutMs = retryTimeout(retry);
  const resolved: ResolvedWriteOptions = Object.freeze({
    durability: oneOf("durability", durability, DURABILITIES, "full"),
    mode: checkedMode,
    owner: checkedOwner,
    overwrite: boolean("overwrite", overwrite, true),
    mkdir: boolean("mkdir", mkdir, false),
    symlinks: oneOf("symlinks", symlinks, SYMLINKS, "follow"),
    fallback: oneOf("fallback", fallback, FALLBACKS, "none"),
    coalesce: boolean("coalesce", coalesce, false),
    backups: count("backups", backups, 0),
    signal: checkSignal(signal),
    retryTimeoutMs,
  });
  if (reuse && resolved.signal === undefined) lastResolved = resolved;
  return resolved;
}

/** Whether `owner`, as given, resolves to `wanted`. */
function sameOwner(owner: unknown, wanted: ResolvedWriteOptions["owner"]): boolean {
  if (typeof wanted !== "object") {
    return (owner === undefined ? DEFAULT_WRITE_OPTIONS.owner : owner) === wanted;
  }
  if (typeof owner !== "object" || owner === null) return false;
  const { uid, gid } = owner as { uid: unknown; gid: unknown };
  return uid === wanted.uid && gid === wanted.gid;
}

/** Whether `retry`, as given, resolves to `timeoutMs`. */
function sameRetry(retry: unknown, timeoutMs: number): boolean {
  const fallback = DEFAULT_WRITE_OPTIONS.retryTimeoutMs;
  if (retry === undefined) return timeoutMs === fallback;
  if (typeof retry !== "object" || retry === null) return false;
  const given = (retry as RetryOptions).timeoutMs;
  return (given === undefined ? fallback : given) === timeoutMs;
}

/** Validate `rollback()` options and fill in defaults. Throws `TypeError`/`RangeError`. */
export function resolveRollbackOptions(
  value: unknown,
): { generation: number | undefined; durability: Durability; retryTimeoutMs: number } {
  const o = options(value);
  let generation: number | undefined;
  if (o.generation !== undefined) {
    generation = count("generation", o.generation, 0);
    if (generation < 1) throw new RangeError("Invalid option generation: 0 must be ≥ 1");
  }
  return {
    generation,
    durability: oneOf("durability", o.durability, DURABILITIES, "full"),
    retryTimeoutMs: retryTimeout(o.retry),
  };
}

/** Validate read options and fill in defaults. */
export function resolveReadOptions(
  value: unknown,
): { notFoundGraceMs: number; signal: AbortSignal | undefined } {
  const o = options(value);
  return {
    notFoundGraceMs: checkMs("notFoundGraceMs", o.notFoundGraceMs, 0),
    signal: checkSignal(o.signal),
  };
}

/** Validate sweep options and fill in defaults. */
export function resolveSweepOptions(value: unknown): { olderThanMs: number } {
  const o = options(value);
  return { olderThanMs: checkMs("olderThanMs", o.olderThanMs, 3_600_000) };
}
