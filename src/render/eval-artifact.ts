import path from 'node:path';
import { metricsJson, type ArtifactFiles, type EvalOutcome } from '../engine/evaluation/eval.js';
import { describeGateResult, type GateOutcome } from '../engine/evaluation/gate.js';
import type { GoldenSet } from '../engine/evaluation/goldens.js';
import type { WorstQueries } from '../engine/evaluation/worst.js';
import { formatRun } from '../engine/evaluation/trec.js';
import { stableHash } from '../engine/hash.js';
import type { Caller } from '../engine/types.js';
import { VERSION } from '../version.js';
import { evalReportHtml } from './html/eval-report.js';
import { junitXml } from './junit.js';
import { evalReportMarkdown } from './report.js';

/** gate.json: the verdict per rule, in a form report.html and `rag runs` read back. */
export function gateJson(gate: GateOutcome): string {
  const rules = gate.results.map((r) => ({
    rule: r.rule.source,
    metric: r.rule.metric,
    op: r.rule.op,
    threshold: r.rule.threshold,
    actual: r.actual,
    passed: r.passed,
    margin: r.margin,
    message: describeGateResult(r),
  }));
  return `${JSON.stringify({ passed: gate.passed, rules }, null, 2)}\n`;
}

/**
 * The files of an eval run artifact (DESIGN.md "Run artifacts"). metrics.json carries no time
 * or machine facts, so equal inputs give equal bytes; those go to manifest.json and timings.json.
 * report.html is rendered from the other files, as `rag runs` or any later tool could re-render it.
 */
export function evalArtifactFiles(
  outcome: EvalOutcome,
  golden: GoldenSet,
  opts: { caller: Caller; rerank: string | null; gate: GateOutcome | null; worst?: WorstQueries; runsDir: string },
): { files: ArtifactFiles; defaultDir: string } {
  const createdAt = new Date().toISOString();
  const metrics = metricsJson(outcome, golden);
  const manifest = {
    rag_version: VERSION,
    node_version: process.version,
    created_at: createdAt,
    golden: { source: golden.source, hash: golden.hash, queries: golden.queries.length },
    index: outcome.index,
    retrieval: outcome.retrieval,
    retrieval_hash: outcome.retrievalHash,
    caller: opts.caller,
    metrics_sha256: stableHash(metrics),
  };
  const tag = `rag-${outcome.retrieval.mode}${opts.rerank ? '-rerank' : ''}`;
  const stamp = createdAt.replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
  const gateLines = opts.gate ? opts.gate.lines : [];
  const files: ArtifactFiles = {
    'run.trec': formatRun(outcome.run, tag),
    'metrics.json': metrics,
    'manifest.json': `${JSON.stringify(manifest, null, 2)}\n`,
    'timings.json': `${JSON.stringify({ per_stage_ms: outcome.timings, per_query_ms: outcome.queryMs, per_query_stage_ms: outcome.queryStageMs }, null, 2)}\n`,
    'report.md': evalReportMarkdown(outcome, golden, gateLines),
    'queries.json': `${JSON.stringify(outcome.queryTexts, null, 2)}\n`,
    ...(opts.gate ? { 'junit.xml': junitXml('rag eval gate', opts.gate.results), 'gate.json': gateJson(opts.gate) } : {}),
    ...(opts.worst ? { 'worst-queries.json': `${JSON.stringify(opts.worst, null, 2)}\n` } : {}),
  };
  files['report.html'] = evalReportHtml({ ...files });
  return {
    defaultDir: path.join(opts.runsDir, `${stamp}-${outcome.retrieval.index}-${outcome.retrieval.mode}${opts.rerank ? '-rerank' : ''}`),
    files,
  };
}
