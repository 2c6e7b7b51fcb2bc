// Backup names and the steps that make, list and prune them, shared by the
// write protocol (`backups: N`) and `rollback()`.
//
// A backup of `dir/config.json` is `dir/.config.json.atomfs-000003.bak`: hidden,
// beside its target (a hard link must stay on the same filesystem), its
// generation in the name (zero-padded to 6 digits so that `ls` sorts them;
// longer numbers still parse). It can never be taken for a temp file: temp
// names end in `.tmp` (see _temp_name.ts), so `sweep()` leaves backups alone.

import { AtomFsError } from "./errors.ts";
import { basename, join } from "./_path.ts";
import { call, codeOf, type Steps } from "./_steps.ts";

const MARK = ".atomfs-";
const SUFFIX = ".bak";
const PATTERN = /^\..+\.atomfs-\d{6,}\.bak$/;
/**
 * Target names longer than this (in UTF-8 bytes) are cut and given a hash of
 * the whole name, so that a backup's name stays within NAME_MAX (255 bytes).
 */
const MAX_STEM = 200;

const encoder = new TextEncoder();

/**
 * link(2) failures that mean "no hard links here": EPERM on filesystems
 * without them (FAT, many FUSE mounts), EXDEV across a bind mount of a single
 * file, ENOTSUP and the like on object-store mounts.
 */
const NO_LINKS = ["EPERM", "EXDEV", "ENOTSUP", "EOPNOTSUPP", "ENOSYS", "EMLINK"];

/** FNV-1a, 32 bits, as 8 hex digits: tells apart long names that share their first 200 bytes. */
function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (const byte of encoder.encode(text)) {
    hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, "0");
}

/** The part of a backup's name that names its target. */
function stem(name: string): string {
  if (encoder.encode(name).length <= MAX_STEM) return name;
  let cut = "";
  for (const char of name) {
    if (encoder.encode(cut + char).length > MAX_STEM) break;
    cut += char;
  }
  return `${cut}~${fnv1a(name)}`;
}

/** The name (not path) of generation `generation` of the backups of the file named `name`. */
export function backupName(name: string, generation: number): string {
  return `.${stem(name)}${MARK}${String(generation).padStart(6, "0")}${SUFFIX}`;
}

/** The generation of `entry` if it is a backup of the file named `name`, else `undefined`. */
export function generationOf(name: string, entry: string): number | undefined {
  const prefix = `.${stem(name)}${MARK}`;
  if (!entry.startsWith(prefix) || !entry.endsWith(SUFFIX)) return undefined;
  const digits = entry.slice(prefix.length, entry.length - SUFFIX.length);
  return /^\d{6,}$/.test(digits) ? Number(digits) : undefined;
}

/** Whether a directory entry's name is an atomfs backup (of any file). */
export function isBackupName(entry: string): boolean {
  return PATTERN.test(entry);
}

/** One backup of a target, as found in its directory. */
export interface Backup {
  readonly path: string;
  readonly generation: number;
}

/** The backups of `target` (an absolute path), oldest first. */
export function* findBackups(
  dir: string,
  target: string,
  platform: "posix" | "windows",
): Steps<Backup[]> {
  const name = basename(target, platform);
  const entries = yield* call("readDir", [dir], "read-dir", target);
  const found: Backup[] = [];
  for (const entry of entries) {
    const generation = generationOf(name, entry);
    if (generation !== undefined) found.push({ path: join(dir, entry, platform), generation });
  }
  return found.sort((a, b) => a.generation - b.generation);
}

/**
 * Hard-link `file` (the target's current version) as the next generation
 * after `existing`. Returns the backup, or `undefined` when `file` vanished
 * meanwhile (nothing to keep). A name taken by a racing writer in another
 * process moves on to the next generation.
 */
export function* linkBackup(
  file: string,
  dir: string,
  existing: readonly Backup[],
  platform: "posix" | "windows",
): Steps<Backup | undefined> {
  const name = basename(file, platform);
  let generation = (existing.at(-1)?.generation ?? 0) + 1;
  for (let tries = 0;; tries++, generation++) {
    const path = join(dir, backupName(name, generation), platform);
    try {
      yield* call("link", [file, path], "link", file, "transient", ["EEXIST", "ENOENT"]);
      return { path, generation };
    } catch (error) {
      const code = codeOf(error);
      if (code === "EEXIST" && tries < 8) continue;
      if (code === "ENOENT") return undefined;
      if (code === undefined || !NO_LINKS.includes(code)) {
        throw code === "EEXIST"
          ? new AtomFsError({ code, op: "link", path: file, cause: error })
          : error;
      }
      throw new AtomFsError({
        code,
        op: "link",
        path: file,
        cause: error instanceof AtomFsError ? error.cause : error,
        message: `Cannot keep a backup of '${file}': backups are hard links, and link(2) ` +
          `fails here (${code}); pass { backups: 0 } on this filesystem or mount`,
      });
    }
  }
}

/**
 * Remove all but the newest `keep` backups. Best-effort: the new content is
 * in place already, and the next write with `backups` prunes again.
 */
export function* pruneBackups(backups: readonly Backup[], keep: number): Steps<void> {
  for (const old of backups.slice(0, Math.max(0, backups.length - keep))) {
    try {
      yield* call("unlink", [old.path], "unlink", old.path, "never");
    } catch {
      // Gone already, or not removable now: a later write tries again.
    }
  }
}
