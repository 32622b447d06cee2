/**
 * report.html of `rag diff-eval --out`, rendered from the files written beside it: comparison.json
 * (the whole DiffResult) and per-query.json (every paired query's value in A and in B, per compared
 * metric — what the "who won, who lost" plot needs and the movers alone do not give).
 */
import type { DiffInput, DiffResult, DocMove, MetricDiff, Mover } from '../../engine/evaluation/diff.js';
import { normaliseArtifactFile } from '../../engine/evaluation/artifact-keys.js';
import { stableStringify } from '../../engine/hash.js';
import { VERSION } from '../../version.js';
import { formatP } from '../diff-report.js';
import { badge, banner, dataCell, fixed, html, page, short, table, type Raw } from './page.js';
import { ciStrip, deltaBars } from './svg.js';

export type PerQueryPairs = Record<string, Record<string, { a: number; b: number }>>;

/** per-query.json: for each compared metric, every paired query's value in A and B (stable bytes). */
export function diffPerQueryJson(result: DiffResult, a: Pick<DiffInput, 'perQuery'>, b: Pick<DiffInput, 'perQuery'>): string {
  const qids = Object.keys(a.perQuery).filter((q) => q in b.perQuery);
  const out: PerQueryPairs = {};
  for (const m of result.metrics) {
    const rows: Record<string, { a: number; b: number }> = {};
    for (const q of qids) rows[q] = { a: a.perQuery[q]![m.metric] ?? 0, b: b.perQuery[q]![m.metric] ?? 0 };
    out[m.metric] = rows;
  }
  return `${JSON.stringify(JSON.parse(stableStringify({ metrics: out })), null, 2)}\n`;
}

const NOISE = 1e-12;
const signed = (x: number) => (Math.abs(x) <= NOISE ? '0' : `${x > 0 ? '+' : '−'}${Math.abs(x).toFixed(4)}`);
const rel = (m: MetricDiff) => (m.rel_delta === null ? '—' : Math.abs(m.rel_delta) <= NOISE ? '0' : `${m.rel_delta > 0 ? '+' : '−'}${Math.abs(m.rel_delta * 100).toFixed(1)}%`);

function headline(result: DiffResult): Raw {
  if (result.gate) {
    const failed = result.gate.results.filter((r) => !r.passed);
    return banner(failed.length ? 'Gate failed.' : 'Gate passed.', result.gate.results.map((r) => `${r.rule.source}: ${r.message}`).join(' · '), failed.length ? 'bad' : 'good');
  }
  const m = result.metrics[0]!;
  const sig = m.p_adjusted < result.settings.alpha;
  const dir = m.delta > NOISE ? 'better' : m.delta < -NOISE ? 'worse' : 'unchanged';
  const tone = !sig ? 'neutral' : m.delta > 0 ? 'good' : 'bad';
  return banner(
    sig ? `B is ${dir} on ${m.metric}.` : `No significant difference on ${m.metric}.`,
    `Δ ${signed(m.delta)} (95% CI [${signed(m.ci.lower)}, ${signed(m.ci.upper)}]), p Holm ${formatP(m.p_adjusted)} at alpha ${result.settings.alpha}; ${m.wins} queries won, ${m.losses} lost, ${m.ties} tied.`,
    tone,
  );
}

function metricTable(result: DiffResult): Raw {
  const span = Math.max(1e-6, ...result.metrics.flatMap((m) => [Math.abs(m.ci.lower), Math.abs(m.ci.upper), Math.abs(m.delta)])) * 1.15;
  const rows = result.metrics.map((m) => {
    const sig = m.p_adjusted < result.settings.alpha;
    return [
      html`<span class="mono">${m.metric}</span>`,
      dataCell(fixed(m.mean_a), { metric: m.metric, side: 'a', value: m.mean_a }),
      dataCell(fixed(m.mean_b), { metric: m.metric, side: 'b', value: m.mean_b }),
      dataCell(signed(m.delta), { metric: m.metric, side: 'delta', value: m.delta }),
      dataCell(rel(m), { metric: m.metric, side: 'rel' }),
      dataCell(`[${signed(m.ci.lower)}, ${signed(m.ci.upper)}]`, { metric: m.metric, side: 'ci', lower: m.ci.lower, upper: m.ci.upper }),
      ciStrip({ lower: m.ci.lower, upper: m.ci.upper, delta: m.delta, span, significant: sig }),
      dataCell(formatP(m.p_permutation), { metric: m.metric, side: 'p-perm', value: m.p_permutation }),
      dataCell(formatP(m.p_t_test), { metric: m.metric, side: 'p-t', value: m.p_t_test }),
      html`<td class="num" data-metric="${m.metric}" data-side="p-holm" data-value="${m.p_adjusted}">${formatP(m.p_adjusted)} ${sig ? badge('significant', m.delta >= 0 ? 'good' : 'bad') : ''}</td>`,
      dataCell(`${m.wins}/${m.ties}/${m.losses}`, { metric: m.metric, side: 'wtl' }),
    ];
  });
  const cols = ['metric', 'A', 'B', 'Δ', 'Δ%', '95% CI of Δ', '', 'p (perm)', 'p (t)', 'p Holm', 'W/T/L'].map((head, i) => ({ head, num: i > 0 && i !== 6 }));
  return table(cols, rows, { id: 'metrics' });
}

function moveList(moves: readonly DocMove[], side: 'entered' | 'left'): Raw {
  if (!moves.length) return html`<span class="muted">—</span>`;
  const ordered = [...moves.filter((d) => (d.rel ?? 0) > 0), ...moves.filter((d) => !((d.rel ?? 0) > 0))];
  return html`${ordered.map((d) => {
    const here = side === 'entered' ? d.rank_b : d.rank_a;
    const there = side === 'entered' ? d.rank_a : d.rank_b;
    return html`<div><span class="mono">${d.doc_id}</span> @${here} <span class="muted">(${side === 'entered' ? 'A' : 'B'} ${there === null ? 'not retrieved' : `@${there}`})</span>${d.rel !== undefined ? html` ${badge(`rel ${d.rel}`, d.rel > 0 ? 'good' : 'neutral')}` : ''}</div>`;
  })}`;
}

function moversTable(title: string, list: readonly Mover[], result: DiffResult, id: string): Raw {
  const mv = result.movers;
  if (!list.length) return html`<h3>${title}</h3><p class="muted">None.</p>`;
  const at = (r: number | null) => (r === null ? '∅' : String(r));
  const rows = list.map((m) => [
    html`<span class="mono">${m.qid}</span>`,
    html`<td class="wrap">${m.text ?? ''}</td>`,
    dataCell(fixed(m.a), { qid: m.qid, side: 'a', value: m.a }),
    dataCell(fixed(m.b), { qid: m.qid, side: 'b', value: m.b }),
    dataCell(signed(m.delta), { qid: m.qid, side: 'delta', value: m.delta }),
    ...(mv.rankings
      ? [
          m.relevant.length ? html`${m.relevant.map((d) => html`<div><span class="mono">${d.doc_id}</span> ${at(d.rank_a)}→${at(d.rank_b)}</div>`)}` : html`<span class="muted">—</span>`,
          moveList(m.entered, 'entered'),
          moveList(m.left, 'left'),
        ]
      : []),
  ]);
  const head = ['query', 'text', { head: 'A', num: true }, { head: 'B', num: true }, { head: 'Δ', num: true }, ...(mv.rankings ? ['relevant: rank A→B', `entered top ${mv.k}`, `left top ${mv.k}`] : [])];
  return html`<h3>${title}</h3>${table(head, rows, { id })}`;
}

/** The whole diff report. */
export function diffReportHtml(result: DiffResult, perQuery: PerQueryPairs): string {
  const s = result.settings;
  const charts = result.metrics
    .filter((m) => perQuery[m.metric])
    .map((m) => deltaBars({
      id: `delta-${m.metric.replace(/[^a-z0-9]+/gi, '-')}`,
      title: `${m.metric}: per-query Δ (B − A), who won and who lost`,
      data: Object.entries(perQuery[m.metric]!).map(([id, v]) => ({ id, ...v })),
      mean: m.delta,
      ci: m.ci,
      yLabel: `Δ ${m.metric}`,
    }));
  const mv = result.movers;
  const unpaired = result.queries.only_in_a.length + result.queries.only_in_b.length;
  const body = html`${headline(result)}
${result.same_golden_set ? '' : banner('Different golden sets.', 'Compared with --force: only the queries both runs have are paired.', 'warn', 'forced')}
<h2>Metrics</h2>
${metricTable(result)}
<p class="muted">Δ = B − A over ${result.queries.paired} paired queries${unpaired ? ` (${result.queries.only_in_a.length} only in A and ${result.queries.only_in_b.length} only in B left out)` : ''}. CI: paired bootstrap, ${s.iterations} resamples. p (perm): two-sided paired randomization test; p (t): paired t-test; p Holm: the permutation p, Holm–Bonferroni-adjusted over ${result.metrics.length} metrics — the one the gate and "significant" use (alpha ${s.alpha}). Seed ${s.seed}. W/T/L: queries where B wins/ties/loses.</p>
<h2>Who won, who lost</h2>
${charts}
<h2>Queries that moved most (${mv.metric})</h2>
${moversTable('Improved', mv.improved, result, 'improved')}
${moversTable('Regressed', mv.regressed, result, 'regressed')}
${mv.rankings ? html`<p class="muted">relevant: judged-relevant documents, rank in A → rank in B (∅ = not retrieved). @r: rank; rel: judged grade.</p>` : html`<p class="muted">run.trec is missing on one side: documents that entered or left the top ${mv.k} are not shown.</p>`}
<h2>What changed between A and B</h2>
${result.differences.length ? table(['field', 'A', 'B'], result.differences.map((d) => [d.field, html`<td class="wrap mono">${d.a}</td>`, html`<td class="wrap mono">${d.b}</td>`]), { id: 'differences' }) : html`<p class="muted">Nothing recorded differs: same golden set, model, chunker, index and retrieval settings.</p>`}`;
  return page({
    title: `rag diff-eval — ${result.b.label} vs ${result.a.label}`,
    subtitle: `A: ${result.a.path} (${result.a.label}) → B: ${result.b.path} (${result.b.label}) · ${result.queries.paired} paired queries · golden set ${short(result.a.golden_hash)}`,
    body,
    sources: ['comparison.json', 'per-query.json'],
    generator: `rag ${VERSION}`,
  });
}

/** Re-render from the files of a diff-eval --out directory. */
export function diffReportHtmlFromFiles(files: Record<string, string | undefined>): string {
  if (!files['comparison.json']) throw new Error('comparison.json is missing');
  const result = normaliseArtifactFile('comparison.json', JSON.parse(files['comparison.json'])) as DiffResult;
  const perQuery = files['per-query.json'] ? (JSON.parse(files['per-query.json']) as { metrics: PerQueryPairs }).metrics : {};
  return diffReportHtml(result, perQuery);
}

/** The files diff-eval --out adds for the HTML report: per-query.json and report.html rendered from it. */
export function diffHtmlFiles(result: DiffResult, a: Pick<DiffInput, 'perQuery'>, b: Pick<DiffInput, 'perQuery'>): { 'per-query.json': string; 'report.html': string } {
  const perQuery = diffPerQueryJson(result, a, b);
  return { 'per-query.json': perQuery, 'report.html': diffReportHtmlFromFiles({ 'comparison.json': JSON.stringify(result), 'per-query.json': perQuery }) };
}
