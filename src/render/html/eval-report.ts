/**
 * report.html of an eval run, rendered from the artifact's own files (metrics.json, manifest.json,
 * timings.json, queries.json, gate.json, worst-queries.json), so any tool holding the folder can
 * re-render it. Missing optional files only drop their section.
 */
import { normaliseArtifactFile } from '../../engine/evaluation/artifact-keys.js';
import { rankingMetric } from '../../engine/evaluation/worst.js';
import { HEADLINE_METRICS } from '../report.js';
import { VERSION } from '../../version.js';
import { badge, banner, dataCell, fixed, html, page, raw, short, table, type Raw } from './page.js';
import { histogram, sortedBars } from './svg.js';

export type ArtifactTexts = Record<string, string | undefined>;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Parses one JSON file of the artifact (older key spellings renamed); absent → undefined. */
export function parseFile(files: ArtifactTexts, name: string): Obj | undefined {
  const text = files[name];
  if (text === undefined) return undefined;
  const v = normaliseArtifactFile(name, JSON.parse(text));
  return isObj(v) ? v : undefined;
}

/** A field of a parsed file that may be absent or not an object. */
export function pick(o: unknown, key: string): unknown {
  return isObj(o) ? o[key] : undefined;
}

const str = (v: unknown, fallback = '—') => (v === undefined || v === null ? fallback : typeof v === 'string' ? v : JSON.stringify(v));

export interface GateFileRule {
  rule: string;
  metric: string;
  op: string;
  threshold: number;
  actual: number | null;
  passed: boolean;
  margin: number | null;
  message: string;
}

export interface GateFile {
  passed: boolean;
  rules: GateFileRule[];
}

const STAGE_ORDER = ['embed_ms', 'bm25_ms', 'vector_ms', 'fuse_ms', 'rerank_ms', 'fetch_ms', 'total_ms'];
const stageName = (s: string) => (s === 'total_ms' ? 'total per query' : s.replace(/_ms$/, ''));

function metricSection(metrics: Obj, gate: GateFile | undefined): Raw {
  const mean = (metrics.mean ?? {}) as Record<string, number>;
  const retrieval = (metrics.retrieval ?? {}) as Obj;
  const ks = Array.isArray(retrieval.ks) ? (retrieval.ks as number[]) : [10];
  const names = HEADLINE_METRICS(ks).filter((m) => mean[m] !== undefined);
  const gateBy = new Map<string, GateFileRule[]>();
  for (const r of gate?.rules ?? []) gateBy.set(r.metric, [...(gateBy.get(r.metric) ?? []), r]);
  for (const m of gateBy.keys()) if (!names.includes(m)) names.push(m);
  const rows = names.map((m) => {
    const rules = gateBy.get(m) ?? [];
    const value = mean[m] ?? rules[0]?.actual ?? null;
    const cell = value === null ? dataCell('—', { metric: m }) : dataCell(m.endsWith('_ms') ? `${value.toFixed(1)} ms` : fixed(value), { metric: m, value });
    const verdict = rules.length
      ? html`${rules.map((r) => html`<div>${badge(r.passed ? 'passed' : 'failed', r.passed ? 'good' : 'bad')} <span class="mono">${r.op} ${r.threshold}</span> <span class="muted">${r.margin === null ? 'not measured' : `${r.passed ? 'by' : 'missed by'} ${Math.abs(r.margin).toFixed(4)}`}</span></div>`)}`
      : html`<span class="muted">—</span>`;
    return [html`<span class="mono">${m}</span>`, cell, verdict];
  });
  const others = Object.keys(mean).filter((m) => !names.includes(m)).sort();
  return html`<h2>Metrics</h2>
${table(['metric', { head: 'value', num: true }, 'gate'], rows, { id: 'metrics' })}
${others.length ? html`<details><summary>All ${Object.keys(mean).length} metrics</summary>${table(['metric', { head: 'mean', num: true }], others.map((m) => [html`<span class="mono">${m}</span>`, dataCell(fixed(mean[m]), { metric: m, value: mean[m]! })]), { id: 'all-metrics' })}</details>` : ''}`;
}

function distributionSection(metrics: Obj, metric: string, texts: Obj): Raw {
  const perQuery = (metrics.per_query ?? {}) as Record<string, Record<string, number>>;
  const data = Object.entries(perQuery).map(([qid, v]) => ({ id: qid, value: v[metric] ?? 0, tip: `${qid}: ${(v[metric] ?? 0).toFixed(4)} — ${str(texts[qid], '').slice(0, 120)}` }));
  const mean = ((metrics.mean ?? {}) as Record<string, number>)[metric];
  const perfect = data.filter((d) => d.value >= 1 - 1e-9).length;
  const zero = data.filter((d) => d.value === 0).length;
  return html`<h2>Per-query ${metric}</h2>
<p class="muted">${data.length} queries: ${perfect} perfect, ${zero} at zero. Hover a bar for the query.</p>
${sortedBars({ id: 'per-query', title: `${metric} per query, sorted`, data, yLabel: metric, xLabel: `${data.length} queries, sorted by ${metric}`, yMax: 1, mean })}`;
}

function latencySection(timings: Obj | undefined): Raw {
  if (!timings) return html``;
  const summary = (timings.per_stage_ms ?? {}) as Record<string, { p50: number; p95: number; p99: number; mean: number; n: number }>;
  const perQueryStage = (timings.per_query_stage_ms ?? {}) as Record<string, Record<string, number>>;
  const perQueryTotal = (timings.per_query_ms ?? {}) as Record<string, number>;
  const order = (s: string) => (STAGE_ORDER.includes(s) ? STAGE_ORDER.indexOf(s) : STAGE_ORDER.length);
  const stages = Object.keys(summary).sort((a, b) => order(a) - order(b) || (a < b ? -1 : 1));
  const values = (stage: string): number[] => {
    const fromStages = Object.values(perQueryStage).map((v) => v[stage]).filter((x): x is number => typeof x === 'number');
    if (fromStages.length) return fromStages;
    return stage === 'total_ms' ? Object.values(perQueryTotal) : [];
  };
  const charts = stages
    .map((s) => ({ s, v: values(s) }))
    .filter((x) => x.v.length > 0)
    .map(({ s, v }) => histogram({ id: `latency-${s.replace(/_ms$/, '')}`, title: stageName(s), values: v, xLabel: 'milliseconds', width: 540, height: 200, markers: [{ label: 'p50', value: summary[s]!.p50 }, { label: 'p95', value: summary[s]!.p95 }] }));
  const rows = stages.map((s) => [stageName(s), ...(['p50', 'p95', 'p99', 'mean'] as const).map((k) => dataCell(summary[s]![k].toFixed(2), { stage: s, stat: k, value: summary[s]![k] })), dataCell(String(summary[s]!.n), { stage: s, stat: 'n', value: summary[s]!.n })]);
  return html`<h2>Latency</h2>
${table(['stage', { head: 'p50 ms', num: true }, { head: 'p95 ms', num: true }, { head: 'p99 ms', num: true }, { head: 'mean ms', num: true }, { head: 'queries', num: true }], rows, { id: 'latency' })}
${charts.length ? html`<div class="grid">${charts}</div>` : html`<p class="muted">No per-query stage timings in this artifact (written by an older rag).</p>`}
<p class="muted">Latency is measured on the machine that ran the eval; it is kept out of metrics.json so equal inputs still give equal bytes.</p>`;
}

interface WorstFile {
  metric: string;
  view: string;
  queries: Array<{
    qid: string;
    text: string;
    value: number;
    caller: { principals: string[]; tenant: string };
    hits: Array<{ rank: number; doc_id: string; chunk_id: string; title: string; source: string; score: number; grade: number | null; text: string; clipped: boolean }>;
    judged: Array<{ id: string; grade: number; rank: number | null; title: string | null }>;
  }>;
}

const gradeBadge = (g: number | null) => (g === null ? badge('not judged', 'neutral') : g > 0 ? badge(`relevant (${g})`, 'good') : badge('judged 0', 'warn'));

function worstSection(metrics: Obj, metric: string, texts: Obj, worst: WorstFile | undefined): Raw {
  if (worst && worst.queries.length) {
    const cards = worst.queries.map((q) => html`<div class="card" data-qid="${q.qid}">
<h3><span class="mono">${q.qid}</span> · ${worst.metric} <span class="mono" data-value="${q.value}">${q.value.toFixed(4)}</span></h3>
<p>${q.text}</p>
<p class="muted">Seen as <span class="mono">${q.caller.principals.join(', ')}</span> in tenant <span class="mono">${q.caller.tenant}</span>.</p>
<h4 class="muted">Top passages</h4>
${q.hits.length ? q.hits.map((h) => html`<div class="passage${raw((h.grade ?? 0) > 0 ? ' rel' : '')}"><span class="meta">#${h.rank} · <strong>${h.title || h.doc_id}</strong> · <span class="mono">${h.doc_id}</span> · score ${h.score.toFixed(4)} · ${gradeBadge(h.grade)}</span>${h.text}${h.clipped ? '…' : ''}</div>`) : html`<p class="muted">No result for this caller.</p>`}
<h4 class="muted">Judged documents</h4>
${table(['document', { head: 'grade', num: true }, { head: 'rank', num: true }, 'title'], q.judged.map((j) => [html`<span class="mono">${j.id}</span>`, j.grade, j.rank === null ? html`<span class="muted">not retrieved</span>` : j.rank, j.title === null ? html`<span class="muted">not visible to this caller</span>` : j.title]), { cls: 'judged' })}
</div>`);
    return html`<h2>Weakest queries</h2>
<p class="muted">The ${worst.queries.length} lowest by ${worst.metric}. Passages are shown as ${worst.view}: nothing here was hidden from the caller named on each query.</p>
${cards}`;
  }
  const perQuery = (metrics.per_query ?? {}) as Record<string, Record<string, number>>;
  const rows = Object.entries(perQuery)
    .map(([qid, v]) => ({ qid, v: v[metric] ?? 0 }))
    .sort((a, b) => a.v - b.v || (a.qid < b.qid ? -1 : 1))
    .slice(0, 10)
    .map((w) => [html`<span class="mono">${w.qid}</span>`, dataCell(w.v.toFixed(4), { qid: w.qid, value: w.v }), html`<td class="wrap">${str(texts[w.qid], '')}</td>`]);
  return html`<h2>Weakest queries</h2>${table(['query', { head: metric, num: true }, 'text'], rows, { id: 'worst' })}`;
}

function factsSection(metrics: Obj, manifest: Obj | undefined): Raw {
  const index = (pick(manifest, 'index') ?? metrics.index ?? {}) as Obj;
  const model = pick(index, 'model') as Obj | null | undefined;
  const chunker = pick(index, 'chunker') as Obj | undefined;
  const golden = (pick(manifest, 'golden') ?? metrics.golden ?? {}) as Obj;
  const retrieval = (metrics.retrieval ?? {}) as Obj;
  const caller = pick(manifest, 'caller') as Obj | undefined;
  const facts: Array<[string, string]> = [
    ['golden set', `${str(golden.source)} (${str(golden.queries)} queries)`],
    ['golden hash', str(golden.hash)],
    ['index', `${str(index.name)}, table version ${str(pick(index, 'table_version'))}`],
    ['model', model ? `${str(model.id)} (${str(model.dim)}d), weights ${str(pick(model, 'weights_sha256'))}` : 'none (BM25 only)'],
    ['chunker', chunker ? `${str(chunker.hash)} ${str(chunker.config)}` : str(pick(index, 'chunker_hash'))],
    ['retrieval', Object.keys(retrieval).sort().map((k) => `${k}=${str(retrieval[k])}`).join(' · ')],
    ['retrieval hash', str(metrics.retrieval_hash)],
    ['default caller', caller ? `${str(caller.principals)} @ ${str(caller.tenant)}` : '—'],
    ['written', `${str(pick(manifest, 'created_at'))} by rag ${str(pick(manifest, 'rag_version'))} on node ${str(pick(manifest, 'node_version'))}`],
  ];
  return html`<h2>What was measured</h2><dl class="facts">${facts.map(([k, v]) => html`<dt>${k}</dt><dd class="mono">${v}</dd>`)}</dl>`;
}

/** The whole eval report. */
export function evalReportHtml(files: ArtifactTexts): string {
  const metrics = parseFile(files, 'metrics.json');
  if (!metrics) throw new Error('metrics.json is missing from the artifact');
  const manifest = parseFile(files, 'manifest.json');
  const timings = parseFile(files, 'timings.json');
  const texts = parseFile(files, 'queries.json') ?? {};
  const gate = parseFile(files, 'gate.json') as GateFile | undefined;
  const worst = parseFile(files, 'worst-queries.json') as WorstFile | undefined;
  const metric = rankingMetric((metrics.per_query ?? {}) as Record<string, Record<string, number>>);
  const golden = (metrics.golden ?? {}) as Obj;
  const retrieval = (metrics.retrieval ?? {}) as Obj;
  const index = (metrics.index ?? {}) as Obj;
  const model = pick(index, 'model') as Obj | null | undefined;
  const subtitle = `${str(metrics.queries)} queries · mode ${str(retrieval.mode)}${retrieval.rerank ? ` + rerank ${str(retrieval.rerank)}` : ''} · index "${str(index.name)}" (${model ? str(model.id) : 'BM25 only'}) · golden set ${short(str(golden.hash))} · ${str(pick(manifest, 'created_at'), 'date unknown')}`;
  const verdict = gate
    ? banner(gate.passed ? 'Gate passed.' : 'Gate failed.', gate.rules.map((r) => r.message).join(' · '), gate.passed ? 'good' : 'bad')
    : banner('No gate.', html`Run with <span class="mono">--gate "ndcg@10&gt;=…"</span> to turn this run into a pass/fail check.`, 'neutral');
  const body = html`${verdict}
${metricSection(metrics, gate)}
${distributionSection(metrics, metric, texts)}
${latencySection(timings)}
${worstSection(metrics, metric, texts, worst)}
${factsSection(metrics, manifest)}`;
  const sources = ['metrics.json', 'manifest.json', 'timings.json', 'queries.json', 'gate.json', 'worst-queries.json'].filter((f) => files[f] !== undefined);
  return page({ title: `rag eval — ${str(golden.source)}`, subtitle, body, sources, generator: `rag ${VERSION}` });
}
