// The adapters' `channel()`: node:diagnostics_channel, which Node, Deno and
// Bun all provide.
//
// atomfs holds its channels from the moment this module loads. Bun keeps a
// channel only while something references the channel object: a listener
// added with `diagnostics.subscribe(name, fn)` was lost at the next garbage
// collection, and events were published to a fresh channel with no one
// listening (measured on Bun 1.4.5; Node and Deno keep subscribed channels).
// Made at load, before any subscriber can be collected, so that a listener
// added before the first write keeps its events too. Creating a channel does
// no I/O and starts nothing.

import diagnostics from "node:diagnostics_channel";
import type { EventChannel } from "../core/adapter.ts";
import { CHANNELS } from "../core/events.ts";

const held = new Map<string, EventChannel>(
  Object.values(CHANNELS).map((name) => [name, diagnostics.channel(name)]),
);

/** The `node:diagnostics_channel` channel of that name (atomfs's own are held for the life of the process). */
export function diagnosticsChannel(name: string): EventChannel {
  return held.get(name) ?? diagnostics.channel(name);
}
