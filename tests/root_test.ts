// Real-disk behaviour that needs root: a full filesystem (a 1 MiB tmpfs), a
// file bind-mounted over the target (a Docker single-file bind mount), and
// owners in a set-group-ID directory, through this runtime's own adapter (the
// default functions of mod.ts).

import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import {
  chmodSync,
  chownSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmdirSync,
  rmSync,
  statSync,
  writeFileSync as writeRaw,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { AtomFsError, writeFile, writeFileSync } from "../mod.ts";

function isRoot(): boolean {
  const deno = (globalThis as { Deno?: { uid(): number | null } }).Deno;
  if (deno) return deno.uid() === 0;
  return process.getuid?.() === 0;
}

function mount(args: string[]): void {
  execFileSync("mount", args, { stdio: ["ignore", "ignore", "pipe"] });
}

function umount(path: string): void {
  try {
    execFileSync("umount", [path], { stdio: ["ignore", "ignore", "pipe"] });
  } catch {
    // Still busy (a descriptor a failed test left open): detach it anyway.
    execFileSync("umount", ["-l", path], { stdio: ["ignore", "ignore", "pipe"] });
  }
}

/** Why `what` cannot be tested here (it needs root on Linux), or `false` when it can. */
function needsRoot(what: string): string | false {
  if (process.platform !== "linux") return `${what} are tested on Linux only`;
  if (!isRoot()) return `${what} need root`;
  return false;
}

/** Why this process cannot mount here, or `false` when it can (checked by mounting once). */
function cannotMount(): string | false {
  const why = needsRoot("tmpfs and bind mounts");
  if (why) return why;
  const probe = mkdtempSync(join(tmpdir(), "atomfs-mount-probe-"));
  try {
    mount(["-t", "tmpfs", "-o", "size=64k", "tmpfs", probe]);
  } catch (error) {
    rmdirSync(probe);
    const detail = (error as { code?: string; stderr?: Buffer }).code === "ENOENT"
      ? "there is no mount command"
      : String((error as { stderr?: Buffer }).stderr ?? error).trim().split("\n")[0];
    return `this root cannot mount here: ${detail}`;
  }
  umount(probe);
  rmdirSync(probe);
  return false;
}

const skip = cannotMount();

function scratch(): string {
  return realpathSync(mkdtempSync(join(tmpdir(), "atomfs-root-")));
}

/** Run `body` in a fresh 1 MiB tmpfs, unmounted and removed afterwards. */
async function withFullDisk(body: (dir: string) => Promise<void> | void): Promise<void> {
  const dir = scratch();
  try {
    mount(["-t", "tmpfs", "-o", "size=1m", "tmpfs", dir]);
    try {
      await body(dir);
    } finally {
      umount(dir);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function isENOSPC(error: unknown): true {
  assert.ok(error instanceof AtomFsError, `expected an AtomFsError, got ${String(error)}`);
  assert.equal(error.code, "ENOSPC");
  assert.equal(error.op, "write");
  return true;
}

const OLD = "old content\n";
const TWO_MIB = 2 * 1024 * 1024;

/** The old file is whole, no temp file is left, and the space is given back. */
async function assertOldFileKept(dir: string, file: string): Promise<void> {
  assert.equal(readFileSync(file, "utf8"), OLD);
  assert.deepEqual(readdirSync(dir), ["state.txt"]);
  // Nearly the whole 1 MiB is free again: a 900 KiB write fits.
  await writeFile(file, new Uint8Array(900 * 1024).fill(0x2e));
  assert.equal(readFileSync(file).length, 900 * 1024);
  assert.deepEqual(readdirSync(dir), ["state.txt"]);
}

test(
  "writeFile() of 2 MiB on a 1 MiB tmpfs rejects with ENOSPC and keeps the old file",
  { skip },
  async () => {
    await withFullDisk(async (dir) => {
      const file = join(dir, "state.txt");
      await writeFile(file, OLD);
      await assert.rejects(writeFile(file, new Uint8Array(TWO_MIB).fill(0x6e)), isENOSPC);
      await assertOldFileKept(dir, file);
    });
  },
);

test(
  "writeFileSync() of 2 MiB on a 1 MiB tmpfs throws ENOSPC and keeps the old file",
  { skip },
  async () => {
    await withFullDisk(async (dir) => {
      const file = join(dir, "state.txt");
      writeFileSync(file, OLD);
      assert.throws(() => writeFileSync(file, new Uint8Array(TWO_MIB).fill(0x6e)), isENOSPC);
      await assertOldFileKept(dir, file);
    });
  },
);

test(
  "a streamed writeFile() of 2 MiB on a 1 MiB tmpfs rejects with ENOSPC and keeps the old file",
  { skip },
  async () => {
    await withFullDisk(async (dir) => {
      const file = join(dir, "state.txt");
      await writeFile(file, OLD);
      let pulled = 0;
      async function* chunks() {
        for (; pulled < TWO_MIB / (64 * 1024); pulled++) yield new Uint8Array(64 * 1024).fill(0x6e);
      }
      await assert.rejects(writeFile(file, chunks()), isENOSPC);
      // The write stopped at the first failure rather than draining the source.
      assert.ok(pulled < TWO_MIB / (64 * 1024), `the source was drained (${pulled} chunks)`);
      await assertOldFileKept(dir, file);
    });
  },
);

/** A target with a file bind-mounted over it, like a Docker single-file mount. */
interface BindMount {
  readonly dir: string;
  readonly source: string;
  readonly target: string;
  /** Unmount now (the finally of `withBindMount` then has nothing to do). */
  unmount(): void;
}

const MOUNTED = "the bind-mounted source's content, longer than what replaces it\n";
const UNDER = "the target's own content, hidden under the mount\n";

async function withBindMount(body: (mount: BindMount) => Promise<void>): Promise<void> {
  const dir = scratch();
  let mounted = false;
  try {
    const source = join(dir, "source.txt");
    const target = join(dir, "target.txt");
    writeRaw(source, MOUNTED);
    writeRaw(target, UNDER);
    mount(["--bind", source, target]);
    mounted = true;
    await body({
      dir,
      source,
      target,
      unmount() {
        umount(target);
        mounted = false;
      },
    });
  } finally {
    if (mounted) umount(join(dir, "target.txt"));
    rmSync(dir, { recursive: true, force: true });
  }
}

function isEBUSY(error: unknown): true {
  assert.ok(error instanceof AtomFsError, `expected an AtomFsError, got ${String(error)}`);
  assert.equal(error.code, "EBUSY");
  assert.equal(error.op, "rename");
  assert.match(error.message, /fallback: "in-place"/);
  return true;
}

test(
  'replacing a bind-mounted file fails with EBUSY naming { fallback: "in-place" } and leaves it untouched',
  { skip },
  async () => {
    await withBindMount(async ({ dir, source, target, unmount }) => {
      await assert.rejects(writeFile(target, "new\n"), isEBUSY);
      assert.throws(() => writeFileSync(target, "new\n"), isEBUSY);
      assert.equal(readFileSync(target, "utf8"), MOUNTED);
      assert.equal(readFileSync(source, "utf8"), MOUNTED);
      assert.deepEqual(readdirSync(dir).sort(), ["source.txt", "target.txt"]);
      unmount();
      assert.equal(readFileSync(target, "utf8"), UNDER);
    });
  },
);

test('fallback: "in-place" rewrites a bind-mounted file through the mount', { skip }, async () => {
  await withBindMount(async ({ dir, source, target, unmount }) => {
    const receipt = await writeFile(target, "new\n", { fallback: "in-place" });
    assert.equal(receipt.strategy, "in-place");
    assert.equal(receipt.path, target);
    assert.equal(receipt.bytes, 4);
    // Truncated, not overlaid: the new content is shorter than the old.
    assert.equal(readFileSync(target, "utf8"), "new\n");
    assert.equal(readFileSync(source, "utf8"), "new\n");
    assert.deepEqual(readdirSync(dir).sort(), ["source.txt", "target.txt"]);

    const again = writeFileSync(target, "newer\n", { fallback: "in-place" });
    assert.equal(again.strategy, "in-place");
    assert.equal(readFileSync(source, "utf8"), "newer\n");
    assert.deepEqual(readdirSync(dir).sort(), ["source.txt", "target.txt"]);

    // The rename never happened: the file under the mount is as it was.
    unmount();
    assert.equal(readFileSync(target, "utf8"), UNDER);
    assert.equal(readFileSync(source, "utf8"), "newer\n");
  });
});

test(
  "owner \"preserve\" keeps a file's own group in a set-group-ID directory, where new files take the directory's",
  {
    skip: needsRoot("set-group-ID directories with another group"),
  },
  async () => {
    const dir = scratch();
    try {
      chownSync(dir, 0, 50);
      chmodSync(dir, 0o2775);
      const file = join(dir, "state.txt");
      writeRaw(file, OLD);
      assert.equal(statSync(file).gid, 50, "the kernel gives a new file the directory's group");
      // The file's group is the process's own: the temp file gets the
      // directory's instead, and must be given the old one back.
      chownSync(file, 0, 0);
      await writeFile(file, "async\n");
      assert.equal(statSync(file).gid, 0);
      writeFileSync(file, "sync\n");
      assert.equal(statSync(file).gid, 0);
      assert.equal(readFileSync(file, "utf8"), "sync\n");
      await writeFile(join(dir, "fresh.txt"), "x");
      assert.equal(statSync(join(dir, "fresh.txt")).gid, 50);
      assert.deepEqual(readdirSync(dir).sort(), ["fresh.txt", "state.txt"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
