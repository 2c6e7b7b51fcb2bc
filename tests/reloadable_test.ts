// reloadable(): the latest valid value parsed from a file; bad versions and
// slow parses keep the last good value and are reported; the reload and
// reload-timeout events carry their documented fields.

import { test } from "node:test";
import assert from "node:assert/strict";
import diagnostics from "node:diagnostics_channel";
import { createAtomicFs } from "../core/atomic_fs.ts";
import { CHANNELS, type ReloadEvent, type ReloadTimeoutEvent } from "../core/events.ts";
import { reloadable } from "../core/reloadable.ts";
import type { FileVersion } from "../core/watch.ts";
import { memoryAdapter } from "../adapters/memory.ts";

const decoder = new TextDecoder();
const json = (bytes: Uint8Array) => JSON.parse(decoder.decode(bytes)) as { port: number };

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Wait until `condition` holds, or fail after `ms`. */
async function until(condition: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

function memory() {
  const mem = memoryAdapter();
  mem.sync.mkdir("/etc", 0o755);
  return { mem, fs: createAtomicFs(mem) };
}

/** Collect a diagnostics channel's messages while `body` runs. */
async function collecting<T>(
  name: string,
  body: (messages: T[]) => Promise<void>,
): Promise<void> {
  const messages: T[] = [];
  const listener = (message: unknown) => void messages.push(message as T);
  diagnostics.subscribe(name, listener);
  try {
    await body(messages);
  } finally {
    diagnostics.unsubscribe(name, listener);
  }
}

test("reloadable() holds the current value, its hash and the time it was loaded, and follows replacements", async () => {
  const { mem, fs } = memory();
  await fs.writeFile("/etc/app.json", '{"port":1}');
  const reloads: number[] = [];
  const before = Date.now();
  await using config = reloadable(mem, "/etc/app.json", {
    parse: json,
    debounceMs: 0,
    onReload: (value) => reloads.push(value.port),
  });
  assert.equal(config.value, undefined);
  assert.deepEqual(await config.ready(), { port: 1 });
  assert.deepEqual(config.value, { port: 1 });
  assert.match(config.hash!, /^[0-9a-f]{64}$/);
  assert.ok(config.reloadedAt! >= before && config.reloadedAt! <= Date.now());
  const firstHash = config.hash;
  await fs.writeFile("/etc/app.json", '{"port":2}');
  await until(() => config.value?.port === 2, "port 2");
  assert.notEqual(config.hash, firstHash);
  assert.deepEqual(reloads, [1, 2]);
  assert.equal(config.error, undefined);
});

test("reloadable() keeps the last good value when a new version fails to parse or validate, and reports it", async () => {
  const { mem, fs } = memory();
  await fs.writeFile("/etc/app.json", '{"port":1}');
  const errors: [unknown, FileVersion | undefined][] = [];
  await using config = reloadable(mem, "/etc/app.json", {
    parse: (bytes) => {
      const value = json(bytes);
      if (typeof value.port !== "number") throw new TypeError("port must be a number");
      return value;
    },
    debounceMs: 0,
    onError: (error, version) => errors.push([error, version]),
  });
  await config.ready();
  const goodHash = config.hash;
  const goodAt = config.reloadedAt;

  await fs.writeFile("/etc/app.json", '{"port":'); // does not parse
  await until(() => errors.length === 1, "the parse error");
  assert.ok(errors[0]![0] instanceof SyntaxError);
  assert.equal(decoder.decode(errors[0]![1]!.content), '{"port":');
  assert.equal(config.error, errors[0]![0]);

  await fs.writeFile("/etc/app.json", '{"port":"80"}'); // parses, fails validation
  await until(() => errors.length === 2, "the validation error");
  assert.ok(errors[1]![0] instanceof TypeError);

  assert.deepEqual(config.value, { port: 1 });
  assert.equal(config.hash, goodHash);
  assert.equal(config.reloadedAt, goodAt);

  await fs.writeFile("/etc/app.json", '{"port":3}');
  await until(() => config.value?.port === 3, "port 3");
  assert.equal(config.error, undefined);
});

test("reloadable() reports a parse that does not finish within timeoutMs, keeps the last good value, and goes on", async () => {
  const { mem, fs } = memory();
  await fs.writeFile("/etc/app.json", '{"port":1}');
  const errors: unknown[] = [];
  let hang = false;
  await using config = reloadable(mem, "/etc/app.json", {
    parse: (bytes) => hang ? new Promise<never>(() => {}) : json(bytes),
    timeoutMs: 100,
    debounceMs: 0,
    onError: (error) => errors.push(error),
  });
  await config.ready();
  hang = true;
  const started = Date.now();
  await fs.writeFile("/etc/app.json", '{"port":2}');
  await until(() => errors.length === 1, "the timeout", 2000);
  const took = Date.now() - started;
  assert.ok(took >= 90 && took < 1000, `reported after ${took} ms`);
  assert.ok(errors[0] instanceof DOMException);
  assert.equal(errors[0].name, "TimeoutError");
  assert.match(errors[0].message, /took longer than 100 ms/);
  assert.deepEqual(config.value, { port: 1 });
  // A hung reload does not block the next one.
  hang = false;
  await fs.writeFile("/etc/app.json", '{"port":3}');
  await until(() => config.value?.port === 3, "port 3");
});

test("reloadable() publishes atomfs:reload with path, hash and latency, and atomfs:reload:timeout with path and timeoutMs", async () => {
  const { mem, fs } = memory();
  await fs.writeFile("/etc/app.json", '{"port":1}');
  await collecting<ReloadEvent>(CHANNELS.reload, async (reloads) => {
    await collecting<ReloadTimeoutEvent>(CHANNELS.reloadTimeout, async (timeouts) => {
      let slow = false;
      await using config = reloadable(mem, "/etc/app.json", {
        parse: async (bytes) => {
          if (slow) await sleep(300);
          return json(bytes);
        },
        timeoutMs: 50,
        debounceMs: 0,
      });
      await config.ready();
      assert.equal(reloads.length, 1);
      assert.deepEqual(Object.keys(reloads[0]!).sort(), ["hash", "latencyMs", "path"]);
      assert.equal(reloads[0]!.path, "/etc/app.json");
      assert.equal(reloads[0]!.hash, config.hash);
      assert.equal(
        reloads[0]!.latencyMs,
        config.reloadedAt! - mem.sync.lstat("/etc/app.json").mtimeMs,
      );
      assert.ok(reloads[0]!.latencyMs >= 0);

      slow = true;
      await fs.writeFile("/etc/app.json", '{"port":2}');
      await until(() => timeouts.length === 1, "the timeout event");
      assert.deepEqual(timeouts[0], { path: "/etc/app.json", timeoutMs: 50 });
      assert.equal(reloads.length, 1);
      // The slow parse finishing later is discarded.
      await sleep(350);
      assert.deepEqual(config.value, { port: 1 });
      assert.equal(reloads.length, 1);
    });
  });
});

test("reloadable() ready() waits for a file that does not exist yet, and rejects once disposed", async () => {
  const { mem, fs } = memory();
  const config = reloadable(mem, "/etc/late.json", { parse: json, debounceMs: 0 });
  const ready = config.ready();
  await sleep(20);
  await fs.writeFile("/etc/late.json", '{"port":9}');
  assert.deepEqual(await ready, { port: 9 });
  await config[Symbol.asyncDispose]();
  await config[Symbol.asyncDispose]();
  assert.deepEqual(config.value, { port: 9 });

  const never = reloadable(mem, "/etc/missing.json", { parse: json });
  const waiting = never.ready();
  await never[Symbol.asyncDispose]();
  await assert.rejects(waiting, { name: "AbortError" });
  await assert.rejects(never.ready(), { name: "AbortError" });
});

test("reloadable() rejects bad arguments before any I/O", () => {
  const { mem } = memory();
  const calls = mem.log.length;
  const bad: [unknown, new (...args: never[]) => Error][] = [
    [undefined, TypeError],
    [{}, TypeError],
    [{ parse: "JSON" }, TypeError],
    [{ parse: json, timeoutMs: -1 }, RangeError],
    [{ parse: json, timeoutMs: "5s" }, TypeError],
    [{ parse: json, onError: 1 }, TypeError],
    [{ parse: json, poll: 0 }, RangeError],
  ];
  for (const [options, type] of bad) {
    assert.throws(
      () => reloadable(mem, "/etc/app.json", options as never),
      type,
      JSON.stringify(options),
    );
  }
  assert.throws(() => reloadable(mem, "", { parse: json }), TypeError);
  assert.equal(mem.log.length, calls);
});
