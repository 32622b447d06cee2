import { flagHits } from '../engine/audit/hit-findings.js';
import type { IndexFreshness } from '../engine/index/freshness.js';
import type { ExplainAudience } from '../engine/search/explain.js';
import type { SearchResult } from '../engine/search/retriever.js';
import type { Caller } from '../engine/types.js';

/**
 * The JSON shape of a search answer: `rag query --json` and the service's `POST /v1/query` emit
 * exactly this (keys in snake_case, like every JSON rag writes).
 */
export function queryResultJson(
  query: string,
  res: SearchResult,
  // Freshness is required: every door (CLI, daemon, HTTP, MCP) says whether the index is behind.
  // `caller` (an API key's holder) gets only whether the index is current: the counts span every tenant.
  info: { index: string; model: string | null; caller: Caller; freshness: IndexFreshness; explanation?: string | null; audience?: ExplainAudience },
): Record<string, unknown> {
  // Every answer carries its hits' injection findings, whichever door it leaves by (CLI, HTTP, MCP).
  const flagged = flagHits(res.hits);
  return {
    query,
    mode: res.mode,
    index: info.index,
    model: info.model,
    caller: info.caller,
    index_freshness: info.audience === 'caller' ? { current: info.freshness.current } : freshnessJson(info.freshness),
    timings: { ...res.timings, findings_ms: flagged.ms },
    results: res.hits.map((h) => ({
      rank: h.rank,
      doc_id: h.chunk.doc_id,
      chunk_id: h.chunk.chunk_id,
      score: h.score,
      source: h.chunk.source,
      title: h.chunk.title,
      heading_path: h.chunk.heading_path,
      page: h.chunk.page || null,
      char_start: h.chunk.char_start,
      char_end: h.chunk.char_end,
      text: h.chunk.text,
      scores: h.scores,
      // Injection / hidden-text findings on this chunk (empty when clean): quarantine before prompting a model.
      findings: flagged.findings.get(h.chunk.chunk_id) ?? [],
    })),
    // Why an answer is empty, when the store can tell (unknown tenant, filter key, no access).
    ...(info.explanation ? { explanation: info.explanation } : {}),
  };
}

/** Whether the index is behind the chunks table, in document counts (see engine/index/freshness.ts). */
export function freshnessJson(f: IndexFreshness): Record<string, unknown> {
  return { current: f.current, missing_documents: f.missing, partial_documents: f.partial, stale_documents: f.stale };
}
