// The crash-state explorer: run a workload on the memory adapter while its
// journal records every operation, then rebuild every durable state a crash
// could leave at every point of the run, and check an invariant on each.

import type { FsAdapter } from "../core/adapter.ts";
import { type AtomicFs, createAtomicFs } from "../core/atomic_fs.ts";
import {
  fingerprint,
  forced,
  type Image,
  type Inode,
  type JournalEvent,
  listEntries,
  persists,
  recorders,
  replay,
  ROOT,
} from "./_memory_journal.ts";
import type { MemoryAdapter, MemoryAdapterOptions } from "./memory.ts";

/** What a crash left: the durable filesystem, read-only. */
export interface CrashState {
  /** A file's bytes (symlinks followed), or `undefined` if no file is there. */
  read(path: string): Uint8Array | undefined;
  /** A file's content as UTF-8, or `undefined` if no file is there. */
  text(path: string): string | undefined;
  /** The names in a directory (empty if there is none). */
  list(dir: string): string[];
  /** Every regular file, by absolute path, as UTF-8 text. */
  files(): Record<string, string>;
}

/** Where in the workload a crash happened. */
export interface CrashContext {
  /** The labels the workload passed to `mark()` before the crash, in order. */
  readonly marks: readonly string[];
  /** How many recorded operations happened before the crash. */
  readonly crashAfter: number;
}

/** What the workload gets besides the `AtomicFs`. */
export interface CrashWorkloadTools {
  /** The memory adapter the workload runs on (for hand-written protocols). */
  readonly adapter: MemoryAdapter;
  /** Record that the workload reached a point (e.g. a write's promise resolved). */
  mark(label: string): void;
}

/** A state that broke the invariant, and how it came about. */
export interface CrashCounterexample {
  /** Why the invariant failed. */
  readonly message: string;
  /** How many recorded operations happened before the crash. */
  readonly crashAfter: number;
  /** The marks reached before the crash. */
  readonly marks: readonly string[];
  /** Every recorded operation: `✓` durable at the crash, `✗` lost, `·` not reached. */
  readonly trace: readonly string[];
  /** The files the crash left, as text. */
  readonly files: Readonly<Record<string, string>>;
}

/** The outcome of an exploration. */
export interface CrashReport {
  /** No state broke the invariant. */
  readonly ok: boolean;
  /** Operations recorded while the workload ran. */
  readonly operations: number;
  /** Crash points considered: before the first operation and after each one. */
  readonly crashPoints: number;
  /** Distinct crash states on which the invariant ran. */
  readonly states: number;
  /** Every possible state was checked (false when `maxStates` cut the search short). */
  readonly exhaustive: boolean;
  /** The first state that broke the invariant. */
  readonly counterexample: CrashCounterexample | undefined;
}

/** Options of `exploreCrashes`. */
export interface ExploreCrashesOptions {
  /** Prepare files before recording starts; what it leaves is taken as durable. */
  setup?(fs: AtomicFs, adapter: MemoryAdapter): unknown;
  /**
   * Run the workload's `AtomicFs` over a wrapper of the memory adapter, e.g.
   * one that drops directory fsyncs, to model a broken protocol.
   */
  wrap?(adapter: MemoryAdapter): FsAdapter;
  /**
   * Stop after trying this many combinations of lost operations (each a
   * possible crash state; identical states are checked once).
   *
   * @default {1000000}
   */
  maxStates?: number;
  /** Options of the memory adapter the workload runs on. */
  memory?: MemoryAdapterOptions;
}

/** A check of one crash state: throw, return `false` or return a message to reject it. */
export type CrashInvariant = (state: CrashState, context: CrashContext) => unknown;

/** The workload whose crashes are explored. */
export type CrashWorkload = (fs: AtomicFs, tools: CrashWorkloadTools) => unknown;

const decoder = new TextDecoder();

function view(image: Image): CrashState {
  const resolve = (path: string): Inode | undefined => {
    let parts = path.split("/").filter((p) => p !== "" && p !== ".");
    let node = image.get(ROOT);
    for (let i = 0, hops = 0; node && i < parts.length; i++) {
      if (parts[i] === "..") return undefined;
      if (node.kind !== "directory") return undefined;
      const ino = node.entries.get(parts[i]!);
      node = ino === undefined ? undefined : image.get(ino);
      if (node?.kind === "symlink") {
        if (++hops > 40) return undefined;
        const rest = parts.slice(i + 1);
        const base = node.target.startsWith("/") ? [] : parts.slice(0, i);
        parts = [...base, ...node.target.split("/").filter((p) => p !== "" && p !== "."), ...rest];
        node = image.get(ROOT);
        i = -1;
      }
    }
    return node;
  };
  const read = (path: string) => {
    const node = resolve(path);
    return node?.kind === "file" ? node.data : undefined;
  };
  return {
    read,
    text(path) {
      const bytes = read(path);
      return bytes === undefined ? undefined : decoder.decode(bytes);
    },
    list(dir) {
      const node = resolve(dir);
      return node?.kind === "directory" ? [...node.entries.keys()].sort() : [];
    },
    files() {
      const out: Record<string, string> = {};
      for (const [path, node] of listEntries(image)) {
        if (node.kind === "file") out[path] = decoder.decode(node.data);
      }
      return out;
    },
  };
}

function describe(e: JournalEvent): string {
  const text = (bytes: Uint8Array) => {
    const s = decoder.decode(bytes.subarray(0, 40));
    return JSON.stringify(bytes.length > 40 ? `${s}…` : s);
  };
  switch (e.type) {
    case "inode":
      return `new ${e.kind} #${e.ino} mode 0o${e.mode.toString(8)}`;
    case "write":
      return `write #${e.ino} at ${e.offset}: ${text(e.bytes)} (${e.bytes.length} bytes)`;
    case "truncate":
      return `truncate #${e.ino} to ${e.size}`;
    case "attr":
      return `set #${e.ino} mode 0o${e.mode.toString(8)} owner ${e.uid}:${e.gid}`;
    case "fsync":
      return `fsync #${e.ino}`;
    case "entry":
      return e.ino === undefined
        ? `unlink dir #${e.dir} "${e.name}"`
        : `link dir #${e.dir} "${e.name}" → #${e.ino}`;
    case "rename":
      return `rename dir #${e.fromDir} "${e.fromName}" → dir #${e.toDir} "${e.toName}" (#${e.ino})`;
    case "syncDir":
      return `fsync dir #${e.dir}`;
    case "mark":
      return `mark "${e.label}"`;
  }
}

function verdict(
  invariant: CrashInvariant,
  state: CrashState,
  context: CrashContext,
): string | undefined {
  try {
    const result = invariant(state, context);
    if (result === false) return "the invariant returned false";
    if (typeof result === "string") return result;
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/** See `exploreCrashes` in memory.ts. */
export async function explore(
  make: (options?: MemoryAdapterOptions) => MemoryAdapter,
  workload: CrashWorkload,
  invariant: CrashInvariant,
  options: ExploreCrashesOptions = {},
): Promise<CrashReport> {
  const maxStates = options.maxStates ?? 1_000_000;
  const adapter = make(options.memory);
  const fs = createAtomicFs(options.wrap ? options.wrap(adapter) : adapter);
  await options.setup?.(fs, adapter);
  const recorder = recorders.get(adapter)!;
  const base = recorder.snapshot();
  const events: JournalEvent[] = [];
  recorder.record(events);
  try {
    await workload(fs, { adapter, mark: (label) => events.push({ type: "mark", label }) });
  } finally {
    recorder.record(undefined);
  }

  const seen = new Set<string>();
  let states = 0;
  let tried = 0;
  let exhaustive = true;
  const marks: string[] = [];
  for (let crashAfter = 0; crashAfter <= events.length; crashAfter++) {
    const last = events[crashAfter - 1];
    if (last?.type === "mark") marks.push(last.label);
    const free: number[] = [];
    const durable = new Set<number>();
    for (let i = 0; i < crashAfter; i++) {
      if (!persists(events[i]!)) continue;
      if (forced(events, i, crashAfter)) durable.add(i);
      else free.push(i);
    }
    const context: CrashContext = { marks: [...marks], crashAfter };
    // Every subset of the operations not yet forced may have reached the disk.
    for (let mask = 0; mask < 2 ** free.length; mask++) {
      if (++tried > maxStates) {
        exhaustive = false;
        break;
      }
      const lost = new Set(free.filter((_, bit) => Math.floor(mask / 2 ** bit) % 2 === 0));
      const image = replay(
        base,
        events.slice(0, crashAfter),
        (i) => durable.has(i) || !lost.has(i),
      );
      const key = `${context.marks.join("\u0002")}\u0003${fingerprint(image)}`;
      if (seen.has(key)) continue;
      seen.add(key);
      states++;
      const state = view(image);
      const message = verdict(invariant, state, context);
      if (message !== undefined) {
        return {
          ok: false,
          operations: events.length,
          crashPoints: crashAfter + 1,
          states,
          exhaustive: false,
          counterexample: {
            message,
            crashAfter,
            marks: context.marks,
            trace: events.map((e, i) =>
              `${i >= crashAfter ? "·" : !persists(e) ? " " : lost.has(i) ? "✗" : "✓"} ${
                describe(e)
              }`
            ),
            files: state.files(),
          },
        };
      }
    }
  }
  return {
    ok: true,
    operations: events.length,
    crashPoints: events.length + 1,
    states,
    exhaustive,
    counterexample: undefined,
  };
}
