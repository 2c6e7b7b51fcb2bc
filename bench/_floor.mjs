// The floor: the syscalls of a durable atomic replace and nothing else, through
// node:fs/promises, as a careful user would write them by hand. No symlink
// resolution, no metadata carried over, no retries, no queue: whatever atomfs
// costs above this is the price of its guarantees and its bookkeeping.

import { open, rename } from "node:fs/promises";
import process from "node:process";

let counter = 0;

/**
 * Replace `path` (in directory `dir`) with `data`: open the temp file
 * exclusively ('wx': O_CREAT|O_EXCL|O_WRONLY), write, fsync, close, rename
 * over the target, open the directory read-only, fsync it, close it.
 *
 * @param {string} dir The target's directory.
 * @param {string} path The target.
 * @param {Uint8Array} data The new content.
 */
export async function floorWriteFile(dir, path, data) {
  const temp = `${dir}/.floor-${process.pid}-${counter++}.tmp`;
  const file = await open(temp, "wx");
  try {
    const { bytesWritten } = await file.write(data);
    if (bytesWritten !== data.length) {
      throw new Error(`short write: ${bytesWritten} of ${data.length}`);
    }
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(temp, path);
  const directory = await open(dir, "r");
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
}
