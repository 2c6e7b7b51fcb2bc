// Finding the Node binaries the scripts compare: the system's (Node 20) and
// the devDependency's (Node 24, in node_modules/.bin).

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
