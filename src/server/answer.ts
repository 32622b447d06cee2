/**
 * The answer JSON every service door returns (daemon socket, HTTP, MCP): the same shape, with the
 * same freshness field and empty-answer explanation, as an in-process `rag query --json`. HTTP and
 * MCP answer an API key's holder (`caller`): nothing about other tenants or unseen documents. The
 * local socket answers the store's owner, as the CLI does.
 */
import type { IndexFreshness } from '../engine/index/freshness.js';
import { explainEmpty, type ExplainAudience } from '../engine/search/explain.js';
import type { SearchResult } from '../engine/search/retriever.js';
import type { Caller } from '../engine/types.js';
import { queryResultJson } from '../render/query-json.js';
import type { Lease } from './pool.js';

export async function answerJson(
  lease: Lease,
  query: string,
  res: SearchResult,
  caller: Caller,
  filterKeys: readonly string[] | undefined,
  audience: ExplainAudience,
): Promise<{ json: Record<string, unknown>; freshness: IndexFreshness }> {
  const m = lease.retriever.manifest;
  // Known per generation (the pool takes it when it builds one): no version reads per request.
  const freshness = lease.freshness;
  const explanation = res.hits.length ? null : await explainEmpty(lease.store, caller, filterKeys, audience);
  const json = queryResultJson(query, res, { index: m.name, model: m.model?.id ?? null, caller, freshness, explanation, audience });
  return { json, freshness };
}
