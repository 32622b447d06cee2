/**
 * The answer JSON every service door returns (daemon socket, HTTP, MCP): the same shape, with the
 * same freshness field and empty-answer explanation, as an in-process `rag query --json`.
 */
import { indexFreshness, type IndexFreshness } from '../engine/index/freshness.js';
import { explainEmpty } from '../engine/search/explain.js';
import type { SearchResult } from '../engine/search/retriever.js';
import type { Caller } from '../engine/types.js';
import { queryResultJson } from '../render/query-json.js';
import type { Lease } from './pool.js';

export async function answerJson(
  lease: Lease,
  query: string,
  res: SearchResult,
  caller: Caller,
  filterKeys?: readonly string[],
): Promise<{ json: Record<string, unknown>; freshness: IndexFreshness }> {
  const m = lease.retriever.manifest;
  const freshness = await indexFreshness(lease.store, m);
  const explanation = res.hits.length ? null : await explainEmpty(lease.store, caller, filterKeys);
  return { json: queryResultJson(query, res, { index: m.name, model: m.model?.id ?? null, caller, freshness, explanation }), freshness };
}
