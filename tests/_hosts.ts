// Which adapters this runtime can host, and scratch directories for tests.
// Node runs node + memory; Deno runs deno + node + memory; Bun runs bun +
// node + memory (DESIGN §5).
//
// Real-disk scratch directories are made under ATOMFS_TEST_DIR (default: the
// OS temp directory), so that `npm run test:fs` can run the suites on other
// filesystems. There, ATOMFS_TEST_FS names the filesystem, ATOMFS_TEST_DIFFERS
// (a JSON object: test name → reason) lists the real-disk tests that are
// expected to fail on it, and ATOMFS_TEST_LACKS (comma-separated) the probe()
// capabilities it is expected to lack.

import { mkdtempSync, realpathSync, rmSync, utimesSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import type { FsAdapter } from "../core/adapter.ts";
import { type AtomicFs, createAtomicFs } from "../core/atomic_fs.ts";
import { bunAdapter } from "../adapters/bun.ts";
import { denoAdapter } from "../adapters/deno.ts";
import { type MemoryAdapter, memoryAdapter } from "../adapters/memory.ts";
import { nodeAdapter } from "../adapters/node.ts";
import { runtime } from "./_runtime.ts";

/** A fresh directory on some filesystem, with an AtomicFs over it. */
export interface Scratch {
  /** Absolute path of an empty directory. */
  readonly dir: string;
  readonly fs: AtomicFs;
  readonly adapter: FsAdapter;
  /** The memory adapter, when the host is one (for fault injection and logs). */
  readonly memory: MemoryAdapter | undefined;
  /** Set a file's modification time `ageMs` into the past. */
  age(path: string, ageMs: number): void;
}

/** An adapter under test. */
export interface Host {
  readonly name: string;
  /** Real disk (true) or in memory. */
  readonly real: boolean;
  /** The umask new files get. */
  umask(): number;
  /** Run `body` in a fresh scratch directory, removed afterwards. */
  withScratch<T>(body: (scratch: Scratch) => Promise<T> | T): Promise<T>;
}

function diskHost(adapter: FsAdapter): Host {
  return {
    name: adapter.name,
    real: true,
    umask: processUmask,
    async withScratch(body) {
      const dir = realpathSync(mkdtempSync(join(scratchParent(), `atomfs-${adapter.name}-`)));
      try {
        return await body({
          dir,
          fs: createAtomicFs(adapter),
          adapter,
          memory: undefined,
          age(path, ageMs) {
            const when = (Date.now() - ageMs) / 1000;
            utimesSync(path, when, when);
          },
        });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** Where real-disk scratch directories are made: ATOMFS_TEST_DIR, or the OS temp directory. */
export function scratchParent(): string {
  return process.env.ATOMFS_TEST_DIR || tmpdir();
}

/** The filesystem real-disk tests run on, for messages. */
export function filesystemName(): string {
  return process.env.ATOMFS_TEST_FS || "the temp directory's filesystem";
}

/**
 * Why a real-disk test is expected to fail on this filesystem, or
 * `undefined`: from ATOMFS_TEST_DIFFERS, which the filesystem matrix
 * (scripts/test_fs.mjs) sets from its documented expectation list.
 */
export function expectedDifference(name: string): string | undefined {
  const list = process.env.ATOMFS_TEST_DIFFERS;
  if (!list) return undefined;
  return (JSON.parse(list) as Record<string, string>)[name];
}

/**
 * Run `body`, which is expected to fail on this filesystem for `reason`: the
 * test passes when it fails (the failure is printed, so the difference stays
 * visible), and fails when it unexpectedly passes.
 */
export async function expectFailure(
  reason: string,
  body: () => Promise<unknown> | unknown,
): Promise<void> {
  try {
    await body();
  } catch (error) {
    console.log(`# expected difference on ${filesystemName()} (${reason}): ${String(error)}`);
    return;
  }
  throw new Error(
    `expected to fail on ${filesystemName()} (${reason}), but it passed: ` +
      "update the expectation list in scripts/test_fs.mjs",
  );
}

/**
 * A directory of files that exist only in an overlayfs lower layer (one per
 * adapter, `<adapter>.txt`), when the matrix mounted one: ATOMFS_TEST_LOWER_DIR.
 */
export function lowerLayerDir(): string | undefined {
  return process.env.ATOMFS_TEST_LOWER_DIR || undefined;
}

/** A host over a fresh in-memory filesystem per test. */
export function memoryHost(platform: "posix" | "windows" = "posix"): Host {
  return {
    name: platform === "posix" ? "memory" : "memory-windows",
    real: false,
    umask: () => 0o022,
    async withScratch(body) {
      const memory = memoryAdapter({ platform });
      memory.sync.mkdir("/scratch", 0o755);
      return await body({
        dir: "/scratch",
        fs: createAtomicFs(memory),
        adapter: memory,
        memory,
        age(path, ageMs) {
          memory.setMtime(path, Date.now() - ageMs);
        },
      });
    },
  };
}

/** The process's umask, read without changing it for longer than an instant. */
export function processUmask(): number {
  const deno = (globalThis as { Deno?: { umask(mask?: number): number } }).Deno;
  if (deno) return deno.umask();
  const proc = (globalThis as unknown as { process: { umask(mask?: number): number } }).process;
  const mask = proc.umask(0o022);
  proc.umask(mask);
  return mask;
}

/** Every adapter this runtime can host. */
export function hosts(): Host[] {
  const list = [memoryHost(), diskHost(nodeAdapter)];
  if (runtime === "deno") list.unshift(diskHost(denoAdapter));
  if (runtime === "bun") list.unshift(diskHost(bunAdapter));
  return list;
}

/** The real-disk host of this runtime's own adapter. */
export function nativeHost(): Host {
  return diskHost(runtime === "deno" ? denoAdapter : runtime === "bun" ? bunAdapter : nodeAdapter);
}
