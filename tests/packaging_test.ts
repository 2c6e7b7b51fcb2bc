// What users install: the JSR package (jsr.json) and the npm tarball
// (package.json), checked with the tools the registries use. Packing builds
// dist/ (prepack), so these checks run once per `npm test`, under Node 20.

import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { lastJson, repoRoot, runtime } from "./_runtime.ts";

const skip = runtime !== "node"
  ? "packaging checks run once, under Node"
  : Number(process.versions.node.split(".")[0]) >= 22
  ? "packaging checks run under the Node 20 pass"
  : undefined;

const ENTRY_POINTS = [
  "mod.ts",
  "adapters/node.ts",
  "adapters/deno.ts",
  "adapters/bun.ts",
  "adapters/memory.ts",
];

interface Manifest {
  name: string;
  version: string;
  exports: Record<string, unknown>;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

interface Run {
  status: number | null;
  output: string;
}

function bin(name: string): string {
  return join(repoRoot(), "node_modules", ".bin", name);
}

function manifest(file: string): Manifest {
  return JSON.parse(readFileSync(join(repoRoot(), file), "utf8")) as Manifest;
}

/** Run a command to completion; stdout and stderr together, colours off. */
function run(command: string, args: string[], cwd: string = repoRoot()): Run {
  // Deno colours its output whenever FORCE_COLOR is set, even to 0.
  const { FORCE_COLOR: _, ...env } = process.env;
  const r = spawnSync(command, args, {
    cwd,
    encoding: "utf8",
    env: { ...env, NO_COLOR: "1" },
    timeout: 60_000,
  });
  if (r.error) throw r.error;
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

/** Every file below `dir`, as `/`-separated paths relative to it. */
function filesUnder(dir: string, prefix = ""): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((entry) => {
    const path = prefix ? `${prefix}/${entry.name}` : entry.name;
    return entry.isDirectory() ? filesUnder(dir, path) : [path];
  });
}

function check(r: Run, what: string): string {
  assert.equal(r.status, 0, `${what} failed:\n${r.output}`);
  return r.output;
}

// One `npm pack` (which builds dist/ through prepack) installed into a fresh
// project, shared by the tests below and removed at the end.
let project: { dir: string; ready: boolean } | undefined;
after(() => {
  if (project) rmSync(project.dir, { recursive: true, force: true });
});

function installed(): string {
  if (project) {
    if (!project.ready) {
      throw new Error("packing or installing the tarball failed in an earlier test");
    }
    return project.dir;
  }
  const dir = realpathSync(mkdtempSync(join(tmpdir(), "atomfs-packaging-")));
  project = { dir, ready: false };
  check(run("npm", ["pack", "--pack-destination", dir, "--silent"]), "npm pack");
  const tarballs = readdirSync(dir).filter((f) => f.endsWith(".tgz"));
  assert.equal(tarballs.length, 1, `npm pack made ${tarballs.join(", ")}`);
  writeFileSync(
    join(dir, "package.json"),
    JSON.stringify({ name: "atomfs-consumer", private: true, type: "module" }, null, 2),
  );
  writeFileSync(join(dir, "consumer.mjs"), CONSUMER);
  check(
    run("npm", ["install", "--offline", "--no-audit", "--no-fund", `./${tarballs[0]}`], dir),
    "npm install of the tarball",
  );
  project.ready = true;
  return dir;
}

// Imports atomfs by its package name, as a user would, on whichever runtime runs it.
const CONSUMER = `import { createAtomicFs, readTextFile, runtimeAdapter, writeFile } from "atomfs";
import { memoryAdapter } from "atomfs/memory";

const label = globalThis.Deno ? "deno" : globalThis.Bun ? "bun" : process.version;
const file = new URL("./out.txt", import.meta.url);
const receipt = await writeFile(file, \`hello from \${label}\`);
const text = await readTextFile(file);
const memory = createAtomicFs(memoryAdapter());
await memory.writeFile("/m.txt", "in memory");
console.log(JSON.stringify({
  label,
  adapter: runtimeAdapter().name,
  receipt,
  text,
  memory: await memory.readTextFile("/m.txt"),
}));
`;

function runConsumer(command: string, args: string[], adapter: string, label: RegExp): void {
  const dir = installed();
  const output = check(run(command, [...args, "consumer.mjs"], dir), `${command} consumer.mjs`);
  const result = lastJson(output) as {
    label: string;
    adapter: string;
    receipt: unknown;
    text: string;
    memory: string;
  };
  assert.match(result.label, label);
  assert.equal(result.adapter, adapter);
  assert.equal(result.text, `hello from ${result.label}`);
  assert.deepEqual(result.receipt, {
    path: join(dir, "out.txt"),
    bytes: `hello from ${result.label}`.length,
    durability: "full",
    strategy: "rename",
    attempts: 1,
    superseded: false,
  });
  assert.equal(result.memory, "in memory");
}

test("package.json and jsr.json export the same subpaths from the same sources", { skip }, () => {
  const npm = manifest("package.json");
  const jsr = manifest("jsr.json");
  assert.equal(jsr.name, "@atomfs/atomfs");
  assert.equal(npm.name, "atomfs");
  assert.equal(jsr.version, npm.version);
  assert.deepEqual(Object.keys(jsr.exports).sort(), Object.keys(npm.exports).sort());
  for (const [subpath, source] of Object.entries(jsr.exports)) {
    assert.match(
      String(source),
      /^\.\/.+\.ts$/,
      `jsr.json exports ${subpath} from ${String(source)}`,
    );
    const base = String(source).slice(2, -3);
    assert.deepEqual(npm.exports[subpath], {
      types: `./dist/${base}.d.ts`,
      default: `./dist/${base}.js`,
    });
  }
  assert.equal((npm as { main?: string }).main, (npm.exports["."] as { default: string }).default);
  assert.equal((npm as { types?: string }).types, (npm.exports["."] as { types: string }).types);
});

test(
  "deno publish --dry-run passes without slow types and publishes only the library",
  { skip },
  () => {
    const output = check(
      run(bin("deno"), ["publish", "--dry-run", "--allow-dirty", "--config", "jsr.json"]),
      "deno publish --dry-run",
    );
    assert.match(output, /Success Dry run complete/);
    // Slow types and other problems come as warning[...] or error[...] blocks
    // (the file list, with core/errors.ts in it, is not part of the verdict).
    const verdict = output
      .split("\n")
      .filter((line) =>
        !/^\s+file:\/\//.test(line) && line !== "Checking for slow types in the public API..."
      );
    assert.doesNotMatch(verdict.join("\n"), /warning|error|slow type/i);
    const root = repoRoot();
    const files = [...output.matchAll(/^\s+(file:\/\/\S+)/gm)].map((m) =>
      fileURLToPath(m[1]!).slice(root.length + 1)
    );
    for (const entry of ENTRY_POINTS) assert.ok(files.includes(entry), `${entry} is published`);
    for (const file of files) {
      assert.match(
        file,
        /^(mod\.ts|_default\.ts|jsr\.json|README\.md|LICENSE|(core|adapters)\/[a-z_]+\.ts)$/,
        `${file} should not be published`,
      );
      assert.doesNotMatch(file, /_test\.ts$/);
    }
    assert.ok(files.includes("LICENSE"), "LICENSE is published");
    if (existsSync(join(root, "README.md"))) {
      assert.ok(
        files.includes("README.md"),
        "README.md is published",
      );
    }
  },
);

test("deno doc --lint finds every export of every entry point documented", { skip }, () => {
  const output = check(run(bin("deno"), ["doc", "--lint", ...ENTRY_POINTS]), "deno doc --lint");
  // deno doc resolves the triple-slash path references of @types/node (a
  // devDependency) as packages and warns (denoland/deno#36751); those
  // warnings are about node_modules, not our docs.
  const ours = output
    .replace(
      /^Warning Failed resolving types\. Could not find package .* from referrer '[^']*\/node_modules\/@types\/node\/[^']*'\.\n\s+at .*\n/gm,
      "",
    );
  assert.doesNotMatch(ours, /warning|error/i);
  assert.match(ours, new RegExp(`Checked ${ENTRY_POINTS.length} files`));
});

test("deno lint finds nothing and deno fmt would change nothing", { skip }, () => {
  check(run(bin("deno"), ["lint"]), "deno lint");
  check(run(bin("deno"), ["fmt", "--check"]), "deno fmt --check");
});

test("publint finds nothing to fix in the npm package", { skip }, () => {
  installed(); // packing built dist/, which publint reads
  const output = check(run(bin("publint"), ["--strict"]), "publint");
  assert.doesNotMatch(output, /^(Errors|Warnings|Suggestions):/m);
  assert.match(output, /All good!/);
});

test("the npm tarball holds dist/, README.md, LICENSE and package.json only", { skip }, () => {
  const pkg = join(installed(), "node_modules", "atomfs");
  const files = filesUnder(pkg);
  for (const file of files) {
    assert.match(
      file,
      /^(dist(\/.*)?|README\.md|LICENSE|package\.json)$/,
      `${file} should not be packed`,
    );
    assert.doesNotMatch(file, /(^|\/)(tests?|bench|scripts)\/|_test\.|\.tsbuildinfo$/);
  }
  assert.ok(files.includes("LICENSE"), "LICENSE is packed");
  if (existsSync(join(repoRoot(), "README.md"))) {
    assert.ok(files.includes("README.md"), "README.md is packed");
  }
  const npm = manifest("package.json");
  for (const target of Object.values(npm.exports) as { types: string; default: string }[]) {
    for (const file of [target.types, target.default]) {
      assert.ok(existsSync(join(pkg, file)), `${file} is packed`);
    }
  }
});

test(
  "the npm package has no runtime dependencies, in the repository or in the tarball",
  { skip },
  () => {
    const inRepo = manifest("package.json");
    const packed = JSON.parse(
      readFileSync(join(installed(), "node_modules", "atomfs", "package.json"), "utf8"),
    ) as Manifest;
    for (const m of [inRepo, packed]) {
      assert.equal(m.dependencies, undefined);
      assert.equal(m.peerDependencies, undefined);
      assert.equal(m.optionalDependencies, undefined);
    }
  },
);

test("the installed tarball works by package name from Node 20", { skip }, () => {
  runConsumer(process.execPath, [], "node", /^v20\./);
});

test("the installed tarball works by package name from Node 24", { skip }, () => {
  runConsumer(bin("node"), [], "node", /^v24\./);
});

test("the installed tarball works by package name from Bun", { skip }, () => {
  runConsumer(bin("bun"), [], "bun", /^bun$/);
});

test(
  "the installed tarball works by package name from Deno, through node_modules",
  { skip },
  () => {
    runConsumer(
      bin("deno"),
      ["run", "-A", "--node-modules-dir=manual", "--no-lock"],
      "deno",
      /^deno$/,
    );
  },
);

test("the installed tarball's types resolve by package name under tsc", { skip }, () => {
  const dir = installed();
  writeFileSync(
    join(dir, "typed.ts"),
    `import { type WriteReceipt, writeFile } from "atomfs";
import { type MemoryAdapter, memoryAdapter } from "atomfs/memory";
import { nodeAdapter } from "atomfs/node";
import { denoAdapter } from "atomfs/deno";
import { bunAdapter } from "atomfs/bun";

const receipt: WriteReceipt = await writeFile("./typed.txt", "typed");
const memory: MemoryAdapter = memoryAdapter();
export const names: string[] = [nodeAdapter.name, denoAdapter.name, bunAdapter.name, memory.name, receipt.path];
`,
  );
  writeFileSync(
    join(dir, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        target: "ES2022",
        module: "NodeNext",
        moduleResolution: "NodeNext",
        lib: ["ES2022", "ESNext.Disposable", "DOM"],
        types: [],
        strict: true,
        noEmit: true,
      },
      files: ["typed.ts"],
    }),
  );
  check(run(bin("tsc"), ["-p", "tsconfig.json"], dir), "tsc on a consumer of the tarball");
});
