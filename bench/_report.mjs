// Turning the measurements of one run into Markdown tables and target checks.
// Runs in the runner (scripts/bench.mjs) and in scripts/overhead.mjs, never in a scenario's worker.
//
// Every report function receives { scenario, results, traced, runtimes, all }:
// results[runtime][contender] is one entry per repetition, in round order, each
// the worker's result or { error }; traced[runtime][contender] the syscall
// counts of the extra run under strace (scenarios with `strace` only); all[id]
// the same context for every scenario of the run. It returns { text, targets },
// each target being { name, cells: { [runtime]: { text, met } } } with `met`
// true, false, or undefined when it could not be measured.

/** The median of some numbers. */
export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The value at fraction `p` (0–1) of an ascending array (nearest rank, rounding down). */
export function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

/** A whole number with thousands separators. */
export const int = (n) => (Math.round(n) || 0).toLocaleString("en"); // never "-0"

/** A number with `digits` decimals. */
export const fixed = (n, digits = 2) => n.toFixed(digits);

/** A Markdown table; `align` holds "l" or "r" per column. */
export function table(head, rows, align) {
  return [
    `| ${head.join(" | ")} |`,
    `|${align.map((a) => (a === "r" ? "---:" : "---")).join("|")}|`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ].join("\n");
}

/** The repetitions that produced a result. */
export function succeeded(runs) {
  return (runs ?? []).filter((r) => r && !r.error);
}

/** "n/a (why)" for a contender none of whose runs succeeded. */
export function unavailable(runs) {
  const error = (runs ?? []).find((r) => r?.error)?.error ?? "not run";
  const short = error.replace(/^exit \S+: /, "").split("\n")[0];
  return `n/a (${short.length > 90 ? `${short.slice(0, 87)}…` : short})`;
}

/** The label of a runtime with its version, for the first row of its block. */
export function runtimeCell(runtime) {
  return `${runtime.label} (${runtime.version.split(" ")[1]})`;
}

/** "met" or "missed" after a value, or the value alone when it could not be judged. */
export function verdict(met) {
  return met === undefined ? "" : met ? " met" : " **missed**";
}

/**
 * Ratios of a contender's per-repetition values to another's measured in the
 * same round: the spread that the machine's noise gives the ratio of medians.
 */
export function pairedRange(mine, theirs, value) {
  const ratios = [];
  for (let rep = 0; rep < Math.max(mine.length, theirs.length); rep++) {
    const a = mine[rep];
    const b = theirs[rep];
    if (a && !a.error && b && !b.error) ratios.push(value(a) / value(b));
  }
  return ratios.length ? `${fixed(Math.min(...ratios))}–${fixed(Math.max(...ratios))}` : "";
}

const rate = (r) => r.ops / r.seconds;

/**
 * One runtime's ratio of `contender`'s median rate to `versus`'s, with the
 * paired min–max and the time per op it adds (µs); or, where either has no
 * successful run, why (`missing`).
 */
function compare(byContender, contender, versus) {
  const mine = byContender[contender];
  const theirs = byContender[versus];
  const a = succeeded(mine);
  const b = succeeded(theirs);
  if (!a.length || !b.length) return { missing: unavailable(a.length ? theirs : mine) };
  const mineRate = median(a.map(rate));
  const theirRate = median(b.map(rate));
  return {
    ratio: mineRate / theirRate,
    range: pairedRange(mine, theirs, rate),
    extra: 1e6 / mineRate - 1e6 / theirRate,
  };
}

/**
 * The report of a throughput scenario (A, B): one row per runtime and
 * contender (median rate, range, time, CPU time, latency percentiles, ratio to
 * the baseline), then the ratios the scenario's `comparisons` ask for, each
 * marked met or missed, and those its `bounds` list, for information.
 */
export function rateReport({ scenario, results, runtimes }) {
  const { contenders, baseline, unit, op } = scenario;
  const rows = [];
  for (const runtime of runtimes) {
    const byContender = results[runtime.label];
    const base = succeeded(byContender[baseline]);
    const baseMedian = base.length ? median(base.map(rate)) : undefined;
    contenders.forEach((contender, i) => {
      const all = byContender[contender];
      const runs = succeeded(all);
      const cell = [i === 0 ? runtimeCell(runtime) : "", contender];
      if (runs.length === 0) {
        rows.push([...cell, unavailable(all), "", "", "", "", ""]);
        return;
      }
      const rates = runs.map(rate);
      const m = median(rates);
      let vs = "";
      if (contender === baseline) vs = "1.00";
      else if (baseMedian !== undefined) {
        const range = pairedRange(all, byContender[baseline], rate);
        vs = `${fixed(m / baseMedian)}${range ? ` (${range})` : ""}`;
      }
      rows.push([
        ...cell,
        int(m) + (runs.length < all.length ? ` (${runs.length} of ${all.length} runs)` : ""),
        `${int(Math.min(...rates))}–${int(Math.max(...rates))}`,
        int(1e6 / m),
        int(median(runs.map((r) => r.cpuUs))),
        `${int(median(runs.map((r) => r.p50Us)))} / ${int(median(runs.map((r) => r.p99Us)))}`,
        vs,
      ]);
    });
  }
  const targets = [];
  const ratioRows = runtimes.map((r) => [r.label]);
  for (const { contender, versus, min } of scenario.comparisons ?? []) {
    const target = {
      name: `${scenario.id}: ${contender} ÷ ${versus} ≥ ${fixed(min)}× (writes/s)`,
      cells: {},
    };
    runtimes.forEach((runtime, i) => {
      const { missing, ratio, range, extra } = compare(results[runtime.label], contender, versus);
      if (missing !== undefined) {
        target.cells[runtime.label] = { text: missing, met: undefined };
        ratioRows[i].push(missing);
        return;
      }
      const met = ratio >= min;
      target.cells[runtime.label] = { text: `${fixed(ratio)}×`, met };
      ratioRows[i].push(
        `${fixed(ratio)} (${range}; ${extra < 0 ? "−" : "+"}${int(Math.abs(extra))} µs/${op})${
          verdict(met)
        }`,
      );
    });
    targets.push(target);
  }
  const comparisons = scenario.comparisons ?? [];
  const bounds = scenario.bounds ?? [];
  const boundRows = runtimes.map((runtime) => [
    runtime.label,
    ...bounds.map(({ contender, versus }) => {
      const { missing, ratio, range } = compare(results[runtime.label], contender, versus);
      return missing ?? `${fixed(ratio)} (${range})`;
    }),
  ]);
  const text = [
    `## Scenario ${scenario.id}: ${scenario.title}`,
    "",
    table(
      [
        "runtime",
        "contender",
        `median ${unit}`,
        `min–max ${unit}`,
        `µs/${op}`,
        `CPU µs/${op}`,
        "p50 / p99 µs",
        `÷ ${baseline} (paired min–max)`,
      ],
      rows,
      ["l", "l", "r", "r", "r", "r", "r", "r"],
    ),
    "",
    ...(scenario.notes ?? []).flatMap((note) => [note, ""]),
    "Targets: ratio of median writes/s (paired min–max; time per write it adds or saves):",
    "",
    table(
      ["runtime", ...comparisons.map((c) => `${c.contender} ÷ ${c.versus} (≥ ${fixed(c.min)})`)],
      ratioRows,
      ["l", ...comparisons.map(() => "r")],
    ),
    ...(bounds.length
      ? [
        "",
        "For information, the limits: ratio of median writes/s (paired min–max):",
        "",
        table(
          ["runtime", ...bounds.map((c) => `${c.contender} ÷ ${c.versus}`)],
          boundRows,
          ["l", ...bounds.map(() => "r")],
        ),
      ]
      : []),
  ].join("\n");
  return { text, targets };
}
