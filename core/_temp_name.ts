// Temp file names: hidden (leading dot), always 34 characters whatever the
// target's name (a long target name cannot push it past NAME_MAX), only
// [A-Za-z0-9._-], and 128 random bits so that writers in different processes,
// containers (all pid 1) and hosts sharing a mount never collide — the
// collision write-file-atomic hit with pid-based names.

const PREFIX = ".atomfs-";
const SUFFIX = ".tmp";
const PATTERN = /^\.atomfs-[A-Za-z0-9_-]{22}\.tmp$/;
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// Random bytes are drawn 64 names at a time: one getRandomValues call costs
// several microseconds, about as much as a syscall of the write itself.
const POOL = new Uint8Array(16 * 64);
let used = POOL.length;

/** A fresh temp file name (not a path). */
export function tempName(): string {
  if (used === POOL.length) {
    crypto.getRandomValues(POOL);
    used = 0;
  }
  const start = used;
  used += 16;
  let bits = 0;
  let value = 0;
  let out = PREFIX;
  for (let i = start; i < used; i++) {
    value = (value << 8) | POOL[i]!;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += ALPHABET[(value >> bits) & 63];
    }
  }
  out += ALPHABET[(value << (6 - bits)) & 63];
  return out + SUFFIX;
}

/** Whether a directory entry's name is an atomfs temp file. */
export function isTempName(name: string): boolean {
  return PATTERN.test(name);
}
