/** The benchmark sections. Each runs in its own process (see run.ts), so its peak RSS is its own. */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { bestSetting, buildSynthetic, DIM, exactTruth, queryVectors, sweep, type AnnKind, type AnnSetting } from './ann.js';
import {
  bytesUnder,
  CACHE,
  FIXTURE_CONFIG,
  FIXTURE_SOURCES,
  fixtureQueries,
  fixtureStore,
  requireScifact,
  SCIFACT,
  SCIFACT_CONFIG,
  scifactCorpus,
  scifactStore,
  scifactTestQueries,
  type BuiltStore,
} from './datasets.js';
import { benchEnv, EXTRA_CA_SET, parseJson, processSummary, rag, ROOT, runTimed, selfMaxRssMiB, tempDir, timedWithoutExtraCa, type Timed } from './proc.js';
import { latency, mean, round, spread } from './stats.js';
import type { SectionContext, SectionResult } from './types.js';
import { freshnessSection } from './freshness.js';

export type { SectionContext, SectionResult } from './types.js';

const mib = (bytes: number) => bytes / 2 ** 20;
const maxRss = (runs: Timed[]) => spread(runs.map((r) => r.maxRssMiB ?? 0));

// ---------------------------------------------------------------------------------------------
// Ingest throughput: `rag ingest` then `rag index --model none` into a fresh store, as a user runs them.

async function ingestCorpus(label: string, runs: number, sources: string[], args: string[], config: string, bytes: number) {
  const ingestS: number[] = [];
  const indexS: number[] = [];
  const ingests: Timed[] = [];
  const indexes: Timed[] = [];
  let docs = 0;
  let chunks = 0;
  for (let i = 0; i < runs; i++) {
    const dir = tempDir('rag-bench-ingest-');
    const db = path.join(dir, 'db');
    const ing = await rag(['--db', db, '--config', config, '--json', '-q', 'ingest', ...args, ...sources]);
    const idx = await rag(['--db', db, '--config', config, '--json', '-q', 'index', '--model', 'none']);
    docs = parseJson<{ added: number }>(ing).added;
    chunks = parseJson<{ rows: number }>(idx).rows;
    ingests.push(ing);
    indexes.push(idx);
    ingestS.push(ing.wallMs / 1000);
    indexS.push(idx.wallMs / 1000);
    rmSync(dir, { recursive: true, force: true });
  }
  const totals = ingestS.map((s, i) => s + indexS[i]!);
  return {
    corpus: label,
    documents: docs,
    chunks,
    inputMiB: round(mib(bytes)),
    ingestSeconds: spread(ingestS),
    bm25IndexSeconds: spread(indexS),
    ingestPlusBm25Seconds: spread(totals),
    docsPerSecond: spread(ingestS.map((s) => docs / s)),
    mibPerSecond: spread(ingestS.map((s) => mib(bytes) / s)),
    ingestMaxRssMiB: maxRss(ingests),
    indexMaxRssMiB: maxRss(indexes),
  };
}

export async function ingestSection(ctx: SectionContext): Promise<SectionResult> {
  const out: SectionResult[] = [];
  ctx.log('ingest: fixtures');
  out.push(await ingestCorpus('fixtures', ctx.quick ? 2 : 5, FIXTURE_SOURCES, [], FIXTURE_CONFIG, bytesUnder(FIXTURE_SOURCES)));
  if (!ctx.quick) {
    requireScifact();
    ctx.log('ingest: SciFact');
    out.push(await ingestCorpus('scifact', 3, [SCIFACT], ['--format', 'beir'], SCIFACT_CONFIG, scifactCorpus().bytes));
  }
  return { corpora: out };
}

// ---------------------------------------------------------------------------------------------
// Embedding: the product's pipeline vs before, the bare onnxruntime session and sentence-transformers.

export async function embeddingSection(ctx: SectionContext): Promise<SectionResult> {
  const { embeddingComparison } = await import('./embedding.js');
  return embeddingComparison(ctx);
}

// ---------------------------------------------------------------------------------------------
// Peers: rag's BM25 beside bm25s on the same chunks and queries (bench/lib/peers.ts).

export async function peersSection(ctx: SectionContext): Promise<SectionResult> {
  const { peersSection: run } = await import('./peers.js');
  return run(ctx);
}

// ---------------------------------------------------------------------------------------------
// Query latency, warm (in-process, models loaded) and cold (a new `rag query` process).

async function latencyStore(ctx: SectionContext): Promise<{ store: BuiltStore; queries: string[]; corpus: string }> {
  if (ctx.quick) {
    const store = await fixtureStore(tempDir('rag-bench-fixtures-'));
    const qs = fixtureQueries();
    return { store, queries: [...qs, ...qs, ...qs], corpus: 'fixtures' };
  }
  return { store: await scifactStore(ctx.log), queries: scifactTestQueries(), corpus: 'scifact' };
}

export async function warmSection(ctx: SectionContext): Promise<SectionResult> {
  const { store, queries, corpus } = await latencyStore(ctx);
  const { loadConfig } = await import('../../src/engine/config.js');
  const { resolveCaller } = await import('../../src/engine/acl.js');
  const { Retriever } = await import('../../src/engine/search/retriever.js');
  const { Store } = await import('../../src/engine/store/store.js');
  const { listModels } = await import('../../src/engine/models/index.js');
  const { config } = loadConfig(store.config);
  const s = await Store.open(store.db);
  const t0 = performance.now();
  let retriever = await Retriever.open(s, config, config.index.name);
  const openMs = performance.now() - t0;
  const t1 = performance.now();
  await retriever.warm();
  const warmMs = performance.now() - t1;
  const caller = resolveCaller(config, {});
  const reranker = process.env.RAG_BENCH_RERANKER ?? (await listModels()).find((m) => m.kind === 'cross-encoder')?.id;
  const modes = [
    { name: 'bm25', mode: 'bm25' as const },
    { name: 'vector', mode: 'vector' as const },
    { name: 'hybrid', mode: 'hybrid' as const },
    { name: 'reranked', mode: 'hybrid' as const, rerank: reranker ?? null },
  ];
  const results: SectionResult[] = [];
  for (const m of modes) {
    if (m.name === 'reranked' && !reranker) {
      results.push({ mode: m.name, skipped: 'no cross-encoder model in RAG_MODELS_DIR (set RAG_BENCH_RERANKER or add one with `rag models add`)' });
      continue;
    }
    ctx.log(`warm: ${m.name} × ${queries.length}`);
    // A fresh retriever per mode: it caches query vectors, and a query embedded by an earlier mode
    // would make this one look faster than a new question is. Models stay loaded (process-wide).
    retriever = await Retriever.open(s, config, config.index.name);
    await retriever.warm({ rerank: m.rerank ?? null });
    const search = (q: string) => retriever.search(q, { mode: m.mode, k: 10, caller, rerank: m.rerank ?? null });
    // First use of each code path loads index pages; warm up on queries that are not measured.
    for (const q of ['warm-up query about cells', 'another warm-up about proteins', 'third warm-up on genes']) await search(q);
    const wall: number[] = [];
    const total: number[] = [];
    const stages: Record<string, number[]> = {};
    for (const q of queries) {
      const t = performance.now();
      const res = await search(q);
      wall.push(performance.now() - t);
      total.push(res.timings.total_ms);
      for (const [k, v] of Object.entries(res.timings)) if (k !== 'total_ms' && typeof v === 'number') (stages[k] ??= []).push(v);
    }
    results.push({
      mode: m.name,
      rerank: m.rerank ?? undefined,
      totalMs: latency(total),
      wallMs: latency(wall),
      stageMeanMs: Object.fromEntries(Object.entries(stages).map(([k, v]) => [k, mean(v)])),
      stageP95Ms: Object.fromEntries(Object.entries(stages).map(([k, v]) => [k, latency(v).p95])),
    });
  }
  s.close();
  return { corpus, model: store.model, chunks: store.chunks, queries: queries.length, openMs: round(openMs), warmMs: round(warmMs), modes: results, maxRssMiB: selfMaxRssMiB() };
}

export async function coldSection(ctx: SectionContext): Promise<SectionResult> {
  const { store, queries, corpus } = await latencyStore(ctx);
  const n = ctx.quick ? 3 : 7;
  const pick = (i: number) => queries[(i * 37) % queries.length]!;
  const summarise = (runs: Timed[], extra: SectionResult = {}) => ({ ...processSummary(runs), ...extra });
  const node = async (args: string[]) => {
    const r = await runTimed(process.execPath, args);
    if (r.code !== 0) throw new Error(`node ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return r;
  };
  const out: SectionResult = { corpus, model: store.model, runs: n };
  ctx.log('cold: baselines');
  const bare: Timed[] = [];
  const version: Timed[] = [];
  for (let i = 0; i < n; i++) bare.push(await node(['-e', '0']));
  for (let i = 0; i < n; i++) version.push(await node([path.join(ROOT, 'bin/rag'), '--version']));
  out.nodeStartup = summarise(bare);
  out.ragVersion = summarise(version);
  for (const mode of ['bm25', 'vector', 'hybrid'] as const) {
    ctx.log(`cold: rag query --mode ${mode} × ${n}`);
    const runs: Timed[] = [];
    const inProcess: number[] = [];
    for (let i = 0; i < n; i++) {
      const r = await rag(['--db', store.db, '--config', store.config, '--json', 'query', pick(i), '--mode', mode, '-k', '10']);
      const res = parseJson<{ timings: { total_ms: number }; results: unknown[] }>(r);
      runs.push(r);
      inProcess.push(res.timings.total_ms);
    }
    out[mode] = summarise(runs, { searchMs: spread(inProcess) });
  }
  // What a terminal user gets: the same query printed as the results table, not JSON.
  ctx.log(`cold: rag query --mode hybrid (table output) × ${n}`);
  const table: Timed[] = [];
  for (let i = 0; i < n; i++) table.push(await rag(['--db', store.db, '--config', store.config, 'query', pick(i), '--mode', 'hybrid', '-k', '10']));
  out.hybridTable = summarise(table);
  if (EXTRA_CA_SET) {
    ctx.log(`cold: node -e 0, bm25, hybrid and the hybrid table without NODE_EXTRA_CA_CERTS × ${n}`);
    const query = (json: string[], mode: string) => (i: number, env: NodeJS.ProcessEnv) => rag(['--db', store.db, '--config', store.config, ...json, 'query', pick(i), '--mode', mode, '-k', '10'], { env });
    out.withoutExtraCa = await timedWithoutExtraCa(n, benchEnv(), { bm25: query(['--json'], 'bm25'), hybrid: query(['--json'], 'hybrid'), hybridTable: query([], 'hybrid') });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The synthetic store: ANN latency and recall@10 against exact search, under the ACL pre-filter.

export async function annSection(ctx: SectionContext): Promise<SectionResult> {
  const rows = ctx.quick ? 10_000 : 1_000_000;
  const kinds: AnnKind[] = ctx.quick ? ['ivf_pq'] : (process.env.RAG_BENCH_ANN_KINDS ?? 'ivf_pq').split(',') as AnnKind[];
  const nq = ctx.quick ? 50 : 200;
  const queries = queryVectors(nq);
  const out: SectionResult[] = [];
  for (const kind of kinds) {
    const dir = path.join(CACHE, `synthetic-${rows}-${kind}`);
    try {
      out.push(await annIndex(ctx, dir, rows, kind, queries));
    } catch (err) {
      // One index kind failing must not lose the others' figures; the section still fails below.
      out.push({ kind, error: (err as Error).message.split('\n')[0] });
    }
  }
  const result = {
    rows,
    dim: DIM,
    queries: nq,
    candidateDepth: 100,
    filter: "array_has_any(acl, ['public']) AND tenant = 'default' (label-list index on acl, bitmap on tenant; ~85% of rows pass)",
    indexes: out,
    maxRssMiB: selfMaxRssMiB(),
  };
  const failed = out.filter((o) => o.error);
  if (failed.length === out.length) throw new Error(`every ANN index failed: ${failed.map((o) => `${o.kind}: ${o.error}`).join('; ')}`);
  return result;
}

async function annIndex(ctx: SectionContext, dir: string, rows: number, kind: AnnKind, queries: Float32Array[]): Promise<SectionResult> {
  const nq = queries.length;
  {
    const built = await buildSynthetic(dir, rows, kind, ctx.log);
    ctx.log(`ann: exact top-10 of ${nq} queries over ${rows} rows`);
    const truth = await exactTruth(dir, queries);
    const settings: AnnSetting[] = [];
    if (kind === 'ivf_hnsw_sq') {
      // LanceDB requires ef ≥ the rows HNSW hands on: limit (the depth, 100) × refineFactor.
      const efRefine = ctx.quick ? [[200, 2]] : [[200, 1], [200, 2], [500, 5]];
      for (const nprobes of ctx.quick ? [4] : [5, 8, 20]) for (const [ef, refineFactor] of efRefine) settings.push({ nprobes, ef, refineFactor });
    } else {
      for (const nprobes of ctx.quick ? [10, 40] : [10, 20, 40, 80]) for (const refineFactor of ctx.quick ? [1, 5] : [1, 5, 10]) settings.push({ nprobes, refineFactor });
    }
    ctx.log(`ann: ${kind}, ${settings.length} settings × ${nq} queries`);
    const table = await sweep(dir, queries, truth.ids, settings);
    return { kind, build: built, exactMs: truth.latencyMs, settings: table, best: bestSetting(table, 0.95) };
  }
}

// ---------------------------------------------------------------------------------------------
// Incremental update: change one document of N, re-run ingest and index, count what was re-embedded.

export async function incrementalSection(ctx: SectionContext): Promise<SectionResult> {
  const { generateCorpus, editOne } = await import('./corpus.js');
  const { STATIC } = await import('./datasets.js');
  const n = ctx.quick ? 300 : 5000;
  const dir = tempDir('rag-bench-incr-');
  const src = path.join(dir, 'docs');
  const db = path.join(dir, 'db');
  generateCorpus(src, n, 7);
  const cli = (args: string[]) => rag(['--db', db, '--json', '-q', ...args], { cwd: dir });
  ctx.log(`incremental: first ingest + index of ${n} documents`);
  const ing0 = await cli(['ingest', 'docs']);
  const idx0 = await cli(['index', '--model', STATIC]);
  const noopIng = await cli(['ingest', 'docs']);
  const noopIdx = await cli(['index']);
  const changed = editOne(src, Math.floor(n / 2));
  ctx.log(`incremental: edited ${changed}; re-ingest + re-index`);
  const ing1 = await cli(['ingest', 'docs']);
  const idx1 = await cli(['index']);
  const docChunks = await chunksOfDoc(db, changed);
  const i1 = parseJson<{ added: number; updated: number; unchanged: number }>(ing1);
  const x1 = parseJson<{ embedded: number; reused: number; removed: number; rows: number }>(idx1);
  const first = { ingest: parseJson<{ chunks_written: number }>(ing0), index: parseJson<{ embedded: number; rows: number }>(idx0) };
  rmSync(dir, { recursive: true, force: true });
  return {
    documents: n,
    chunks: first.index.rows,
    model: STATIC,
    initial: { ingestSeconds: round(ing0.wallMs / 1000), indexSeconds: round(idx0.wallMs / 1000), embedded: first.index.embedded, ingestMaxRssMiB: ing0.maxRssMiB, indexMaxRssMiB: idx0.maxRssMiB },
    unchangedRerun: {
      ingestSeconds: round(noopIng.wallMs / 1000),
      indexSeconds: round(noopIdx.wallMs / 1000),
      updated: parseJson<{ updated: number }>(noopIng).updated,
      embedded: parseJson<{ embedded: number }>(noopIdx).embedded,
    },
    oneChanged: {
      doc: changed,
      docChunks,
      ingestSeconds: round(ing1.wallMs / 1000),
      indexSeconds: round(idx1.wallMs / 1000),
      updated: i1.updated,
      embedded: x1.embedded,
      reused: x1.reused,
      removed: x1.removed,
      ingestMaxRssMiB: ing1.maxRssMiB,
      indexMaxRssMiB: idx1.maxRssMiB,
      onlyThatDocument: i1.updated === 1 && x1.embedded >= 1 && x1.embedded <= docChunks,
    },
  };
}

async function chunksOfDoc(db: string, docId: string): Promise<number> {
  const { Store, CHUNKS } = await import('../../src/engine/store/store.js');
  const s = await Store.open(db);
  const rows = await s.readAll<{ chunk_id: string }>(CHUNKS, ['chunk_id'], `doc_id = '${docId.replace(/'/g, "''")}'`);
  s.close();
  return rows.length;
}

export async function serveSection(ctx: SectionContext): Promise<SectionResult> {
  const { serveSection: run } = await import('./serve.js');
  return run(ctx);
}

// ---------------------------------------------------------------------------------------------
// Freshness: `rag ingest --watch`, from a file write to its text being found.

export async function watchSection(ctx: SectionContext): Promise<SectionResult> {
  const { watchFreshness } = await import('./watch.js');
  return watchFreshness(ctx);
}

export const SECTIONS = {
  ingest: ingestSection,
  audit: (ctx: SectionContext) => import('./audit-section.js').then((m) => m.auditSection(ctx)),
  embedding: embeddingSection,
  peers: peersSection,
  warm: warmSection,
  cold: coldSection,
  ann: annSection,
  incremental: incrementalSection,
  serve: serveSection,
  watch: watchSection,
  freshness: freshnessSection,
} as const;
export type SectionName = keyof typeof SECTIONS;
