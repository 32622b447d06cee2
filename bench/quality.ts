/**
 * Quality benchmark on BEIR SciFact: mode × model → nDCG@10, MRR@10, Recall@100, p95 latency,
 * beside the published references. Fusion (RRF k, weights, candidate depth) is tuned on a tuning
 * split of the test queries (a fixed third, chosen by hashing the query id) and reported on the
 * other two thirds and on all 300.
 *
 *   npm run bench:quality [-- --quick]      (writes bench/results/quality.json and quality.md)
 */

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { configSchema } from '../src/engine/config.js';
import { runEval } from '../src/engine/evaluation/eval.js';
import { loadGoldenSet, type GoldenSet } from '../src/engine/evaluation/goldens.js';
import { buildIndex } from '../src/engine/index/indexer.js';
import { ingest } from '../src/engine/ingest/ingest.js';
import { listModels } from '../src/engine/models/index.js';
import { Retriever } from '../src/engine/search/retriever.js';
import { Store } from '../src/engine/store/store.js';
import type { RetrievalMode } from '../src/engine/types.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const SCIFACT = process.env.SCIFACT_DIR ?? path.resolve(ROOT, '../shared/datasets/scifact');
const quick = process.argv.includes('--quick');
const CACHE = path.join(ROOT, 'bench/.cache/scifact-quality');
const OUT = path.join(ROOT, 'bench/results');
// Whole abstracts per chunk (as MTEB embeds them; the model truncates at its own limit).
const config = configSchema.parse({ chunking: { maxTokens: 512, overlapTokens: 0, hardMaxTokens: 512 } });
const caller = { principals: ['public'], tenant: config.tenant.default };

const REFERENCES: Record<string, { ndcg10: number; mrr10?: number; recall100?: number; source: string }> = {
  bm25: { ndcg10: 0.665, recall100: 0.9076, source: 'BEIR paper / Anserini multifield 0.665; Anserini flat 0.679; bm25s 0.687' },
  'sentence-transformers/all-MiniLM-L6-v2': { ndcg10: 0.64508, mrr10: 0.60472, recall100: 0.925, source: 'MTEB' },
};

function split(golden: GoldenSet, part: 'tune' | 'report'): GoldenSet {
  const isTune = (id: string) => createHash('sha256').update(`scifact-split:${id}`).digest()[0]! < 86;
  const queries = golden.queries.filter((q) => (part === 'tune') === isTune(q.id));
  const qrels = new Map([...golden.qrels].filter(([qid]) => queries.some((q) => q.id === qid)));
  return { ...golden, queries, qrels, source: `${golden.source} [${part} split]` };
}

async function main() {
  const present = (await listModels()).filter((m) => m.kind !== 'cross-encoder').map((m) => m.id);
  const models = ['sentence-transformers/all-MiniLM-L6-v2', 'minishlab/m2v-bge-base-vq128'].filter((m) => present.includes(m));
  const rerankers = (await listModels()).filter((m) => m.kind === 'cross-encoder').map((m) => m.id);
  mkdirSync(CACHE, { recursive: true });
  const store = await Store.open(CACHE, { create: true });
  const ing = await ingest(store, config, { paths: [SCIFACT], format: 'beir', prune: true });
  console.error(`ingest: ${ing.added} added, ${ing.unchanged} unchanged`);
  await buildIndex(store, config, { name: 'bm25', model: 'none' });
  for (const m of quick ? models.filter((x) => x.startsWith('minishlab')) : models) {
    const name = m.split('/')[1]!;
    const t0 = performance.now();
    const s = await buildIndex(store, config, { name, model: m, onProgress: (p) => process.stderr.write(`\r${name}: ${p.done}/${p.total}   `) });
    console.error(`\nindex ${name}: ${s.embedded} embedded in ${((performance.now() - t0) / 1000).toFixed(0)}s`);
  }
  const golden = await loadGoldenSet(SCIFACT);
  const tune = split(golden, 'tune');
  const report = split(golden, 'report');
  const ks = [1, 3, 5, 10, 100];
  const rows: Record<string, unknown>[] = [];

  const evalOn = async (index: string, g: GoldenSet, mode: RetrievalMode, opts: Record<string, unknown> = {}) => {
    // A fresh retriever per run: no query vectors cached, so latency includes the query embedding.
    const r = await Retriever.open(store, config, index);
    const out = await runEval(r, config, g, { mode, ks, caller, ...opts });
    return { ndcg10: out.result.mean['ndcg@10']!, mrr10: out.result.mean['mrr@10']!, recall100: out.result.mean['recall@100']!, p95: out.timings.total_ms?.p95 ?? 0, p50: out.timings.total_ms?.p50 ?? 0 };
  };

  const tuned: Record<string, { rrfK: number; weights: { bm25: number; vector: number }; candidates: number; tuneNdcg10: number }> = {};
  for (const m of quick ? models.filter((x) => x.startsWith('minishlab')) : models) {
    const index = m.split('/')[1]!;
    let best: (typeof tuned)[string] | null = null;
    const grid = quick ? { k: [60], w: [1], c: [100] } : { k: [10, 30, 60, 100], w: [0.5, 1, 1.5, 2], c: [50, 100, 200] };
    const r = await Retriever.open(store, config, index);
    for (const rrfK of grid.k) for (const wv of grid.w) for (const candidates of grid.c) {
      const weights = { bm25: 1, vector: wv };
      const out = await runEval(r, config, tune, { mode: 'hybrid', ks, caller, rrfK, weights, candidates });
      const nd = out.result.mean['ndcg@10']!;
      if (!best || nd > best.tuneNdcg10 + 1e-12) best = { rrfK, weights, candidates, tuneNdcg10: nd };
    }
    tuned[m] = best!;
    console.error(`tuned ${index}: ${JSON.stringify(best)}`);
  }

  const add = async (system: string, model: string | null, index: string, mode: RetrievalMode, opts: Record<string, unknown> = {}) => {
    const full = await evalOn(index, golden, mode, opts);
    const rep = await evalOn(index, report, mode, opts);
    const ref = REFERENCES[model ?? 'bm25'];
    rows.push({ system, model: model ?? '—', mode, ...full, reportSplit: rep, reference: mode === 'hybrid' ? null : ref ?? null });
    console.error(`${system}: nDCG@10 ${full.ndcg10.toFixed(4)} (report split ${rep.ndcg10.toFixed(4)})`);
  };
  await add('BM25', null, 'bm25', 'bm25');
  for (const m of Object.keys(tuned)) {
    const index = m.split('/')[1]!;
    await add(`vector`, m, index, 'vector');
    await add(`hybrid (RRF k=60, equal weights)`, m, index, 'hybrid', { rrfK: 60, weights: { bm25: 1, vector: 1 }, candidates: 100 });
    const t = tuned[m]!;
    await add(`hybrid (tuned: k=${t.rrfK}, w_vec=${t.weights.vector}, depth=${t.candidates})`, m, index, 'hybrid', { rrfK: t.rrfK, weights: t.weights, candidates: t.candidates });
    for (const rr of rerankers) await add(`hybrid + rerank ${rr}`, m, index, 'hybrid', { rrfK: t.rrfK, weights: t.weights, candidates: t.candidates, rerank: rr });
  }
  store.close();

  const machine = { cpu: os.cpus()[0]?.model, cores: os.cpus().length, memGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version };
  const result = { dataset: 'BEIR SciFact test (300 queries)', split: { tune: tune.queries.length, report: report.queries.length }, machine, tuned, rerankers, rows, quick };
  mkdirSync(OUT, { recursive: true });
  const name = quick ? 'quality-quick' : 'quality';
  writeFileSync(path.join(OUT, `${name}.json`), `${JSON.stringify(result, null, 2)}\n`);
  const f = (x: number | undefined) => (x === undefined ? '—' : x.toFixed(4));
  const md = [
    `| system | model | nDCG@10 | MRR@10 | Recall@100 | nDCG@10 (report split, n=${report.queries.length}) | p95 ms | published nDCG@10 |`,
    '|---|---|---|---|---|---|---|---|',
    ...rows.map((r: any) => `| ${r.system} | ${r.model} | ${f(r.ndcg10)} | ${f(r.mrr10)} | ${f(r.recall100)} | ${f(r.reportSplit.ndcg10)} | ${r.p95.toFixed(1)} | ${r.reference ? `${r.reference.ndcg10} (${r.reference.source})` : '—'} |`),
  ].join('\n');
  writeFileSync(path.join(OUT, `${name}.md`), `${md}\n\nMachine: ${machine.cpu}, ${machine.cores} cores, ${machine.memGiB} GiB, Node ${machine.node}. Fusion tuned on ${tune.queries.length} of the 300 test queries (hash split), never on the report split.\n`);
  console.log(md);
  if (!quick) {
    // The README's table is this file's output: regenerate it in place.
    const readme = path.join(ROOT, 'README.md');
    const text = readFileSync(readme, 'utf8');
    const block = `<!-- quality:start -->\n${md}\n<!-- quality:end -->`;
    if (/<!-- quality:start -->[\s\S]*<!-- quality:end -->/.test(text)) {
      writeFileSync(readme, text.replace(/<!-- quality:start -->[\s\S]*<!-- quality:end -->/, block));
    }
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
if (!existsSync(SCIFACT)) console.error(`SciFact not found at ${SCIFACT}`);
