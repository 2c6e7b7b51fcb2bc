// One measurement in a fresh process: one scenario, one contender, one
// repetition, in a fresh temp directory that is removed afterwards. Runs
// unchanged on Node 20, Node 24, Deno and Bun (plain JS, node: built-ins only),
// and prints its result as one JSON line on stdout for scripts/bench.mjs.
//
//   <runtime> bench/_worker.mjs --scenario=<file> --id=<scenario id> \
//     --contender=<name> --atomfs=<module> [--dir=<parent of the temp dir>]

import { mkdtemp, realpath, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import process from "node:process";
import { pathToFileURL } from "node:url";

const args = Object.fromEntries(
  process.argv.slice(2).map((arg) => {
    const [key, ...value] = arg.replace(/^--/, "").split("=");
    return [key, value.join("=")];
  }),
);
for (const key of ["scenario", "id", "contender", "atomfs"]) {
  if (!args[key]) throw new TypeError(`missing --${key}=`);
}

function runtime() {
  const g = globalThis;
  if (typeof g.Deno === "object" && g.Deno?.version) {
    return { runtime: "deno", version: g.Deno.version.deno };
  }
  if (g.Bun !== undefined) return { runtime: "bun", version: g.Bun.version };
  return { runtime: `node${process.versions.node.split(".")[0]}`, version: process.versions.node };
}

try {
  const module = await import(pathToFileURL(resolve(args.scenario)).href);
  // A file may export more than one scenario (D and its --big variant).
  const scenario = Object.values(module).find((value) => value?.id === args.id);
  if (!scenario) throw new TypeError(`${args.scenario} exports no scenario '${args.id}'`);
  if (!scenario.contenders.includes(args.contender)) {
    throw new TypeError(`scenario ${scenario.id} has no contender '${args.contender}'`);
  }
  // The library is imported only by the contenders that use it, and before the clock starts.
  const loadAtomfs = () => import(pathToFileURL(resolve(args.atomfs)).href);
  // realpath: on macOS /tmp is a symlink, which atomfs would resolve on every write and the floor not.
  const dir = await mkdtemp(join(await realpath(args.dir || tmpdir()), "atomfs-bench-"));
  let result;
  try {
    result = await scenario.run({ contender: args.contender, loadAtomfs, dir });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  console.log(
    JSON.stringify({ ...runtime(), scenario: scenario.id, contender: args.contender, ...result }),
  );
} catch (error) {
  console.log(
    JSON.stringify({
      ...runtime(),
      error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
    }),
  );
  process.exitCode = 1;
}
