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

// The name's characters, as codes, rewritten in place for each name: one
// string is made from them at the end, not one per character.
const CODES = [...PREFIX + "A".repeat(22) + SUFFIX].map((c) => c.charCodeAt(0));
const ALPHABET_CODES = [...ALPHABET].map((c) => c.charCodeAt(0));

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
  let at = PREFIX.length;
  for (let i = start; i < used; i++) {
    value = ((value << 8) | POOL[i]!) & 0x3fff;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      CODES[at++] = ALPHABET_CODES[(value >> bits) & 63]!;
    }
  }
  CODES[at] = ALPHABET_CODES[(value << (6 - bits)) & 63]!;
  return String.fromCharCode.apply(null, CODES);
}

/** Whether a directory entry's name is an atomfs temp file. */
export function isTempName(name: string): boolean {
  return PATTERN.test(name);
}
