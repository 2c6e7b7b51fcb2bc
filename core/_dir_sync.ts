// Group commit of directory fsyncs. One fsync of a directory makes durable
// every entry change made in it before the fsync began, so concurrent writes
// to one directory can share flushes: a write that finds a flush running
// (which may have begun before its rename) waits for the next one, and every
// write arriving meanwhile shares that next flush.

interface DirState {
  running: Promise<void> | undefined;
  queued: Promise<void> | undefined;
}

/** Shares directory fsyncs between the concurrent writes of one `AtomicFs`. */
export class DirSyncer {
  #dirs = new Map<string, DirState>();

  /**
   * Resolve once a flush of `dir` that began after this call has completed;
   * `flush` performs one (and rejects as it fails, for every write sharing it).
   */
  sync(dir: string, flush: () => Promise<void>): Promise<void> {
    let state = this.#dirs.get(dir);
    if (!state) {
      state = { running: undefined, queued: undefined };
      this.#dirs.set(dir, state);
    }
    if (state.queued) return state.queued;
    if (!state.running) return this.#start(dir, state, flush);
    const after = state.running.then(noop, noop);
    state.queued = after.then(() => {
      state.queued = undefined;
      return this.#start(dir, state, flush);
    });
    return state.queued;
  }

  #start(dir: string, state: DirState, flush: () => Promise<void>): Promise<void> {
    const running = flush();
    state.running = running;
    const done = () => {
      if (state.running === running) state.running = undefined;
      if (!state.running && !state.queued) this.#dirs.delete(dir);
    };
    running.then(done, done);
    return running;
  }
}

function noop(): void {}
