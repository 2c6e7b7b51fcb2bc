// The public functions, bound to the adapter of the runtime they run on. The
// adapter is picked at the first call, never at import, so that importing
// atomfs on any runtime has no side effect and cannot throw.

import type { FsAdapter } from "./core/adapter.ts";
import { type AtomicFs, createAtomicFs } from "./core/atomic_fs.ts";
import type { AtomicFile } from "./core/atomic_file.ts";
import type { MountCapabilities } from "./core/probe.ts";
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
