// npm run test:fs: the filesystem matrix. Mounts ext4, xfs and btrfs loop
// images, a tmpfs, an overlayfs (lower + upper + work, as containers use) and
// sshfs over loopback (twice: as it comes, and without hard links), runs the
// conformance and probe suites on each with every runtime (and on sshfs the
// watch suite, which changes files on the server's side as another client),
// prints a table of filesystem × runtime × result and each filesystem's
// probe() result, and tears everything down, also on failure.
//
//   npm run test:fs                          node20, node24, deno and bun
//   npm run test:fs -- node24 deno           only these runtimes
//   npm run test:fs -- --only=ext4,sshfs     only these filesystems
//   npm run test:fs -- --report              also write bench/FILESYSTEMS.md
//
// Needs Linux and root; otherwise it skips, saying why, and exits 0. Missing
// tools are installed with apt-get where it exists; a filesystem whose tools
// cannot be installed, or that cannot be mounted, is skipped with the reason.
// It fails when a test fails on a filesystem that did mount.
//
// What a filesystem legitimately cannot do is written down below, per
// filesystem: `lacks` (probe() capabilities it is expected to lack; the probe
// suite checks them exactly) and `differs` (real-disk conformance tests
// expected to fail there, with the reason; such a test passes only if it
// does fail, and its failure is printed). Nothing is skipped silently.
// `notes` record what no test can see, for the report.

import { spawn, spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { connect, createServer } from "node:net";
import { release, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { firstLine, systemNode } from "./_node.mjs";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const bin = join(root, "node_modules", ".bin");
const args = process.argv.slice(2);
const runtimes = args.filter((a) => !a.startsWith("--"));
const onlyFs = args.find((a) => a.startsWith("--only="))?.slice(7).split(",");
const report = args.includes("--report");

// Seen on sshfs but invisible to tests and probe(): documented, not checked.
const SSHFS_NOTES = [
  "directory fsync succeeds and does nothing (sshfs has no fsyncdir, and FUSE turns its ENOSYS " +
  'into success), so durability: "full" is what the server\'s rename gives; file fsync reaches ' +
  "the server (fsync@openssh.com)",
];

const SSHFS_DIFFERS = {
  "a symlink chain is followed to its final target, which is replaced":
    "sshfs 3.7 answers readlink(2) of an absolute symlink with EPERM (relative links work), " +
    'so atomfs cannot follow the chain and fails with op: "readlink", EPERM',
};

/**
 * The filesystems, with what each is expected not to do. `packages` are the
 * Debian packages that provide `tools`.
 */
const FILESYSTEMS = [
  {
    name: "ext4",
    tools: ["mkfs.ext4", "mount", "losetup"],
    packages: ["e2fsprogs", "mount"],
    mount: (w) => loopMount(w, "ext4", ["mkfs.ext4", "-q", "-F"]),
  },
  {
    name: "xfs",
    tools: ["mkfs.xfs", "mount", "losetup"],
    packages: ["xfsprogs", "mount"],
    mount: (w) => loopMount(w, "xfs", ["mkfs.xfs", "-q", "-f"]),
  },
  {
    name: "btrfs",
    tools: ["mkfs.btrfs", "mount", "losetup"],
    packages: ["btrfs-progs", "mount"],
    mount: (w) => loopMount(w, "btrfs", ["mkfs.btrfs", "-q", "-f"]),
  },
  {
    name: "tmpfs",
    tools: ["mount"],
    packages: ["mount"],
    mount: (w) => {
      const dir = mountpoint(w, "tmpfs");
      run("mount", ["-t", "tmpfs", "-o", "size=300m", "tmpfs", dir]);
      w.cleanups.push(() => unmount(dir));
      return { dir };
    },
  },
  {
    name: "overlayfs",
    tools: ["mount"],
    packages: ["mount"],
    // Remounted with a fresh upper layer for each runtime, so that every run
    // finds its lower-layer files untouched.
    fresh: true,
    mount: overlayMount,
  },
  {
    name: "sshfs",
    tools: ["sshfs", "sshd", "ssh-keygen", "fusermount3"],
    packages: ["sshfs", "openssh-server", "openssh-client", "fuse3"],
    mount: (w) => sshfsMount(w, "sshfs", []),
    // Changes made on the server raise no event through the mount: watch() must poll.
    suites: ["watch"],
    differs: SSHFS_DIFFERS,
    notes: SSHFS_NOTES,
  },
  {
    name: "sshfs, no hard links",
    tools: ["sshfs", "sshd", "ssh-keygen", "fusermount3"],
    packages: ["sshfs", "openssh-server", "openssh-client", "fuse3"],
    // As a FUSE filesystem without link(): overwrite: false must fail naming
    // fallback: "in-place", or create the file exclusively in place with it.
    mount: (w) => sshfsMount(w, "sshfs-nolinks", ["-o", "disable_hardlink"]),
    lacks: ["hardLinks"],
    differs: SSHFS_DIFFERS,
    notes: SSHFS_NOTES,
  },
];

// ---------------------------------------------------------------- helpers

/** Run a command to completion; throws with its stderr when it fails. */
function run(command, argv, options = {}) {
  const r = spawnSync(command, argv, {
    encoding: "utf8",
    timeout: 120_000,
    stdio: ["ignore", "pipe", "pipe"],
    ...options,
  });
  if (r.error) throw new Error(`${command}: ${r.error.message}`);
  if (r.status !== 0) {
    const detail = (r.stderr || r.stdout || "").trim().split("\n").slice(-3).join(" / ");
    throw new Error(`${command} ${argv.join(" ")} exited with ${r.status}: ${detail}`);
  }
  return r.stdout;
}

/** The path of a command, or undefined (PATH plus the sbin directories, which sudo-less PATHs lack). */
function which(command) {
  const dirs = [...(process.env.PATH ?? "").split(":"), "/usr/sbin", "/sbin", "/usr/bin", "/bin"];
  for (const dir of dirs) {
    if (dir && existsSync(join(dir, command))) return join(dir, command);
  }
  return undefined;
}

function mountpoint(w, name) {
  const dir = join(w.dir, "mnt", name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

function unmount(dir) {
  try {
    run("umount", [dir]);
  } catch {
    // Still busy (a process a failed test left behind): detach it anyway.
    spawnSync("umount", ["-l", dir]);
  }
}

/** A 300 MiB image file (xfs needs at least that), formatted and loop-mounted. */
function loopMount(w, name, mkfs) {
  const image = join(w.dir, `${name}.img`);
  writeFileSync(image, "");
  run("truncate", ["-s", "300M", image]);
  run(mkfs[0], [...mkfs.slice(1), image]);
  const dir = mountpoint(w, name);
  run("mount", ["-o", "loop", image, dir]);
  w.cleanups.push(() => unmount(dir));
  return { dir };
}

/**
 * An overlay as container runtimes make one: lower, upper and work
 * directories, tests in the merged one. The lower layer holds one file per
 * adapter (`lower-only/<adapter>.txt`), which the conformance suite replaces
 * through the merged directory (a copy-up, then a rename).
 */
function overlayMount(w) {
  const base = join(w.dir, "overlay");
  rmSync(base, { recursive: true, force: true });
  const [lower, upper, work] = ["lower", "upper", "work"].map((d) => join(base, d));
  for (const dir of [lower, upper, work]) mkdirSync(dir, { recursive: true });
  mkdirSync(join(lower, "lower-only"));
  for (const adapter of ["node", "deno", "bun"]) {
    writeFileSync(join(lower, "lower-only", `${adapter}.txt`), "from the lower layer\n");
  }
  const dir = mountpoint(w, "overlayfs");
  run("mount", [
    "-t",
    "overlay",
    "overlay",
    "-o",
    `lowerdir=${lower},upperdir=${upper},workdir=${work}`,
    dir,
  ]);
  w.cleanups.push(() => unmount(dir));
  return { dir, env: { ATOMFS_TEST_LOWER_DIR: join(dir, "lower-only") } };
}

/** A free TCP port on 127.0.0.1, found by binding port 0. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port, ms) {
  const deadline = Date.now() + ms;
  for (;;) {
    const ok = await new Promise((resolve) => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`sshd did not listen on port ${port} in ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * sshd on 127.0.0.1 (a free high port), with its own throwaway host key,
 * config and authorized client key, serving `internal-sftp`; started once
 * and killed at the end.
 */
async function sshd(w) {
  if (w.sshd) return w.sshd;
  const dir = join(w.dir, "ssh");
  mkdirSync(dir, { mode: 0o700 });
  run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, "host_key")]);
  run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, "client_key")]);
  writeFileSync(join(dir, "authorized_keys"), readFileSync(join(dir, "client_key.pub")));
  chmodSync(join(dir, "authorized_keys"), 0o600);
  const port = await freePort();
  const config = join(dir, "sshd_config");
  writeFileSync(
    config,
    [
      `Port ${port}`,
      "ListenAddress 127.0.0.1",
      `HostKey ${join(dir, "host_key")}`,
      `PidFile ${join(dir, "sshd.pid")}`,
      `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
      "PermitRootLogin prohibit-password",
      "PubkeyAuthentication yes",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "UsePAM no",
      // The key lives under the world-writable temp directory.
      "StrictModes no",
      "Subsystem sftp internal-sftp",
      "",
    ].join("\n"),
  );
  // Debian's sshd refuses to start without its privilege separation directory.
  if (!existsSync("/run/sshd")) {
    mkdirSync("/run/sshd", { mode: 0o755, recursive: true });
    w.atExit.push(() => rmSync("/run/sshd", { recursive: true, force: true }));
  }
  const child = spawn(which("sshd"), ["-D", "-e", "-f", config], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let log = "";
  child.stderr.on("data", (chunk) => log += chunk);
  // Killed at the very end: every sshfs mount uses this one server.
  w.atExit.push(() => child.exitCode === null && child.kill("SIGTERM"));
  try {
    await waitForPort(port, 10_000);
  } catch (error) {
    throw new Error(`${error.message}: ${log.trim().split("\n").slice(-2).join(" / ")}`);
  }
  w.sshd = { port, key: join(dir, "client_key") };
  return w.sshd;
}

async function sshfsMount(w, name, options) {
  const { port, key } = await sshd(w);
  const remote = join(w.dir, `${name}-remote`);
  mkdirSync(remote);
  const dir = mountpoint(w, name);
  run("sshfs", [
    `root@127.0.0.1:${remote}`,
    dir,
    "-p",
    String(port),
    "-o",
    `IdentityFile=${key},StrictHostKeyChecking=no,UserKnownHostsFile=/dev/null,BatchMode=yes`,
    ...options,
  ], { timeout: 30_000 });
  w.cleanups.push(() => {
    try {
      run("fusermount3", ["-u", dir]);
    } catch {
      unmount(dir);
    }
  });
  // The server's side of the mount, where the watch suite plays another client.
  return { dir, env: { ATOMFS_TEST_REMOTE_DIR: remote } };
}

/**
 * Install the Debian packages that provide missing tools, non-interactively,
 * without starting their services. Never throws: what stays missing is
 * reported per filesystem.
 */
function install(packages) {
  if (packages.length === 0) return;
  if (!which("apt-get")) {
    console.log(`missing ${packages.join(", ")}, and there is no apt-get to install them`);
    return;
  }
  console.log(`installing ${packages.join(" ")} with apt-get`);
  // policy-rc.d 101 keeps dpkg from starting sshd on port 22 (as Docker images do).
  const policy = "/usr/sbin/policy-rc.d";
  const ours = !existsSync(policy);
  if (ours) writeFileSync(policy, "#!/bin/sh\nexit 101\n", { mode: 0o755 });
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  try {
    for (const step of [["update", "-qq"], ["install", "-y", "-qq", ...packages]]) {
      const r = spawnSync("apt-get", step, { env, encoding: "utf8", timeout: 600_000 });
      if (r.status !== 0) {
        const why = r.error?.message ?? (r.stderr || r.stdout).trim().split("\n").at(-1);
        console.log(`apt-get ${step[0]} failed: ${why}`);
        if (step[0] === "install") return;
      }
    }
  } finally {
    if (ours) rmSync(policy, { force: true });
  }
}

// ---------------------------------------------------------------- running the suites

const RUNTIMES = ["node20", "node24", "deno", "bun"];
const chosen = runtimes.length > 0 ? RUNTIMES.filter((r) => runtimes.includes(r)) : RUNTIMES;

/** Run scripts/test.mjs for some runtimes and test files; per runtime, its counts. */
function suite(runtimeList, only, env) {
  const r = spawnSync(
    process.execPath,
    // Compiled once, before the matrix: each run need not compile again.
    [join(root, "scripts", "test.mjs"), ...runtimeList, `--only=${only}`, "--built"],
    {
      cwd: root,
      encoding: "utf8",
      env: { ...process.env, ...env, PATH: `${bin}:${process.env.PATH}` },
      timeout: 900_000,
      maxBuffer: 256 * 1024 * 1024,
    },
  );
  const output = `${r.stdout ?? ""}${r.stderr ?? ""}`;
  const counts = {};
  for (const m of output.matchAll(/^(\w+): (\d+) passed, (\d+) failed(?:, (\d+) skipped)?/gm)) {
    counts[m[1]] = { passed: Number(m[2]), failed: Number(m[3]), skipped: Number(m[4] ?? 0) };
  }
  for (const runtime of runtimeList) {
    // The runner died before its summary: count it as a failure.
    counts[runtime] ??= { passed: 0, failed: 1, skipped: 0 };
  }
  const failures = output.split("\n").filter((line) =>
    /^not ok |^\(fail\) | \.\.\. FAILED|^# expected difference/.test(line.trim())
  );
  return { counts, failures, output };
}

/** probe() of `dir`, as each runtime's own adapter sees it. */
function probeWith(runtime, dir) {
  const code = `const { probe } = await import(${JSON.stringify(`${root}/mod.ts`)});` +
    `console.log(JSON.stringify(await probe(${JSON.stringify(dir)})));`;
  const compiled = `const { probe } = await import(${JSON.stringify(`${root}/.build/mod.js`)});` +
    `console.log(JSON.stringify(await probe(${JSON.stringify(dir)})));`;
  const [command, argv] = runtime === "deno"
    ? [join(bin, "deno"), ["eval", code]]
    : runtime === "bun"
    ? [join(bin, "bun"), ["-e", code]]
    : [
      runtime === "node20" ? systemNode(root) : join(bin, "node"),
      ["--input-type=module", "-e", compiled],
    ];
  if (!command) return { error: `no ${runtime} binary` };
  const r = spawnSync(command, argv, { encoding: "utf8", timeout: 60_000, cwd: root });
  try {
    return JSON.parse(r.stdout.trim().split("\n").at(-1));
  } catch {
    return { error: (r.stderr || r.stdout || String(r.error)).trim().split("\n").at(-1) };
  }
}

const CAPS = [
  ["exclusiveCreate", "excl. create"],
  ["renameOver", "rename over"],
  ["hardLinks", "hard links"],
  ["syncDir", "dir fsync"],
  ["watchSeesRename", "watch sees rename"],
];

function describeProbe(p) {
  if (p.error) return `probe failed: ${p.error}`;
  return CAPS.map(([key, label]) =>
    p[key] ? `${label} ✓` : `${label} ✗ (${p.errors?.[key] ?? "?"})`
  ).join(", ");
}

// ---------------------------------------------------------------- main

function skipAll(reason) {
  console.log(`test:fs skipped: ${reason}`);
  process.exit(0);
}

if (process.platform !== "linux") skipAll("the filesystem matrix mounts filesystems on Linux only");
if (process.getuid?.() !== 0) skipAll("mounting filesystems needs root");

const selected = FILESYSTEMS.filter((fs) => !onlyFs || onlyFs.includes(fs.name.split(",")[0]));
const missing = new Set(
  selected.flatMap((fs) => fs.tools.filter((t) => !which(t)).flatMap(() => fs.packages)),
);
install([...missing]);

const w = {
  dir: realpathSync(mkdtempSync(join(tmpdir(), "atomfs-fs-"))),
  /** Undo steps of the filesystem being tested (its mount), newest last. */
  cleanups: [],
  /** Undo steps for the whole run (sshd), done after every filesystem's. */
  atExit: [],
  sshd: undefined,
};
let cleaned = false;
function cleanup() {
  if (cleaned) return;
  cleaned = true;
  for (const undo of [...w.cleanups.reverse(), ...w.atExit.reverse()]) {
    try {
      undo();
    } catch (error) {
      console.error(`cleanup: ${error.message}`);
    }
  }
  rmSync(w.dir, { recursive: true, force: true });
}
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(signal, () => {
    cleanup();
    process.exit(128 + (signal === "SIGINT" ? 2 : signal === "SIGTERM" ? 15 : 1));
  });
}

const rows = [];
let bad = false;
try {
  // One compile for the Node runtimes' probe, as scripts/test.mjs does it.
  run(join(bin, "tsc"), ["-p", "tsconfig.json"], { cwd: root });
  for (const fs of selected) {
    const absent = fs.tools.filter((t) => !which(t));
    if (absent.length > 0) {
      rows.push({
        fs,
        skipped: `${absent.join(", ")} not installed (apt: ${fs.packages.join(" ")})`,
      });
      continue;
    }
    const env = {
      ATOMFS_TEST_FS: fs.name,
      ATOMFS_TEST_LACKS: (fs.lacks ?? []).join(","),
      ATOMFS_TEST_DIFFERS: JSON.stringify(fs.differs ?? {}),
    };
    const results = {};
    const probes = {};
    let mounted;
    const at = w.cleanups.length;
    const unmountThis = () => {
      for (const undo of w.cleanups.splice(at).reverse()) undo();
    };
    try {
      console.log(`\n===== ${fs.name} =====`);
      for (const runtime of chosen) {
        if (!mounted || fs.fresh) {
          if (mounted) unmountThis();
          mounted = await fs.mount(w);
        }
        const runEnv = { ...env, ...mounted.env, ATOMFS_TEST_DIR: mounted.dir };
        const suites = ["conformance", "probe", ...(fs.suites ?? [])].map((only) =>
          suite([runtime], only, runEnv)
        );
        probes[runtime] = probeWith(runtime, mounted.dir);
        const sum = (key) => suites.reduce((n, s) => n + s.counts[runtime][key], 0);
        results[runtime] = {
          passed: sum("passed"),
          failed: sum("failed"),
          skipped: sum("skipped"),
          failures: suites.flatMap((s) => s.failures),
        };
        const r = results[runtime];
        console.log(
          `${fs.name} × ${runtime}: ${r.passed} passed, ${r.failed} failed` +
            `${r.skipped ? `, ${r.skipped} skipped` : ""}; probe: ${
              describeProbe(probes[runtime])
            }`,
        );
        for (const line of r.failures) console.log(`  ${line.trim()}`);
        if (r.failed > 0) {
          bad = true;
          for (const s of suites) {
            if (s.counts[runtime].failed > 0) {
              console.log(s.output.split("\n").slice(-80).join("\n"));
            }
          }
        }
      }
      rows.push({ fs, results, probes, type: mountType(mounted.dir) });
    } catch (error) {
      rows.push({ fs, skipped: `cannot mount: ${error.message}` });
    } finally {
      unmountThis();
    }
  }
} finally {
  cleanup();
}

function mountType(dir) {
  try {
    return run("findmnt", ["-n", "-o", "FSTYPE", "-T", dir]).trim();
  } catch {
    return "";
  }
}

const table = renderTable(rows);
console.log(`\n${table}`);
if (report) writeReport(table);
process.exit(bad ? 1 : 0);

function renderTable(rows) {
  const lines = [
    `| filesystem | ${chosen.join(" | ")} |`,
    `|---|${chosen.map(() => "---").join("|")}|`,
  ];
  for (const row of rows) {
    if (row.skipped) {
      lines.push(
        `| ${row.fs.name} | skipped: ${row.skipped} |${chosen.slice(1).map(() => " |").join("")}`,
      );
      continue;
    }
    const cells = chosen.map((runtime) => {
      const r = row.results[runtime];
      return `${r.failed === 0 ? "passed" : "**FAILED**"} ${r.passed}/${r.passed + r.failed}` +
        (r.skipped ? ` (${r.skipped} skipped)` : "");
    });
    lines.push(`| ${row.fs.name}${row.type ? ` (${row.type})` : ""} | ${cells.join(" | ")} |`);
  }
  lines.push("", "| filesystem | probe() | expected differences, notes |", "|---|---|---|");
  for (const row of rows) {
    if (row.skipped) continue;
    const seen = new Map();
    for (const runtime of chosen) {
      const text = describeProbe(row.probes[runtime]);
      seen.set(text, [...(seen.get(text) ?? []), runtime]);
    }
    const probe = [...seen].map(([text, who]) =>
      seen.size === 1 ? text : `${who.join(", ")}: ${text}`
    ).join("<br>");
    const differs = Object.entries(row.fs.differs ?? {}).map(([test, why]) => `"${test}": ${why}`);
    const lacks = (row.fs.lacks ?? []).map((cap) => `lacks ${cap}`);
    const notes = (row.fs.notes ?? []).map((note) => `note: ${note}`);
    const all = [...lacks, ...differs, ...notes];
    lines.push(`| ${row.fs.name} | ${probe} | ${all.join("<br>") || "none"} |`);
  }
  return lines.join("\n");
}

function version(command, argv) {
  return (command && firstLine(command, argv)) ?? "unknown";
}

function writeReport(table) {
  const versions = [
    `Node ${version(systemNode(root), ["--version"])}`,
    `Node ${version(join(bin, "node"), ["--version"])}`,
    version(join(bin, "deno"), ["--version"]).replace(/ \(.*/, "").replace("deno", "Deno"),
    `Bun ${version(join(bin, "bun"), ["--version"])}`,
  ].join(", ");
  // sshfs and sshd print their versions on stderr, among other lines.
  const line = (command, argv, pattern) => {
    const r = spawnSync(which(command) ?? command, argv, { encoding: "utf8" });
    return `${r.stdout ?? ""}${r.stderr ?? ""}`.split("\n").find((l) => pattern.test(l))?.trim();
  };
  const tools = [
    line("sshfs", ["--version"], /^SSHFS version/),
    line("sshd", ["-V"], /^OpenSSH/)?.replace(/,.*/, ""),
  ].filter(Boolean).join(", ");
  const text = `# Filesystem matrix

\`npm run test:fs\` (scripts/test_fs.mjs) on ${
    new Date().toISOString().slice(0, 10)
  }, Linux ${release()},
${versions}; ${tools}.

Each cell counts the tests of the conformance and probe suites, run with
\`ATOMFS_TEST_DIR\` on the mount (\`npm test -- <runtime> --only=conformance\`, then
\`--only=probe\`), over every adapter the runtime hosts: its own, Node's (under Deno and Bun), and the
memory adapter, which does not touch the mount. On sshfs the watch suite runs too (\`--only=watch\`,
with another client's changes made on the server's side of the mount). The skipped tests are the
overlayfs lower-layer test
(outside overlayfs, and for the memory adapter) and the relative-path test of the memory adapter. A
test listed under "expected differences" passes only if it fails there, and its failure is printed.

${table}
`;
  const file = join(root, "bench", "FILESYSTEMS.md");
  writeFileSync(file, text);
  spawnSync(join(bin, "deno"), ["fmt", file], { cwd: root, stdio: "ignore" });
  console.log(`wrote ${file}`);
}
