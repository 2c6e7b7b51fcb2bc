// Event-loop delay (scenario E) during the timed part of scenarios A to C.
//
// - Everywhere, a 1 ms setInterval probe: each tick records how late it fired
//   (time since the previous tick minus 1 ms). The largest lateness is the
//   longest stretch during which no timer could run.
// - On Linux, each tick also reads the main thread's /proc/thread-self/schedstat
//   (time on a CPU, time waiting in the run queue). On a small shared machine
//   most long stalls are the thread waiting for a CPU that others hold (an idle
//   process sees 5-40 ms here while other work runs). `netMaxMs` is the largest
//   lateness minus that wait: the thread running or asleep (in a synchronous
//   call, or its virtual CPU taken by the host, which the guest cannot see).
//   `busyMaxMs` is the most CPU time the thread spent between two ticks:
//   JavaScript, garbage collection and the CPU part of synchronous calls, the
//   stall a library causes by itself whatever else the machine does (read
//   after a process.cpuUsage() call, which makes the kernel count the time
//   up to now: see `schedstat`).
// - On Node, also perf_hooks.monitorEventLoopDelay (resolution 1 ms), whose
//   max and p99 are reported as Node computes them (its intervals include the
//   1 ms period). Deno's and Bun's implementations do not see a blocked loop
//   reliably, so the probe is the figure compared across runtimes.

import { closeSync, openSync, readSync } from "node:fs";
import { monitorEventLoopDelay } from "node:perf_hooks";
import process from "node:process";

function isNode() {
  const g = globalThis;
  return g.Deno === undefined && g.Bun === undefined && process.release?.name === "node";
}

/** Time on a CPU and in the run queue of the calling thread so far, in ms, or undefined where unknown. */
function schedstat() {
  let fd;
  try {
    fd = openSync("/proc/thread-self/schedstat", "r");
  } catch {
    return undefined;
  }
  const buffer = new Uint8Array(128);
  const decoder = new TextDecoder();
  return {
    read() {
      // The kernel adds a running thread's CPU time to the figure read here
      // only at a scheduler tick (every 4 ms at HZ=250) or when the thread
      // sleeps: read as it stands after a block, it lacks up to a tick of it
      // (a 6 ms block read as 3.3-5.9 ms, the rest landing in the next
      // stretch). getrusage(RUSAGE_SELF), which process.cpuUsage() calls on
      // every runtime, first brings the calling thread's figure up to date.
      process.cpuUsage();
      const n = readSync(fd, buffer, 0, buffer.length, 0);
      const [run, wait] = decoder.decode(buffer.subarray(0, n)).split(" ").map(Number);
      return { run: run / 1e6, wait: wait / 1e6 };
    },
    close: () => closeSync(fd),
  };
}

/**
 * Start measuring; call the returned function to stop.
 *
 * @returns {() => { maxMs: number, netMaxMs?: number, busyMaxMs?: number, eldMaxMs?: number, eldP99Ms?: number }}
 */
export function startStallProbe() {
  const sched = schedstat();
  const zero = { run: 0, wait: 0 };
  let last = performance.now();
  let lastStat = sched?.read() ?? zero;
  let max = 0;
  let netMax = 0;
  let busyMax = 0;
  const tick = () => {
    const now = performance.now();
    const stat = sched?.read() ?? zero;
    const late = now - last - 1;
    max = Math.max(max, late);
    netMax = Math.max(netMax, late - (stat.wait - lastStat.wait));
    busyMax = Math.max(busyMax, stat.run - lastStat.run);
    last = now;
    lastStat = stat;
  };
  const timer = setInterval(tick, 1);
  const histogram = isNode() ? monitorEventLoopDelay({ resolution: 1 }) : undefined;
  histogram?.enable();
  return () => {
    // A stall that lasts until the end of the measured stretch counts too.
    tick();
    clearInterval(timer);
    sched?.close();
    const round = (ms) => Math.round(ms * 100) / 100;
    const result = { maxMs: round(max) };
    if (sched) {
      result.netMaxMs = round(netMax);
      result.busyMaxMs = round(busyMax);
    }
    if (histogram) {
      histogram.disable();
      result.eldMaxMs = round(histogram.max / 1e6);
      result.eldP99Ms = round(histogram.percentile(99) / 1e6);
    }
    return result;
  };
}
