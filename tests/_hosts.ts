// Which adapters this runtime can host, and scratch directories for tests.
// Node runs node + memory; Deno runs deno + node + memory; Bun runs bun +
// node + memory (DESIGN §5).

import { mkdtempSync, realpathSync, rmSync, utimesSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
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
      const dir = realpathSync(mkdtempSync(join(tmpdir(), `atomfs-${adapter.name}-`)));
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
