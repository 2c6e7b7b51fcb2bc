// Facts about this machine the scripts report: the Node binaries they compare
// (the system's Node 20, the devDependency's Node 24 in node_modules/.bin),
// tool versions, and the filesystem a directory lives on.

import { spawnSync } from "node:child_process";
import { accessSync, constants, realpathSync } from "node:fs";
import { delimiter, join } from "node:path";
import process from "node:process";

/** Whether `file` exists and may be executed. */
export function executable(file) {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function real(dir) {
  try {
    return realpathSync.native(dir);
  } catch {
    return dir;
  }
}

/**
 * The system's Node: the first `node` on PATH outside the project. npm puts
 * node_modules/.bin (where `node` is Node 24) first on PATH, and also lists
 * the node_modules/.bin of every parent directory.
 */
export function systemNode(root) {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (!dir || real(dir).startsWith(real(root)) || dir.includes("node_modules")) continue;
    const candidate = join(dir, "node");
    if (executable(candidate)) return candidate;
  }
  return undefined;
}

/** The first line a command prints, or `undefined` if it fails. */
export function firstLine(command, argv) {
  const r = spawnSync(command, argv, { encoding: "utf8" });
  return r.status === 0 ? r.stdout.split("\n")[0].trim() : undefined;
}

/** What a directory lives on: type, device, mount options. */
export function filesystem(dir) {
  const found = spawnSync(
    "findmnt",
    ["-n", "-o", "FSTYPE,SOURCE,TARGET,OPTIONS", "--target", dir],
    { encoding: "utf8" },
  );
  if (found.status === 0) {
    const [type, source, target, options] = found.stdout.trim().split(/\s+/);
    return `${type} (${source} mounted at ${target}, ${options})`;
  }
  const df = spawnSync("df", ["-T", dir], { encoding: "utf8" });
  if (df.status === 0) {
    const [source, type] = df.stdout.trim().split("\n").at(-1).split(/\s+/);
    return `${type} (${source})`;
  }
  return "unknown";
}
