/**
 * `rag runs` in the terminal: the run history as a table, and a sparkline of one metric per
 * golden set.
 */
import path from 'node:path';
import type { RunListing, RunSummary } from '../engine/evaluation/runs.js';
import { runValue } from '../engine/evaluation/runs.js';
import { fitText, makeTable } from './table.js';

const TICKS = '▁▂▃▄▅▆▇█';

/** One character per value, scaled between the series' min and max. */
export function sparkline(values: readonly number[]): string {
  if (values.length === 0) return '';
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  return values.map((v) => TICKS[hi === lo ? 3 : Math.round(((v - lo) / (hi - lo)) * (TICKS.length - 1))]).join('');
}

const f4 = (x: number | undefined) => (x === undefined ? '—' : x.toFixed(4));
const gateText = (r: RunSummary) => (r.gate === null ? '—' : r.gate.passed ? 'passed' : 'FAILED');

export const KEY_METRICS = ['ndcg@10', 'recall@100', 'mrr@10'];

export function runsTable(listing: RunListing): string {
  if (listing.runs.length === 0) return `no eval artifacts under ${listing.root}`;
  const t = makeTable(['date', 'run', 'golden', 'mode', 'model', ...KEY_METRICS, 'p95 ms', 'gate'], { fit: { keep: [0, 5, 6, 7, 8, 9], truncate: [2, 4], drop: [4, 7, 8, 3] } });
  for (const r of listing.runs) {
    t.push([
      r.created_at ? r.created_at.slice(0, 16).replace('T', ' ') : '—',
      path.relative(listing.root, r.dir) || '.',
      `${r.golden_hash.slice(0, 8)} ${path.basename(r.golden_source.replace(/^\w+:/, '').replace(/ \(split.*$/, ''))}`,
      `${r.mode}${r.rerank ? '+rerank' : ''}`,
      r.model ?? 'none (BM25)',
      ...KEY_METRICS.map((m) => f4(r.mean[m])),
      r.latency ? r.latency.p95_ms.toFixed(1) : '—',
      gateText(r),
    ]);
  }
  const dropped = t.droppedColumns();
  return [
    t.toString(),
    fitText(`${listing.runs.length} runs under ${listing.root}${dropped.length ? ` (left out to fit: ${dropped.join(', ')}; --json has everything)` : ''}`),
  ].join('\n');
}

export interface PlotGroup {
  golden_hash: string;
  golden_source: string;
  points: Array<{ run: RunSummary; value: number }>;
}

/** Runs that have the metric, one group per golden set (a metric is only comparable on one set). */
export function plotGroups(runs: readonly RunSummary[], metric: string): PlotGroup[] {
  const groups = new Map<string, PlotGroup>();
  for (const run of runs) {
    const value = runValue(run, metric);
    if (value === undefined) continue;
    const g = groups.get(run.golden_hash) ?? { golden_hash: run.golden_hash, golden_source: run.golden_source, points: [] };
    g.points.push({ run, value });
    groups.set(run.golden_hash, g);
  }
  return [...groups.values()];
}

export function sparklines(groups: readonly PlotGroup[], metric: string): string {
  return groups
    .map((g) => {
      const vs = g.points.map((p) => p.value);
      const last = vs[vs.length - 1]!;
      return fitText(
        `${metric} on ${g.golden_hash.slice(0, 12)}… (${g.golden_source}), ${vs.length} runs:\n  ${sparkline(vs)}  ` +
          `first ${f4(vs[0])} → last ${f4(last)} · min ${f4(Math.min(...vs))} · max ${f4(Math.max(...vs))}`,
      );
    })
    .join('\n');
}
