/**
 * Quality benchmark on BEIR SciFact: mode × model → nDCG@10, MRR@10, Recall@100, MAP, p95 latency,
 * beside the published references, on the 300 test queries — as `rag query` users get them:
 * `runEval` ranks every query exactly as `rag query` does (same top k), 1,000 documents deep.
 *
 * Fusion is not tuned here. The defaults (RRF k = 60, 100 candidates per system, equal weights)
 * are the literature's, chosen on no collection this table reports; the one "tuned" row is the
 * previous default (k = 10, depth 50), which was tuned on SciFact's own test queries, shown for
 * comparison only. SciFact ships no train qrels here to tune on.
 *
 *   npm run bench:quality [-- --quick]      (writes bench/results/quality.json and quality.md)
 */

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { configSchema } from '../src/engine/config.js';
import { RUN_DEPTH, runEval } from '../src/engine/evaluation/eval.js';
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
  const ks = [1, 3, 5, 10, 100];
  const rows: Record<string, unknown>[] = [];

  const evalOn = async (index: string, g: GoldenSet, mode: RetrievalMode, opts: Record<string, unknown> = {}) => {
    // A fresh retriever per run: no query vectors cached, so latency includes the query embedding.
    const r = await Retriever.open(store, config, index);
    const out = await runEval(r, config, g, { mode, ks, caller, ...opts });
    const m = out.result.mean;
    return {
      ndcg10: m['ndcg@10']!, mrr10: m['mrr@10']!, recall100: m['recall@100']!, map: m.map!,
      p95: out.timings.total_ms?.p95 ?? 0, p50: out.timings.total_ms?.p50 ?? 0, depth: out.retrieval.depth,
      fusion: mode === 'hybrid' ? { rrfK: out.retrieval.rrf_k, candidates: out.retrieval.candidates, weights: out.retrieval.weights } : null,
    };
  };

  const add = async (system: string, model: string | null, index: string, mode: RetrievalMode, tunedOn: string, opts: Record<string, unknown> = {}) => {
    const full = await evalOn(index, golden, mode, opts);
    const ref = REFERENCES[model ?? 'bm25'];
    rows.push({ system, model: model ?? '—', mode, ...full, tunedOn, reference: mode === 'hybrid' ? null : ref ?? null });
    console.error(`${system} ${model ?? ''}: nDCG@10 ${full.ndcg10.toFixed(4)}`);
  };
  const defaults = `hybrid (defaults: RRF k=${config.retrieval.rrfK}, ${config.retrieval.candidates} candidates, equal weights)`;
  await add('BM25', null, 'bm25', 'bm25', '— (no fusion)');
  for (const m of quick ? models.filter((x) => x.startsWith('minishlab')) : models) {
    const index = m.split('/')[1]!;
    await add('vector', m, index, 'vector', '— (no fusion)');
    await add(defaults, m, index, 'hybrid', 'nothing: literature defaults');
    if (m.startsWith('sentence-transformers')) {
      await add('hybrid (k=10, 50 candidates: the previous default)', m, index, 'hybrid', 'SciFact test (this table): not a default', { rrfK: 10, candidates: 50 });
    }
    for (const rr of rerankers) await add(`${defaults} + rerank ${rr}`, m, index, 'hybrid', 'nothing: literature defaults', { rerank: rr });
  }
  store.close();

  const machine = { cpu: os.cpus()[0]?.model, cores: os.cpus().length, memGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version };
  const result = { dataset: 'BEIR SciFact test (300 queries)', depth: RUN_DEPTH, machine, rerankers, rows, quick };
  mkdirSync(OUT, { recursive: true });
  const name = quick ? 'quality-quick' : 'quality';
  writeFileSync(path.join(OUT, `${name}.json`), `${JSON.stringify(result, null, 2)}\n`);
  const f = (x: number | undefined) => (x === undefined ? '—' : x.toFixed(4));
  const md = [
    '| system | model | nDCG@10 | MRR@10 | Recall@100 | MAP | p95 ms | fusion tuned on | published nDCG@10 |',
    '|---|---|---|---|---|---|---|---|---|',
    ...rows.map((r: any) => `| ${r.system} | ${r.model} | ${f(r.ndcg10)} | ${f(r.mrr10)} | ${f(r.recall100)} | ${f(r.map)} | ${r.p95.toFixed(1)} | ${r.tunedOn} | ${r.reference ? `${r.reference.ndcg10} (${r.reference.source})` : '—'} |`),
    '',
    `SciFact test split, all ${golden.queries.length} queries; every query ranked as \`rag query\` ranks it (same top k), run depth ${RUN_DEPTH}; ` +
      'p95: the `rag query -k 10` call, ids only.',
  ].join('\n');
  writeFileSync(path.join(OUT, `${name}.md`), `${md}\n\nMachine: ${machine.cpu}, ${machine.cores} cores, ${machine.memGiB} GiB, Node ${machine.node}.\n`);
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
