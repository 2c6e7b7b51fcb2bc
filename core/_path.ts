// Path syntax for the core, which may not import node:path. POSIX paths use
// "/"; Windows paths accept "/" and "\" and keep the style they came in.

import type { FsAdapter } from "./adapter.ts";

type Platform = FsAdapter["platform"];

/** The last string `toPath` accepted as it is. */
let lastPath: string | undefined;

/** A path argument as a string: validates type, emptiness and NUL bytes. */
export function toPath(input: unknown, platform: Platform, name = "path"): string {
  // The checks below depend on the string alone: the last path passed is kept.
  if (input === lastPath) return input as string;
  let path: string;
  if (typeof input === "string") {
    path = input;
  } else if (input instanceof URL) {
    if (input.protocol !== "file:") {
      throw new TypeError(`Invalid ${name}: expected a file: URL, got ${input.protocol}`);
    }
    path = fileUrlToPath(input, platform);
  } else {
    throw new TypeError(
      `Invalid ${name}: expected a string or a file: URL, got ${
        input === null ? "null" : typeof input
      }`,
    );
  }
  if (path.length === 0) throw new TypeError(`Invalid ${name}: the path is empty`);
  if (path.includes("\0")) throw new TypeError(`Invalid ${name}: the path contains a NUL byte`);
  if (typeof input === "string") lastPath = input;
  return path;
}

function fileUrlToPath(url: URL, platform: Platform): string {
  if (/%2f/i.test(url.pathname) || (platform === "windows" && /%5c/i.test(url.pathname))) {
    throw new TypeError("Invalid path: a file: URL must not contain an encoded path separator");
  }
  const pathname = decodeURIComponent(url.pathname);
  if (platform === "posix") {
    if (url.hostname !== "" && url.hostname !== "localhost") {
      throw new TypeError(`Invalid path: file: URL host '${url.hostname}' is not supported here`);
    }
    return pathname;
  }
  if (url.hostname !== "") return `\\\\${url.hostname}${pathname.replaceAll("/", "\\")}`;
  // file:///C:/dir/file → C:\dir\file
  return pathname.replace(/^\/([A-Za-z]:)/, "$1").replaceAll("/", "\\");
}

function separator(path: string, platform: Platform): string {
  if (platform === "posix") return "/";
  return path.includes("/") && !path.includes("\\") ? "/" : "\\";
}

function splitRoot(path: string, platform: Platform): [root: string, rest: string] {
  if (platform === "posix") return path.startsWith("/") ? ["/", path.slice(1)] : ["", path];
  const unc = /^[\\/]{2}[^\\/]+[\\/][^\\/]+[\\/]?/.exec(path);
  if (unc) return [unc[0], path.slice(unc[0].length)];
  const drive = /^[A-Za-z]:[\\/]?/.exec(path);
  if (drive) return [drive[0], path.slice(drive[0].length)];
  return /^[\\/]/.test(path) ? [path[0]!, path.slice(1)] : ["", path];
}

/** Whether `path` is absolute (a Windows drive-relative path such as `C:a` counts as not). */
export function isAbsolute(path: string, platform: Platform): boolean {
  const [root] = splitRoot(path, platform);
  return platform === "posix" ? root === "/" : /[\\/]$/.test(root);
}

/** A POSIX separator followed by an empty, `.` or `..` part. */
const NOT_NORMAL = /\/\.{0,2}(?:\/|$)/;

/** The last POSIX path `absolute` found absolute and normal already. */
let lastNormal: string | undefined;

/**
 * `path` made absolute against the working directory, with `.`, `..` and
 * repeated separators removed. `cwd` is asked only for a relative path (and,
 * on Windows, for the drive of a path rooted without one, such as `\a\b`).
 * A Windows path relative to a drive (`C:a`) is made absolute against `cwd`
 * when that is on the same drive; on another drive it is a `TypeError`, as
 * that drive's own working directory is not known here.
 */
export function absolute(path: string, cwd: string | (() => string), platform: Platform): string {
  // Already absolute and normal (no empty, `.` or `..` part, no trailing
  // separator): a fact about the string alone, so the last one found is kept.
  if (platform === "posix" && path === lastNormal) return path;
  if (platform === "posix" && path.startsWith("/") && !NOT_NORMAL.test(path)) {
    lastNormal = path;
    return path;
  }
  // Rooted without a drive (Windows): on the working directory's drive (or
  // share), as Windows reads it, so that both spellings of a file name it alike.
  const driveless = platform === "windows" && /^[\\/](?![\\/])/.test(path);
  let full = path;
  if (driveless || !isAbsolute(path, platform)) {
    const base = typeof cwd === "string" ? cwd : cwd();
    if (driveless) full = splitRoot(base, platform)[0].replace(/[\\/]$/, "") + path;
    else {
      // Relative to a drive (`C:a`): Windows reads it against that drive's own
      // working directory, which is the process's only on the same drive.
      const drive = platform === "windows" && /^[A-Za-z]:/.test(path) ? path.slice(0, 2) : "";
      if (drive && base.slice(0, 2).toUpperCase() !== drive.toUpperCase()) {
        throw new TypeError(
          `Invalid path ${JSON.stringify(path)}: it is relative to drive ${drive}'s own ` +
            `working directory, which is not the process's (${base}); pass an absolute path`,
        );
      }
      full = `${base}${separator(base, platform)}${path.slice(drive.length)}`;
    }
  }
  const sep = separator(full, platform);
  const [root, rest] = splitRoot(full, platform);
  const parts: string[] = [];
  for (const part of rest.split(platform === "posix" ? "/" : /[\\/]/)) {
    if (part === "" || part === ".") continue;
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  const normalRoot = platform === "posix" ? root : root.replace(/[\\/]/g, sep);
  return normalRoot + parts.join(sep);
}

/** The directory part of an absolute, normalised path. */
export function dirname(path: string, platform: Platform): string {
  if (platform === "posix") {
    const cut = path.lastIndexOf("/");
    return cut < 0 ? "" : cut === 0 ? "/" : path.slice(0, cut);
  }
  const [root, rest] = splitRoot(path, platform);
  const cut = Math.max(rest.lastIndexOf("/"), platform === "windows" ? rest.lastIndexOf("\\") : -1);
  return cut < 0 ? root : root + rest.slice(0, cut);
}

/** The last component of an absolute, normalised path. */
export function basename(path: string, platform: Platform): string {
  const [, rest] = splitRoot(path, platform);
  const cut = Math.max(rest.lastIndexOf("/"), platform === "windows" ? rest.lastIndexOf("\\") : -1);
  return rest.slice(cut + 1);
}

/** `name` inside the absolute directory `dir`. */
export function join(dir: string, name: string, platform: Platform): string {
  if (platform === "posix") return dir.endsWith("/") ? dir + name : `${dir}/${name}`;
  const sep = separator(dir, platform);
  return dir.endsWith("/") || dir.endsWith("\\") ? dir + name : dir + sep + name;
}

/** Where the symlink at `link` (absolute) points when its text is `target`. */
export function resolveLink(link: string, target: string, platform: Platform): string {
  return absolute(target, dirname(link, platform), platform);
}

/** The key under which writes to `path` are ordered (Windows paths are case-insensitive). */
export function queueKey(path: string, platform: Platform): string {
  return platform === "windows" ? path.replaceAll("/", "\\").toLowerCase() : path;
}
