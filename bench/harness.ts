/** Small benchmark helpers: medians of batched timings, a ratio table. */
import { performance } from 'node:perf_hooks';

export interface Row {
  name: string;
  keyward: number;
  anchor: number;
  unit: string;
  target?: string;
  /** `higher` when the anchor's number divided by keyward's is the speed-up. */
  better?: 'lower' | 'higher';
}

/** Median time per call in µs over `samples` batches of `batch` calls. */
export async function median(fn: () => unknown | Promise<unknown>, samples: number, batch = 1): Promise<number> {
  // Warm up: a quarter of the measured calls, at least three, so the JIT has settled.
  const warmup = Math.max(3, Math.ceil((samples * batch) / 4));
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let s = 0; s < samples; s++) {
    const start = performance.now();
    for (let i = 0; i < batch; i++) await fn();
    times.push(((performance.now() - start) * 1000) / batch);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/**
 * Medians of two functions measured in alternating batches, so that both see
 * the same machine: on a shared box, load that comes and goes otherwise
 * lands on whichever side happened to run at the time.
 */
export async function paired(a: () => unknown | Promise<unknown>, b: () => unknown | Promise<unknown>, samples: number, batch = 1): Promise<[number, number]> {
  const warmup = Math.max(3, Math.ceil((samples * batch) / 4));
  for (let i = 0; i < warmup; i++) {
    await a();
    await b();
  }
  const times: [number[], number[]] = [[], []];
  for (let s = 0; s < samples; s++) {
    for (const [i, fn] of [a, b].entries()) {
      const start = performance.now();
      for (let j = 0; j < batch; j++) await fn();
      times[i].push(((performance.now() - start) * 1000) / batch);
    }
  }
  const mid = (t: number[]) => t.sort((x, y) => x - y)[Math.floor(t.length / 2)];
  return [mid(times[0]), mid(times[1])];
}

export function fmt(us: number): string {
  if (us >= 1000) return `${(us / 1000).toFixed(1)} ms`;
  return `${us.toFixed(1)} µs`;
}

export function table(title: string, anchorName: string, rows: Row[]): string {
  const lines = [
    `| ${title} | keyward | ${anchorName} | ratio | target |`,
    '| --- | ---: | ---: | ---: | --- |',
    ...rows.map((r) => {
      const ratio = r.anchor / r.keyward;
      const k = r.unit === 'µs' ? fmt(r.keyward) : `${r.keyward.toFixed(1)} ${r.unit}`;
      const a = r.unit === 'µs' ? fmt(r.anchor) : `${r.anchor.toFixed(1)} ${r.unit}`;
      return `| ${r.name} | ${k} | ${a} | ${Number.isFinite(ratio) ? `${ratio.toFixed(1)}×` : '—'} | ${r.target ?? ''} |`;
    }),
  ];
  return lines.join('\n');
}

/** A ratio's median over rounds, with the spread that the rounds showed. */
export interface Spread {
  median: number;
  min: number;
  max: number;
  /** Every round's value, in order, for the record. */
  rounds: number[];
}

export function spread(values: number[]): Spread {
  const sorted = [...values].sort((x, y) => x - y);
  return { median: sorted[Math.floor(sorted.length / 2)], min: sorted[0], max: sorted[sorted.length - 1], rounds: values };
}

export const showSpread = (s: Spread, digits = 2) =>
  `${s.median.toFixed(digits)}× (${s.min.toFixed(digits)}–${s.max.toFixed(digits)} over ${s.rounds.length} rounds)`;

/**
 * Runs `a` and `b` in alternating short rounds (the order swapped every
 * round, so neither always runs first) and returns the per-round ratio
 * `score(a) / score(b)` with its spread. On a shared, noisy box a phase that
 * runs alone lets the load of the moment decide; alternating rounds let both
 * sides see the same machine.
 */
export async function interleaved<T>(
  rounds: number,
  a: () => Promise<T>,
  b: () => Promise<T>,
  ratio: (a: T, b: T) => number,
): Promise<{ ratio: Spread; a: T[]; b: T[] }> {
  const results: { a: T[]; b: T[] } = { a: [], b: [] };
  const ratios: number[] = [];
  for (let r = 0; r < rounds; r++) {
    let ra: T;
    let rb: T;
    if (r % 2 === 0) {
      ra = await a();
      rb = await b();
    } else {
      rb = await b();
      ra = await a();
    }
    results.a.push(ra);
    results.b.push(rb);
    ratios.push(ratio(ra, rb));
  }
  return { ratio: spread(ratios), ...results };
}
