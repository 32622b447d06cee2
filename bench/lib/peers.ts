/**
 * BM25 beside bm25s, the fast in-process Python BM25, on the same chunks and queries, one query at
 * a time, top 10, with and without an ACL filter. The store is SciFact as JSONL with every other
 * document restricted to `group:lab`: a caller holding that group sees all chunks (the filter
 * passes everything), a `public` caller sees half; bm25s gets the same half as a weight mask.
 * Besides the product's `search()`, the bare LanceDB full-text call is timed at each step the
 * retriever adds (the ACL pre-filter, the candidate depth and columns), so the gap to bm25s can be
 * placed: FTS call, pre-filter, or the retriever's own work (decode, fuse, fetch).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fixtureQueries, requireScifact, scifactCorpus, scifactTestQueries } from './datasets.js';
import { parseJson, rag, ROOT, selfMaxRssMiB, tempDir } from './proc.js';
import { pythonWith, runPeer } from './python.js';
import { latency, mean, round } from './stats.js';
import type { SectionContext, SectionResult } from './types.js';

const K = 10;
const LAB = 'group:lab';

interface Bm25sOut {
  index_seconds: number;
  version: string;
  all: { ms: number[]; top: number[][] };
  acl: { ms: number[]; top: number[][] };
}

async function corpus(ctx: SectionContext): Promise<{ docs: { id: string; title: string; text: string }[]; queries: string[]; name: string }> {
  try {
    requireScifact();
    const docs = scifactCorpus().docs.map((d) => ({ id: d._id, title: (d.title ?? '').trim(), text: d.text }));
    const queries = scifactTestQueries();
    return ctx.quick ? { docs: docs.slice(0, 600), queries: queries.slice(0, 60), name: 'scifact (first 600 docs)' } : { docs, queries, name: 'scifact' };
  } catch {
    // No SciFact (a bare CI machine): the fixture queries over fixture-sized text still run the code.
    const qs = fixtureQueries();
    const docs = Array.from({ length: 200 }, (_, i) => ({ id: `d${i}`, title: qs[i % qs.length]!, text: `${qs[(i * 7) % qs.length]} ${qs[(i * 3) % qs.length]}` }));
    return { docs, queries: qs, name: 'fixture queries (synthetic docs)' };
  }
}

export async function peersSection(ctx: SectionContext): Promise<SectionResult> {
  const { docs, queries, name } = await corpus(ctx);
  const dir = tempDir('rag-bench-peers-');
  const db = path.join(dir, 'db');
  const file = path.join(dir, 'docs.jsonl');
  writeFileSync(file, docs.map((d, i) => JSON.stringify({ ...d, acl: i % 2 ? [LAB] : ['public'] })).join('\n') + '\n');
  const config = path.join(dir, 'rag.config.json');
  writeFileSync(config, JSON.stringify({ chunking: { maxTokens: 512, overlapTokens: 0, hardMaxTokens: 512 }, jsonl: { id: 'id', title: 'title', body: ['title', 'text'], acl: 'acl' } }));
  ctx.log(`peers: ingest + BM25 index of ${docs.length} docs`);
  await rag(['--db', db, '--config', config, '--json', '-q', 'ingest', file], { cwd: dir });
  const idx = await rag(['--db', db, '--config', config, '--json', '-q', 'index', '--model', 'none'], { cwd: dir });
  const chunks = parseJson<{ rows: number }>(idx).rows;

  const { loadConfig } = await import('../../src/engine/config.js');
  const { aclWhere, resolveCaller } = await import('../../src/engine/acl.js');
  const { Retriever } = await import('../../src/engine/search/retriever.js');
  const { Store } = await import('../../src/engine/store/store.js');
  const { readIndexManifest } = await import('../../src/engine/store/manifest.js');
  const { arrowRows } = await import('../../src/engine/store/store.js');
  const { config: cfg } = loadConfig(config);
  const store = await Store.open(db);
  const manifest = await readIndexManifest(store, cfg.index.name);
  const table = (await store.indexTable(manifest.table))!;
  const rows = arrowRows<{ chunk_id: string; text: string; acl: string[]; _rowid: bigint }>(await table.scan(['chunk_id', 'text', 'acl']));
  rows.sort((a, b) => (a.chunk_id < b.chunk_id ? -1 : 1));
  const position = new Map(rows.map((r, i) => [r.chunk_id, i]));
  const everyone = resolveCaller(cfg, { as: [LAB] });
  const publicOnly = resolveCaller(cfg, {});
  const retriever = await Retriever.open(store, cfg, cfg.index.name);
  await retriever.warm();

  // Every timed path runs once per query, interleaved, after a warm-up on unmeasured queries.
  const depth = cfg.retrieval.candidates;
  const paths: Record<string, (q: string) => Promise<string[] | null>> = {
    search_all: async (q) => (await retriever.search(q, { mode: 'bm25', k: K, caller: everyone })).ranked.map((r) => r.chunk_id),
    search_acl: async (q) => (await retriever.search(q, { mode: 'bm25', k: K, caller: publicOnly })).ranked.map((r) => r.chunk_id),
    fts_k10_no_filter: async (q) => (await table.fullText(q, 'true', ['chunk_id'], K), null),
    fts_k10_acl_all: async (q) => (await table.fullText(q, aclWhere(everyone), ['chunk_id'], K), null),
    fts_k10_acl_half: async (q) => (await table.fullText(q, aclWhere(publicOnly), ['chunk_id'], K), null),
    [`fts_depth${depth}_candidate_columns`]: async (q) => (await table.fullText(q, aclWhere(everyone), ['chunk_id', 'doc_id', 'acl', 'tenant'], depth), null),
    // What a warmed retriever asks: its candidates' ids come from memory.
    [`fts_depth${depth}_row_ids_and_scores`]: async (q) => (await table.fullText(q, aclWhere(everyone), [], depth), null),
  };
  for (const q of ['warm-up about cells', 'warm-up about proteins', 'warm-up about genes']) for (const f of Object.values(paths)) await f(q);
  const ms: Record<string, number[]> = Object.fromEntries(Object.keys(paths).map((k) => [k, []]));
  const tops: Record<string, string[][]> = { search_all: [], search_acl: [] };
  const stages: Record<string, number[]> = {};
  ctx.log(`peers: rag, ${Object.keys(paths).length} paths × ${queries.length} queries`);
  for (const q of queries) {
    for (const [k, f] of Object.entries(paths)) {
      const t = performance.now();
      const top = await f(q);
      ms[k]!.push(performance.now() - t);
      if (top) tops[k]!.push(top);
    }
    const res = await retriever.search(q, { mode: 'bm25', k: K, caller: everyone });
    for (const [k, v] of Object.entries(res.timings)) if (typeof v === 'number') (stages[k] ??= []).push(v);
  }
  store.close();

  let bm25s: SectionResult;
  try {
    const python = await pythonWith('bm25s', ctx.log);
    const spec = path.join(dir, 'bm25s.json');
    // rag's full-text defaults (LanceDB BM25: k1 1.2, b 0.75).
    writeFileSync(spec, JSON.stringify({ docs: rows.map((r) => r.text), queries, visible: rows.map((r) => (r.acl.includes('public') ? 1 : 0)), k: K, k1: 1.2, b: 0.75, warmup: 20 }));
    ctx.log(`peers: bm25s × ${queries.length} queries`);
    const out = await runPeer<Bm25sOut>(python, path.join(ROOT, 'bench/peers/bm25s_peer.py'), spec);
    const overlap = (ours: string[][], theirs: number[][]) =>
      mean(ours.map((o, i) => o.filter((id) => (theirs[i] ?? []).includes(position.get(id)!)).length / K));
    bm25s = {
      version: out.version,
      indexSeconds: round(out.index_seconds),
      allMs: latency(out.all.ms),
      aclMs: latency(out.acl.ms),
      overlapAt10All: round(overlap(tops.search_all!, out.all.top)),
      overlapAt10Acl: round(overlap(tops.search_acl!, out.acl.top)),
    };
  } catch (err) {
    bm25s = { skipped: (err as Error).message.split('\n')[0] };
  }
  const lat = Object.fromEntries(Object.entries(ms).map(([k, v]) => [k, latency(v)]));
  const ratio = (ours: string, theirs: string) => {
    const a = lat[ours]?.p50;
    const b = (bm25s[theirs] as { p50: number } | undefined)?.p50;
    return a && b ? round(a / b) : null;
  };
  return {
    corpus: name,
    documents: docs.length,
    chunks,
    queries: queries.length,
    k: K,
    candidateDepth: depth,
    visibleHalf: 'public caller: every other document (group:lab holds the rest)',
    ragMs: lat,
    ragStageMeanMs: Object.fromEntries(Object.entries(stages).map(([k, v]) => [k, round(mean(v), 3)])),
    bm25s,
    ratioAll: ratio('search_all', 'allMs'),
    ratioAcl: ratio('search_acl', 'aclMs'),
    maxRssMiB: selfMaxRssMiB(),
  };
}
