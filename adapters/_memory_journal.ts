// The persistence model of the memory adapter: what a crash can leave.
//
// Every operation changes the visible state at once; only fsync(file) makes
// that file's data and metadata durable, and only fsync(dir) makes that
// directory's entries durable (fsync(2); ext4, xfs and btrfs without
// auto_da_alloc promise no more). So the durable state after a crash is the
// last durable image plus any subset of the operations made since that no
// sync has forced yet. A rename is one operation: journaled filesystems apply
// it whole or not at all.

/** One inode of a durable image. */
export interface Inode {
  readonly ino: number;
  readonly kind: "file" | "directory" | "symlink";
  data: Uint8Array;
  mode: number;
  uid: number;
  gid: number;
  /** Directory entries: name → inode number. */
  entries: Map<string, number>;
  target: string;
}

/** A whole filesystem: inodes by number; the root directory is inode 1. */
export type Image = Map<number, Inode>;

/** The root directory's inode number. */
export const ROOT = 1;

/** An operation the memory adapter made, as the journal records it. */
export type JournalEvent =
  | {
    type: "inode";
    ino: number;
    kind: Inode["kind"];
    mode: number;
    uid: number;
    gid: number;
    target: string;
  }
  | { type: "write"; ino: number; offset: number; bytes: Uint8Array }
  | { type: "truncate"; ino: number; size: number }
  | { type: "attr"; ino: number; mode: number; uid: number; gid: number }
  | { type: "fsync"; ino: number }
  | { type: "entry"; dir: number; name: string; ino: number | undefined }
  | {
    type: "rename";
    fromDir: number;
    fromName: string;
    toDir: number;
    toName: string;
    ino: number;
  }
  | { type: "syncDir"; dir: number }
  | { type: "mark"; label: string };

/** What the crash explorer needs from a memory adapter. */
export interface Recorder {
  /** The current state, taken as durable. */
  snapshot(): Image;
  /** Start recording operations (`undefined` stops). */
  record(journal: JournalEvent[] | undefined): void;
}

/** Memory adapters and their recorders. */
export const recorders: WeakMap<object, Recorder> = new WeakMap();

/** Whether an event changes durable state (rather than forcing it, or marking time). */
export function persists(event: JournalEvent): boolean {
  return event.type !== "fsync" && event.type !== "syncDir" && event.type !== "mark";
}

/**
 * Whether event `i` is durable at a crash after `crashAfter` events: a later
 * sync, before the crash, covered it. Inode creation is always durable: an
 * inode no entry names is invisible, and one an entry names must exist.
 */
export function forced(events: readonly JournalEvent[], i: number, crashAfter: number): boolean {
  const e = events[i]!;
  if (e.type === "inode") return true;
  for (let j = i + 1; j < crashAfter; j++) {
    const s = events[j]!;
    if (s.type === "fsync") {
      if ((e.type === "write" || e.type === "truncate" || e.type === "attr") && s.ino === e.ino) {
        return true;
      }
    } else if (s.type === "syncDir") {
      if (e.type === "entry" && s.dir === e.dir) return true;
      // A rename between two directories is durable once both are flushed;
      // within one directory, once that one is.
      if (e.type === "rename" && (s.dir === e.toDir || s.dir === e.fromDir)) {
        if (
          e.fromDir === e.toDir ||
          flushedLater(events, j, crashAfter, s.dir === e.toDir ? e.fromDir : e.toDir)
        ) {
          return true;
        }
      }
    }
  }
  return false;
}

function flushedLater(
  events: readonly JournalEvent[],
  from: number,
  to: number,
  dir: number,
): boolean {
  for (let j = from; j < to; j++) {
    const s = events[j]!;
    if (s.type === "syncDir" && s.dir === dir) return true;
  }
  return false;
}

function clone(image: Image): Image {
  const copy: Image = new Map();
  for (const [ino, node] of image) {
    copy.set(ino, { ...node, entries: new Map(node.entries) });
  }
  return copy;
}

function inode(image: Image, ino: number): Inode {
  let node = image.get(ino);
  if (!node) {
    node = {
      ino,
      kind: "file",
      data: new Uint8Array(0),
      mode: 0o600,
      uid: 0,
      gid: 0,
      entries: new Map(),
      target: "",
    };
    image.set(ino, node);
  }
  return node;
}

/** `base` with the chosen events applied in order. */
export function replay(
  base: Image,
  events: readonly JournalEvent[],
  chosen: (i: number) => boolean,
): Image {
  const image = clone(base);
  events.forEach((e, i) => {
    if (!persists(e) || !chosen(i)) return;
    switch (e.type) {
      case "inode": {
        const { ino, kind, mode, uid, gid, target } = e;
        image.set(ino, {
          ino,
          kind,
          data: new Uint8Array(0),
          mode,
          uid,
          gid,
          entries: new Map(),
          target,
        });
        break;
      }
      case "write": {
        const node = inode(image, e.ino);
        const end = e.offset + e.bytes.length;
        const data = new Uint8Array(Math.max(end, node.data.length));
        data.set(node.data);
        data.set(e.bytes, e.offset);
        node.data = data;
        break;
      }
      case "truncate": {
        const node = inode(image, e.ino);
        node.data = node.data.slice(0, e.size);
        break;
      }
      case "attr":
        Object.assign(inode(image, e.ino), { mode: e.mode, uid: e.uid, gid: e.gid });
        break;
      case "entry": {
        const dir = inode(image, e.dir);
        if (e.ino === undefined) dir.entries.delete(e.name);
        else dir.entries.set(e.name, e.ino);
        break;
      }
      case "rename": {
        const from = inode(image, e.fromDir);
        if (from.entries.get(e.fromName) === e.ino) from.entries.delete(e.fromName);
        inode(image, e.toDir).entries.set(e.toName, e.ino);
        break;
      }
    }
  });
  return image;
}

/** Every entry reachable from the root, by absolute path (symlinks listed, not followed). */
export function listEntries(image: Image): Map<string, Inode> {
  const found = new Map<string, Inode>();
  const walk = (ino: number, path: string, seen: Set<number>) => {
    const node = image.get(ino);
    if (!node || seen.has(ino)) return;
    found.set(path, node);
    if (node.kind !== "directory") return;
    seen.add(ino);
    for (const [name, child] of [...node.entries].sort(([a], [b]) => (a < b ? -1 : 1))) {
      walk(child, `${path === "/" ? "" : path}/${name}`, seen);
    }
    seen.delete(ino);
  };
  walk(ROOT, "/", new Set());
  return found;
}

/** A canonical text of an image's visible content, to recognise states already checked. */
export function fingerprint(image: Image): string {
  const parts: string[] = [];
  for (const [path, node] of listEntries(image)) {
    parts.push(
      `${path}\u0000${node.kind}\u0000${node.mode}\u0000${node.target}\u0000${node.data.join(",")}`,
    );
  }
  return parts.join("\u0001");
}
