// The write protocol of DESIGN.md §1, as step generators run by either driver.

import type { FileStat } from "./adapter.ts";
import { AtomFsError } from "./errors.ts";
import type { Durability, ResolvedWriteOptions, WriteReceipt } from "./options.ts";
import { absolute, dirname, join, resolveLink } from "./_path.ts";
import { call, codeOf, NONE, type StepContext, type Steps, wait } from "./_steps.ts";
import { tempName } from "./_temp_name.ts";
import { mountFacts } from "./probe.ts";
import type { InFlightRename, WriteTicket } from "./_queue.ts";
import { type Backup, findBackups, linkBackup, pruneBackups } from "./_backups.ts";

/** Linux gives up after 40 links (path_resolution(7)); so do we. */
const MAX_LINKS = 40;

/** Rename failures of a filesystem without rename (Mountpoint for Amazon S3 and the like). */
const NO_RENAME = ["ENOSYS", "ENOTSUP", "EOPNOTSUPP"];
/**
 * Rename failures that `fallback: "in-place"` answers. On POSIX, EBUSY means
 * the target is a mount point and EPERM a filesystem that refuses rename; on
 * Windows both mean another process holds the file, which is retried instead.
 */
function inPlaceCodes(platform: "posix" | "windows"): string[] {
  return platform === "windows" ? NO_RENAME : [...NO_RENAME, "EBUSY", "EPERM"];
}

/** The file a write replaces, after following symlinks. */
export interface Target {
  /** Absolute path of the file replaced. */
  readonly path: string;
  /** Its directory, where the temp file goes. */
  readonly dir: string;
  /** Its metadata, or `undefined` when it does not exist yet. */
  readonly old: FileStat | undefined;
}

/** A write in progress: a temp file beside its target. */
export interface Pending {
  readonly target: Target;
  readonly options: ResolvedWriteOptions;
  temp: string;
  /** The open temp file; `undefined` once closed. */
  handle: unknown;
  bytes: number;
  /** Directories `mkdir: true` created, outermost first (a shared empty list until then). */
  createdDirs: readonly string[];
  /** Set once the temp file has become the target (or been removed): nothing left to clean. */
  done: boolean;
  /**
   * Set for `overwrite: false` on a filesystem without hard links, with
   * `fallback: "in-place"`: `temp` is then the target itself, created
   * exclusively, and this identifies the file this write made (cleanup
   * removes that file only, not one another writer put there since).
   */
  inPlace?: { dev: number; ino: number };
  /**
   * With `backups: N`: the hard link to the old file made just before the
   * rename (removed again if the write fails before it), and the backups
   * that were there already (pruned after the commit).
   */
  backup?: { readonly made: Backup; readonly before: readonly Backup[] };
}

/** Find the file `path` names, following its symlink chain unless `symlinks: "replace"`. */
export function* resolveTarget(
  ctx: StepContext,
  path: string,
  options: ResolvedWriteOptions,
): Steps<Target> {
  const { platform } = ctx.adapter;
  const given = absolute(path, () => ctx.adapter.cwd(), platform);
  let current = given;
  for (let links = 0;; links++) {
    let stat: FileStat | undefined;
    try {
      stat = yield* call("lstat", [current], "stat", current, "transient", ["ENOENT"]);
    } catch (error) {
      if (codeOf(error) !== "ENOENT") throw error;
    }
    if (stat?.kind === "symlink" && options.symlinks === "follow") {
      if (links === MAX_LINKS) {
        throw new AtomFsError({ code: "ELOOP", op: "readlink", path: given });
      }
      const text = yield* call("readlink", [current], "readlink", current);
      current = resolveLink(current, text, platform);
      continue;
    }
    if (stat?.kind === "directory") {
      throw new AtomFsError({ code: "EISDIR", op: "stat", path: current });
    }
    // A symlink being replaced has no mode or owner worth carrying over.
    const old = stat?.kind === "symlink" ? undefined : stat;
    return { path: current, dir: dirname(current, platform), old };
  }
}

function checkAbort(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason;
}

/** Create the missing directories above `dir`, outermost first. */
function* makeDirs(ctx: StepContext, pending: Pending): Steps<void> {
  const { platform } = ctx.adapter;
  const missing: string[] = [];
  for (let dir = pending.target.dir;; dir = dirname(dir, platform)) {
    try {
      const stat = yield* call("lstat", [dir], "mkdir", pending.target.path, "transient", [
        "ENOENT",
      ]);
      if (stat.kind !== "directory" && stat.kind !== "symlink") {
        throw new AtomFsError({ code: "ENOTDIR", op: "mkdir", path: pending.target.path });
      }
      break;
    } catch (error) {
      if (codeOf(error) !== "ENOENT") throw error;
      missing.unshift(dir);
      if (dirname(dir, platform) === dir) break;
    }
  }
  for (const dir of missing) {
    try {
      yield* call("mkdir", [dir, 0o777], "mkdir", pending.target.path, "transient", ["EEXIST"]);
      pending.createdDirs = [...pending.createdDirs, dir];
    } catch (error) {
      // Another writer made it first: fine.
      if (codeOf(error) !== "EEXIST") throw error;
    }
  }
}

/** The mode the new file must end with, or `undefined` for the create mode (0o666 less the umask). */
function wantedMode(
  pending: { options: ResolvedWriteOptions; target: Target },
): number | undefined {
  const { options, target } = pending;
  return options.mode ?? (target.old ? target.old.mode & 0o7777 : undefined);
}

/**
 * Steps 1-3: resolve the target, create the temp file exclusively beside it.
 * The temp file is created with the permission bits of the mode it must end
 * with, so that where the umask lets them through no chmod is needed (see
 * `seal`), and its content is never more visible than the final file's.
 */
export function* begin(
  ctx: StepContext,
  target: Target,
  options: ResolvedWriteOptions,
): Steps<Pending> {
  checkAbort(options.signal);
  const pending: Pending = {
    target,
    options,
    temp: "",
    handle: undefined,
    bytes: 0,
    createdDirs: NONE,
    done: false,
  };
  const createMode = (wantedMode(pending) ?? 0o666) & 0o777;
  if (!options.overwrite && !(yield* hardLinksWork(ctx, pending))) {
    return yield* beginInPlace(pending, createMode);
  }
  for (let tries = 0;; tries++) {
    pending.temp = join(target.dir, tempName(), ctx.adapter.platform);
    try {
      pending.handle = yield* call(
        "openExclusive",
        [pending.temp, createMode],
        "open-temp",
        target.path,
        "transient",
        ["EEXIST", "ENOENT"],
      );
      return pending;
    } catch (error) {
      const code = codeOf(error);
      // 128 random bits make a collision all but impossible; a second name settles it.
      if (code === "EEXIST" && tries < 3) continue;
      if (code === "ENOENT" && options.mkdir && pending.createdDirs.length === 0 && tries < 3) {
        yield* makeDirs(ctx, pending);
        if (pending.createdDirs.length > 0) continue;
      }
      throw code === "EEXIST" || code === "ENOENT"
        ? new AtomFsError({ code, op: "open-temp", path: target.path, cause: error })
        : error;
    }
  }
}

/**
 * Whether `overwrite: false` can commit with link(2) here: asks the probe
 * (tried once per device, then one `lstat`). Without hard links it needs
 * `fallback: "in-place"` and exclusive create, or it fails saying so.
 */
function* hardLinksWork(ctx: StepContext, pending: Pending): Steps<boolean> {
  const { target, options } = pending;
  let facts;
  try {
    facts = yield* mountFacts(ctx, target.dir, "stat", target.path, "open-temp");
  } catch (error) {
    if (codeOf(error) !== "ENOENT") throw error;
    if (!options.mkdir) {
      // As the default path says it: the temp file has no directory to go in.
      const cause = error instanceof AtomFsError ? error.cause : error;
      throw new AtomFsError({ code: "ENOENT", op: "open-temp", path: target.path, cause });
    }
    yield* makeDirs(ctx, pending);
    facts = yield* mountFacts(ctx, target.dir, "stat", target.path, "open-temp");
  }
  if (facts.hardLinks) return true;
  const code = facts.errors.hardLinks ?? "ENOTSUP";
  const why = `this filesystem has no hard links (link(2) fails with ${code} in ` +
    `'${facts.probedIn}'), which { overwrite: false } needs to put a complete file in place`;
  if (options.fallback !== "in-place" || !facts.exclusiveCreate) {
    throw new AtomFsError({
      code,
      op: "link",
      path: target.path,
      cause: facts.causes.hardLinks,
      message: `Cannot create '${target.path}': ${why}; ` +
        (facts.exclusiveCreate
          ? 'pass { fallback: "in-place" } to create it exclusively in place (it never replaces ' +
            "a file, but readers may see it partly written)"
          : "and exclusive create does not work here either, so no write can avoid clobbering"),
    });
  }
  return false;
}

/**
 * `overwrite: false` without hard links: create the target itself with
 * `O_CREAT|O_EXCL` (never clobbering) and write it in place. Not atomic for
 * readers; the receipt says `strategy: "in-place"`.
 */
function* beginInPlace(pending: Pending, createMode: number): Steps<Pending> {
  const path = pending.target.path;
  try {
    pending.handle = yield* call(
      "openExclusive",
      [path, createMode],
      "in-place",
      path,
      "transient",
      [
        "EEXIST",
      ],
    );
  } catch (error) {
    if (codeOf(error) !== "EEXIST") throw error;
    throw new AtomFsError({
      code: "EEXIST",
      op: "in-place",
      path,
      cause: error,
      message: `Cannot create '${path}': it already exists (EEXIST); { overwrite: false } never ` +
        "replaces it",
    });
  }
  pending.temp = path;
  // From the handle, not the name: between the create and this call the name
  // may have come to hold another writer's file, which cleanup must not remove.
  const stat = yield* call("fstat", [pending.handle], "in-place", path);
  pending.inPlace = { dev: stat.dev, ino: stat.ino };
  return pending;
}

/**
 * One write(2) moves at most this much: Linux stops at 0x7ffff000 bytes per
 * call, and runtimes refuse lengths past 2 GiB; the loop does the rest.
 */
const MAX_WRITE = 1 << 30;

/** Step 4: write every byte, looping on short writes. */
export function* writeAll(pending: Pending, data: Uint8Array): Steps<void> {
  checkAbort(pending.options.signal);
  yield* writeBytes(pending.handle, data, pending.target.path);
  pending.bytes += data.length;
}

/**
 * Write all of `data` at the handle's position, looping on short writes
 * (`path` is named in errors). A write that makes no progress is an error,
 * not an endless loop.
 */
export function* writeBytes(handle: unknown, data: Uint8Array, path: string): Steps<void> {
  for (let offset = 0; offset < data.length;) {
    const chunk = offset === 0 && data.length <= MAX_WRITE
      ? data
      : data.subarray(offset, offset + MAX_WRITE);
    const n = yield* call("write", [handle, chunk], "write", path, "never");
    if (!(n > 0)) {
      throw new AtomFsError({
        code: "EIO",
        op: "write",
        path,
        message: `Cannot write the new content of '${path}': the write made no progress (EIO)`,
      });
    }
    offset += n;
  }
}

/**
 * Steps 5-6 and close: owner, mode, fsync. What the temp file got when it was
 * created (its owner, its group, which a set-group-ID directory decides, and
 * its mode after the umask) is read from the open file, and only what differs
 * from what the new file must have is changed.
 */
function* seal(ctx: StepContext, pending: Pending): Steps<void> {
  const { options, target } = pending;
  const { adapter } = ctx;
  const mode = wantedMode(pending);
  const owner = !adapter.capabilities.chown
    ? undefined
    : typeof options.owner === "object"
    ? options.owner
    : options.owner === "preserve"
    ? target.old
    : undefined;
  if (mode !== undefined || owner !== undefined) {
    const made = yield* call("fstat", [pending.handle], "stat", target.path);
    // Owner before mode: chown(2) clears the set-user-ID and set-group-ID bits.
    if (owner && (made.uid !== owner.uid || made.gid !== owner.gid)) {
      try {
        yield* call("chown", [pending.temp, owner.uid, owner.gid], "chown", target.path);
      } catch (error) {
        // Preserving is best-effort: an unprivileged process cannot give files
        // away, and exFAT/FAT mounts refuse chown altogether (write-file-atomic #44).
        // An owner asked for explicitly must be set.
        if (owner === options.owner) throw error;
      }
    }
    if (mode !== undefined && made.mode !== mode) {
      yield* call("chmod", [pending.temp, mode], "chmod", target.path);
    }
  }
  if (options.durability !== "none") {
    // Never retried: after a failed fsync Linux may have dropped the dirty
    // pages, and a second fsync can report success for data that is gone.
    yield* call("fsync", [pending.handle], "sync", target.path, "never");
  }
  const handle = pending.handle;
  pending.handle = undefined;
  yield* call("close", [handle], "close", target.path, "never");
}

/** Directories whose entries a `"full"` write must flush: the target's, and those `mkdir` changed. */
function dirsToSync(ctx: StepContext, pending: Pending): readonly string[] {
  // Almost always just the target's: no Set needed.
  if (pending.createdDirs.length === 0) return [pending.target.dir];
  const dirs = pending.createdDirs.map((dir) => dirname(dir, ctx.adapter.platform));
  dirs.push(pending.target.dir);
  return [...new Set(dirs)];
}

/**
 * Steps 5-8: seal the temp file, put it in place, flush the directory. When
 * the ticket says a later write to the same path has committed meanwhile,
 * this one is dropped instead of put in place.
 */
export function* commit(
  ctx: StepContext,
  pending: Pending,
  ticket: WriteTicket,
): Steps<WriteReceipt> {
  const { options, target } = pending;
  const { adapter } = ctx;
  const achieved: Durability = options.durability === "full" && !adapter.capabilities.syncDir
    ? "file"
    : options.durability;
  yield* seal(ctx, pending);
  checkAbort(options.signal);
  if (ticket.superseded() !== undefined) return yield* drop(ctx, pending, ticket);
  let strategy: WriteReceipt["strategy"];
  if (options.overwrite) {
    if (options.backups > 0 && target.old) {
      // Linked before the rename, so that a crash leaves the old version
      // either as the target or under its backup name (or both), never lost.
      const before = yield* findBackups(target.dir, target.path, adapter.platform);
      const made = yield* linkBackup(target.path, target.dir, before, adapter.platform);
      if (made) pending.backup = { made, before };
      // Those steps may have waited: a synchronous write may have committed since.
      if (ticket.superseded() !== undefined) return yield* drop(ctx, pending, ticket);
    }
    const fallbackCodes = options.fallback === "in-place" ? inPlaceCodes(adapter.platform) : NONE;
    try {
      if (!(yield* renameAnnounced(ticket, pending.temp, target.path, fallbackCodes))) {
        return yield* drop(ctx, pending, ticket);
      }
      pending.done = true;
      ticket.committed(achieved);
      strategy = "rename";
    } catch (error) {
      if (
        adapter.platform === "windows" && error instanceof AtomFsError &&
        ["EPERM", "EACCES", "EBUSY"].includes(error.code)
      ) {
        throw new AtomFsError({
          code: error.code,
          op: "rename",
          path: target.path,
          cause: error.cause,
          message:
            `Cannot replace '${target.path}': another process holds it open (${error.code}) ` +
            `and still did after ${options.retryTimeoutMs} ms of retries; close it (an editor, ` +
            `antivirus or indexer), or raise { retry: { timeoutMs } }`,
        });
      }
      if (!fallbackCodes.includes(codeOf(error)!)) throw yield* explainRename(ctx, pending, error);
      if (!target.old) {
        throw new AtomFsError({
          code: codeOf(error)!,
          op: "rename",
          path: target.path,
          cause: error,
        });
      }
      // The backup is a link to the very file about to be overwritten: it
      // would hold the new content, not the old. The write keeps none.
      yield* dropBackup(pending);
      yield* inPlace(pending, error);
      ticket.committed(options.durability);
      return receipt(ctx, pending, options.durability, "in-place");
    }
  } else if (pending.inPlace) {
    pending.done = true;
    ticket.committed(achieved);
    strategy = "in-place";
  } else {
    yield* call("link", [pending.temp, target.path], "link", target.path);
    ticket.committed(achieved);
    // The target holds the new content now: failing to remove the temp name
    // is reported, but must not undo the write.
    try {
      yield* removeTemp(pending);
    } catch (error) {
      pending.done = true;
      throw new AtomFsError({
        code: codeOf(error) ?? "EIO",
        op: "unlink",
        path: target.path,
        cause: error instanceof AtomFsError ? error.cause : error,
        message: `'${target.path}' was created with its new content, but its temp name ` +
          `'${pending.temp}' could not be removed (${codeOf(error)}); sweep() removes it later`,
      });
    }
    strategy = "link";
  }
  if (achieved === "full") yield* flushDirs(ctx, pending);
  if (pending.backup) {
    yield* pruneBackups([...pending.backup.before, pending.backup.made], options.backups);
  }
  return receipt(ctx, pending, achieved, strategy);
}

/** The receipt of a write that put its content in place. */
function receipt(
  ctx: StepContext,
  pending: Pending,
  durability: Durability,
  strategy: WriteReceipt["strategy"],
): WriteReceipt {
  return {
    path: pending.target.path,
    bytes: pending.bytes,
    durability,
    strategy,
    attempts: ctx.attempts,
    superseded: false,
  };
}

/** A write dropped because a later one committed first: nothing of it stays. */
function* drop(ctx: StepContext, pending: Pending, ticket: WriteTicket): Steps<WriteReceipt> {
  yield* dropBackup(pending);
  if (pending.inPlace) pending.done = true;
  else yield* removeTemp(pending);
  return {
    path: pending.target.path,
    bytes: 0,
    durability: ticket.superseded()!,
    strategy: pending.options.overwrite ? "rename" : "link",
    attempts: ctx.attempts,
    superseded: true,
  };
}

/**
 * The rename that puts a new version in place, announced to the path's queue
 * while it is in flight: a synchronous write issued meanwhile makes it first
 * (see `InFlightRename`), and this one then finds `from` gone, already in
 * place. Returns false, leaving `from` where it is, when the rename failed
 * and a later write committed meanwhile: retrying it or falling back could
 * only put older content over newer, so the caller drops it instead.
 */
export function* renameAnnounced(
  ticket: WriteTicket,
  from: string,
  to: string,
  fallbackCodes: readonly string[] = NONE,
): Steps<boolean> {
  const rename: InFlightRename = { from, to, madeBySync: false };
  const settled = ticket.renaming(rename);
  const current = () => ticket.superseded() === undefined;
  try {
    yield* call("rename", [from, to], "rename", to, "replace", fallbackCodes, current);
    return true;
  } catch (error) {
    if (rename.madeBySync && codeOf(error) === "ENOENT") return true;
    if (!current()) return false;
    throw error;
  } finally {
    settled();
  }
}

/** Step 8: flush the directories the write changed, or leave them to the batch or the shared flush. */
function* flushDirs(ctx: StepContext, pending: Pending): Steps<void> {
  const { target } = pending;
  for (const dir of dirsToSync(ctx, pending)) {
    if (ctx.deferDirSync) {
      ctx.deferDirSync(dir);
      continue;
    }
    if (!ctx.syncDir) {
      yield* call("syncDir", [dir], "sync-dir", target.path);
      continue;
    }
    // The one step no driver times: this write's wait for a shared flush.
    const start = ctx.timings ? performance.now() : 0;
    try {
      yield* wait(ctx.syncDir(dir, ctx.retryTimeoutMs));
    } catch (error) {
      throw sharedFlushError(error, target.path);
    } finally {
      if (ctx.timings) ctx.timings.dirSyncMs += performance.now() - start;
    }
  }
}

/** A directory flush that several writes shared failed: what each reports, for its own target. */
export function sharedFlushError(error: unknown, path: string): unknown {
  if (!(error instanceof AtomFsError)) return error;
  return new AtomFsError({ code: error.code, op: "sync-dir", path, cause: error.cause });
}

/**
 * A rename refused with EPERM (or ENOSYS, ENOTSUP) on POSIX: when the probe
 * finds that this filesystem cannot rename over a file at all, say so and
 * name the fallback, instead of a bare "operation not permitted".
 */
function* explainRename(ctx: StepContext, pending: Pending, error: unknown): Steps<unknown> {
  const { target, options } = pending;
  const code = codeOf(error);
  if (
    ctx.adapter.platform !== "posix" || options.fallback === "in-place" || code === undefined ||
    !["EPERM", ...NO_RENAME].includes(code)
  ) {
    return error;
  }
  let facts;
  try {
    facts = yield* mountFacts(ctx, target.dir, "rename", target.path);
  } catch {
    return error;
  }
  if (facts.renameOver) return error;
  return new AtomFsError({
    code,
    op: "rename",
    path: target.path,
    cause: error instanceof AtomFsError ? error.cause : error,
    message: `Cannot replace '${target.path}': this filesystem cannot replace files by rename ` +
      `(renaming over a file fails with ${facts.errors.renameOver ?? code} in ` +
      `'${facts.probedIn}'); pass { fallback: "in-place" } to overwrite it in place ` +
      "(durable, but not atomic for readers)",
  });
}

/** Remove the backup link this write made (it is gone already on `ENOENT`). */
function* dropBackup(pending: Pending): Steps<void> {
  const backup = pending.backup;
  if (!backup) return;
  try {
    yield* call("unlink", [backup.made.path], "unlink", pending.target.path, "transient", [
      "ENOENT",
    ]);
  } catch (error) {
    if (codeOf(error) !== "ENOENT") throw error;
  }
  pending.backup = undefined;
}

/**
 * Remove the temp file; `ENOENT` means it is gone already. An in-place file
 * is removed only while it is still the one this write created: another
 * writer may have replaced it since.
 */
function* removeTemp(pending: Pending): Steps<void> {
  try {
    if (pending.inPlace) {
      const now = yield* call("lstat", [pending.temp], "unlink", pending.temp, "transient", [
        "ENOENT",
      ]);
      if (now.dev !== pending.inPlace.dev || now.ino !== pending.inPlace.ino) {
        pending.done = true;
        return;
      }
    }
    yield* call("unlink", [pending.temp], "unlink", pending.temp, "transient", ["ENOENT"]);
  } catch (error) {
    if (codeOf(error) !== "ENOENT") throw error;
  }
  pending.done = true;
}

const COPY_CHUNK = 1 << 20;

/**
 * `fallback: "in-place"`: copy the sealed temp file over the target's own
 * content (truncate, write, fsync), then remove the temp file. Readers may see
 * a partial file meanwhile; the receipt says `strategy: "in-place"`.
 */
function* inPlace(pending: Pending, renameError: unknown): Steps<void> {
  const path = pending.target.path;
  const step = (name: "openRead" | "openTruncate", file: string) =>
    call(name, [file], "in-place", path);
  let source: unknown;
  let dest: unknown;
  try {
    source = yield* step("openRead", pending.temp);
    dest = yield* step("openTruncate", path);
    const buffer = new Uint8Array(Math.min(COPY_CHUNK, Math.max(1, pending.bytes)));
    for (;;) {
      const n = yield* call("read", [source, buffer], "in-place", path, "never");
      if (n === 0) break;
      for (let offset = 0; offset < n;) {
        offset += yield* call(
          "write",
          [dest, buffer.subarray(offset, n)],
          "in-place",
          path,
          "never",
        );
      }
    }
    if (pending.options.durability !== "none") {
      yield* call("fsync", [dest], "in-place", path, "never");
    }
  } catch (error) {
    if (error instanceof AtomFsError) {
      throw new AtomFsError({
        code: error.code,
        op: "in-place",
        path,
        cause: error.cause,
        suppressed: [renameError],
        message: `${error.message}; rename had failed first (${codeOf(renameError)}) and the ` +
          `in-place fallback failed part-way: '${path}' may hold partial content`,
      });
    }
    throw error;
  } finally {
    for (const handle of [source, dest]) {
      if (handle !== undefined) {
        try {
          yield* call("close", [handle], "in-place", path, "never");
        } catch {
          // Closing a read handle, or one whose failure was already reported.
        }
      }
    }
  }
  yield* removeTemp(pending);
}

/**
 * Close the temp file and remove it; returns what failed (nothing, usually).
 * Never throws: cleanup failures must not hide the error that caused them.
 */
export function* cleanup(pending: Pending): Steps<unknown[]> {
  const failures: unknown[] = [];
  if (pending.handle !== undefined) {
    const handle = pending.handle;
    pending.handle = undefined;
    try {
      yield* call("close", [handle], "close", pending.target.path, "never");
    } catch (error) {
      failures.push(error);
    }
  }
  if (!pending.done) {
    try {
      yield* removeTemp(pending);
    } catch (error) {
      failures.push(error);
    }
    // Not committed: the old file is still the target, and its backup link
    // would only duplicate it.
    try {
      yield* dropBackup(pending);
    } catch (error) {
      failures.push(error);
    }
  }
  return failures;
}

/**
 * Step 9: after a failure, clean up and rethrow. A cleanup failure is kept in
 * `AtomFsError.suppressed`, never thrown in the original's place.
 */
export function* discard(pending: Pending, error: unknown): Steps<never> {
  const failures = yield* cleanup(pending);
  if (failures.length > 0 && error instanceof AtomFsError) {
    (error.suppressed as unknown[]).push(...failures);
  }
  throw error;
}
