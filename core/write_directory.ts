/**
 * `writeDirectory`: many files, one atomic switch, in the layout of
 * Kubernetes' AtomicWriter (the one ConfigMap and Secret volumes use), and
 * `readDirectory`, which reads one consistent set back.
 *
 * ```text
 * dir/..7         a generation: the whole set, as regular files
 * dir/..data  →   ..7   (the switch: a symlink replaced by rename)
 * dir/a       →   ..data/a
 * dir/b       →   ..data/b
 * ```
 *
 * @module
 */

import type { FsAdapter } from "./adapter.ts";
import { AtomFsError, type AtomFsOp } from "./errors.ts";
import type { Durability } from "./options.ts";
import { absolute, join, toPath } from "./_path.ts";
import { CHANNELS, listened, type RollbackEvent } from "./events.ts";
import { sha256Hex } from "./_hash.ts";
import { sameBytes } from "./_data.ts";
import { writeBytes } from "./_protocol.ts";
import { runAsync, stepError } from "./_steps.ts";
import { context } from "./_write.ts";

/** Options of {@linkcode writeDirectory}. The caller's object is never mutated. */
export interface WriteDirectoryOptions {
  /**
   * `"full"`: every file and the generation directory are fsynced, the
   * directory is fsynced before and after the switch; once the promise
   * resolves a power loss leaves the new set. `"file"`: the same without the
   * fsync after the switch: a power loss leaves the old set or the new one
   * (and names that left the set, and generations beyond `backups`, are
   * removed by the next write instead, since removing them before the switch
   * is durable could outlive a switch that a crash undoes). `"none"`: no
   * fsync: atomic for readers only.
   *
   * @default {"full"}
   */
  durability?: Durability;
  /**
   * How many previous generations to keep beside the current one, for a
   * rollback; older ones are removed. 0 is what Kubernetes does: the old
   * generation goes as soon as the switch is durable.
   *
   * @default {0}
   */
  backups?: number;
  /**
   * Permission bits of every file. By default `0o666` filtered by the umask.
   *
   * @default {undefined}
   */
  mode?: number;
}

/** What {@linkcode writeDirectory} did. */
export interface DirectoryReceipt {
  /** The directory, absolute. */
  readonly dir: string;
  /** The generation now current (its directory is `dir/..<generation>`). */
  readonly generation: number;
  /** The generation current before, or `undefined` if there was none. */
  readonly previous: number | undefined;
  /** The names of the set, sorted. */
  readonly files: readonly string[];
  /** `true` if a new generation was switched in; `false` if the set was unchanged and the switch skipped. */
  readonly switched: boolean;
  /** The durability asked for (and achieved). */
  readonly durability: Durability;
}

/** One consistent set of files, as {@linkcode readDirectory} read it. */
export interface DirectorySnapshot {
  /** The directory, absolute. */
  readonly dir: string;
  /** The generation every file was read from. */
  readonly generation: number;
  /** Every file of that generation, by name. */
  readonly files: Readonly<Record<string, Uint8Array>>;
}

/** The symlink a switch replaces: it names the current generation. */
export const DATA = "..data";
const DATA_TMP = "..data_tmp";
const GENERATION = /^\.\.([1-9][0-9]{0,14})$/;
const encoder = new TextEncoder();

interface Resolved {
  durability: Durability;
  backups: number;
  mode: number | undefined;
}

function resolveOptions(value: unknown): Resolved {
  if (value === undefined) return { durability: "full", backups: 0, mode: undefined };
  if (value === null || typeof value !== "object") {
    throw new TypeError(`Invalid options: expected an object, got ${String(value)}`);
  }
  const o = value as WriteDirectoryOptions;
  const durability = o.durability ?? "full";
  if (!["full", "file", "none"].includes(durability)) {
    throw new TypeError(
      `Invalid durability: expected "full", "file" or "none", got ${String(durability)}`,
    );
  }
  const backups = o.backups ?? 0;
  if (typeof backups !== "number" || !Number.isInteger(backups) || backups < 0) {
    throw new RangeError(`Invalid backups: expected an integer ≥ 0, got ${String(backups)}`);
  }
  const mode = o.mode;
  if (
    mode !== undefined &&
    (typeof mode !== "number" || !Number.isInteger(mode) || mode < 0 || mode > 0o7777)
  ) {
    throw new RangeError(`Invalid mode: expected an integer in 0..0o7777, got ${String(mode)}`);
  }
  return { durability, backups, mode };
}

/** The set as bytes, checked: names are single path components that are not ours. */
function resolveFiles(value: unknown): Map<string, Uint8Array> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new TypeError(
      `Invalid files: expected an object of name → content, got ${
        value === null ? "null" : Array.isArray(value) ? "an array" : typeof value
      }`,
    );
  }
  const files = new Map<string, Uint8Array>();
  for (const name of Object.keys(value).sort()) {
    if (name === "" || name === "." || name.includes("/") || name.includes("\0")) {
      throw new TypeError(
        `Invalid file name ${JSON.stringify(name)}: expected one path component`,
      );
    }
    // Names starting with ".." are the layout's own (Kubernetes forbids them too).
    if (name.startsWith("..")) {
      throw new TypeError(
        `Invalid file name ${JSON.stringify(name)}: names starting with ".." are reserved`,
      );
    }
    const content = (value as Record<string, unknown>)[name];
    if (typeof content === "string") files.set(name, encoder.encode(content));
    else if (content instanceof Uint8Array) files.set(name, content);
    else {
      throw new TypeError(
        `Invalid content of ${JSON.stringify(name)}: expected a string or a Uint8Array`,
      );
    }
  }
  return files;
}

/** Run an adapter call; an OS error becomes an AtomFsError naming the step and path. */
async function step<T>(op: AtomFsOp, path: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw stepError(error, op, path);
  }
}

/** A step whose ENOENT (or one of `absent`) means "not there" rather than failure. */
async function ifExists<T>(
  op: AtomFsOp,
  path: string,
  call: () => Promise<T>,
  absent: readonly string[] = [],
) {
  try {
    return await step(op, path, call);
  } catch (error) {
    if (error instanceof AtomFsError && (error.code === "ENOENT" || absent.includes(error.code))) {
      return undefined;
    }
    throw error;
  }
}

function generationOf(name: string): number | undefined {
  const match = GENERATION.exec(name);
  return match ? Number(match[1]) : undefined;
}

function notOnWindows(adapter: FsAdapter, dir: string, what: string): void {
  if (adapter.platform !== "windows") return;
  throw new AtomFsError({
    code: "ENOTSUP",
    op: "link",
    path: dir,
    message: `Cannot ${what} '${dir}': the ..data symlink layout is POSIX only ` +
      "(Windows needs a privilege to create symlinks and cannot flush a directory) (ENOTSUP); " +
      "write the files one by one with writeFile() instead",
  });
}

/** The generation `..data` (at `dataPath`) names with `target`; an error if it names none. */
function generationNamed(dataPath: string, target: string): number {
  const generation = generationOf(target);
  if (generation !== undefined) return generation;
  throw new AtomFsError({
    code: "EINVAL",
    op: "readlink",
    path: dataPath,
    message: `Cannot follow the symlink '${dataPath}': it points at '${target}', ` +
      "not at a generation directory written by writeDirectory (EINVAL)",
  });
}

/** The generations older than `current`, newest first: the backups. */
function eldersOf(layout: Layout, current: number): number[] {
  return [...layout.generations].filter((g) => g < current).sort((a, b) => b - a);
}

// Writes to one directory run one at a time, in call order, per adapter.
const lanes = new WeakMap<FsAdapter, Map<string, Promise<unknown>>>();

function inLane<T>(adapter: FsAdapter, dir: string, work: () => Promise<T>): Promise<T> {
  let byDir = lanes.get(adapter);
  if (!byDir) lanes.set(adapter, byDir = new Map());
  const before = byDir.get(dir) ?? Promise.resolve();
  const run = before.then(work, work);
  const settled = run.then(() => {}, () => {});
  byDir.set(dir, settled);
  void settled.then(() => {
    if (byDir.get(dir) === settled) byDir.delete(dir);
  });
  return run;
}

/** What a directory holds now, as far as the layout goes. */
interface Layout {
  current: number | undefined;
  /** Every generation directory, by number. */
  generations: Set<number>;
  /** `..data_tmp` left by a crashed switch. */
  dataTmp: boolean;
  /** Names that are our links: `name → ..data/name`. */
  links: Set<string>;
}

async function inspect(adapter: FsAdapter, dir: string): Promise<Layout> {
  const info = await step("stat", dir, () => adapter.lstat(dir));
  if (info.kind !== "directory") {
    throw new AtomFsError({ code: "ENOTDIR", op: "stat", path: dir });
  }
  const dataPath = join(dir, DATA, "posix");
  const target = await ifExists("readlink", dataPath, () => adapter.readlink(dataPath));
  const current = target === undefined ? undefined : generationNamed(dataPath, target);
  const layout: Layout = { current, generations: new Set(), dataTmp: false, links: new Set() };
  for (const name of await step("read-dir", dir, () => adapter.readDir(dir))) {
    const generation = generationOf(name);
    if (generation !== undefined) layout.generations.add(generation);
    else if (name === DATA_TMP) layout.dataTmp = true;
    else if (!name.startsWith("..")) {
      // One readlink per name: EINVAL is a name that is not a link.
      const path = join(dir, name, "posix");
      const text = await ifExists("readlink", path, () => adapter.readlink(path), ["EINVAL"]);
      if (text === `${DATA}/${name}`) layout.links.add(name);
    }
  }
  return layout;
}

/** Remove a generation directory and its files (flat: writeDirectory writes no subdirectories). */
async function removeGeneration(adapter: FsAdapter, dir: string, generation: number) {
  const path = generationPath(dir, generation);
  const names = await ifExists("read-dir", path, () => adapter.readDir(path));
  for (const name of names ?? []) {
    const file = join(path, name, "posix");
    await ifExists("unlink", file, () => adapter.unlink(file));
  }
  await ifExists("rmdir", path, () => adapter.rmdir(path));
}

/**
 * Remove what the current generation no longer needs: links whose name is not
 * in `names`, and generations older than it beyond its `backups` newest. Only
 * safe once the switch to `current` is durable (or nothing is promised).
 */
async function prune(
  adapter: FsAdapter,
  dir: string,
  layout: Layout,
  current: number,
  names: ReadonlySet<string>,
  backups: number,
): Promise<void> {
  for (const name of [...layout.links]) {
    if (names.has(name)) continue;
    const path = join(dir, name, "posix");
    await ifExists("unlink", path, () => adapter.unlink(path));
    layout.links.delete(name);
  }
  const elders = eldersOf(layout, current);
  const keep = new Set([current, ...elders.slice(0, backups)]);
  for (const generation of elders.reverse()) {
    if (keep.has(generation)) continue;
    await removeGeneration(adapter, dir, generation);
    layout.generations.delete(generation);
  }
}

/** The directory of a generation. */
function generationPath(dir: string, generation: number): string {
  return join(dir, `..${generation}`, "posix");
}

/** The files `names` of a generation directory, in name order, read one at a time as they are asked for. */
async function* filesOf(
  adapter: FsAdapter,
  path: string,
  names: string[],
): AsyncGenerator<[string, Uint8Array]> {
  for (const name of names.sort()) {
    const file = join(path, name, "posix");
    yield [name, await step("read", file, () => adapter.readFile(file))];
  }
}

async function readSet(
  adapter: FsAdapter,
  dir: string,
  generation: number,
): Promise<Map<string, Uint8Array>> {
  const path = generationPath(dir, generation);
  const names = await step("read-dir", path, () => adapter.readDir(path));
  const files = new Map<string, Uint8Array>();
  for await (const [name, bytes] of filesOf(adapter, path, names)) files.set(name, bytes);
  return files;
}

/**
 * The names in a generation, and whether its files are exactly `files`: the
 * names are compared first, then the contents one file at a time, and no file
 * is read past the first difference.
 */
async function compareSet(
  adapter: FsAdapter,
  dir: string,
  generation: number,
  files: ReadonlyMap<string, Uint8Array>,
): Promise<{ names: string[]; same: boolean }> {
  const path = generationPath(dir, generation);
  const names = await step("read-dir", path, () => adapter.readDir(path));
  if (names.length !== files.size || names.some((name) => !files.has(name))) {
    return { names, same: false };
  }
  for await (const [name, bytes] of filesOf(adapter, path, names)) {
    if (!sameBytes(bytes, files.get(name)!)) return { names, same: false };
  }
  return { names, same: true };
}

async function writeOne(
  adapter: FsAdapter,
  path: string,
  bytes: Uint8Array,
  options: Resolved,
): Promise<void> {
  const handle = await step("open-temp", path, () => adapter.openExclusive(path, 0o666));
  let failure: { error: unknown } | undefined;
  try {
    // Short writes and their loop, as for any write.
    await runAsync(context(adapter, { retryTimeoutMs: 0 }), writeBytes(handle, bytes, path));
    if (options.mode !== undefined) {
      const mode = options.mode;
      await step("chmod", path, () => adapter.chmod(path, mode));
    }
    if (options.durability !== "none") await step("sync", path, () => adapter.fsync(handle));
  } catch (error) {
    failure = { error };
  }
  try {
    await step("close", path, () => adapter.close(handle));
  } catch (error) {
    // A failed close after another error never hides that error.
    failure ??= { error };
  }
  if (failure) throw failure.error;
}

async function switchTo(
  adapter: FsAdapter,
  dir: string,
  files: Map<string, Uint8Array>,
  options: Resolved,
): Promise<DirectoryReceipt> {
  const layout = await inspect(adapter, dir);
  const { current } = layout;
  const names = new Set(files.keys());
  const syncDir = () => step("sync-dir", dir, () => adapter.syncDir(dir));
  // A name in the set must be free or already ours: never clobber a user's file.
  const missing: string[] = [];
  for (const name of names) {
    if (layout.links.has(name)) continue;
    const path = join(dir, name, "posix");
    if (await ifExists("stat", path, () => adapter.lstat(path))) {
      throw new AtomFsError({
        code: "EEXIST",
        op: "link",
        path,
        message: `Cannot create '${path}': it exists and is not a link into ${DATA} ` +
          "(EEXIST); writeDirectory only replaces the names it made; remove it first",
      });
    }
    missing.push(name);
  }
  const receipt = (generation: number, switched: boolean): DirectoryReceipt => ({
    dir,
    generation,
    previous: current,
    files: [...names],
    switched,
    durability: options.durability,
  });
  // Link each name new to the set to `..data/<name>`, noting it in `made` (to undo on failure).
  const addLinks = async (made?: string[]) => {
    for (const name of missing) {
      const path = join(dir, name, "posix");
      await step("symlink", path, () => adapter.symlink(`${DATA}/${name}`, path));
      made?.push(name);
      layout.links.add(name);
    }
  };
  // `..data_tmp` left by a crashed switch never became `..data`.
  const removeDataTmp = async () => {
    if (!layout.dataTmp) return;
    const tmp = join(dir, DATA_TMP, "posix");
    await ifExists("unlink", tmp, () => adapter.unlink(tmp));
  };

  const before = current === undefined ? undefined : await compareSet(adapter, dir, current, files);
  if (current !== undefined && before?.same) {
    // Nothing changed: no new generation. Repair missing links, and finish
    // what a "file" write left for later, once a flush proves its switch durable.
    const leftovers = layout.dataTmp || layout.generations.size > options.backups + 1 ||
      [...layout.links].some((name) => !names.has(name));
    if (missing.length > 0 || leftovers) {
      await addLinks();
      if (options.durability !== "none") await syncDir();
      await removeDataTmp();
      await prune(adapter, dir, layout, current, names, options.backups);
    }
    return receipt(current, false);
  }

  // Before the switch. A generation newer than the current one is a switch
  // that never happened (a crash): never current, so no reader can be in it.
  await removeDataTmp();
  for (const generation of [...layout.generations]) {
    if (current !== undefined && generation <= current) continue;
    await removeGeneration(adapter, dir, generation);
    layout.generations.delete(generation);
  }
  const generation = Math.max(current ?? 0, ...layout.generations) + 1;
  const genPath = generationPath(dir, generation);
  await step("mkdir", genPath, () => adapter.mkdir(genPath, 0o777));
  layout.generations.add(generation);
  const made: string[] = [];
  try {
    for (const [name, bytes] of files) {
      await writeOne(adapter, join(genPath, name, "posix"), bytes, options);
    }
    if (options.durability !== "none") {
      await step("sync-dir", genPath, () => adapter.syncDir(genPath));
    }
    // The links of new names come before the switch: until it they dangle
    // (the name is absent, as in the old set), from it on they resolve.
    await addLinks(made);
    // The generation's entry, the new links and the removals above reach the
    // disk before the switch can: a switch must never outlive its payload.
    if (options.durability !== "none") await syncDir();
    // A "file" write left its removals to this one: the flush just made
    // its switch durable, so they are safe now, as long as they spare the
    // current set (still visible) and the links just made.
    if (current !== undefined && before) {
      const spared = new Set([...before.names, ...names]);
      await prune(adapter, dir, layout, current, spared, Math.max(options.backups - 1, 0));
    }
    const tmp = join(dir, DATA_TMP, "posix");
    await step("symlink", tmp, () => adapter.symlink(`..${generation}`, tmp));
    try {
      await step(
        "rename",
        join(dir, DATA, "posix"),
        () => adapter.rename(tmp, join(dir, DATA, "posix")),
      );
    } catch (error) {
      await adapter.unlink(tmp).catch(() => {});
      throw error;
    }
  } catch (error) {
    // Undo what the failed write made; a failed cleanup never hides the error.
    for (const name of made) {
      await adapter.unlink(join(dir, name, "posix")).catch(() => {});
    }
    await removeGeneration(adapter, dir, generation).catch(() => {});
    throw error;
  }
  // After the switch: the old generation and names that left the set go once
  // the switch is durable ("full"), at once if nothing is promised ("none"),
  // or at the next write ("file").
  if (options.durability === "full") await syncDir();
  if (options.durability !== "file") {
    await prune(adapter, dir, layout, generation, names, options.backups);
  }
  return receipt(generation, true);
}

/**
 * Replace a whole set of files at once, in the Kubernetes AtomicWriter
 * layout: the set is written to a fresh hidden generation directory
 * `dir/..<n>`, then the symlink `dir/..data` is switched to it by creating
 * `dir/..data_tmp` and renaming it over `..data`, one atomic rename. The
 * visible names are symlinks `dir/<name> → ..data/<name>`; names of the new
 * set are linked before the switch (dangling until it), names that left the
 * set are removed after it. A crash or power loss leaves the old set or the
 * new one (durability `"full"` or `"file"`); after the promise resolves with
 * `"full"`, the new one.
 *
 * If the set equals the current generation's, nothing is switched
 * (`switched: false`). Writes to one directory through one adapter run in
 * call order; concurrent writers in several processes are not supported.
 * Other names in `dir` are left alone, but a name of the set that exists and
 * is not a link into `..data` is an error (never clobbered).
 *
 * Readers that open `dir/a`, then `dir/b` by their visible names can see two
 * generations if a switch happens between the two opens: each name is
 * atomic, the pair is not. Use {@linkcode readDirectory} for a consistent set.
 *
 * POSIX only: on Windows (`adapter.platform === "windows"`) it throws.
 *
 * @param adapter The filesystem.
 * @param dir The directory holding the set (it must exist).
 * @param files The whole new set: file name (one path component, not starting with `..`) → content.
 * @param options Durability, backups and mode.
 * @returns What was done: the generation now current, and whether it was switched in.
 * @throws {TypeError} Bad `dir`, `files` or options, before any I/O.
 * @throws {RangeError} `backups` or `mode` out of range, before any I/O.
 * @throws {AtomFsError} An I/O failure (the old set stays current if it came
 * before the switch); code `ENOTSUP` on Windows; code `EEXIST` if a name of
 * the set is taken by something else.
 *
 * @example Publish a configuration set, then read it back consistently
 * ```ts
 * import { readDirectory, writeDirectory } from "@atomfs/atomfs";
 *
 * const receipt = await writeDirectory("./config", {
 *   "app.json": '{"port":8080}',
 *   "tls.pem": "-----BEGIN CERTIFICATE-----…",
 * }, { backups: 1 });
 * console.log(receipt.generation, receipt.switched); // e.g. 1 true
 * const { files } = await readDirectory("./config");
 * console.log(new TextDecoder().decode(files["app.json"])); // {"port":8080}
 * ```
 */
export function writeDirectory(
  adapter: FsAdapter,
  dir: string | URL,
  files: Record<string, string | Uint8Array>,
  options?: WriteDirectoryOptions,
): Promise<DirectoryReceipt> {
  try {
    const path = absolute(toPath(dir, adapter.platform, "dir"), () => adapter.cwd(), "posix");
    const set = resolveFiles(files);
    const resolved = resolveOptions(options);
    notOnWindows(adapter, path, "write the directory set");
    return inLane(adapter, path, () => switchTo(adapter, path, set, resolved));
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * Read every file of the current generation of a directory written by
 * {@linkcode writeDirectory}, all from one generation: `..data` is resolved
 * once and every file is read from the generation it named. If a switch
 * happens mid-read (the old generation may then be removed under it), the
 * read starts over from the new `..data`, so the result is always one whole
 * set; under switches faster than a read it keeps starting over.
 *
 * Reading `dir/a` and `dir/b` by their visible names gives no such promise.
 *
 * @param adapter The filesystem.
 * @param dir The directory holding the set.
 * @returns The generation and its files.
 * @throws {TypeError} A bad `dir`, before any I/O.
 * @throws {AtomFsError} An I/O failure; code `ENOENT` if `dir` holds no set
 * (no `..data`); code `ENOTSUP` on Windows.
 *
 * @example Read a consistent pair
 * ```ts
 * import { readDirectory } from "@atomfs/atomfs";
 *
 * const { generation, files } = await readDirectory("./config");
 * console.log(generation, Object.keys(files)); // e.g. 3 ["app.json", "tls.pem"]
 * ```
 */
export async function readDirectory(
  adapter: FsAdapter,
  dir: string | URL,
): Promise<DirectorySnapshot> {
  const path = absolute(toPath(dir, adapter.platform, "dir"), () => adapter.cwd(), "posix");
  notOnWindows(adapter, path, "read the directory set");
  const dataPath = join(path, DATA, "posix");
  const pinned = async () =>
    generationNamed(dataPath, await step("readlink", dataPath, () => adapter.readlink(dataPath)));
  for (let generation = await pinned();;) {
    let files: Map<string, Uint8Array> | undefined;
    let failure: unknown;
    try {
      files = await readSet(adapter, path, generation);
    } catch (error) {
      if (!(error instanceof AtomFsError) || error.code !== "ENOENT") throw error;
      failure = error;
    }
    // A generation that is no longer current may be being removed, and a
    // listing taken during its removal misses files: only a set read while
    // its generation was still current is known whole.
    const now = await pinned();
    if (now === generation) {
      // The current generation itself is unreadable: that is no switch.
      if (!files) throw failure;
      return { dir: path, generation, files: Object.fromEntries(files) };
    }
    generation = now;
  }
}

/** Options of {@linkcode rollbackDirectory}. */
export interface DirectoryRollbackOptions {
  /**
   * The backup generation to restore.
   *
   * @default {the newest generation older than the current one}
   */
  generation?: number;
  /**
   * What the switch back must reach, as for `writeDirectory`.
   *
   * @default {"full"}
   */
  durability?: Durability;
}

/** What {@linkcode rollbackDirectory} did. */
export interface DirectoryRollbackReceipt {
  /** The directory (absolute). */
  readonly dir: string;
  /** The backup generation whose files were restored. */
  readonly from: number;
  /** The new generation holding them, now current. */
  readonly generation: number;
  /** The generation replaced, kept as the newest backup. */
  readonly previous: number;
  /** The durability reached. */
  readonly durability: Durability;
  /** SHA-256 (hex) of the restored set: each name, a NUL, its length, a NUL, its content, in name order. */
  readonly hash: string;
}

/** SHA-256 (hex) of a set: each name, NUL, length, NUL, content, in name order. */
async function setHash(files: Map<string, Uint8Array>): Promise<string> {
  const parts: Uint8Array[] = [];
  for (const name of [...files.keys()].sort()) {
    const content = files.get(name)!;
    parts.push(encoder.encode(`${name}\0${content.length}\0`), content);
  }
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    all.set(part, at);
    at += part.length;
  }
  return await sha256Hex(all);
}

/**
 * Switch a directory set back to a backup generation kept by `backups`. The
 * backup's files are written as a new generation and switched to like any
 * write (a reader still reading the old number is never pointed back at it),
 * and the generation replaced is kept as the newest backup, so a second
 * rollback undoes the first.
 *
 * @param adapter The filesystem.
 * @param dir The directory holding the set.
 * @param options Which generation (default: the newest backup), durability.
 * @returns What was restored, as which generation.
 * @throws {TypeError | RangeError} On bad arguments, before any I/O.
 * @throws {AtomFsError} With code `ENOENT` when `dir` holds no set or no such backup.
 *
 * @example Undo a bad switch
 * ```ts
 * import { rollbackDirectory, writeDirectory } from "@atomfs/atomfs";
 *
 * await writeDirectory("./config", { "app.json": '{"port":80}' }, { backups: 2 });
 * await writeDirectory("./config", { "app.json": '{"port":' }, { backups: 2 }); // oops
 * const receipt = await rollbackDirectory("./config");
 * console.log(receipt.from, receipt.generation); // e.g. 1 3
 * ```
 */
export function rollbackDirectory(
  adapter: FsAdapter,
  dir: string | URL,
  options?: DirectoryRollbackOptions,
): Promise<DirectoryRollbackReceipt> {
  try {
    const path = absolute(toPath(dir, adapter.platform, "dir"), () => adapter.cwd(), "posix");
    const generation = options?.generation;
    if (generation !== undefined && (!Number.isSafeInteger(generation) || generation < 1)) {
      throw new RangeError(`Invalid generation: expected an integer ≥ 1, got ${generation}`);
    }
    const { durability } = resolveOptions({ durability: options?.durability });
    notOnWindows(adapter, path, "roll the directory set back");
    return inLane(adapter, path, async () => {
      const layout = await inspect(adapter, path);
      const { current } = layout;
      if (current === undefined) {
        throw new AtomFsError({
          code: "ENOENT",
          op: "stat",
          path,
          message: `Cannot roll back '${path}': it holds no set written by writeDirectory (ENOENT)`,
        });
      }
      const elders = eldersOf(layout, current);
      const from = generation ?? elders[0];
      if (from === undefined || !elders.includes(from)) {
        throw new AtomFsError({
          code: "ENOENT",
          op: "stat",
          path,
          message: `Cannot roll back '${path}': ` +
            (elders.length === 0
              ? "it has no backup generations (write it with { backups: N } to keep some) (ENOENT)"
              : `no backup generation ${from}; it has ${elders.join(", ")} (ENOENT)`),
        });
      }
      const files = await readSet(adapter, path, from);
      // Every generation there is now stays: the one replaced becomes the newest backup.
      const receipt = await switchTo(adapter, path, files, {
        durability,
        backups: elders.length + 1,
        mode: undefined,
      });
      const hash = await setHash(files);
      listened(adapter, CHANNELS.rollback)?.publish(
        { path, from: generationPath(path, from), hash } satisfies RollbackEvent,
      );
      return {
        dir: path,
        from,
        generation: receipt.generation,
        previous: current,
        durability: receipt.durability,
        hash,
      };
    });
  } catch (error) {
    return Promise.reject(error);
  }
}
