import { aclWhere, isVisible } from '../acl.js';
import type { RagConfig } from '../config.js';
import { AclViolationError, StoreError, UsageError } from '../errors.js';
import { readIndexManifest, type IndexManifest } from '../store/manifest.js';
import { loadEmbedder, loadReranker, type Embedder } from '../models/index.js';
import type { ArrowTypes } from '../store/arrow.js';
import { arrowRows, Store } from '../store/store.js';
import type { AnnSearchParams, IndexTable } from '../store/index-table.js';
import type { Caller, Hit, RetrievalMode } from '../types.js';

export interface SearchOptions {
  mode?: RetrievalMode;
  k: number;
  caller: Caller;
  /** Compiled metadata filter (see filter.ts), ANDed with the ACL clause. */
  filterSql?: string;
  rrfK?: number;
  candidates?: number;
  weights?: { bm25: number; vector: number };
  rerank?: string | null;
  rerankTopN?: number;
  /** Return at most one hit per document (its best chunk): the unit of BEIR/TREC judgments. */
  groupByDoc?: boolean;
  /** false: rank only (ids and scores in `ranked`), skip fetching passages — what eval needs. */
  fetch?: boolean;
}

export interface RankedRef {
  chunk_id: string;
  doc_id: string;
  score: number;
}

/** Milliseconds per stage. BM25 and vector searches run at once: their times overlap, do not add them. */
export interface StageTimings {
  embed_ms?: number;
  bm25_ms?: number;
  vector_ms?: number;
  fuse_ms?: number;
  rerank_ms?: number;
  fetch_ms?: number;
  total_ms: number;
}

export interface SearchResult {
  mode: RetrievalMode;
  /** Full hits (empty when fetch is false). */
  hits: Hit[];
  /** The final ranking, ids and scores only. */
  ranked: RankedRef[];
  timings: StageTimings;
}

const RESULT_COLUMNS = [
  'chunk_id', 'doc_id', 'ordinal', 'text', 'title', 'source', 'connector', 'heading_path', 'page',
  'char_start', 'char_end', 'tokens', 'acl', 'tenant', 'metadata', 'content_hash',
];
/** Searches return only what ranking needs; full rows are fetched for the survivors (two-phase). */
const CANDIDATE_COLUMNS = ['chunk_id', 'doc_id', 'acl', 'tenant'];
/** Indexes up to this size keep their passages in memory once a retriever is warmed. */
const ROW_CACHE_MAX_ROWS = 100_000;

type CandidateRef = { chunk_id: string; doc_id: string; acl: string[]; tenant: string; rowid: bigint };
type Candidate = { ref: CandidateRef; score: number; id: string };

/** Descending score, then chunk id: a total order, so equal inputs rank identically every time. */
const byScoreThenId = (a: { score: number; id: string }, b: { score: number; id: string }) =>
  b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** Each pass past the first searches this many times deeper than the one before. */
const TIER_GROWTH = 4;
/** The deepest pass: past it a ranking simply ends. */
const MAX_DEPTH = 100_000;

type Fused = { c: Candidate; id: string; scores: Hit['scores']; score: number; systems: number; bestRank: number };

/**
 * The order of a ranking, shared by every mode: score, then (for exact ties, which RRF makes
 * often) the candidate more systems agree on, then its best rank in a single system, then chunk
 * id. Eval writes this order to run.trec with strictly decreasing scores, so trec_eval agrees.
 */
const byRank = (a: Fused, b: Fused) =>
  b.score - a.score || b.systems - a.systems || a.bestRank - b.bestRank || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** Hybrid: weighted reciprocal rank fusion, Σ w / (rrfK + rank). One system: its own score. */
function fuse(mode: RetrievalMode, bm25: Candidate[], vec: Candidate[], w: { bm25: number; vector: number }, rrfK: number): Fused[] {
  const fused = new Map<string, Fused>();
  const addList = (list: Candidate[], kind: 'bm25' | 'vector', weight: number) => {
    list.forEach((c, i) => {
      const e = fused.get(c.id) ?? { c, id: c.id, scores: {}, score: 0, systems: 0, bestRank: Infinity };
      e.scores[kind] = c.score;
      e.scores[kind === 'bm25' ? 'bm25_rank' : 'vector_rank'] = i + 1;
      e.score += mode === 'hybrid' ? weight / (rrfK + i + 1) : c.score;
      e.systems++;
      e.bestRank = Math.min(e.bestRank, i + 1);
      fused.set(c.id, e);
    });
  };
  addList(bm25, 'bm25', w.bm25);
  addList(vec, 'vector', w.vector);
  const ranked = [...fused.values()].sort(byRank);
  if (mode === 'hybrid') for (const e of ranked) e.scores.fused = e.score;
  return ranked;
}

/**
 * The one retriever. `query`, `eval`, `label` and `audit` all search through it, and every search
 * it runs carries the caller's ACL clause as a LanceDB pre-filter.
 */
export class Retriever {
  private embedder: Embedder | null = null;
  private rowCache: Map<bigint, Hit['chunk']> | null = null;
  /**
   * What ranking needs of every row (ids, ACL, tenant) by row id, held by a warmed retriever over a
   * modest index: its searches then ask LanceDB for row ids and scores only. Reading those four
   * columns back for 100 candidates was a third of a full-text call (2.8 against 1.9 ms p50 on
   * SciFact). Same table handle and version as the searches, so the ACL re-check sees the rows the
   * pre-filter saw, and the ranking is a one-shot query's (tested).
   */
  private refCache: Map<bigint, CandidateRef> | null = null;
  /** Recent query vectors: re-asked queries (eval sweeps, label pools, UIs) skip the model. */
  private queryVectors = new Map<string, Float32Array>();
  /** Cache use since open, for a long-lived process's metrics. */
  readonly cacheStats = { query_vector_hits: 0, query_vector_misses: 0, passage_hits: 0, passage_misses: 0 };

  private constructor(
    readonly store: Store,
    readonly manifest: IndexManifest,
    private readonly table: IndexTable,
    private readonly config: RagConfig,
  ) {}

  static async open(store: Store, config: RagConfig, indexName: string): Promise<Retriever> {
    const manifest = await readIndexManifest(store, indexName);
    const table = await store.indexTable(manifest.table);
    if (!table) throw new StoreError(`index "${indexName}" is listed but its table ${manifest.table} is missing`, 'run `rag index --rebuild`');
    return new Retriever(store, manifest, table, config);
  }

  get hasVectors(): boolean {
    return this.manifest.model !== null;
  }

  defaultMode(): RetrievalMode {
    return this.config.retrieval.mode ?? (this.hasVectors ? 'hybrid' : 'bm25');
  }

  private async getEmbedder(): Promise<Embedder> {
    if (!this.embedder) {
      const m = this.manifest.model!;
      const e = await loadEmbedder(m.id);
      if (e.info.weights_sha256 !== m.weights_sha256) {
        throw new StoreError(
          `index "${this.manifest.name}" was built with ${m.id} weights ${m.weights_sha256.slice(0, 12)}… but the model present has ${e.info.weights_sha256.slice(0, 12)}…`,
          'rebuild the index with `rag index --rebuild`, or restore the original model files',
        );
      }
      this.embedder = e;
    }
    return this.embedder;
  }

  /** Loads the models a search will need, so the first query's latency is the query's alone. */
  async warm(opts: { rerank?: string | null; passages?: boolean } = {}): Promise<void> {
    if (this.hasVectors) await this.getEmbedder();
    if (opts.rerank) await loadReranker(opts.rerank);
    const passages = opts.passages !== false;
    if (this.rowCache || (this.refCache && !passages)) return;
    if ((await this.table.countRows()) > ROW_CACHE_MAX_ROWS) return;
    // A long-lived retriever over a modest index keeps its candidates' ids and, unless told not
    // to, its passages in memory: the fetch of the final hits becomes a lookup.
    const table = await this.table.scan(passages ? RESULT_COLUMNS : CANDIDATE_COLUMNS);
    const refs = new Map<bigint, CandidateRef>();
    const cache = passages ? new Map<bigint, Hit['chunk']>() : null;
    for (const row of arrowRows<Hit['chunk'] & { _rowid: bigint }>(table)) {
      const { _rowid, ...chunk } = row;
      refs.set(_rowid, { chunk_id: chunk.chunk_id, doc_id: chunk.doc_id, acl: chunk.acl, tenant: chunk.tenant, rowid: _rowid });
      cache?.set(_rowid, chunk);
    }
    this.refCache = refs;
    if (cache) this.rowCache = cache;
  }

  where(caller: Caller, filterSql?: string): string {
    const acl = aclWhere(caller);
    return filterSql ? `${acl} AND (${filterSql})` : acl;
  }

  /**
   * The ranking is the same for every k: positions come from a fixed sequence of passes, each
   * TIER_GROWTH times deeper than the last, starting at the candidate depth. The first pass is
   * fused (and reranked) on its own; a deeper pass only appends what the passes before it did not
   * rank, without re-fusing them. So `-k 10` is always a prefix of `-k 100`, and eval (which asks
   * for a deep run) scores the very top k that `rag query` returns.
   */
  async search(query: string, opts: SearchOptions): Promise<SearchResult> {
    const t0 = performance.now();
    const r = this.config.retrieval;
    const mode = opts.mode ?? this.defaultMode();
    if (mode !== 'bm25' && !this.hasVectors) {
      const name = this.manifest.name;
      throw new UsageError(
        `mode ${mode} needs vectors, but index "${name}" has none (it was built with --model none)${opts.mode ? '' : '; retrieval.mode in the config asks for it'}`,
        `use --mode bm25, or build vectors with \`rag index --name ${name} --model MODEL --rebuild\``,
      );
    }
    if (!query.trim()) throw new UsageError('empty query', 'pass the text to search for');
    const k = opts.k;
    const rerankId = opts.rerank === undefined ? r.rerank : opts.rerank;
    const rerankTopN = opts.rerankTopN ?? r.rerankTopN;
    const headDepth = Math.max(opts.candidates ?? r.candidates, rerankId ? rerankTopN : 0);
    const where = this.where(opts.caller, opts.filterSql);
    const timings: StageTimings = { total_ms: 0 };
    const w = opts.weights ?? r.weights;
    const rrfK = opts.rrfK ?? r.rrfK;

    // The embedding first, then both searches at once. Overlapping the embedding buys nothing
    // (re-measured): onnxruntime-node runs it synchronously on this thread, and LanceDB's result
    // stream needs this thread between batches, so a BM25 search started first still waits for it
    // (BM25 3.6 ms + a 6 ms block = 10.7 ms, not 6), also in a cold process while the model loads.
    // The embedding on a worker thread (BM25 meanwhile) measured the same on 2 cores, and
    // onnxruntime-node 1.21 aborts the process once sessions run on two threads (README,
    // Performance). The two searches together (their stage timings overlap): warm hybrid p50
    // 18.3 → 16.0 ms and p95 ~26 → ~22 ms on SciFact, 300 queries interleaved with the searches
    // one after the other; ~6 ms less in a cold process, where each opens its index files.
    const vector = mode !== 'bm25' ? await this.queryVector(query, timings) : null;
    const pass = async (depth: number) => {
      const [bm25, vec] = await Promise.all([mode !== 'vector' ? this.bm25(query, where, depth, timings) : [], vector ? this.vector(vector, where, depth, timings) : []]);
      const tf = performance.now();
      const fused = fuse(mode, bm25, vec, w, rrfK);
      // Defence in depth: the pre-filter already excluded these; a candidate failing here is a bug.
      for (const e of fused) if (!isVisible(e.c.ref, opts.caller)) throw new AclViolationError(e.id, 'passed the pre-filter');
      timings.fuse_ms = (timings.fuse_ms ?? 0) + performance.now() - tf;
      // Fewer rows than asked from every list: a deeper pass cannot find more.
      return { fused, exhausted: bm25.length < depth && vec.length < depth };
    };

    let ranked: Fused[] = [];
    const ids = new Set<string>();
    const docs = new Set<string>();
    const units = () => (opts.groupByDoc ? docs.size : ranked.length);
    for (let depth = headDepth, first = true; ; depth *= TIER_GROWTH, first = false) {
      const { fused, exhausted } = await pass(depth);
      let list = fused;
      if (first && rerankId) {
        const tr = performance.now();
        const reranker = await loadReranker(rerankId);
        const head = fused.slice(0, rerankTopN);
        const headRows = await this.fetchRows(head.map((e) => e.c.ref), opts.caller);
        const scores = await reranker.score(query, head.map((e) => headRows.get(e.id)!.text));
        head.forEach((e, i) => {
          e.scores.rerank = scores[i]!;
          e.score = scores[i]!;
        });
        head.sort(byRank);
        list = [...head, ...fused.slice(rerankTopN)];
        timings.rerank_ms = performance.now() - tr;
      }
      for (const e of list) {
        if (ids.has(e.id)) continue;
        ids.add(e.id);
        docs.add(e.c.ref.doc_id);
        ranked.push(e);
      }
      if (units() >= k || exhausted || depth >= MAX_DEPTH) break;
    }
    if (opts.groupByDoc) {
      const seenDocs = new Set<string>();
      ranked = ranked.filter((e) => !seenDocs.has(e.c.ref.doc_id) && seenDocs.add(e.c.ref.doc_id));
    }
    const top = ranked.slice(0, k);
    const refs = top.map((e) => ({ chunk_id: e.id, doc_id: e.c.ref.doc_id, score: e.score }));
    if (opts.fetch === false) {
      timings.total_ms = performance.now() - t0;
      return { mode, hits: [], ranked: refs, timings };
    }
    const tf2 = performance.now();
    const rows = await this.fetchRows(top.map((e) => e.c.ref), opts.caller);
    timings.fetch_ms = performance.now() - tf2;
    const hits: Hit[] = top.map((e, i) => ({ rank: i + 1, score: e.score, chunk: rows.get(e.id)!, scores: e.scores }));
    timings.total_ms = performance.now() - t0;
    return { mode, hits, ranked: refs, timings };
  }

  /** Second phase: full rows of the chosen candidates, by row id, re-checked against the caller. */
  private async fetchRows(refs: CandidateRef[], caller: Caller): Promise<Map<string, Hit['chunk']>> {
    const out = new Map<string, Hit['chunk']>();
    if (refs.length === 0) return out;
    const cache = this.rowCache;
    if (cache) this.cacheStats.passage_hits += refs.length;
    else this.cacheStats.passage_misses += refs.length;
    const rows = cache
      ? refs.map((r) => cache.get(r.rowid)).filter((c): c is Hit['chunk'] => c !== undefined)
      : arrowRows<Hit['chunk']>(await this.table.take(refs.map((r) => r.rowid), RESULT_COLUMNS));
    for (const chunk of rows) out.set(chunk.chunk_id, chunk);
    for (const ref of refs) {
      const chunk = out.get(ref.chunk_id);
      if (!chunk) throw new StoreError(`index "${this.manifest.name}" changed during the search (chunk ${ref.chunk_id} moved)`, 'retry the query');
      if (!isVisible(chunk, caller)) throw new AclViolationError(ref.chunk_id, 'was fetched');
    }
    return out;
  }

  private async bm25(query: string, where: string, limit: number, timings: StageTimings): Promise<Candidate[]> {
    const t = performance.now();
    const rows = await this.table.fullText(query, where, this.refCache ? [] : CANDIDATE_COLUMNS, limit);
    const list = this.toCandidates(rows, '_score', (s) => s);
    timings.bm25_ms = (timings.bm25_ms ?? 0) + performance.now() - t;
    return list;
  }

  private async queryVector(query: string, timings: StageTimings): Promise<Float32Array> {
    const te = performance.now();
    let vec = this.queryVectors.get(query);
    if (vec) this.cacheStats.query_vector_hits++;
    else {
      this.cacheStats.query_vector_misses++;
      const embedder = await this.getEmbedder();
      [vec] = await embedder.embedQueries([query]);
      if (this.queryVectors.size >= 1024) this.queryVectors.delete(this.queryVectors.keys().next().value!);
      this.queryVectors.set(query, vec!);
    }
    timings.embed_ms = performance.now() - te;
    return vec!;
  }

  private async vector(vec: Float32Array, where: string, limit: number, timings: StageTimings): Promise<Candidate[]> {
    const t = performance.now();
    const ann = this.manifest.ann;
    let params: AnnSearchParams | undefined;
    if (ann) {
      const r = this.config.retrieval;
      const partitions = Number(ann.params.num_partitions ?? 1);
      params = { nprobes: Math.min(partitions, r.nprobes), refineFactor: r.refineFactor };
      // HNSW needs ef ≥ the candidates it hands to the exact re-ranking (limit × refineFactor).
      if (ann.type === 'IVF_HNSW_SQ') params.ef = Math.max(r.ef, limit * r.refineFactor);
    }
    const rows = await this.table.nearest(vec, where, this.refCache ? [] : CANDIDATE_COLUMNS, limit, params);
    const list = this.toCandidates(rows, '_distance', (d) => 1 - d);
    timings.vector_ms = (timings.vector_ms ?? 0) + performance.now() - t;
    return list;
  }

  /** A search's rows as candidates: their refs from the warmed cache by row id, or from the columns read. */
  private toCandidates(table: ArrowTypes.Table, column: '_score' | '_distance', score: (v: number) => number): Candidate[] {
    const cache = this.refCache;
    const rowids = table.getChild('_rowid')!;
    const values = table.getChild(column)!;
    const full = cache ? null : arrowRows<Omit<CandidateRef, 'rowid'>>(table);
    const list: Candidate[] = [];
    for (let i = 0; i < table.numRows; i++) {
      const rowid = rowids.get(i) as bigint;
      const r = full?.[i];
      const ref = r ? { chunk_id: r.chunk_id, doc_id: r.doc_id, acl: r.acl, tenant: r.tenant, rowid } : cache!.get(rowid);
      if (!ref) throw new StoreError(`index "${this.manifest.name}" changed during the search (row ${rowid} is not in the version opened)`, 'retry the query');
      list.push({ ref, score: score(Number(values.get(i))), id: ref.chunk_id });
    }
    // LanceDB returns equal scores in storage order; re-sort so ties break by chunk id.
    list.sort(byScoreThenId);
    return list;
  }
}
