/**
 * TREC-style pooling: the top N of several retrieval systems, merged without duplicates and put
 * in a seeded random order, so a labeler grades what any system might return without knowing
 * which system found it (and so cannot favour one).
 */
import { sha256 } from '../hash.js';
import { mulberry32 } from '../evaluation/stats.js';
import { compareBytes } from '../evaluation/qrels.js';
import type { SearchOptions, SearchResult } from '../search/retriever.js';
import type { Caller, Hit } from '../types.js';
import type { JudgmentUnit } from './journal.js';

export type PoolSystem = 'bm25' | 'vector' | 'hybrid' | 'reranked';

/** What pooling needs from the retriever (the real Retriever fits; tests pass a fake). */
export interface PoolSearcher {
  readonly hasVectors: boolean;
  search(query: string, opts: SearchOptions): Promise<SearchResult>;
}

/** Systems the index can run: vector and hybrid need vectors, reranked needs a reranker. */
export function availableSystems(opts: { hasVectors: boolean; reranker?: string | null }): PoolSystem[] {
  const systems: PoolSystem[] = ['bm25'];
  if (opts.hasVectors) systems.push('vector', 'hybrid');
  if (opts.reranker) systems.push('reranked');
  return systems;
}

export interface PoolCandidate {
  /** The judgment key: the doc id, or the chunk id when labeling chunks. */
  key: string;
  docId: string;
  chunkId: string;
  title: string;
  source: string;
  headingPath: string[];
  /** 1-based page, or 0 when not paginated. */
  page: number;
  text: string;
  /** The connector that parsed the document: how its stored text is to be rendered. */
  connector: string;
  /** Where the passage sits in the document's normalised text (for the full-document view). */
  charStart: number;
  charEnd: number;
  /** Which systems retrieved it — kept for analysis, never shown to the labeler. */
  foundBy: PoolSystem[];
}

export interface PoolOptions {
  /** Top N per system. */
  depth: number;
  caller: Caller;
  systems: PoolSystem[];
  unit: JudgmentUnit;
  /** Seed of the shuffle; combined with the query id so every query has its own order. */
  seed: string;
  qid: string;
  reranker?: string | null;
}

/** Deterministic PRNG (mulberry32) seeded from a string's sha256. */
export function seededRandom(seed: string): () => number {
  return mulberry32(parseInt(sha256(seed).slice(0, 8), 16));
}

/** Fisher–Yates with a seeded PRNG: same seed and items → same order, on every machine. */
export function seededShuffle<T>(items: readonly T[], seed: string): T[] {
  const out = [...items];
  const rnd = seededRandom(seed);
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function searchOptionsFor(system: PoolSystem, searcher: PoolSearcher, opts: PoolOptions): SearchOptions {
  const base = { k: opts.depth, caller: opts.caller, groupByDoc: opts.unit === 'doc' };
  switch (system) {
    case 'bm25':
    case 'vector':
    case 'hybrid':
      return { ...base, mode: system, rerank: null };
    case 'reranked':
      return { ...base, mode: searcher.hasVectors ? 'hybrid' : 'bm25', rerank: opts.reranker };
  }
}

/**
 * Pools the candidates for one query. Every search goes through the retriever with the
 * labeler's caller, so the ACL pre-filter applies: nothing the labeler may not see is pooled.
 */
export async function poolCandidates(searcher: PoolSearcher, query: string, opts: PoolOptions): Promise<PoolCandidate[]> {
  const byKey = new Map<string, PoolCandidate>();
  for (const system of opts.systems) {
    if (system === 'reranked' && !opts.reranker) continue;
    const res = await searcher.search(query, searchOptionsFor(system, searcher, opts));
    for (const h of res.hits.slice(0, opts.depth)) {
      const key = opts.unit === 'chunk' ? h.chunk.chunk_id : h.chunk.doc_id;
      const seen = byKey.get(key);
      if (seen) {
        if (!seen.foundBy.includes(system)) seen.foundBy.push(system);
        continue;
      }
      byKey.set(key, candidateFrom(h, key, system));
    }
  }
  // Sort first so the shuffle's input order carries no trace of which system came first.
  const sorted = [...byKey.values()].sort((a, b) => compareBytes(a.key, b.key));
  return seededShuffle(sorted, `${opts.seed}\u0000${opts.qid}`);
}

function candidateFrom(h: Hit, key: string, system: PoolSystem): PoolCandidate {
  return {
    key,
    docId: h.chunk.doc_id,
    chunkId: h.chunk.chunk_id,
    title: h.chunk.title,
    source: h.chunk.source,
    headingPath: [...h.chunk.heading_path],
    page: h.chunk.page ?? 0,
    text: h.chunk.text,
    connector: h.chunk.connector,
    charStart: h.chunk.char_start,
    charEnd: h.chunk.char_end,
    foundBy: [system],
  };
}
