// The main thread's side of the offload worker (see _offload_worker.ts).
//
// Why a worker: an async write through the runtime's promise API costs eight
// thread-pool round trips (open, write, fsync, close, rename, open dir, fsync
// dir, close), each a hop to a pool thread and back through the event loop.
// The same syscalls made synchronously on one thread run about 1.5× as fast
// (bench/README.md). The worker makes them synchronously, off the main thread:
// a write costs the main thread one record in a shared ring and one wake-up.
//
// Only the built-in adapters offload (a wrapper of them, made by spreading
// one, does not: its own calls must run), only in-memory content up to
// OFFLOAD_MAX_BYTES (larger writes are dominated by their I/O, not by hops),
// and only while the worker is healthy: if it cannot start or dies, every
// write it held is run again on the main thread's async path (a replace is
// idempotent), and later writes stay there.

import type { FsAdapter } from "./adapter.ts";
import type { ResolvedWriteOptions, WriteReceipt } from "./options.ts";
import type { Target } from "./_protocol.ts";
import type { Ticket } from "./_queue.ts";
import { Ring } from "./_ring.ts";
import type { StepTimings } from "./_steps.ts";
import {
  errorFromWire,
  type JobHeader,
  type JobResult,
  type OffloadInit,
  SLOT,
} from "./_offload_worker.ts";
import { supersededReceipt } from "./_write.ts";

/** Writes of more bytes than this run on the main thread's async path. */
export const OFFLOAD_MAX_BYTES: number = 1 << 20;
const JOBS_BYTES = 4 << 20;
const RESULTS_BYTES = 256 << 10;
const SLOTS = 1024;
/** How long a synchronous write waits for an earlier offloaded write to the same file. */
const FENCE_TIMEOUT_MS = 30_000;

/** A started offload worker, as the main thread holds it. */
export interface OffloadWorker {
  /** Keep the process alive (writes are in flight). */
  ref(): void;
  /** Let the process exit (nothing in flight). */
  unref(): void;
  terminate(): void;
}

/** What the worker's host tells the offloader. */
export interface OffloadEvents {
  /** Results are waiting in the ring (hosts whose main thread cannot wait on it). */
  wake(): void;
  /** The worker failed to start or died. */
  fail(error: unknown): void;
}

/**
 * Starts a worker on the shared memory; returns it and whether it wakes the
 * main thread by message (else the main thread waits on the ring with
 * `Atomics.waitAsync`). Throws if no worker can be started here.
 */
export type OffloadSpawner = (
  init: OffloadInit,
  events: OffloadEvents,
) => { worker: OffloadWorker; wakeByMessage: boolean };

interface Flight {
  readonly id: number;
  readonly key: string;
  /** The real path of the target, for a receipt made here. */
  readonly path: string;
  readonly header: Omit<JobHeader, "id" | "slot">;
  readonly data: Uint8Array;
  readonly ticket: Ticket;
  readonly signal: AbortSignal | undefined;
  readonly fallback: () => Promise<WriteReceipt>;
  /** Filled with the worker's step timings, when the write is timed. */
  readonly timings: StepTimings | undefined;
  readonly resolve: (receipt: WriteReceipt) => void;
  readonly reject: (error: unknown) => void;
  slot: number;
  onAbort?: () => void;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Sends writes to one worker thread and settles their promises. */
export class Offloader {
  readonly #spawner: OffloadSpawner;
  #state: "idle" | "running" | "failed" = "idle";
  #worker: OffloadWorker | undefined;
  #wakeByMessage = false;
  #jobs!: Ring;
  #results!: Ring;
  #flags!: Int32Array<SharedArrayBuffer>;
  readonly #free: number[] = [];
  readonly #inflight = new Map<number, Flight>();
  readonly #byKey = new Map<string, Set<Flight>>();
  #backlog: Flight[] = [];
  #nextId = 1;
  #pumping = false;

  constructor(spawner: OffloadSpawner) {
    this.#spawner = spawner;
  }

  /** Whether a write of `length` bytes goes to the worker. */
  accepts(length: number): boolean {
    return this.#state !== "failed" && length <= OFFLOAD_MAX_BYTES;
  }

  #start(): boolean {
    if (this.#state === "running") return true;
    if (this.#state === "failed") return false;
    this.#jobs = new Ring(JOBS_BYTES);
    this.#results = new Ring(RESULTS_BYTES);
    this.#flags = new Int32Array(new SharedArrayBuffer(SLOTS * 4));
    for (let slot = SLOTS - 1; slot >= 0; slot--) this.#free.push(slot);
    try {
      const { worker, wakeByMessage } = this.#spawner(
        { jobs: this.#jobs.buffer, results: this.#results.buffer, flags: this.#flags.buffer },
        { wake: () => this.#drain(), fail: (error) => this.#fail(error) },
      );
      this.#worker = worker;
      this.#wakeByMessage = wakeByMessage;
      this.#state = "running";
      return true;
    } catch {
      // No worker here (a sandbox, a bundle without the worker file): the
      // main thread's async path does every write.
      this.#state = "failed";
      return false;
    }
  }

  /**
   * Run one whole write in the worker. `fallback` runs it on the main thread
   * instead, if the worker is unavailable or dies before answering.
   */
  write(
    key: string,
    path: string,
    target: Target | string,
    options: ResolvedWriteOptions,
    data: Uint8Array,
    ticket: Ticket,
    fallback: () => Promise<WriteReceipt>,
    timings?: StepTimings,
  ): Promise<WriteReceipt> {
    if (options.signal?.aborted) return Promise.reject(options.signal.reason);
    if (!this.#start()) return fallback();
    const { signal, coalesce: _, ...wire } = options;
    return new Promise<WriteReceipt>((resolve, reject) => {
      const flight: Flight = {
        id: this.#nextId++,
        key,
        path,
        header: { target, options: wire, signal: signal !== undefined, timings: !!timings },
        timings,
        data,
        ticket,
        signal,
        fallback,
        resolve,
        reject,
        slot: -1,
      };
      let same = this.#byKey.get(key);
      if (!same) this.#byKey.set(key, same = new Set());
      same.add(flight);
      if (this.#inflight.size === 0 && this.#backlog.length === 0) this.#worker!.ref();
      if (this.#backlog.length > 0 || !this.#dispatch(flight)) this.#backlog.push(flight);
      this.#pump();
    });
  }

  /** Put a write in the ring; false if there is no room now. */
  #dispatch(flight: Flight): boolean {
    const slot = this.#free.pop();
    if (slot === undefined) return false;
    const header = encoder.encode(JSON.stringify({ ...flight.header, id: flight.id, slot }));
    const length = new Uint8Array(4);
    new DataView(length.buffer).setInt32(0, header.length, true);
    Atomics.store(this.#flags, slot, SLOT.QUEUED);
    if (!this.#jobs.push([length, header, flight.data])) {
      Atomics.store(this.#flags, slot, SLOT.FREE);
      this.#free.push(slot);
      return false;
    }
    flight.slot = slot;
    this.#inflight.set(flight.id, flight);
    if (flight.signal) {
      const flags = this.#flags;
      flight.onAbort = () => void Atomics.compareExchange(flags, slot, SLOT.QUEUED, SLOT.ABORTED);
      flight.signal.addEventListener("abort", flight.onAbort, { once: true });
    }
    return true;
  }

  /** Wait on the results ring while writes are in flight (hosts that can). */
  async #pump(): Promise<void> {
    if (this.#pumping || this.#wakeByMessage || this.#state !== "running") return;
    this.#pumping = true;
    try {
      while (this.#state === "running" && this.#inflight.size > 0) {
        const seen = this.#results.seq;
        this.#drain();
        if (this.#inflight.size === 0) break;
        const wait = this.#results.waitAsync(seen);
        if (wait) await wait;
      }
    } finally {
      this.#pumping = false;
    }
  }

  /** Settle every write the worker has reported, then send what waited for room. */
  #drain(): void {
    if (this.#state !== "running") return;
    const records = this.#results.take();
    const results = records.map((r) => JSON.parse(decoder.decode(r.slice())) as JobResult);
    this.#results.release();
    for (const result of results) {
      const flight = this.#inflight.get(result.id);
      if (!flight) continue;
      this.#inflight.delete(result.id);
      Atomics.store(this.#flags, flight.slot, SLOT.FREE);
      this.#free.push(flight.slot);
      this.#forget(flight);
      if (result.committed) flight.ticket.committed(result.committed);
      if (flight.timings && result.timings) Object.assign(flight.timings, result.timings);
      if (result.aborted) flight.reject(flight.signal!.reason);
      else if (result.error) flight.reject(errorFromWire(result.error));
      else flight.resolve(result.receipt!);
    }
    while (this.#backlog.length > 0) {
      const flight = this.#backlog[0]!;
      // A synchronous write to the same file may have committed meanwhile.
      const skipped = supersededReceipt(flight.path, flight.ticket);
      if (skipped || flight.signal?.aborted) {
        this.#backlog.shift();
        this.#forget(flight);
        if (flight.signal?.aborted) flight.reject(flight.signal.reason);
        else flight.resolve(skipped!);
        continue;
      }
      if (!this.#dispatch(flight)) break;
      this.#backlog.shift();
    }
    if (this.#inflight.size === 0 && this.#backlog.length === 0) this.#worker?.unref();
    else this.#pump();
  }

  #forget(flight: Flight): void {
    if (flight.onAbort) flight.signal!.removeEventListener("abort", flight.onAbort);
    const same = this.#byKey.get(flight.key);
    same?.delete(flight);
    if (same?.size === 0) this.#byKey.delete(flight.key);
  }

  /** The worker is gone: run everything it held on the main thread. */
  #fail(_error: unknown): void {
    if (this.#state === "failed") return;
    this.#state = "failed";
    this.#worker?.terminate();
    this.#worker = undefined;
    const held = [...this.#inflight.values(), ...this.#backlog];
    this.#inflight.clear();
    this.#backlog = [];
    for (const flight of held) {
      this.#forget(flight);
      flight.fallback().then(flight.resolve, flight.reject);
    }
  }

  /**
   * Before a synchronous write to `key` puts its content in place: wait until
   * every earlier offloaded write to that file has been renamed into place or
   * has given up, so that the synchronous write, issued later, lands last.
   * Writes still waiting for room in the ring never started: they see the
   * synchronous write's commit when their turn comes, and step aside.
   */
  fence(key: string): void {
    const same = this.#byKey.get(key);
    if (!same) return;
    const deadline = Date.now() + FENCE_TIMEOUT_MS;
    for (const flight of same) {
      if (flight.slot < 0) continue;
      for (;;) {
        const state = Atomics.load(this.#flags, flight.slot);
        if (state === SLOT.DONE || state === SLOT.FREE || this.#state !== "running") break;
        const left = deadline - Date.now();
        if (left <= 0) return;
        Atomics.wait(this.#flags, flight.slot, state, Math.min(left, 50));
      }
    }
  }
}

const OFFLOADER = Symbol("atomfs.offloader");

/**
 * Give a built-in adapter its offload worker. The property is not enumerable,
 * so an adapter made by spreading this one (to wrap some of its calls) does
 * not offload and its calls are the ones that run.
 */
export function withOffload<A extends FsAdapter>(adapter: A, spawner: OffloadSpawner): A {
  Object.defineProperty(adapter, OFFLOADER, { value: new Offloader(spawner) });
  return adapter;
}

/** The offloader of a built-in adapter, or `undefined`. */
export function offloaderOf(adapter: FsAdapter): Offloader | undefined {
  return (adapter as { [OFFLOADER]?: Offloader })[OFFLOADER];
}
