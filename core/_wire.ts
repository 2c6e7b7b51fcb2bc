// How writes and their outcomes cross between the main thread and the offload
// worker, as records in a shared ring (see _ring.ts). A record is mostly
// fixed binary fields; what varies little (the target and the options) goes
// as JSON that both ends keep from the last record, so a run of writes to one
// file with the same options costs neither thread a JSON.stringify or a
// JSON.parse; and a write that went well comes back with no JSON at all.
//
// Job record:    int32 id, slot, flags (1 = has a signal, 2 = timed),
//                spec length, attempts so far; float64 retry deadline (0:
//                none); the spec (JSON of { target, options }); the content.
// Result record: int32 id, kind, committed, durability, strategy, attempts,
//                superseded, path length, extra length; float64 bytes; the
//                path (UTF-8); the extra (JSON of { error, timings }, when any).

import { AtomFsError, type AtomFsOp } from "./errors.ts";
import type { Durability, ResolvedWriteOptions, WriteReceipt, WriteStrategy } from "./options.ts";
import type { Target } from "./_protocol.ts";
import type { StepTimings } from "./_steps.ts";
import { sameBytes } from "./_data.ts";

/** Options as they cross to the worker (a signal cannot: its slot stands for it). */
export type WireOptions = Omit<ResolvedWriteOptions, "signal" | "coalesce">;

// Each direction keeps its last conversion: a run of writes with the same
// options (the same frozen object on the main thread, the same decoded one in
// the worker) converts them once. Options with a signal are never kept.
let lastResolved: ResolvedWriteOptions | undefined;
let lastWire: WireOptions | undefined;
let lastDecoded: WireOptions | undefined;
let lastOptions: ResolvedWriteOptions | undefined;

/**
 * Main thread: the options as they cross to the worker, frozen, so that the
 * job encoder finds an unchanged set by identity.
 */
export function toWire(options: ResolvedWriteOptions): WireOptions {
  if (options === lastResolved) return lastWire!;
  const { signal, coalesce: _, ...wire } = options;
  const frozen = Object.freeze(wire);
  if (signal === undefined) {
    lastResolved = options;
    lastWire = frozen;
  }
  return frozen;
}

/** Worker: a job's options as the protocol takes them, never coalescing, with its signal if any. */
export function fromWire(wire: WireOptions, signal: AbortSignal | undefined): ResolvedWriteOptions {
  if (signal) return { ...wire, coalesce: false, signal };
  if (wire !== lastDecoded || lastOptions === undefined) {
    lastOptions = Object.freeze({ ...wire, coalesce: false, signal: undefined });
    lastDecoded = wire;
  }
  return lastOptions;
}

/** What the worker is told about a write; the content follows it in the record. */
export interface JobHeader {
  readonly id: number;
  readonly slot: number;
  /** The resolved target, or the absolute path to resolve when the write's turn comes. */
  readonly target: Target | string;
  readonly options: WireOptions;
  readonly signal: boolean;
  /** Time the steps (someone subscribes to the write events). */
  readonly timings: boolean;
  /**
   * Retries made before the hand-over (resolving the target) carry on in the
   * worker: the attempts so far (1 + those retries), and when retrying must
   * stop (`Date.now()` time) once it has begun.
   */
  readonly attempts: number;
  readonly retryUntil?: number;
}

/** One write of a batch: its header and a view of its content. */
export interface Job {
  readonly header: JobHeader;
  readonly data: Uint8Array;
}

/** A runtime error, as plain data. */
export interface WireCause {
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
  readonly props: Record<string, string | number | boolean>;
}

/** An error, as plain data. */
export type WireError =
  | {
    readonly kind: "atomfs";
    readonly code: string;
    readonly op: AtomFsOp;
    readonly path: string;
    readonly message: string;
    readonly cause?: WireCause;
    readonly suppressed: WireCause[];
  }
  | { readonly kind: "other"; readonly error: WireCause };

/** A write's outcome, as the worker reports it. */
export interface JobResult {
  readonly id: number;
  readonly receipt?: WriteReceipt;
  /** The durability its commit reached, when it put its content in place (even if a later step failed). */
  readonly committed?: Durability;
  readonly error?: WireError;
  /** Its signal stopped it; the main thread rejects with the signal's reason. */
  readonly aborted?: true;
  /** Its step timings, when asked for. */
  readonly timings?: StepTimings;
}

function causeToWire(error: unknown): WireCause {
  if (!(error instanceof Error)) {
    return { name: "Error", message: String(error), props: {} };
  }
  const props: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(error)) {
    if (["string", "number", "boolean"].includes(typeof value)) {
      props[key] = value as string | number | boolean;
    }
  }
  // Stacks are cut short: a record must fit in the results ring.
  return { name: error.name, message: error.message, stack: error.stack?.slice(0, 4096), props };
}

/** An error as plain data, keeping what `errorFromWire` needs to rebuild it. */
export function errorToWire(error: unknown): WireError {
  if (error instanceof AtomFsError) {
    return {
      kind: "atomfs",
      code: error.code,
      op: error.op,
      path: error.path,
      message: error.message,
      cause: error.cause === undefined ? undefined : causeToWire(error.cause),
      suppressed: error.suppressed.map(causeToWire),
    };
  }
  return { kind: "other", error: causeToWire(error) };
}

function causeFromWire(wire: WireCause): Error {
  const Type = ({ TypeError, RangeError, SyntaxError } as Record<string, ErrorConstructor>)[
    wire.name
  ] ?? Error;
  const error = new Type(wire.message);
  if (wire.name !== error.name) error.name = wire.name;
  if (wire.stack !== undefined) error.stack = wire.stack;
  Object.assign(error, wire.props);
  return error;
}

/** The error `errorToWire` described. */
export function errorFromWire(wire: WireError): Error {
  if (wire.kind === "other") return causeFromWire(wire.error);
  return new AtomFsError({
    code: wire.code,
    op: wire.op,
    path: wire.path,
    message: wire.message,
    cause: wire.cause && causeFromWire(wire.cause),
    suppressed: wire.suppressed.map(causeFromWire),
  });
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

// TextDecoder need not accept views of shared memory: decode a copy.
const text = (bytes: Uint8Array) => decoder.decode(bytes.slice());

// Every field of WireOptions must be compared here, or a change to it would
// reach the worker stale; offload_test changes each option resolveWriteOptions
// returns, one at a time, and fails on one this misses.
function sameOptions(a: WireOptions, b: WireOptions): boolean {
  const ownerA = a.owner;
  const ownerB = b.owner;
  return a.durability === b.durability && a.mode === b.mode && a.overwrite === b.overwrite &&
    a.mkdir === b.mkdir && a.symlinks === b.symlinks && a.fallback === b.fallback &&
    a.backups === b.backups && a.retryTimeoutMs === b.retryTimeoutMs &&
    (ownerA === ownerB ||
      (typeof ownerA === "object" && typeof ownerB === "object" &&
        ownerA.uid === ownerB.uid && ownerA.gid === ownerB.gid));
}

const JOB_FIXED = 28;
const SIGNAL = 1;
const TIMED = 2;

/** The main thread's end: job records. */
export class JobEncoder {
  readonly #fixed = new DataView(new ArrayBuffer(JOB_FIXED));
  readonly #fixedBytes = new Uint8Array(this.#fixed.buffer);
  #target: Target | string | undefined;
  #options: WireOptions | undefined;
  #spec = new Uint8Array(0);

  /**
   * The parts of one job record (for `Ring.push`, which copies them at once:
   * the parts are reused by the next call).
   */
  parts(
    header: Omit<JobHeader, "id" | "slot">,
    id: number,
    slot: number,
    data: Uint8Array,
  ): Uint8Array[] {
    const { target, options } = header;
    if (
      target !== this.#target || this.#options === undefined ||
      // The same object: the main thread keeps one, frozen, per resolved options.
      (options !== this.#options && !sameOptions(options, this.#options))
    ) {
      this.#spec = encoder.encode(JSON.stringify({ target, options }));
      this.#target = target;
      this.#options = options;
    }
    const fixed = this.#fixed;
    fixed.setInt32(0, id, true);
    fixed.setInt32(4, slot, true);
    fixed.setInt32(8, (header.signal ? SIGNAL : 0) | (header.timings ? TIMED : 0), true);
    fixed.setInt32(12, this.#spec.length, true);
    fixed.setInt32(16, header.attempts, true);
    fixed.setFloat64(20, header.retryUntil ?? 0, true);
    return [this.#fixedBytes, this.#spec, data];
  }
}

/** The worker's end: job records back into jobs. */
export class JobDecoder {
  #specBytes = new Uint8Array(0);
  #spec: { target: Target | string; options: WireOptions } | undefined;

  /** The job in `record`; its content is a view into the record. */
  decode(record: Uint8Array): Job {
    const view = new DataView(record.buffer, record.byteOffset, record.byteLength);
    const flags = view.getInt32(8, true);
    const end = JOB_FIXED + view.getInt32(12, true);
    const specBytes = record.subarray(JOB_FIXED, end);
    if (this.#spec === undefined || !sameBytes(specBytes, this.#specBytes)) {
      this.#specBytes = specBytes.slice();
      this.#spec = JSON.parse(decoder.decode(this.#specBytes));
    }
    const { target, options } = this.#spec!;
    const retryUntil = view.getFloat64(20, true);
    return {
      header: {
        id: view.getInt32(0, true),
        slot: view.getInt32(4, true),
        target,
        options,
        signal: (flags & SIGNAL) !== 0,
        timings: (flags & TIMED) !== 0,
        attempts: view.getInt32(16, true),
        retryUntil: retryUntil > 0 ? retryUntil : undefined,
      },
      data: record.subarray(end),
    };
  }
}

const KINDS = ["done", "failed", "aborted"] as const;
const DURABILITIES: readonly (Durability | undefined)[] = [undefined, "full", "file", "none"];
const STRATEGIES: readonly WriteStrategy[] = ["rename", "link", "in-place"];
const RESULT_FIXED = 48;

/** The worker's end: result records. */
export class ResultEncoder {
  readonly #fixed = new DataView(new ArrayBuffer(RESULT_FIXED));
  readonly #fixedBytes = new Uint8Array(this.#fixed.buffer);
  #path = "";
  #pathBytes = new Uint8Array(0);

  /** The parts of one result record (reused by the next call, like `JobEncoder.parts`). */
  parts(result: JobResult): Uint8Array[] {
    const { receipt, error, timings } = result;
    const kind = result.aborted ? 2 : error ? 1 : 0;
    const path = receipt?.path ?? "";
    if (path !== this.#path) {
      this.#pathBytes = encoder.encode(path);
      this.#path = path;
    }
    const extra = error || timings ? encoder.encode(JSON.stringify({ error, timings })) : undefined;
    const fixed = this.#fixed;
    fixed.setInt32(0, result.id, true);
    fixed.setInt32(4, kind, true);
    fixed.setInt32(8, DURABILITIES.indexOf(result.committed), true);
    fixed.setInt32(12, receipt ? DURABILITIES.indexOf(receipt.durability) : 0, true);
    fixed.setInt32(16, receipt ? STRATEGIES.indexOf(receipt.strategy) : 0, true);
    fixed.setInt32(20, receipt?.attempts ?? 0, true);
    fixed.setInt32(24, receipt?.superseded ? 1 : 0, true);
    fixed.setInt32(28, this.#pathBytes.length, true);
    fixed.setInt32(32, extra?.length ?? 0, true);
    fixed.setFloat64(40, receipt?.bytes ?? 0, true);
    return extra ? [this.#fixedBytes, this.#pathBytes, extra] : [this.#fixedBytes, this.#pathBytes];
  }
}

/** The main thread's end: result records back into results. */
export class ResultDecoder {
  #pathBytes = new Uint8Array(0);
  #path = "";

  decode(record: Uint8Array): JobResult {
    const view = new DataView(record.buffer, record.byteOffset, record.byteLength);
    const kind = KINDS[view.getInt32(4, true)];
    const pathEnd = RESULT_FIXED + view.getInt32(28, true);
    const extraLength = view.getInt32(32, true);
    const { error, timings } = extraLength > 0
      ? JSON.parse(text(record.subarray(pathEnd, pathEnd + extraLength))) as {
        error?: WireError;
        timings?: StepTimings;
      }
      : { error: undefined, timings: undefined };
    const id = view.getInt32(0, true);
    const committed = DURABILITIES[view.getInt32(8, true)];
    if (kind === "aborted") return { id, committed, aborted: true };
    if (kind === "failed") return { id, committed, error, timings };
    const pathBytes = record.subarray(RESULT_FIXED, pathEnd);
    if (!sameBytes(pathBytes, this.#pathBytes)) {
      this.#pathBytes = pathBytes.slice();
      this.#path = decoder.decode(this.#pathBytes);
    }
    const receipt: WriteReceipt = {
      path: this.#path,
      bytes: view.getFloat64(40, true),
      durability: DURABILITIES[view.getInt32(12, true)]!,
      strategy: STRATEGIES[view.getInt32(16, true)]!,
      attempts: view.getInt32(20, true),
      superseded: view.getInt32(24, true) === 1,
    };
    return { id, committed, receipt, timings };
  }
}
