/**
 * The weakest queries of an eval, with what the retriever showed for them: the top passages and
 * where the judged documents ended up. It goes into the run artifact (worst-queries.json) so a
 * report can show *why* a query scored low without a store at hand.
 *
 * Permissions: each query is searched again as the caller it ran as in the eval (its own
 * principals from the golden line, else the eval's caller), through the same retriever and
 * pre-filter; judged documents are titled only when that caller may read them. So the file holds
 * no text that the eval's callers could not see, and it records whose view each query is.
 */
import { getDocument } from '../search/documents.js';
import type { Retriever } from '../search/retriever.js';
import type { Caller } from '../types.js';
import { judgmentUnit, queryCaller, type EvalOutcome } from './eval.js';
import type { GoldenSet } from './goldens.js';
import { docIdOf } from './qrels.js';

export interface WorstHit {
  rank: number;
  doc_id: string;
  chunk_id: string;
  title: string;
  source: string;
  score: number;
  /** Judged grade of this hit (as scored: document or chunk), when judged. */
  grade: number | null;
  text: string;
  /** True when `text` was cut to the first PASSAGE_CHARS characters. */
  clipped: boolean;
}

export interface WorstJudged {
  id: string;
  grade: number;
  /** 1-based rank in the eval's ranking; null when not retrieved within the eval depth. */
  rank: number | null;
  /** Null when the query's caller may not read the document (or it is no longer in the store). */
  title: string | null;
}

export interface WorstQuery {
  qid: string;
  text: string;
  value: number;
  caller: Caller;
  hits: WorstHit[];
  judged: WorstJudged[];
}

export interface WorstQueries {
  metric: string;
  /** Whose view the passages are: one caller per query, named per query. */
  view: string;
  queries: WorstQuery[];
}

const PASSAGE_CHARS = 600;
const JUDGED_SHOWN = 10;

/** The metric a report ranks queries by: nDCG@10 when computed, else the smallest nDCG cutoff. */
export function rankingMetric(perQuery: Record<string, Record<string, number>>): string {
  const first = Object.values(perQuery)[0] ?? {};
  if ('ndcg@10' in first) return 'ndcg@10';
  return Object.keys(first).filter((m) => m.startsWith('ndcg@')).sort((a, b) => Number(a.slice(5)) - Number(b.slice(5)))[0] ?? 'ndcg';
}

export async function worstQueries(
  retriever: Retriever,
  golden: GoldenSet,
  outcome: EvalOutcome,
  opts: { caller: Caller; queries?: number; hits?: number },
): Promise<WorstQueries> {
  const perQuery = outcome.result.perQuery;
  const metric = rankingMetric(perQuery);
  const byId = new Map(golden.queries.map((q) => [q.id, q]));
  const worst = Object.entries(perQuery)
    .map(([qid, v]) => ({ qid, value: v[metric] ?? 0 }))
    .sort((a, b) => a.value - b.value || (a.qid < b.qid ? -1 : 1))
    .slice(0, opts.queries ?? 5);
  const r = outcome.retrieval;
  const out: WorstQuery[] = [];
  for (const w of worst) {
    const q = byId.get(w.qid);
    if (!q) continue;
    const caller = queryCaller(q, opts.caller);
    const unit = judgmentUnit(golden.qrels, q.id);
    const judgedMap = golden.qrels.get(q.id) ?? new Map<string, number>();
    const gradeOf = (id: string) => {
      if (judgedMap.has(id)) return judgedMap.get(id)!;
      let best: number | null = null;
      for (const [key, g] of judgedMap) if (docIdOf(key) === id) best = Math.max(best ?? -Infinity, g);
      return best;
    };
    // Same settings as the eval; rankings are prefix-stable in k, so these top hits are the head
    // of the ranking that was scored.
    const res = await retriever.search(q.text, {
      mode: r.mode, k: opts.hits ?? 3, caller, rerank: r.rerank, rerankTopN: r.rerank_top_n, rrfK: r.rrf_k,
      candidates: r.candidates, weights: r.weights, groupByDoc: unit === 'doc',
    });
    const hits = res.hits.slice(0, opts.hits ?? 3).map((h): WorstHit => ({
      rank: h.rank,
      doc_id: h.chunk.doc_id,
      chunk_id: h.chunk.chunk_id,
      title: h.chunk.title,
      source: h.chunk.source,
      score: h.score,
      grade: gradeOf(unit === 'doc' ? h.chunk.doc_id : h.chunk.chunk_id),
      text: h.chunk.text.length > PASSAGE_CHARS ? h.chunk.text.slice(0, PASSAGE_CHARS) : h.chunk.text,
      clipped: h.chunk.text.length > PASSAGE_CHARS,
    }));
    const ranking = (outcome.run.get(q.id) ?? []).map((e) => e.docId);
    const judged: WorstJudged[] = [];
    const entries = [...judgedMap].map(([key, grade]) => ({ id: unit === 'doc' ? docIdOf(key) : key, grade }));
    const seen = new Set<string>();
    for (const e of entries.sort((a, b) => b.grade - a.grade || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
      if (seen.has(e.id) || judged.length >= JUDGED_SHOWN) continue;
      seen.add(e.id);
      const at = ranking.indexOf(e.id);
      const doc = await getDocument(retriever.store, docIdOf(e.id), caller);
      judged.push({ id: e.id, grade: e.grade, rank: at >= 0 ? at + 1 : null, title: doc ? doc.title : null });
    }
    out.push({ qid: q.id, text: q.text, value: w.value, caller, hits, judged });
  }
  return {
    metric,
    view: 'each query as the caller it ran as in the eval (its golden line\'s principals, else the eval\'s --as/--tenant/--profile)',
    queries: out,
  };
}
