/**
 * What a directory's filesystem can do, found by trying it: exclusive create,
 * rename over an existing file, hard links, directory fsync, and whether a
 * directory watch sees a rename. Found once per device and adapter, then
 * cached for the life of the process.
 *
 * @module
 */

import type { FsAdapter } from "./adapter.ts";
import { AtomFsError, type AtomFsOp } from "./errors.ts";
import { basename, join, resolveLink } from "./_path.ts";
import { call, codeOf, runAsync, type StepContext, type Steps, unlinkAll } from "./_steps.ts";
import { tempName } from "./_temp_name.ts";

/** One thing {@linkcode MountCapabilities} reports. */
export type MountCapability =
  | "exclusiveCreate"
  | "renameOver"
  | "hardLinks"
  | "syncDir"
  | "watchSeesRename";

/**
 * What the filesystem under a directory was seen to do, as `probe()` reports
 * it. Each flag is the outcome of trying it there, in a hidden scratch file
 * that is removed afterwards.
 *
 * @example Check a mount before relying on it
 * ```ts
 * import { probe } from "@atomfs/atomfs";
 *
 * const caps = await probe("./data");
 * if (!caps.renameOver) console.warn(`no atomic replace here (${caps.errors.renameOver})`);
 * ```
 */
export interface MountCapabilities {
  /**
   * The directory where these were observed: the first one probed on this
   * device (absolute, symlinks followed). Later probes of other directories
   * on the same device return the cached result.
   */
  readonly probedIn: string;
  /** The device (`FileStat.dev`) the result is cached under. */
  readonly dev: number;
  /** `open(O_CREAT|O_EXCL)` creates a file, and fails with `EEXIST` when the name exists. */
  readonly exclusiveCreate: boolean;
  /** `rename(2)` replaces an existing file (what every default write relies on). */
  readonly renameOver: boolean;
  /** `link(2)` works: `{ overwrite: false }` can put a complete file in place without clobbering. */
  readonly hardLinks: boolean;
  /** A directory can be opened and fsynced (`durability: "full"`). */
  readonly syncDir: boolean;
  /**
   * A watch on the directory reported, within 500 ms, the name of a file
   * renamed in it by this process. `false` where the adapter has no watcher.
   */
  readonly watchSeesRename: boolean;
  /**
   * What was observed where a capability is missing: the error code the
   * call failed with (`{ hardLinks: "EPERM" }`); `"ETIMEDOUT"` for a watch
   * that stayed silent; `"ENOSYS"` for an adapter without a watcher (or
   * without directory fsync); `"EEXIST-missing"` when a second exclusive
   * create of one name succeeded.
   */
  readonly errors: { readonly [K in MountCapability]?: string };
}

/**
 * The capabilities that filesystem calls alone establish (both drivers can
 * find them), with the runtime errors behind `errors`, for error causes.
 */
export type MountFacts = Omit<MountCapabilities, "watchSeesRename"> & {
  readonly causes: { readonly [K in MountCapability]?: unknown };
};

/** How long a watch may take to report a rename before it counts as blind. */
const WATCH_TIMEOUT_MS = 500;

/** Linux gives up after 40 links (path_resolution(7)); so do we. */
const MAX_LINKS = 40;

interface Device {
  facts?: MountFacts;
  full?: Promise<MountCapabilities>;
}

// Per adapter (each has its own view, and its own watcher), per device.
const devices = new WeakMap<FsAdapter, Map<number, Device>>();

function device(adapter: FsAdapter, dev: number): Device {
  let known = devices.get(adapter);
  if (!known) devices.set(adapter, known = new Map());
  let entry = known.get(dev);
  if (!entry) known.set(dev, entry = {});
  return entry;
}

/** The directory `dir` names (its own symlink chain followed) and its device: one `lstat` usually. */
function* deviceOf(
  ctx: StepContext,
  dir: string,
  op: AtomFsOp,
  path: string,
): Steps<{ dir: string; dev: number }> {
  const { platform } = ctx.adapter;
  let current = dir;
  for (let links = 0;; links++) {
    const stat = yield* call("lstat", [current], op, path);
    if (stat.kind === "symlink" && links < MAX_LINKS) {
      current = resolveLink(current, yield* call("readlink", [current], op, path), platform);
      continue;
    }
    if (stat.kind !== "directory") {
      throw new AtomFsError({ code: stat.kind === "symlink" ? "ELOOP" : "ENOTDIR", op, path });
    }
    return { dir: current, dev: stat.dev };
  }
}

/**
 * The capabilities of `dir`'s filesystem that filesystem calls establish,
 * tried on the first call per device and cached; later calls cost the one
 * `lstat` that finds the device. Errors name `path` (the write that asked),
 * and `op` for finding the device, `tryOp` for creating the scratch files.
 */
export function* mountFacts(
  ctx: StepContext,
  dir: string,
  op: AtomFsOp,
  path: string,
  tryOp: AtomFsOp = op,
): Steps<MountFacts> {
  const found = yield* deviceOf(ctx, dir, op, path);
  const entry = device(ctx.adapter, found.dev);
  return entry.facts ??= yield* tryFacts(ctx, found.dir, found.dev, tryOp, path);
}

/** Try each capability in scratch files named as atomfs temp files (so `sweep()` knows them). */
function* tryFacts(
  ctx: StepContext,
  dir: string,
  dev: number,
  op: AtomFsOp,
  path: string,
): Steps<MountFacts> {
  const made = new Set<string>();
  let facts: MountFacts;
  try {
    facts = yield* tryEach(ctx, dir, dev, made, op, path);
  } catch (error) {
    yield* removeAll(made, error);
    throw error;
  }
  yield* removeAll(made, undefined);
  return facts;
}

function* tryEach(
  ctx: StepContext,
  dir: string,
  dev: number,
  made: Set<string>,
  op: AtomFsOp,
  path: string,
): Steps<MountFacts> {
  const { adapter } = ctx;
  const scratch = () => join(dir, tempName(), adapter.platform);
  const errors: { [K in MountCapability]?: string } = {};
  const causes: { [K in MountCapability]?: unknown } = {};
  const missing = (capability: MountCapability, error: unknown) => {
    errors[capability] = codeOf(error) ?? "EIO";
    causes[capability] = error instanceof AtomFsError ? error.cause : error;
  };
  function* create(file: string): Steps<void> {
    const handle = yield* call("openExclusive", [file, 0o600], op, path);
    made.add(file);
    yield* call("close", [handle], op, path, "never");
  }

  const a = scratch();
  yield* create(a);
  let exclusiveCreate = false;
  try {
    const handle = yield* call("openExclusive", [a, 0o600], op, path);
    yield* call("close", [handle], op, path, "never");
    errors.exclusiveCreate = "EEXIST-missing";
  } catch (error) {
    if (codeOf(error) === "EEXIST") exclusiveCreate = true;
    else missing("exclusiveCreate", error);
  }

  const b = scratch();
  yield* create(b);
  let renameOver = false;
  try {
    yield* call("rename", [b, a], op, path);
    made.delete(b);
    renameOver = true;
  } catch (error) {
    missing("renameOver", error);
  }

  const c = scratch();
  let hardLinks = false;
  try {
    yield* call("link", [a, c], op, path);
    made.add(c);
    hardLinks = true;
  } catch (error) {
    missing("hardLinks", error);
  }

  let syncDir = false;
  if (!adapter.capabilities.syncDir) {
    errors.syncDir = "ENOSYS";
  } else {
    try {
      yield* call("syncDir", [dir], op, path);
      syncDir = true;
    } catch (error) {
      missing("syncDir", error);
    }
  }
  return Object.freeze({
    probedIn: dir,
    dev,
    exclusiveCreate,
    renameOver,
    hardLinks,
    syncDir,
    errors: Object.freeze(errors),
    causes,
  });
}

/**
 * Remove scratch files (`ENOENT` means gone already). After a failure, the
 * removal failures are kept in its `suppressed`; otherwise the first is thrown.
 */
function* removeAll(files: Iterable<string>, failure: unknown): Steps<void> {
  const left = yield* unlinkAll(files);
  if (left.length === 0) return;
  if (failure === undefined) throw left[0];
  if (failure instanceof AtomFsError) (failure.suppressed as unknown[]).push(...left);
}

/**
 * Whether a watch on `dir` reports a file renamed in it (over an existing
 * file where rename can do that, the case hot reload depends on): `undefined`
 * when it does, else what was observed.
 */
async function watchMiss(
  ctx: StepContext,
  dir: string,
  renameOver: boolean,
): Promise<string | undefined> {
  if (!ctx.adapter.watchDir) return "ENOSYS";
  const made = new Set<string>();
  let miss: string | undefined;
  try {
    miss = await renameUnderWatch(ctx, dir, renameOver, made);
  } catch (error) {
    await runAsync(ctx, removeAll(made, error));
    throw error;
  }
  await runAsync(ctx, removeAll(made, undefined));
  return miss;
}

async function renameUnderWatch(
  ctx: StepContext,
  dir: string,
  renameOver: boolean,
  made: Set<string>,
): Promise<string | undefined> {
  const { adapter } = ctx;
  const from = join(dir, tempName(), adapter.platform);
  const to = join(dir, tempName(), adapter.platform);
  const wanted = basename(to, adapter.platform);
  const create = async (file: string) => {
    const handle = await runAsync(ctx, call("openExclusive", [file, 0o600], "probe", dir));
    made.add(file);
    await runAsync(ctx, call("close", [handle], "probe", dir, "never"));
  };
  if (renameOver) await create(to);
  await create(from);
  let seen!: () => void;
  const saw = new Promise<boolean>((resolve) => seen = () => resolve(true));
  let watch: AsyncDisposable;
  try {
    watch = await adapter.watchDir!(dir, (name) => name === wanted && seen());
  } catch (error) {
    return codeOf(error) ?? "EIO";
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    try {
      await runAsync(ctx, call("rename", [from, to], "probe", dir));
    } catch (error) {
      return codeOf(error) ?? "EIO";
    }
    made.delete(from);
    made.add(to);
    const late = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), WATCH_TIMEOUT_MS);
    });
    return (await Promise.race([saw, late])) ? undefined : "ETIMEDOUT";
  } finally {
    clearTimeout(timer);
    await watch[Symbol.asyncDispose]();
  }
}

/**
 * Everything {@linkcode MountCapabilities} reports for `dir` (absolute), found
 * on the first call per device and adapter and cached for the process; later
 * calls cost one `lstat`. Concurrent first calls share one probe.
 */
export async function probeDir(adapter: FsAdapter, dir: string): Promise<MountCapabilities> {
  const ctx: StepContext = { adapter, retryTimeoutMs: 10_000, attempts: 1 };
  const found = await runAsync(ctx, deviceOf(ctx, dir, "probe", dir));
  const entry = device(adapter, found.dev);
  if (!entry.full) {
    const full = (async () => {
      const facts = entry.facts ??= await runAsync(
        ctx,
        tryFacts(ctx, found.dir, found.dev, "probe", dir),
      );
      const miss = await watchMiss(ctx, found.dir, facts.renameOver);
      return Object.freeze({
        probedIn: facts.probedIn,
        dev: facts.dev,
        exclusiveCreate: facts.exclusiveCreate,
        renameOver: facts.renameOver,
        hardLinks: facts.hardLinks,
        syncDir: facts.syncDir,
        watchSeesRename: miss === undefined,
        errors: Object.freeze({ ...facts.errors, ...(miss && { watchSeesRename: miss }) }),
      });
    })();
    entry.full = full;
    // A failed probe (a read-only directory, say) is not cached: the next call tries again.
    full.catch(() => {
      if (entry.full === full) delete entry.full;
    });
  }
  return await entry.full;
}
