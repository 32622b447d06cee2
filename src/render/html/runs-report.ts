/** The HTML chart of `rag runs --plot METRIC`: the metric over time, one line per golden set. */
import path from 'node:path';
import { VERSION } from '../../version.js';
import type { PlotGroup } from '../runs.js';
import { badge, dataCell, html, page, table } from './page.js';
import { timeChart } from './svg.js';

export function runsPlotHtml(groups: readonly PlotGroup[], metric: string, root: string): string {
  const series = groups.map((g) => ({
    name: `${g.golden_hash.slice(0, 12)}… ${g.golden_source}`,
    points: g.points.map((p) => ({
      x: Date.parse(p.run.created_at ?? '') || 0,
      y: p.value,
      tip: `${path.relative(root, p.run.dir) || '.'} · ${p.run.created_at ?? 'date unknown'} · ${metric} ${p.value.toFixed(4)} · ${p.run.mode}${p.run.rerank ? '+rerank' : ''} · ${p.run.model ?? 'BM25 only'}`,
    })),
  }));
  const rows = groups.flatMap((g) =>
    g.points.map((p) => [
      p.run.created_at ?? '—',
      html`<span class="mono">${path.relative(root, p.run.dir) || '.'}</span>`,
      html`<span class="mono">${g.golden_hash.slice(0, 12)}…</span>`,
      `${p.run.mode}${p.run.rerank ? ' + rerank' : ''}`,
      p.run.model ?? 'none (BM25)',
      dataCell(p.value.toFixed(4), { run: path.relative(root, p.run.dir) || '.', value: p.value }),
      p.run.gate === null ? html`<span class="muted">—</span>` : badge(p.run.gate.passed ? 'passed' : 'failed', p.run.gate.passed ? 'good' : 'bad'),
    ]),
  );
  const body = html`${groups.length ? timeChart({ id: 'plot', title: `${metric} over time`, series, yLabel: metric }) : html`<p>No run under this folder has ${metric}.</p>`}
<h2>Runs</h2>
${table(['date', 'run', 'golden set', 'mode', 'model', { head: metric, num: true }, 'gate'], rows, { id: 'runs' })}
<p class="muted">A metric is only comparable on one golden set, so each golden set is its own line.</p>`;
  return page({ title: `rag runs — ${metric}`, subtitle: `${rows.length} runs under ${root}`, body, sources: ['the manifest.json, metrics.json, timings.json and gate.json of each run'], generator: `rag ${VERSION}` });
}
