/**
 * The synthetic store: N chunks with generated text and vectors, an ANN index on `vector`, the
 * ACL scalar indexes the product builds, and queries shaped like the retriever's vector search
 * (same ACL pre-filter, same candidate depth). Reports latency and recall@10 against exact search.
 *
 * Vectors are unit vectors drawn around 1,000 random centres (Gaussian noise, then normalised):
 * uniformly random vectors have no neighbourhood structure at all, which no ANN index — or real
 * embedding — resembles. The dimension is fixed at 128.
 */
import * as lancedb from '@lancedb/lancedb';
import { mulberry32 as rng } from '../../src/engine/evaluation/stats.js';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { latency, mean, round } from './stats.js';

// LanceDB is CommonJS and checks `instanceof` against the CommonJS build of apache-arrow; tables
// built with the ESM build (a separate module instance) fail its checks. Use the same instance.
const arrow = createRequire(import.meta.url)('apache-arrow') as typeof import('apache-arrow');
type ArrowTable = import('apache-arrow').Table;

export const DIM = 128;
const CLUSTERS = 1000;
const NOISE = 0.07;
const CENTRE_SEED = 1234;
const TABLE = 'chunks';
/** What the product's retriever selects and how deep it searches (retrieval.candidates). */
const CANDIDATE_COLUMNS = ['chunk_id', 'doc_id', 'acl', 'tenant'];
const DEPTH = 100;
export const ACL_WHERE = "(array_has_any(acl, ['public']) AND tenant = 'default')";

export { mulberry32 as rng } from '../../src/engine/evaluation/stats.js';

function gaussian(r: () => number): number {
  const u = Math.max(r(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
}

function normalise(v: Float32Array, offset: number, dim: number): void {
  let s = 0;
  for (let d = 0; d < dim; d++) s += v[offset + d]! * v[offset + d]!;
  const n = Math.sqrt(s) || 1;
  for (let d = 0; d < dim; d++) v[offset + d]! /= n;
}

export class VectorSource {
  private readonly centres: Float32Array;
  /** The centres depend on the seed only; `r` draws the points around them. */
  constructor(centreSeed: number, private readonly r: () => number) {
    const rc = rng(centreSeed);
    this.centres = new Float32Array(CLUSTERS * DIM);
    for (let i = 0; i < this.centres.length; i++) this.centres[i] = gaussian(rc);
    for (let c = 0; c < CLUSTERS; c++) normalise(this.centres, c * DIM, DIM);
  }
  /** n vectors, row-major. */
  draw(n: number): Float32Array {
    const out = new Float32Array(n * DIM);
    for (let i = 0; i < n; i++) {
      const c = Math.floor(this.r() * CLUSTERS);
      for (let d = 0; d < DIM; d++) out[i * DIM + d] = this.centres[c * DIM + d]! + NOISE * gaussian(this.r);
      normalise(out, i * DIM, DIM);
    }
    return out;
  }
}

const WORDS = 'alpha beta gamma delta ledger invoice token rotate backup restore audit export cluster replica shard tenant policy key secret region latency quota billing'.split(' ');

function batchTable(start: number, n: number, vectors: Float32Array, r: () => number): ArrowTable {
  const ids: string[] = [];
  const docs: string[] = [];
  const texts: string[] = [];
  const acls: string[][] = [];
  const tenants: string[] = [];
  for (let i = 0; i < n; i++) {
    const row = start + i;
    ids.push(`syn-${row}`);
    docs.push(`doc-${Math.floor(row / 4)}`);
    texts.push(Array.from({ length: 12 }, () => WORDS[Math.floor(r() * WORDS.length)]).join(' '));
    // ~90% public, ~5% another tenant: the pre-filter keeps ~85% of the rows.
    acls.push(r() < 0.9 ? ['public'] : [`group:g${row % 50}`]);
    tenants.push(r() < 0.95 ? 'default' : 'other');
  }
  const item = new arrow.Field('item', new arrow.Float32(), true);
  const vecType = new arrow.FixedSizeList(DIM, item);
  const child = arrow.makeData({ type: new arrow.Float32(), length: n * DIM, data: vectors });
  const vec = arrow.makeVector(arrow.makeData({ type: vecType, length: n, nullCount: 0, child }));
  return new arrow.Table({
    chunk_id: arrow.vectorFromArray(ids, new arrow.Utf8()),
    doc_id: arrow.vectorFromArray(docs, new arrow.Utf8()),
    text: arrow.vectorFromArray(texts, new arrow.Utf8()),
    acl: arrow.vectorFromArray(acls, new arrow.List(new arrow.Field('item', new arrow.Utf8(), true))),
    tenant: arrow.vectorFromArray(tenants, new arrow.Utf8()),
    vector: vec,
  });
}

export type AnnKind = 'ivf_pq' | 'ivf_hnsw_sq';

export interface SyntheticStore {
  dir: string;
  rows: number;
  generateSeconds: number | null;
  indexSeconds: number | null;
  index: { kind: AnnKind; params: Record<string, unknown> };
  reused: boolean;
}

function annConfig(kind: AnnKind, rows: number): { index: lancedb.Index; params: Record<string, unknown> } {
  const numPartitions = Math.max(1, Math.round(Math.sqrt(rows)));
  if (kind === 'ivf_hnsw_sq') {
    // HNSW inside each partition: fewer, larger partitions than IVF-PQ.
    const params = { distanceType: 'cosine' as const, numPartitions: Math.max(1, Math.round(numPartitions / 4)), m: 16, efConstruction: 150 };
    return { index: lancedb.Index.hnswSq(params), params };
  }
  const params = { distanceType: 'cosine' as const, numPartitions, numSubVectors: DIM / 8 };
  return { index: lancedb.Index.ivfPq(params), params };
}

/** Builds (or reuses, when `dir` holds a finished build of the same shape) the synthetic store. */
export async function buildSynthetic(dir: string, rows: number, kind: AnnKind, onLog: (m: string) => void): Promise<SyntheticStore> {
  const marker = path.join(dir, 'bench-build.json');
  const { index: indexCfg, params } = annConfig(kind, rows);
  if (existsSync(marker)) {
    const m = JSON.parse(readFileSync(marker, 'utf8')) as SyntheticStore;
    if (m.rows === rows && m.index.kind === kind && JSON.stringify(m.index.params) === JSON.stringify(params)) return { ...m, reused: true };
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const db = await lancedb.connect(dir);
  const r = rng(42);
  const source = new VectorSource(CENTRE_SEED, r);
  const batch = 100_000;
  const t0 = performance.now();
  let table: lancedb.Table | null = null;
  for (let start = 0; start < rows; start += batch) {
    const n = Math.min(batch, rows - start);
    const data = batchTable(start, n, source.draw(n), r);
    if (!table) table = await db.createTable(TABLE, data);
    else await table.add(data);
    if (rows > batch) onLog(`synthetic: ${start + n}/${rows} rows written`);
  }
  const generateSeconds = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  onLog(`synthetic: building ${kind} ${JSON.stringify(params)} over ${rows} rows`);
  await table!.createIndex('vector', { config: indexCfg, replace: true });
  await table!.createIndex('acl', { config: lancedb.Index.labelList(), replace: true });
  await table!.createIndex('tenant', { config: lancedb.Index.bitmap(), replace: true });
  const indexSeconds = (performance.now() - t1) / 1000;
  table!.close();
  db.close();
  const out: SyntheticStore = { dir, rows, generateSeconds: round(generateSeconds), indexSeconds: round(indexSeconds), index: { kind, params }, reused: false };
  writeFileSync(marker, JSON.stringify(out, null, 2));
  return out;
}

export function queryVectors(n: number): Float32Array[] {
  // Same centres as the store, a different noise stream: queries near, not equal to, stored rows.
  const data = new VectorSource(CENTRE_SEED, rng(7)).draw(n);
  return Array.from({ length: n }, (_, i) => data.slice(i * DIM, (i + 1) * DIM));
}

export interface AnnSetting {
  nprobes?: number;
  refineFactor?: number;
  ef?: number;
}

export interface AnnRow extends AnnSetting {
  latencyMs: ReturnType<typeof latency>;
  recallAt10: number;
  minRecallAt10: number;
}

async function topIds(q: lancedb.VectorQuery): Promise<string[]> {
  const rows = await q.toArray();
  return rows.map((r) => String(r.chunk_id));
}

function productQuery(table: lancedb.Table, v: Float32Array): lancedb.VectorQuery {
  return table.vectorSearch(Array.from(v)).column('vector').distanceType('cosine').where(ACL_WHERE).select(CANDIDATE_COLUMNS).withRowId().limit(DEPTH);
}

/** Exact top-10 of each query under the same pre-filter, cached beside the store. */
export async function exactTruth(dir: string, queries: Float32Array[]): Promise<{ ids: string[][]; latencyMs: ReturnType<typeof latency>; cached: boolean }> {
  const file = path.join(dir, `bench-truth-${queries.length}.json`);
  if (existsSync(file)) return { ...(JSON.parse(readFileSync(file, 'utf8')) as { ids: string[][]; latencyMs: ReturnType<typeof latency> }), cached: true };
  const db = await lancedb.connect(dir);
  const table = await db.openTable(TABLE);
  const ids: string[][] = [];
  const times: number[] = [];
  for (const v of queries) {
    const t = performance.now();
    ids.push((await topIds(productQuery(table, v).bypassVectorIndex())).slice(0, 10));
    times.push(performance.now() - t);
  }
  table.close();
  db.close();
  const out = { ids, latencyMs: latency(times) };
  writeFileSync(file, JSON.stringify(out));
  return { ...out, cached: false };
}

export async function sweep(dir: string, queries: Float32Array[], truth: string[][], settings: AnnSetting[]): Promise<AnnRow[]> {
  const db = await lancedb.connect(dir);
  const table = await db.openTable(TABLE);
  const out: AnnRow[] = [];
  const build = (v: Float32Array, s: AnnSetting) => {
    let q = productQuery(table, v);
    if (s.nprobes) q = q.nprobes(s.nprobes);
    if (s.refineFactor) q = q.refineFactor(s.refineFactor);
    if (s.ef) q = q.ef(s.ef);
    return q;
  };
  // One pass to load index pages and partitions: we measure a warm process, as `query` in a server would be.
  for (const v of queries.slice(0, 20)) await topIds(build(v, settings[0]!));
  for (const s of settings) {
    const times: number[] = [];
    const recalls: number[] = [];
    for (let i = 0; i < queries.length; i++) {
      const t = performance.now();
      const ids = await topIds(build(queries[i]!, s));
      times.push(performance.now() - t);
      const want = new Set(truth[i]);
      recalls.push(want.size ? ids.slice(0, 10).filter((id) => want.has(id)).length / want.size : 1);
    }
    out.push({ ...s, latencyMs: latency(times), recallAt10: mean(recalls), minRecallAt10: round(Math.min(...recalls)) });
  }
  table.close();
  db.close();
  return out;
}

/** Fastest setting meeting the recall target (p95 latency), else the one with the best recall. */
export function bestSetting(rows: AnnRow[], minRecall: number): AnnRow | null {
  const ok = rows.filter((r) => r.recallAt10 >= minRecall).sort((a, b) => a.latencyMs.p95 - b.latencyMs.p95);
  return ok[0] ?? [...rows].sort((a, b) => b.recallAt10 - a.recallAt10)[0] ?? null;
}
