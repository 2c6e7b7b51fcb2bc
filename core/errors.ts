/**
 * The one error class atomfs throws for I/O failures.
 *
 * @module
 */

/**
 * The protocol step that failed, as `AtomFsError.op`.
 *
 * `"open-temp"`, `"write"`, `"chmod"`, `"chown"`, `"sync"`, `"close"`,
 * `"rename"`, `"link"` and `"sync-dir"` are steps of a write; `"stat"`,
 * `"readlink"` and `"mkdir"` happen before it; `"unlink"` cleans up;
 * `"open"`, `"read"` and `"read-dir"` serve reads and `sweep()`;
 * `"in-place"` is the `fallback: "in-place"` replacement; `"probe"` is
 * `probe()` trying what a directory's filesystem can do.
 */
export type AtomFsOp =
  | "stat"
  | "readlink"
  | "mkdir"
  | "open-temp"
  | "write"
  | "chmod"
  | "chown"
  | "sync"
  | "close"
  | "rename"
  | "link"
  | "unlink"
  | "symlink"
  | "rmdir"
  | "sync-dir"
  | "in-place"
  | "open"
  | "read"
  | "read-dir"
  | "probe";

/** What {@linkcode AtomFsError} is made from. */
export interface AtomFsErrorInit {
  /** The OS error code (`ENOENT`, `EACCES`, `ENOSPC`, …). */
  code: string;
  /** The step that failed. */
  op: AtomFsOp;
  /** The path the step worked on (the target, not the temp file, for write steps). */
  path: string;
  /** The runtime's own error. */
  cause?: unknown;
  /** The whole message; by default one is made from the other fields. */
  message?: string;
  /** Errors from cleaning up after this one (they never replace it). */
  suppressed?: unknown[];
}

/**
 * An I/O failure: what failed (`op`), where (`path`), the OS error `code`, and
 * the runtime's own error as `cause`. The message says what to do.
 *
 * @example Handle a full disk
 * ```ts
 * import { AtomFsError, writeFile } from "@atomfs/atomfs";
 *
 * try {
 *   await writeFile("/srv/data.json", "{}");
 * } catch (err) {
 *   if (err instanceof AtomFsError && err.code === "ENOSPC") {
 *     console.error(err.message); // the old /srv/data.json is untouched
 *   } else {
 *     throw err;
 *   }
 * }
 * ```
 */
export class AtomFsError extends Error {
  /** The OS error code (`ENOENT`, `EACCES`, `ENOSPC`, `EEXIST`, `EBUSY`, …). */
  readonly code: string;
  /** The step that failed. */
  readonly op: AtomFsOp;
  /** The path the step worked on. */
  readonly path: string;
  /** Errors from cleaning up after this one, kept so nothing is lost. Usually empty. */
  readonly suppressed: readonly unknown[];

  /**
   * Make an error from its parts.
   *
   * @param init The code, step, path, cause and (optional) message.
   */
  constructor(init: AtomFsErrorInit) {
    super(init.message ?? describe(init.op, init.path, init.code, init.cause), {
      cause: init.cause,
    });
    this.name = "AtomFsError";
    this.code = init.code;
    this.op = init.op;
    this.path = init.path;
    this.suppressed = init.suppressed ?? [];
  }
}

const VERB: Record<AtomFsOp, string> = {
  "stat": "Cannot inspect",
  "readlink": "Cannot follow the symlink",
  "mkdir": "Cannot create the directory for",
  "open-temp": "Cannot create a temp file to replace",
  "write": "Cannot write the new content of",
  "chmod": "Cannot set the mode of",
  "chown": "Cannot set the owner of",
  "sync": "Cannot flush the new content of",
  "close": "Cannot close the new content of",
  "rename": "Cannot replace",
  "link": "Cannot create",
  "unlink": "Cannot remove",
  "symlink": "Cannot create the symlink",
  "rmdir": "Cannot remove the directory",
  "sync-dir": "Cannot flush the directory entry of",
  "in-place": "Cannot overwrite in place",
  "open": "Cannot open",
  "read": "Cannot read",
  "read-dir": "Cannot list",
  "probe": "Cannot probe",
};

const REASON: Record<string, string> = {
  ENOENT: "no such file or directory",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  ENOSPC: "no space left on the device",
  EDQUOT: "disk quota exceeded",
  EIO: "I/O error",
  EEXIST: "it already exists",
  EISDIR: "it is a directory",
  ENOTDIR: "a parent is not a directory",
  EROFS: "read-only filesystem",
  EXDEV: "not on the same filesystem",
  EMFILE: "too many open files in this process",
  ENFILE: "too many open files in the system",
  ELOOP: "too many levels of symbolic links",
  ENAMETOOLONG: "the name is too long",
  EBUSY: "resource busy",
  ENOSYS: "the filesystem does not support this",
  ENOTSUP: "the filesystem does not support this",
  EOPNOTSUPP: "the filesystem does not support this",
};

const ADVICE: Record<string, string> = {
  ENOSPC: "; free space on the device (the old file is untouched)",
  EDQUOT: "; free space or raise the quota (the old file is untouched)",
  EACCES: "; check the permissions of the file and its directory",
  EROFS: "; the filesystem is mounted read-only",
  EMFILE: "; close files or raise the open-file limit (ulimit -n)",
  ENFILE: "; close files or raise the system's open-file limit",
};

function describe(op: AtomFsOp, path: string, code: string, cause: unknown): string {
  // An adapter may explain an error better than its code does (Deno names the
  // missing permission): it sets `detail` on the error it throws.
  const detail = (cause as { detail?: unknown } | null)?.detail;
  const reason = typeof detail === "string"
    ? detail
    : REASON[code] ?? (cause instanceof Error ? cause.message : "failed");
  let advice = ADVICE[code] ?? "";
  if (code === "ENOENT" && (op === "open-temp" || op === "mkdir")) {
    advice = "; its directory does not exist (pass { mkdir: true } to create it)";
  } else if (code === "EEXIST" && op === "link") {
    advice = "; the target exists and { overwrite: false } never replaces it";
  } else if (op === "sync-dir") {
    advice = "; the new content is in place, but its directory entry may not survive a power loss";
  } else if (code === "EBUSY" && op === "rename") {
    advice = "; the target is a mount point (e.g. a single-file bind mount): " +
      'mount its directory instead, or pass { fallback: "in-place" }';
  }
  return `${VERB[op]} '${path}': ${reason} (${code})${advice}`;
}
