/**
 * Checks that an embedder is genuine and wired correctly: embeds BEIR SciFact (5,183 abstracts,
 * 300 test claims), ranks by exact cosine in memory and prints nDCG@10 beside MTEB's published
 * figure for the same model.
 *
 *   RAG_MODELS_DIR=.models npx tsx bench/verify-embedder.ts sentence-transformers/all-MiniLM-L6-v2 [--limit-queries N]
 *
 * Documents are embedded as MTEB's retrieval task does for BEIR corpora: title + " " + text
 * (stripped), queries as their text, each with the model's own query/passage prefix.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { loadEmbedder } from '../src/engine/models/index.js';

const REFERENCE: Record<string, number> = {
  'sentence-transformers/all-MiniLM-L6-v2': 0.64508,
  'BAAI/bge-small-en-v1.5': 0.71273,
  'intfloat/e5-small-v2': 0.68854,
};

const args = process.argv.slice(2);
const modelId = args.find((a) => !a.startsWith('--'));
if (!modelId) {
  console.error('usage: verify-embedder.ts MODEL_ID [--data DIR]');
  process.exit(2);
}
const dataIdx = args.indexOf('--data');
const data = resolve(dataIdx >= 0 ? args[dataIdx + 1] : join(import.meta.dirname, '..', '..', 'shared', 'datasets', 'scifact'));

interface Doc { _id: string; title?: string; text: string }
const corpus: Doc[] = gunzipSync(readFileSync(join(data, 'corpus.jsonl.gz'))).toString('utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
const queries: Doc[] = readFileSync(join(data, 'queries.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
const qrels = new Map<string, Map<string, number>>();
for (const line of readFileSync(join(data, 'qrels', 'test.tsv'), 'utf8').split('\n').slice(1)) {
  const [q, d, s] = line.trim().split('\t');
  if (!q) continue;
  if (!qrels.has(q)) qrels.set(q, new Map());
  qrels.get(q)!.set(d, Number(s));
}
const testQueries = queries.filter((q) => qrels.has(q._id));

/** nDCG@k with trec_eval's gain (rel) and log2(rank+1) discount; ideal from the judged relevant docs. */
function ndcgAt(k: number, ranked: string[], rels: Map<string, number>): number {
  let dcg = 0;
  ranked.slice(0, k).forEach((d, i) => (dcg += (rels.get(d) ?? 0) / Math.log2(i + 2)));
  const ideal = [...rels.values()].filter((r) => r > 0).sort((a, b) => b - a).slice(0, k);
  const idcg = ideal.reduce((s, r, i) => s + r / Math.log2(i + 2), 0);
  return idcg > 0 ? dcg / idcg : 0;
}

const t0 = Date.now();
const embedder = await loadEmbedder(modelId);
console.log(`model ${modelId}: ${embedder.info.kind}, dim ${embedder.dim}, weights ${embedder.info.weight_files.join('+')} sha256 ${embedder.info.weights_sha256.slice(0, 16)}…, pooling ${embedder.info.pooling ?? '-'}, max ${embedder.info.max_tokens}, query prefix ${JSON.stringify(embedder.info.query_prefix ?? '')}`);
const docTexts = corpus.map((d) => `${(d.title ?? '').trim()} ${d.text.trim()}`.trim());
let last = 0;
const docVecs = await embedder.embedPassages(docTexts, (done, total) => {
  if (Date.now() - last > 15_000 || done === total) {
    last = Date.now();
    console.log(`  embedded ${done}/${total} docs (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  }
});
const queryVecs = await embedder.embedQueries(testQueries.map((q) => q.text));
const dim = embedder.dim;
let sum = 0;
testQueries.forEach((q, qi) => {
  const qv = queryVecs[qi];
  const scored = docVecs.map((dv, di) => {
    let s = 0;
    for (let d = 0; d < dim; d++) s += qv[d] * dv[d];
    return [s, di] as const;
  });
  // ties broken by doc id descending, as trec_eval does
  scored.sort((a, b) => b[0] - a[0] || (corpus[b[1]]._id < corpus[a[1]]._id ? -1 : 1));
  sum += ndcgAt(10, scored.slice(0, 10).map(([, di]) => corpus[di]._id), qrels.get(q._id)!);
});
const ndcg = sum / testQueries.length;
const ref = REFERENCE[modelId];
console.log(`SciFact nDCG@10 = ${ndcg.toFixed(5)} over ${testQueries.length} queries, ${corpus.length} docs` + (ref !== undefined ? `; MTEB reference ${ref.toFixed(5)} (Δ ${(ndcg - ref >= 0 ? '+' : '') + (ndcg - ref).toFixed(5)})` : '; no published reference for this model'));
console.log(`time ${((Date.now() - t0) / 1000).toFixed(1)} s`);
