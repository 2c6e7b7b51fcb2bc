// One FIFO lane per real path: writes to the same file commit in call order and
// the last call's data wins. Async writes wait for the one before them; a
// synchronous write cannot wait, so it commits at once, and any async write
// issued before it that has not committed yet is dropped as superseded (its
// content would have been replaced by the synchronous one anyway).

import type { Durability } from "./options.ts";

/** The per-path state of the queue. */
export interface Lane {
  /** Settles when the last async write queued here has finished. */
  tail: Promise<unknown>;
  /** Sequence number of the last write issued on this path. */
  issued: number;
  /** Sequence number of the newest write that committed, and what durability it reached. */
  committed: number;
  committedDurability: Durability;
  /** Writes issued and not yet finished; the lane is dropped at zero. */
  active: number;
}

/** A ticket for one write: its place in the lane. */
export interface Ticket {
  readonly lane: Lane;
  readonly seq: number;
  /** The durability of a later write that committed first, or `undefined`. */
  superseded(): Durability | undefined;
  /** Record that this write has committed. */
  committed(durability: Durability): void;
}

/** Per-path write ordering for one `AtomicFs`. */
export class PathQueue {
  #lanes = new Map<string, Lane>();

  #ticket(key: string): Ticket {
    let lane = this.#lanes.get(key);
    if (!lane) {
      lane = {
        tail: Promise.resolve(),
        issued: 0,
        committed: 0,
        committedDurability: "none",
        active: 0,
      };
      this.#lanes.set(key, lane);
    }
    lane.active++;
    const seq = ++lane.issued;
    const owner = lane;
    return {
      lane,
      seq,
      superseded: () => (owner.committed > seq ? owner.committedDurability : undefined),
      committed: (durability) => {
        if (seq > owner.committed) {
          owner.committed = seq;
          owner.committedDurability = durability;
        }
      },
    };
  }

  #release(key: string, ticket: Ticket): void {
    if (--ticket.lane.active === 0 && this.#lanes.get(key) === ticket.lane) this.#lanes.delete(key);
  }

  /** Run an async write after every async write issued before it on `key`. */
  run<T>(key: string, task: (ticket: Ticket) => Promise<T>): Promise<T> {
    const ticket = this.#ticket(key);
    const result = ticket.lane.tail.then(() => task(ticket));
    ticket.lane.tail = result.then(
      () => this.#release(key, ticket),
      () => this.#release(key, ticket),
    );
    return result;
  }

  /** Run a synchronous write now. */
  runSync<T>(key: string, task: (ticket: Ticket) => T): T {
    const ticket = this.#ticket(key);
    try {
      return task(ticket);
    } finally {
      this.#release(key, ticket);
    }
  }
}
