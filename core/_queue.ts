// One FIFO lane per real path: writes to the same file commit in call order and
// the last call's data wins. Async writes wait for the one before them; a
// synchronous write cannot wait, so it commits at once, and any async write
// issued before it that has not committed yet is dropped as superseded (its
// content would have been replaced by the synchronous one anyway); one whose
// rename is in flight has that rename made first (`InFlightRename`). With
// `coalesce`, an async write whose turn comes while a later one is already
// queued steps aside and shares that later write's outcome; and a coalescing
// write issued while the last waiting write also coalesces takes that one's
// place at once (a burst of them keeps one write waiting, not a chain).

import type { Durability, ResolvedWriteOptions } from "./options.ts";

/** How a path as given was resolved to its lane (the `symlinks` option). */
type Resolution = ResolvedWriteOptions["symlinks"];

/** A place in a lane: the write that will run there when its turn comes. */
interface Entry<T> {
  /** Until its turn comes, a later coalescing write may take over this place. */
  job: Job<T, unknown>;
  /** Settles with the outcome of the write that ran in this place (set when queued). */
  result: Promise<T>;
}

/** The per-path state of the queue. */
export interface Lane {
  /** Settles when the last async write queued here has taken its turn. */
  tail: Promise<unknown>;
  /** Async writes issued and not yet started, in order. */
  readonly waiting: Entry<unknown>[];
  /**
   * Index of the first entry of `waiting` still waiting: entries are taken
   * by advancing it (an array shift per write would make a burst quadratic).
   */
  head: number;
  /** Sequence number of the last write issued on this path. */
  issued: number;
  /** Sequence number of the newest write that committed, and what durability it reached. */
  committed: number;
  committedDurability: Durability;
  /** Writes issued and not yet finished; the lane is dropped at zero. */
  active: number;
  /** The names this lane is known by (see `PathQueue.alias`), forgotten with it. */
  readonly aliases: [names: Map<string, Alias>, name: string][];
  /** The rename of the async write running on this path, while it is in flight. */
  renaming: InFlightRename | undefined;
}

/**
 * The rename that puts an async write's temp file in place, issued and not
 * yet settled. A synchronous write to the same path cannot wait for it, so it
 * makes this rename itself before its own (`PathQueue.renameInFlight`): the
 * older content can then never land over the newer.
 */
export interface InFlightRename {
  readonly from: string;
  readonly to: string;
  /** Set when a synchronous write made the rename: the async one then finds no temp file. */
  madeBySync: boolean;
}

/** A ticket for one write: its place in the lane. */
export interface Ticket {
  readonly lane: Lane;
  readonly seq: number;
  /** The durability of a later write that committed first, or `undefined`. */
  superseded(): Durability | undefined;
  /** Record that this write has committed. */
  committed(durability: Durability): void;
  /**
   * Announce this write's rename while it is in flight; call the function
   * returned once it has settled (it withdraws this announcement only, not a
   * later one).
   */
  renaming(rename: InFlightRename): () => void;
}

/** What the write protocol asks of a ticket (the offload worker makes its own). */
export type WriteTicket = Pick<Ticket, "superseded" | "committed" | "renaming">;

/** A lane with nothing issued on it yet. */
function newLane(): Lane {
  return {
    tail: Promise.resolve(),
    waiting: [],
    head: 0,
    issued: 0,
    committed: 0,
    committedDurability: "none",
    active: 0,
    aliases: [],
    renaming: undefined,
  };
}

const NOTHING = () => {};

/** The ticket of a write outside any lane: a synchronous one to a path with nothing queued. */
export const SOLO: Ticket = {
  lane: newLane(),
  seq: 0,
  superseded: () => undefined,
  committed: NOTHING,
  renaming: () => NOTHING,
};

/** A write's place in a lane. */
class LaneTicket implements Ticket {
  readonly lane: Lane;
  readonly seq: number;

  /** The next place in `lane`. */
  constructor(lane: Lane) {
    this.lane = lane;
    this.seq = ++lane.issued;
  }

  superseded(): Durability | undefined {
    return this.lane.committed > this.seq ? this.lane.committedDurability : undefined;
  }

  committed(durability: Durability): void {
    const { lane } = this;
    if (this.seq > lane.committed) {
      lane.committed = this.seq;
      lane.committedDurability = durability;
    }
  }

  renaming(rename: InFlightRename): () => void {
    const { lane } = this;
    lane.renaming = rename;
    return () => {
      if (lane.renaming === rename) lane.renaming = undefined;
    };
  }
}

/**
 * One async write in a lane: its place (the ticket the protocol is given),
 * what to run, and how its caller's promise settles. A plain object: made
 * from a literal, it is cheaper to make than a class instance in the first,
 * interpreted calls of a burst.
 */
interface Job<T, A = unknown> {
  readonly ticket: LaneTicket;
  /**
   * What to run, and its argument (which holds the content). Both are
   * dropped once the write has started, and when a later write takes this
   * one's place: a burst keeps alive only the content of the running and the
   * waiting write, not that of every write given way to until it settles.
   */
  task: ((ticket: Ticket, arg: A) => Promise<T>) | undefined;
  arg: A | undefined;
  /** Settles the caller's promise. */
  readonly settle: (outcome: T | Promise<T>) => void;
  /** Set for a coalescing write: maps a later write's outcome to this one's. */
  readonly coalesced: ((later: T) => T) | undefined;
  /** The waiting writes this one took the place of: they settle as it settles. */
  riders: Job<T, A>[] | undefined;
}

/** Drop what a write was given (its content): it has started, or will never run. */
function giveWay<T, A>(job: Job<T, A>): void {
  job.task = undefined;
  job.arg = undefined;
}

/** Run a write (once), dropping what it was given; a throw becomes a rejection. */
function start<T, A>(job: Job<T, A>): Promise<T> {
  const { task, arg } = job;
  giveWay(job);
  try {
    return task!(job.ticket, arg as A);
  } catch (error) {
    return Promise.reject(error);
  }
}

// The resolve function of the promise made last with `keepResolver`: one
// executor for every promise, so that making one allocates no closure of its
// own. Read it right after `new Promise(keepResolver)`.
let resolver: ((outcome: never) => void) | undefined;
const keepResolver = (resolve: (outcome: never) => void) => {
  resolver = resolve;
};

/** What a path as given resolved to: its lane, and the file it names. */
export interface Alias {
  readonly key: string;
  readonly path: string;
}

/** Per-path write ordering for one `AtomicFs`. */
export class PathQueue {
  #lanes = new Map<string, Lane>();
  /**
   * Per way of resolving (the `symlinks` option), the lane each name as given
   * resolved to. One map per way, so that a lookup needs no key built per write.
   */
  #aliases = new Map<Resolution, Map<string, Alias>>();

  /**
   * The lane a path as given (its queue key) was resolved to the way `how`
   * says, while writes to it are queued or running: a burst of writes to one
   * path resolves it once.
   */
  alias(how: Resolution, name: string): Alias | undefined {
    return this.#aliases.get(how)?.get(name);
  }

  /**
   * Remember that `name`, resolved the way `how` says, is the lane `key` (the
   * file at `path`) while that lane is busy.
   */
  remember(how: Resolution, name: string, key: string, path: string): void {
    const lane = this.#lanes.get(key);
    if (!lane) return;
    let names = this.#aliases.get(how);
    if (!names) this.#aliases.set(how, names = new Map());
    names.set(name, { key, path });
    lane.aliases.push([names, name]);
  }

  /** The lane of `key`, made if there is none, with one more write active on it. */
  #lane(key: string): Lane {
    let lane = this.#lanes.get(key);
    if (!lane) {
      lane = newLane();
      this.#lanes.set(key, lane);
    }
    lane.active++;
    return lane;
  }

  /** Settle the writes a write took the place of with its outcome, each mapped its own way. */
  #settleRiders<T>(key: string, riders: Job<T>[], result: Promise<T>): void {
    // One lane for all of them; it lets them go together, after the loop.
    const { lane } = riders[0]!.ticket;
    result.then(
      (value) => {
        for (const rider of riders) rider.settle(rider.coalesced!(value));
        this.#release(key, lane, riders.length);
      },
      (error) => {
        const failed = Promise.reject(error);
        for (const rider of riders) rider.settle(failed);
        this.#release(key, lane, riders.length);
      },
    );
  }

  /** `writes` writes of `lane` are done; the lane goes once none is left. */
  #release(key: string, lane: Lane, writes = 1): void {
    if ((lane.active -= writes) === 0 && this.#lanes.get(key) === lane) {
      this.#lanes.delete(key);
      for (const [names, name] of lane.aliases) names.delete(name);
    }
  }

  /**
   * Run an async write, `task(ticket, arg)`, after every async write issued
   * before it on `key`. With `coalesced`, a write whose turn comes while a
   * later write waits behind it does not run: it settles as that later write
   * settles, its outcome mapped through `coalesced`. And while the last write
   * waiting is a coalescing one that has not started, a coalescing write
   * takes its place: the one replaced settles as this one settles, mapped the
   * same way.
   */
  run<T, A>(
    key: string,
    task: (ticket: Ticket, arg: A) => Promise<T>,
    arg: A,
    coalesced?: (later: T) => T,
  ): Promise<T> {
    const lane = this.#lane(key);
    const outcome = new Promise<T>(keepResolver);
    const settle = resolver as (outcome: T | Promise<T>) => void;
    const job: Job<T, A> = {
      ticket: new LaneTicket(lane),
      task,
      arg,
      settle,
      coalesced,
      riders: undefined,
    };
    const { waiting } = lane;
    const last = waiting.length > lane.head ? waiting[waiting.length - 1] as Entry<T> : undefined;
    // Every entry from `lane.head` on is still waiting for its turn.
    if (coalesced && last?.job.coalesced) {
      // One list per burst, handed on to each write that takes the place.
      const replaced = last.job as Job<T, A>;
      job.riders = replaced.riders ?? [];
      job.riders.push(replaced);
      replaced.riders = undefined;
      giveWay(replaced);
      last.job = job as Job<T, unknown>;
      return outcome;
    }
    this.#queue(key, lane, job as Job<T, unknown>, outcome);
    return outcome;
  }

  /**
   * Give `job` a place at the end of its lane. Kept apart from `run`, whose
   * coalescing path then makes none of the closures made here.
   */
  #queue<T>(key: string, lane: Lane, job: Job<T, unknown>, outcome: Promise<T>): void {
    const { waiting } = lane;
    const entry: Entry<T> = { job, result: outcome };
    waiting.push(entry as Entry<unknown>);
    const turn = lane.tail.then(() => {
      if (++lane.head === waiting.length) {
        waiting.length = 0;
        lane.head = 0;
      }
      return entry.job.coalesced && waiting.length > lane.head
        ? (waiting[lane.head] as Entry<T>)
        : undefined;
    });
    entry.result = turn.then((later) => {
      const { job } = entry;
      let result: Promise<T>;
      if (later) {
        // Given way: it never runs, and keeps nothing of its content.
        giveWay(job);
        result = later.result.then(job.coalesced);
      } else {
        // The job in a lane's place is never one given way to: it has its task.
        // Started, the lane keeps its entry until it drains, not its content.
        result = start(job);
      }
      job.settle(result);
      if (job.riders) this.#settleRiders(key, job.riders, result);
      return result;
    });
    // Its failure reaches the caller through `outcome`; this copy is only for ordering.
    entry.result.catch(() => {});
    // A coalesced write gives up its turn at once; the others hold the lane
    // until they finish.
    const done = () => this.#release(key, lane);
    lane.tail = turn.then((later) => later ? undefined : entry.result).then(done, done);
  }

  /** The rename an async write to `key` has in flight, if any (see {@linkcode InFlightRename}). */
  renameInFlight(key: string): InFlightRename | undefined {
    return this.#lanes.get(key)?.renaming;
  }

  /** Whether no write is queued or running on any path. */
  get idle(): boolean {
    return this.#lanes.size === 0;
  }

  /** Run a synchronous write now. */
  runSync<T>(key: string, task: (ticket: Ticket) => T): T {
    // Nothing queued on this path, and nothing can join it while a
    // synchronous task runs: no lane to make, no later write to tell.
    if (!this.#lanes.has(key)) return task(SOLO);
    const lane = this.#lane(key);
    try {
      return task(new LaneTicket(lane));
    } finally {
      this.#release(key, lane);
    }
  }
}
