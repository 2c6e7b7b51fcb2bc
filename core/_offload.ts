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
// and only while a worker is healthy: if none can start, writes stay on the
// main thread's async path; if one dies, every write it held is run again
// there (a replace is idempotent; the dead thread can no longer rename).

import type { FsAdapter } from "./adapter.ts";
import type { ResolvedWriteOptions, WriteReceipt } from "./options.ts";
import type { Target } from "./_protocol.ts";
import type { Ticket } from "./_queue.ts";
import { Ring } from "./_ring.ts";
import type { StepContext, StepTimings } from "./_steps.ts";
import { type OffloadInit, SLOT } from "./_offload_worker.ts";
import { errorFromWire, JobEncoder, type JobHeader, ResultDecoder, toWire } from "./_wire.ts";
import { supersededReceipt } from "./_write.ts";

/** Writes of more bytes than this run on the main thread's async path. */
const OFFLOAD_MAX_BYTES = 1 << 20;
const JOBS_BYTES = 4 << 20;
const RESULTS_BYTES = 256 << 10;
const SLOTS = 1024;
/**
 * Workers started at most. A second one starts only while every running one
 * has a write in flight: sequential writes keep one worker, concurrent ones
 * get fsyncs in flight side by side, which the filesystem's journal commits
 * together (ext4 and xfs batch concurrent fsyncs into one commit).
 */
const MAX_THREADS = 4;
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
  /** Its slot in the worker it was sent to (-1 while waiting for room). */
  slot: number;
  onAbort?: () => void;
}

/** One worker and the memory it shares with the main thread. */
interface Thread {
  readonly jobs: Ring;
  readonly results: Ring;
  readonly flags: Int32Array<SharedArrayBuffer>;
  readonly free: number[];
  readonly inflight: Map<number, Flight>;
  worker: OffloadWorker | undefined;
  wakeByMessage: boolean;
  pumping: boolean;
  dead: boolean;
}

/** Sends writes to worker threads and settles their promises. */
export class Offloader {
  readonly #spawner: OffloadSpawner;
  /** No worker could start: every write stays on the main thread. */
  #failed = false;
  readonly #threads: Thread[] = [];
  #backlog: Flight[] = [];
  #nextId = 1;
  readonly #jobs = new JobEncoder();
  readonly #results = new ResultDecoder();

  constructor(spawner: OffloadSpawner) {
    this.#spawner = spawner;
  }

  /** Workers running now. */
  get threads(): number {
    return this.#threads.length;
  }

  /** Whether no write is in a worker now (none sent, or all landed or given up). */
  get idle(): boolean {
    for (const thread of this.#threads) if (thread.inflight.size > 0) return false;
    return true;
  }

  /** Whether a write of `length` bytes goes to a worker. */
  accepts(length: number): boolean {
    return !this.#failed && length <= OFFLOAD_MAX_BYTES;
  }

  /** Start one more worker; `undefined` if it cannot start. */
  #spawn(): Thread | undefined {
    const flags = new Int32Array(new SharedArrayBuffer(SLOTS * 4));
    const thread: Thread = {
      jobs: new Ring(JOBS_BYTES),
      results: new Ring(RESULTS_BYTES),
      flags,
      free: Array.from({ length: SLOTS }, (_, i) => SLOTS - 1 - i),
      inflight: new Map(),
      worker: undefined,
      wakeByMessage: false,
      pumping: false,
      dead: false,
    };
    try {
      const { worker, wakeByMessage } = this.#spawner(
        { jobs: thread.jobs.buffer, results: thread.results.buffer, flags: flags.buffer },
        { wake: () => this.#drain(thread), fail: () => this.#lost(thread) },
      );
      thread.worker = worker;
      thread.wakeByMessage = wakeByMessage;
    } catch {
      // No worker here (a sandbox, a bundle without the worker file).
      if (this.#threads.length === 0) this.#failed = true;
      return undefined;
    }
    this.#threads.push(thread);
    return thread;
  }

  /** The worker to send the next write to: an idle one, else a new one, else the least busy. */
  #pick(): Thread | undefined {
    let best: Thread | undefined;
    for (const thread of this.#threads) {
      if (!best || thread.inflight.size < best.inflight.size) best = thread;
    }
    if (best && best.inflight.size === 0) return best;
    if (this.#threads.length < MAX_THREADS && !this.#failed) return this.#spawn() ?? best;
    return best;
  }

  /**
   * Run one whole write in a worker. `fallback` runs it on the main thread
   * instead, if no worker is available or the one holding it dies. `ctx` is
   * the write's context so far: its timings are filled in, and the retries it
   * made (resolving the target) go on counting in the worker.
   */
  write(
    key: string,
    path: string,
    target: Target | string,
    options: ResolvedWriteOptions,
    data: Uint8Array,
    ticket: Ticket,
    fallback: () => Promise<WriteReceipt>,
    ctx: StepContext,
  ): Promise<WriteReceipt> {
    if (options.signal?.aborted) return Promise.reject(options.signal.reason);
    const { signal } = options;
    const wire = toWire(options);
    const { timings, attempts, retryUntil } = ctx;
    return new Promise<WriteReceipt>((resolve, reject) => {
      const flight: Flight = {
        id: this.#nextId++,
        key,
        path,
        header: {
          target,
          options: wire,
          signal: signal !== undefined,
          timings: !!timings,
          attempts,
          retryUntil,
        },
        timings,
        data,
        ticket,
        signal,
        fallback,
        resolve,
        reject,
        slot: -1,
      };
      if (this.#backlog.length > 0 || !this.#dispatch(flight)) {
        if (this.#failed) fallback().then(resolve, reject);
        else this.#backlog.push(flight);
      }
    });
  }

  /** Put a write in a worker's ring; false if there is no room now (or no worker). */
  #dispatch(flight: Flight): boolean {
    const thread = this.#pick();
    if (!thread) return false;
    const slot = thread.free.pop();
    if (slot === undefined) return false;
    const parts = this.#jobs.parts(flight.header, flight.id, slot, flight.data);
    Atomics.store(thread.flags, slot, SLOT.QUEUED);
    if (!thread.jobs.push(parts)) {
      Atomics.store(thread.flags, slot, SLOT.FREE);
      thread.free.push(slot);
      return false;
    }
    flight.slot = slot;
    if (thread.inflight.size === 0) thread.worker!.ref();
    thread.inflight.set(flight.id, flight);
    if (flight.signal) {
      const flags = thread.flags;
      flight.onAbort = () => void Atomics.compareExchange(flags, slot, SLOT.QUEUED, SLOT.ABORTED);
      flight.signal.addEventListener("abort", flight.onAbort, { once: true });
    }
    this.#pump(thread);
    return true;
  }

  /** Wait on a worker's results ring while it has writes in flight (hosts that can). */
  #pump(thread: Thread): void {
    if (thread.pumping || thread.wakeByMessage) return;
    thread.pumping = true;
    // Reading results cannot fail but by a bug: treat it as a lost worker
    // rather than leave its writes hanging.
    this.#waitForResults(thread).catch(() => this.#lost(thread));
  }

  async #waitForResults(thread: Thread): Promise<void> {
    try {
      while (!thread.dead && thread.inflight.size > 0) {
        const seen = thread.results.seq;
        this.#drain(thread);
        if (thread.inflight.size === 0) break;
        const wait = thread.results.waitAsync(seen);
        if (wait) await wait;
      }
    } finally {
      thread.pumping = false;
    }
  }

  /** Settle every write a worker has reported, then send what waited for room. */
  #drain(thread: Thread): void {
    if (thread.dead) return;
    const records = thread.results.take();
    const results = records.map((r) => this.#results.decode(r));
    thread.results.release();
    for (const result of results) {
      const flight = thread.inflight.get(result.id);
      if (!flight) continue;
      thread.inflight.delete(result.id);
      Atomics.store(thread.flags, flight.slot, SLOT.FREE);
      thread.free.push(flight.slot);
      this.#forget(flight);
      if (result.committed) flight.ticket.committed(result.committed);
      if (flight.timings && result.timings) Object.assign(flight.timings, result.timings);
      if (result.aborted) flight.reject(flight.signal!.reason);
      else if (result.error) flight.reject(errorFromWire(result.error));
      else flight.resolve(result.receipt!);
    }
    this.#flush();
    if (thread.inflight.size === 0) thread.worker?.unref();
  }

  /** Send the writes that waited for room, in order. */
  #flush(): void {
    while (this.#backlog.length > 0) {
      const flight = this.#backlog[0]!;
      // A synchronous write to the same file may have committed meanwhile.
      const skipped = supersededReceipt(flight.path, flight.ticket, flight.header.attempts);
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
    if (this.#backlog.length > 0 && this.#threads.length === 0) {
      // Every worker is gone: the main thread takes the rest.
      const rest = this.#backlog;
      this.#backlog = [];
      for (const flight of rest) this.#fallBack(flight);
    }
  }

  #forget(flight: Flight): void {
    if (flight.onAbort) flight.signal!.removeEventListener("abort", flight.onAbort);
  }

  #fallBack(flight: Flight): void {
    this.#forget(flight);
    flight.fallback().then(flight.resolve, flight.reject);
  }

  /**
   * A worker failed or exited: it runs nothing more, so every write it held
   * is run again on the main thread. No new worker starts after a loss.
   */
  #lost(thread: Thread): void {
    if (thread.dead) return;
    thread.dead = true;
    thread.worker?.terminate();
    thread.worker = undefined;
    this.#threads.splice(this.#threads.indexOf(thread), 1);
    if (this.#threads.length === 0) this.#failed = true;
    const held = [...thread.inflight.values()];
    thread.inflight.clear();
    for (const flight of held) this.#fallBack(flight);
    this.#flush();
  }

  /**
   * Before a synchronous write to `key` puts its content in place: wait until
   * every earlier offloaded write to that file has been renamed into place or
   * has given up, so that the synchronous write, issued later, lands last.
   * Writes still waiting for room in a ring never started: they see the
   * synchronous write's commit when their turn comes, and step aside.
   * Returns whether there was any such write to wait for.
   */
  fence(key: string): boolean {
    let deadline = 0;
    let found = false;
    for (const thread of this.#threads) {
      if (thread.inflight.size === 0) continue;
      deadline ||= Date.now() + FENCE_TIMEOUT_MS;
      for (const flight of thread.inflight.values()) {
        if (flight.key !== key) continue;
        found = true;
        if (!this.#landed(thread, flight, deadline)) return true;
      }
    }
    return found;
  }

  /** Wait until a write in a worker has landed or given up; false past `deadline`. */
  #landed(thread: Thread, flight: Flight, deadline: number): boolean {
    for (;;) {
      const state = Atomics.load(thread.flags, flight.slot);
      if (state === SLOT.DONE || state === SLOT.FREE || thread.dead) return true;
      const left = deadline - Date.now();
      if (left <= 0) return false;
      Atomics.wait(thread.flags, flight.slot, state, Math.min(left, 50));
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
