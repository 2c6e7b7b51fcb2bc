// Every module imports cleanly on every runtime: adapters touch runtime
// globals (Deno, Bun) only inside their methods, never at load.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { ext } from "./_runtime.ts";

const root = new URL("../", import.meta.url);

function modules(): URL[] {
  const found = [new URL(`mod${ext}`, root), new URL(`_default${ext}`, root)];
  for (const dir of ["core", "adapters"]) {
    for (const name of readdirSync(new URL(`${dir}/`, root))) {
      if (name.endsWith(ext) && !name.endsWith(".d.ts")) {
        found.push(new URL(`${dir}/${name}`, root));
      }
    }
  }
  return found;
}

test("every module of the library imports without throwing on this runtime", async () => {
  const list = modules();
  assert.ok(list.length >= 15, `found ${list.length} modules`);
  for (const url of list) await import(url.href);
});

test("the entry point exports the whole public API", async () => {
  const mod = await import(new URL(`mod${ext}`, root).href);
  for (
    const name of [
      "writeFile",
      "writeFileSync",
      "writeJson",
      "openAtomic",
      "readFile",
      "readTextFile",
      "readJson",
      "sweep",
      "probe",
      "watch",
      "reloadable",
      "listBackups",
      "rollback",
      "writeDirectory",
      "readDirectory",
      "rollbackDirectory",
      "createAtomicFs",
      "AtomFsError",
    ]
  ) {
    assert.equal(typeof mod[name], "function", name);
  }
  for (
    const [file, name] of [["node", "nodeAdapter"], ["deno", "denoAdapter"], ["bun", "bunAdapter"]]
  ) {
    const adapter = (await import(new URL(`adapters/${file}${ext}`, root).href))[name];
    assert.equal(adapter.name, file);
  }
  const { memoryAdapter } = await import(new URL(`adapters/memory${ext}`, root).href);
  assert.equal(typeof memoryAdapter().inject, "function");
});
