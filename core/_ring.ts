// A byte queue in a SharedArrayBuffer, for one producing thread and one
// consuming thread: how writes reach the offload worker and how their outcomes
// come back, without a message (structured clone) per write. A record is an
// int32 length and that many bytes, padded to 4; a length of -1 says "go on at
// offset 0". The producer never writes into the span the consumer has not
// released, so the consumer may use views of a record until it releases it.

const HEAD = 0; // offset of the oldest record not yet released (written by the consumer)
const TAIL = 1; // offset where the next record goes (written by the producer)
const SEQ = 2; // bumped after every push: what a waiting consumer waits on
const CONTROL_BYTES = 16;
const WRAP = -1;

const align4 = (n: number) => (n + 3) & ~3;

/** One end of a ring; both ends are made from the same `SharedArrayBuffer`. */
export class Ring {
  readonly buffer: SharedArrayBuffer;
  readonly #control: Int32Array;
  readonly #bytes: Uint8Array;
  readonly #words: Int32Array;
  readonly #capacity: number;
  #head: number;
  #tail: number;

  /** A new ring of `capacity` bytes, or one end of an existing ring. */
  constructor(from: number | SharedArrayBuffer) {
    this.buffer = typeof from === "number" ? new SharedArrayBuffer(CONTROL_BYTES + from) : from;
    this.#capacity = (this.buffer.byteLength - CONTROL_BYTES) & ~3;
    this.#control = new Int32Array(this.buffer, 0, 4);
    this.#bytes = new Uint8Array(this.buffer, CONTROL_BYTES, this.#capacity);
    this.#words = new Int32Array(this.buffer, CONTROL_BYTES, this.#capacity / 4);
    this.#head = Atomics.load(this.#control, HEAD);
    this.#tail = Atomics.load(this.#control, TAIL);
  }

  /** The largest record `push` accepts. */
  get maxRecord(): number {
    return this.#capacity / 2 - 8;
  }

  /** Producer: append one record made of `parts`; false when it does not fit now. */
  push(parts: readonly Uint8Array[]): boolean {
    let length = 0;
    for (const part of parts) length += part.length;
    if (length > this.maxRecord) throw new RangeError(`record of ${length} bytes is too large`);
    const size = 4 + align4(length);
    const head = Atomics.load(this.#control, HEAD);
    let at = this.#tail;
    // The tail never catches up with the head from behind: equal means empty.
    if (at >= head) {
      const room = this.#capacity - at;
      if (room < size || (room === size && head === 0)) {
        if (head <= size) return false;
        this.#words[at / 4] = WRAP;
        at = 0;
      }
    } else if (head - at <= size) {
      return false;
    }
    this.#words[at / 4] = length;
    let offset = at + 4;
    for (const part of parts) {
      this.#bytes.set(part, offset);
      offset += part.length;
    }
    this.#tail = (at + size) % this.#capacity;
    Atomics.store(this.#control, TAIL, this.#tail);
    Atomics.add(this.#control, SEQ, 1);
    Atomics.notify(this.#control, SEQ);
    return true;
  }

  /**
   * Consumer: every record pushed and not yet taken, as views into the ring.
   * They stay valid until `release()`.
   */
  take(): Uint8Array[] {
    const records: Uint8Array[] = [];
    const tail = Atomics.load(this.#control, TAIL);
    while (this.#head !== tail) {
      const length = this.#words[this.#head / 4]!;
      if (length === WRAP) {
        this.#head = 0;
        continue;
      }
      records.push(this.#bytes.subarray(this.#head + 4, this.#head + 4 + length));
      this.#head = (this.#head + 4 + align4(length)) % this.#capacity;
    }
    return records;
  }

  /** Consumer: give the space of every record taken so far back to the producer. */
  release(): void {
    Atomics.store(this.#control, HEAD, this.#head);
    Atomics.notify(this.#control, HEAD);
  }

  /** The push counter, to wait on. */
  get seq(): number {
    return Atomics.load(this.#control, SEQ);
  }

  /** Consumer: block the thread until a push after `seen`. */
  waitSync(seen: number): void {
    Atomics.wait(this.#control, SEQ, seen);
  }

  /** Consumer: resolve after a push after `seen` (`Atomics.waitAsync`). */
  waitAsync(seen: number): Promise<unknown> | undefined {
    // Typed here: the library target (ES2022) predates Atomics.waitAsync.
    const { waitAsync } = Atomics as unknown as {
      waitAsync(
        array: Int32Array,
        index: number,
        value: number,
      ): { async: boolean; value: Promise<unknown> | string };
    };
    const result = waitAsync(this.#control, SEQ, seen);
    return result.async ? result.value as Promise<unknown> : undefined;
  }

  /** Producer: block the thread until the consumer releases space (or `timeoutMs`). */
  waitForSpace(timeoutMs: number): void {
    Atomics.wait(this.#control, HEAD, Atomics.load(this.#control, HEAD), timeoutMs);
  }
}
