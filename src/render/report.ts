import type { EvalOutcome } from '../engine/evaluation/eval.js';
import type { GoldenSet } from '../engine/evaluation/goldens.js';

/** The metrics a summary table shows: by family, each family's cutoffs in ascending order. */
export const HEADLINE_METRICS = (ks: number[]) => {
  const sorted = [...ks].sort((a, b) => a - b);
  const out: string[] = [];
  for (const k of sorted) out.push(`ndcg@${k}`);
  for (const k of sorted.filter((k) => k === 10)) out.push(`mrr@${k}`);
  for (const k of sorted.filter((k) => k === 10 || k === 100)) out.push(`recall@${k}`);
  for (const k of sorted.filter((k) => k === 10)) out.push(`precision@${k}`, `hit@${k}`);
  out.push('map', 'rprec');
  return [...new Set(out)];
};

export function fmt(x: number | undefined, digits = 4): string {
  return x === undefined || Number.isNaN(x) ? '—' : x.toFixed(digits);
}

/** The human summary of an eval run, as Markdown. */
export function evalReportMarkdown(outcome: EvalOutcome, golden: GoldenSet, gateLines: string[] = []): string {
  const ks = outcome.retrieval.ks;
  const mean = outcome.result.mean;
  const lines: string[] = [];
  lines.push(`# rag eval — ${golden.source}`, '');
  lines.push(
    `Index \`${outcome.index.name}\` (${outcome.index.model ? `${outcome.index.model.id}, weights ${outcome.index.model.weights_sha256.slice(0, 12)}…` : 'BM25 only'}), ` +
      `mode **${outcome.retrieval.mode}**${outcome.retrieval.rerank ? ` + rerank \`${outcome.retrieval.rerank}\`` : ''}, ` +
      `${outcome.result.queries} queries, golden set ${golden.hash.slice(0, 12)}…. ` +
      `Each query ranked as \`rag query\` ranks it (same top k), ${outcome.retrieval.depth} documents deep.`,
    '',
  );
  if (outcome.coverage.missing) {
    lines.push(`**judged_missing: ${outcome.coverage.missing}** of ${outcome.coverage.relevant} judged-relevant ids could not be retrieved (scored as misses, --allow-missing).`, '');
  }
  lines.push('| metric | value |', '|---|---|');
  for (const m of HEADLINE_METRICS(ks)) lines.push(`| ${m} | ${fmt(mean[m])} |`);
  lines.push('');
  const total = outcome.timings.total_ms;
  if (total) lines.push(`Latency per query: p50 ${total.p50.toFixed(1)} ms · p95 ${total.p95.toFixed(1)} ms · p99 ${total.p99.toFixed(1)} ms`, '');
  if (gateLines.length) lines.push('## Gate', '', ...gateLines.map((l) => `- ${l}`), '');
  const worst = Object.entries(outcome.result.perQuery)
    .map(([qid, v]) => ({ qid, v: v['ndcg@10'] ?? v.ndcg ?? 0 }))
    .sort((a, b) => a.v - b.v || (a.qid < b.qid ? -1 : 1))
    .slice(0, 10);
  if (worst.length) {
    lines.push('## Weakest queries (nDCG@10)', '', '| query | nDCG@10 | text |', '|---|---|---|');
    for (const w of worst) lines.push(`| ${w.qid} | ${fmt(w.v)} | ${(outcome.queryTexts[w.qid] ?? '').replace(/\|/g, '\\|').slice(0, 100)} |`);
    lines.push('');
  }
  return lines.join('\n');
}
