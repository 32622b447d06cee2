import path from 'node:path';
import { metricsJson, type ArtifactFiles, type EvalOutcome } from '../engine/evaluation/eval.js';
import type { GateOutcome } from '../engine/evaluation/gate.js';
import type { GoldenSet } from '../engine/evaluation/goldens.js';
import { formatRun } from '../engine/evaluation/trec.js';
import { stableHash } from '../engine/hash.js';
import type { Caller } from '../engine/types.js';
import { VERSION } from '../version.js';
import { junitXml } from './junit.js';
import { evalReportMarkdown } from './report.js';

/**
 * The files of an eval run artifact (DESIGN.md "Run artifacts"). metrics.json carries no time
 * or machine facts, so equal inputs give equal bytes; those go to manifest.json and timings.json.
 */
export function evalArtifactFiles(
  outcome: EvalOutcome,
  golden: GoldenSet,
  opts: { caller: Caller; rerank: string | null; gate: GateOutcome | null },
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
  return {
    defaultDir: path.join('runs', `${stamp}-${outcome.retrieval.index}-${outcome.retrieval.mode}${opts.rerank ? '-rerank' : ''}`),
    files: {
      'run.trec': formatRun(outcome.run, tag),
      'metrics.json': metrics,
      'manifest.json': `${JSON.stringify(manifest, null, 2)}\n`,
      'timings.json': `${JSON.stringify({ per_stage_ms: outcome.timings, per_query_ms: outcome.queryMs }, null, 2)}\n`,
      'report.md': evalReportMarkdown(outcome, golden, gateLines),
      'queries.json': `${JSON.stringify(outcome.queryTexts, null, 2)}\n`,
      ...(opts.gate ? { 'junit.xml': junitXml('rag eval gate', opts.gate.results) } : {}),
    },
  };
}
