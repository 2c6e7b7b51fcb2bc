// Which runtime runs the tests, and how to start another process of it.

import { type ChildProcess, spawn, type SpawnOptions } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

/** The runtime running this code. */
export const runtime: "deno" | "bun" | "node" = "Deno" in globalThis
  ? "deno"
  : "Bun" in globalThis
  ? "bun"
  : "node";

/** `.ts` when the tests run from source (Deno, Bun), `.js` when compiled (Node). */
export const ext: string = import.meta.url.endsWith(".ts") ? ".ts" : ".js";

/** The repository root: the nearest directory above the tests holding jsr.json (tests/ or .build/tests/). */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "jsr.json"))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no jsr.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
  return dir;
}

/** The command line that runs `script` (a fixture beside the tests) in this runtime. */
export function commandFor(script: URL, args: string[] = []): [string, string[]] {
  const file = decodeURIComponent(script.pathname);
  if (runtime === "deno") return [process.execPath, ["run", "-A", file, ...args]];
  return [process.execPath, [file, ...args]];
}

/** A fixture script beside the tests (`tests/fixtures/<name>`), in this runtime's extension. */
export function fixture(name: string): URL {
  return new URL(`./fixtures/${name}${ext}`, import.meta.url);
}

/** The JSON value on the last line of a process's output (fixtures print their result last). */
// deno-lint-ignore no-explicit-any
export function lastJson(output: string): any {
  return JSON.parse(output.trim().split("\n").at(-1)!);
}

/** Start a fixture in a new process of this runtime. */
export function spawnFixture(
  name: string,
  args: string[] = [],
  options: SpawnOptions = {},
): ChildProcess {
  const [command, argv] = commandFor(fixture(name), args);
  return spawn(command, argv, { stdio: ["ignore", "pipe", "pipe"], ...options });
}
