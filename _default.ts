// The public functions, bound to the adapter of the runtime they run on. The
// adapter is picked at the first call, never at import, so that importing
// atomfs on any runtime has no side effect and cannot throw.

import type { FsAdapter } from "./core/adapter.ts";
import { type AtomicFs, createAtomicFs } from "./core/atomic_fs.ts";
import type { AtomicFile } from "./core/atomic_file.ts";
import type { MountCapabilities } from "./core/probe.ts";
import type { FileWatch, WatchOptions } from "./core/watch.ts";
import type { Reloadable, ReloadableOptions } from "./core/reloadable.ts";
import type { BackupInfo, RollbackOptions, RollbackReceipt } from "./core/backups.ts";
import type {
  DirectoryReceipt,
  DirectoryRollbackOptions,
  DirectoryRollbackReceipt,
  DirectorySnapshot,
  WriteDirectoryOptions,
} from "./core/write_directory.ts";
import type {
  ReadOptions,
  SweepOptions,
  SweepReport,
  WriteData,
  WriteJsonOptions,
  WriteOptions,
  WriteReceipt,
  WriteSyncData,
} from "./core/options.ts";
import { bunAdapter } from "./adapters/bun.ts";
import { denoAdapter } from "./adapters/deno.ts";
import { nodeAdapter } from "./adapters/node.ts";

let current: AtomicFs | undefined;

/**
 * The adapter of the runtime this code runs on: Deno, then Bun, then Node.
 *
 * @returns The Deno, Bun or Node adapter.
 *
 * @example Wrap the runtime's adapter
 * ```ts
 * import { createAtomicFs, runtimeAdapter } from "@atomfs/atomfs";
 *
 * const adapter = runtimeAdapter();
 * console.log(adapter.name); // "deno", "bun" or "node"
 * const fs = createAtomicFs(adapter);
 * await fs.writeFile("./state.json", "{}");
 * ```
 */
export function runtimeAdapter(): FsAdapter {
  const g = globalThis as { Deno?: { version?: unknown }; Bun?: unknown };
  if (typeof g.Deno === "object" && g.Deno?.version !== undefined) return denoAdapter;
  if (g.Bun !== undefined) return bunAdapter;
  return nodeAdapter;
}

function fs(): AtomicFs {
  return current ??= createAtomicFs(runtimeAdapter());
}

/**
 * Replace a file atomically and durably. With the default `durability:
 * "full"`, once the promise resolves a crash or power loss leaves the new
 * file; before that, readers in any process see the old file or the new one,
 * never a torn, empty or missing one.
 *
 * Writes to the same path from this process are applied in call order.
 *
 * @param path The file (a string or a `file:` URL); a symlink is followed to its final target.
 * @param data A string (UTF-8), bytes, a Blob, a ReadableStream or an (async) iterable of chunks.
 * @param options Durability, mode, owner, no-clobber, mkdir, symlinks, fallback, signal, retry.
 * @returns What was achieved: the real path, bytes, durability, strategy and attempts.
 * @throws {TypeError | RangeError} On bad arguments, before any I/O.
 * @throws {AtomFsError} On an I/O failure; the target is untouched and no temp file is left.
 *
 * @example Replace a config file
 * ```ts
 * import { writeFile } from "@atomfs/atomfs";
 *
 * const receipt = await writeFile("./config.json", JSON.stringify({ port: 8080 }));
 * console.log(receipt.durability); // "full" on Linux and macOS, "file" on Windows
 * ```
 */
export function writeFile(
  path: string | URL,
  data: WriteData,
  options?: WriteOptions,
): Promise<WriteReceipt> {
  return fs().writeFile(path, data, options);
}

/**
 * The synchronous twin of {@linkcode writeFile}, for content already in memory.
 *
 * @param path The file (a string or a `file:` URL).
 * @param data A string (UTF-8), an ArrayBufferView or an ArrayBuffer.
 * @param options As for {@linkcode writeFile} (`signal` is checked once, before any I/O).
 * @returns What was achieved.
 * @throws {TypeError | RangeError} On bad arguments, before any I/O.
 * @throws {AtomFsError} On an I/O failure; the target is untouched and no temp file is left.
 *
 * @example Save state on exit
 * ```ts
 * import { writeFileSync } from "@atomfs/atomfs";
 *
 * writeFileSync("./state.json", JSON.stringify({ clean: true }), { durability: "file" });
 * ```
 */
export function writeFileSync(
  path: string | URL,
  data: WriteSyncData,
  options?: WriteOptions,
): WriteReceipt {
  return fs().writeFileSync(path, data, options);
}

/**
 * Replace a file with a value serialised as JSON, followed by a newline.
 *
 * @param path The file (a string or a `file:` URL).
 * @param value Anything `JSON.stringify` accepts.
 * @param options As for {@linkcode writeFile}, plus `space` for indentation.
 * @returns What was achieved.
 * @throws {TypeError} If the value cannot be serialised, before any I/O.
 * @throws {AtomFsError} On an I/O failure.
 *
 * @example Write pretty JSON
 * ```ts
 * import { writeJson } from "@atomfs/atomfs";
 *
 * await writeJson("./package-state.json", { version: 2 }, { space: 2 });
 * ```
 */
export function writeJson(
  path: string | URL,
  value: unknown,
  options?: WriteJsonOptions,
): Promise<WriteReceipt> {
  return fs().writeJson(path, value, options);
}

/**
 * Start a new version of a file: write it piece by piece, then `commit()` to
 * put it in place, or `abort()` (or just let `await using` dispose of it).
 *
 * @param path The file (a string or a `file:` URL).
 * @param options As for {@linkcode writeFile}.
 * @returns The pending file.
 * @throws {TypeError | RangeError} On bad arguments, before any I/O.
 * @throws {AtomFsError} If the temp file cannot be created.
 *
 * @example Pipe a download into place
 * ```ts
 * import { openAtomic } from "@atomfs/atomfs";
 *
 * await using file = await openAtomic("./data.bin");
 * await new Blob(["downloaded bytes"]).stream().pipeTo(file.writable, { preventClose: true });
 * await file.commit();
 * ```
 */
export function openAtomic(path: string | URL, options?: WriteOptions): Promise<AtomicFile> {
  return fs().openAtomic(path, options);
}

/**
 * Read a whole file.
 *
 * @param path The file (a string or a `file:` URL).
 * @param options `notFoundGraceMs` retries a missing file that long (for eventually
 * consistent mounts); `signal` aborts.
 * @returns Its bytes.
 * @throws {AtomFsError} On an I/O failure.
 *
 * @example Wait up to a second for a file to appear
 * ```ts
 * import { readFile } from "@atomfs/atomfs";
 *
 * const bytes = await readFile("./ready.flag", { notFoundGraceMs: 1000 }).catch(() => undefined);
 * console.log(bytes?.length);
 * ```
 */
export function readFile(path: string | URL, options?: ReadOptions): Promise<Uint8Array> {
  return fs().readFile(path, options);
}

/**
 * Read a whole file as UTF-8 text.
 *
 * @param path The file (a string or a `file:` URL).
 * @param options As for {@linkcode readFile}.
 * @returns Its text.
 * @throws {AtomFsError} On an I/O failure.
 *
 * @example Read a text file
 * ```ts
 * import { readTextFile, writeFile } from "@atomfs/atomfs";
 *
 * await writeFile("./hello.txt", "hello");
 * console.log(await readTextFile("./hello.txt")); // "hello"
 * ```
 */
export function readTextFile(path: string | URL, options?: ReadOptions): Promise<string> {
  return fs().readTextFile(path, options);
}

/**
 * Read and parse a JSON file.
 *
 * @param path The file (a string or a `file:` URL).
 * @param options As for {@linkcode readFile}.
 * @returns The parsed value.
 * @throws {SyntaxError} If the file is not valid JSON.
 * @throws {AtomFsError} On an I/O failure.
 *
 * @example Round-trip a value
 * ```ts
 * import { readJson, writeJson } from "@atomfs/atomfs";
 *
 * await writeJson("./point.json", { x: 1, y: 2 });
 * const point = await readJson<{ x: number; y: number }>("./point.json");
 * console.log(point.x + point.y); // 3
 * ```
 */
export function readJson<T = unknown>(path: string | URL, options?: ReadOptions): Promise<T> {
  return fs().readJson<T>(path, options);
}

/**
 * Remove the temp files that killed writers left in a directory (only atomfs's
 * own, only those older than `olderThanMs`, one hour by default).
 *
 * @param dir The directory (a string or a `file:` URL).
 * @param options How old a temp file must be to be removed.
 * @returns What was removed and what was kept.
 * @throws {AtomFsError} If the directory cannot be listed.
 *
 * @example Clean up at start-up
 * ```ts
 * import { sweep } from "@atomfs/atomfs";
 *
 * const report = await sweep("./data");
 * console.log(`removed ${report.removed.length} stale temp files`);
 * ```
 */
export function sweep(dir: string | URL, options?: SweepOptions): Promise<SweepReport> {
  return fs().sweep(dir, options);
}

/**
 * Find what the filesystem under a directory can do, by trying it there in a
 * hidden scratch file (removed afterwards, also on failure): exclusive create,
 * rename over an existing file, hard links, directory fsync, and whether a
 * directory watch sees a rename. The first call per device tries; later calls
 * return the cached result after one `lstat`. `writeFile` asks it itself
 * (only for `overwrite: false` and to explain a refused rename), never on the
 * default path.
 *
 * @param dir The directory (a string or a `file:` URL); a symlink is followed.
 * @returns What works there, and the error codes seen where something does not.
 * @throws {TypeError} On a bad path, before any I/O.
 * @throws {AtomFsError} If the directory cannot be probed (missing, not writable, …).
 *
 * @example Check a network mount before trusting it
 * ```ts
 * import { probe } from "@atomfs/atomfs";
 *
 * const caps = await probe("./data");
 * console.log(caps.renameOver, caps.hardLinks, caps.syncDir, caps.watchSeesRename);
 * if (!caps.hardLinks) console.log(`no hard links here: ${caps.errors.hardLinks}`);
 * ```
 */
export function probe(dir: string | URL): Promise<MountCapabilities> {
  return fs().probe(dir);
}

/**
 * Versions of a file as it is replaced, by any process. Watches the file's
 * directory (a watch on the file itself goes silent after the first rename),
 * ignores atomfs temp files, survives deletion and re-creation, debounces
 * bursts and yields a version only when its content really changed. Falls
 * back to polling where the probe finds that a watch does not see renames
 * (network filesystems) or the runtime has no watcher.
 *
 * @param path The file (a string or a `file:` URL).
 * @param options `initial` (yield the current version first), `poll`
 * (`"auto"` or an interval in ms), `debounceMs`, `onError` (read failures,
 * reported without ending the iteration) and `signal`.
 * @returns An async iterable of `{ path, content, hash, size, mtimeMs }`; dispose it to stop.
 * @throws {TypeError | RangeError} On bad arguments.
 *
 * @example Follow a config file
 * ```ts
 * import { watch } from "@atomfs/atomfs";
 *
 * await using versions = watch("./config.json", { initial: true, onError: console.error });
 * for await (const version of versions) {
 *   console.log(`config ${version.hash.slice(0, 8)}: ${version.size} bytes`);
 * }
 * ```
 */
export function watch(path: string | URL, options?: WatchOptions): FileWatch {
  return fs().watch(path, options);
}

/**
 * The latest valid parsed value of a file, reloaded as the file is replaced.
 * A version that fails to parse or validate keeps the last good value and is
 * reported; a reload that takes longer than `timeoutMs` (default 5 s) is
 * reported as a timeout.
 *
 * @param path The file (a string or a `file:` URL).
 * @param options `parse` (bytes to value; throw to reject a version), `timeoutMs`, `onError`, and watch options.
 * @returns The value holder: `value`, `hash`, `reloadedAt`, `ready()`; dispose it to stop.
 * @throws {TypeError | RangeError} On bad arguments.
 *
 * @example Hot-reload a JSON config
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
export function reloadable<T>(path: string | URL, options: ReloadableOptions<T>): Reloadable<T> {
  return fs().reloadable(path, options);
}

/**
 * The backups kept of a file by writes with `{ backups: N }`, newest first.
 *
 * @param path The file (a string or a `file:` URL).
 * @returns Each backup's path, generation, SHA-256 hash, size and time.
 * @throws {AtomFsError} If the directory cannot be listed.
 *
 * @example List backups
 * ```ts
 * import { listBackups } from "@atomfs/atomfs";
 *
 * for (const backup of await listBackups("./app.json")) {
 *   console.log(backup.generation, backup.hash.slice(0, 8), backup.size);
 * }
 * ```
 */
export function listBackups(path: string | URL): Promise<BackupInfo[]> {
  return fs().listBackups(path);
}

/**
 * Restore a file's newest (or a chosen) backup atomically and durably. The
 * version it replaces is kept as the newest backup, so a second rollback
 * undoes the first. Runs after the writes to the file issued before it.
 *
 * @param path The file (a string or a `file:` URL).
 * @param options `generation` (default the newest), `durability`, `retry`.
 * @returns What was restored, and where the replaced version was kept.
 * @throws {AtomFsError} With code `ENOENT` when the file has no such backup.
 *
 * @example Undo a bad write
 * ```ts
 * import { rollback, writeFile } from "@atomfs/atomfs";
 *
 * await writeFile("./app.json", '{"port":80}', { backups: 3 });
 * await writeFile("./app.json", '{"port":', { backups: 3 }); // oops
 * await rollback("./app.json");
 * ```
 */
export function rollback(path: string | URL, options?: RollbackOptions): Promise<RollbackReceipt> {
  return fs().rollback(path, options);
}

/**
 * Replace a whole set of files at once, in the Kubernetes `..data` layout:
 * the set is written to a fresh hidden generation directory, a `..data`
 * symlink is switched to it by one rename, and each visible name is a
 * symlink into `..data`. Skips the switch when nothing changed. POSIX only.
 *
 * @param dir The directory holding the set (a string or a `file:` URL).
 * @param files File names (no `/`, not starting with `..`) and their contents.
 * @param options `durability` (default `"full"`), `backups` (generations kept, default 0), `mode`.
 * @returns The generation written, the previous one, and whether it switched.
 * @throws {TypeError | RangeError} On bad arguments, before any I/O.
 * @throws {AtomFsError} On an I/O failure, or with code `ENOTSUP` on Windows.
 *
 * @example Switch two files together
 * ```ts
 * import { writeDirectory } from "@atomfs/atomfs";
 *
 * const receipt = await writeDirectory("./config", {
 *   "app.json": '{"port":8080}',
 *   "tls.pem": "-----BEGIN CERTIFICATE-----…",
 * });
 * console.log(receipt.generation, receipt.switched);
 * ```
 */
export function writeDirectory(
  dir: string | URL,
  files: Record<string, string | Uint8Array>,
  options?: WriteDirectoryOptions,
): Promise<DirectoryReceipt> {
  return fs().writeDirectory(dir, files, options);
}

/**
 * Read every file of a set written by {@linkcode writeDirectory}, all from
 * one generation. (Opening `dir/a` and then `dir/b` by their visible names
 * can see two generations if a switch happens between the opens.)
 *
 * @param dir The directory holding the set (a string or a `file:` URL).
 * @returns The generation and its files.
 * @throws {AtomFsError} On an I/O failure; code `ENOENT` if `dir` holds no set.
 *
 * @example Read a consistent pair
 * ```ts
 * import { readDirectory } from "@atomfs/atomfs";
 *
 * const { generation, files } = await readDirectory("./config");
 * console.log(generation, Object.keys(files));
 * ```
 */
export function readDirectory(dir: string | URL): Promise<DirectorySnapshot> {
  return fs().readDirectory(dir);
}

/**
 * Switch a set written by {@linkcode writeDirectory} back to a backup
 * generation it kept (`backups: N`). The backup's files become a new
 * generation, switched to atomically like any write; the generation replaced
 * is kept as the newest backup, so a second rollback undoes the first.
 *
 * @param dir The directory holding the set (a string or a `file:` URL).
 * @param options `generation` (default: the newest backup) and `durability`.
 * @returns The generation restored, the new generation holding it, the one replaced.
 * @throws {AtomFsError} With code `ENOENT` when `dir` holds no set or no such backup.
 *
 * @example Undo a bad switch
 * ```ts
 * import { rollbackDirectory, writeDirectory } from "@atomfs/atomfs";
 *
 * await writeDirectory("./config", { "app.json": '{"port":80}' }, { backups: 2 });
 * await writeDirectory("./config", { "app.json": '{"port":' }, { backups: 2 }); // oops
 * await rollbackDirectory("./config");
 * ```
 */
export function rollbackDirectory(
  dir: string | URL,
  options?: DirectoryRollbackOptions,
): Promise<DirectoryRollbackReceipt> {
  return fs().rollbackDirectory(dir, options);
}
