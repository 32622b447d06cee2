import { readFileSync } from 'node:fs';
import { InputError } from '../errors.js';
import { parseQueriesFile } from '../evaluation/goldens.js';
import { sha256 } from '../hash.js';
import { decideGolden, type Journal, type QueryInfo } from './journal.js';
import type { PoolCandidate } from './pool.js';
import { computeStats } from './stats.js';

/** A query waiting to be labeled, with its pooled candidates once they are computed. */
export interface QueueItem {
  query: QueryInfo;
  candidates?: PoolCandidate[];
}

/** Open disagreements (any spread), grouped by query: what `--adjudicate` walks through. */
export function disputedItems(journal: Journal): { queries: Map<string, QueryInfo>; grades: Map<string, Record<string, number>> } {
  const stats = computeStats(journal.state(), journal.path);
  const queries = new Map<string, QueryInfo>();
  const grades = new Map<string, Record<string, number>>();
  for (const d of stats.disagreements) {
    if (!queries.has(d.qid)) queries.set(d.qid, { id: d.qid, text: d.query });
    grades.set(`${d.qid}\u0000${d.key}`, d.grades);
  }
  return { queries, grades };
}

export function initialQueue(journal: Journal, queriesFile: string | undefined): QueueItem[] {
  if (queriesFile) {
    let text: string;
    try {
      text = readFileSync(queriesFile, 'utf8');
    } catch {
      throw new InputError(queriesFile, undefined, 'queries file not found', 'give a JSONL ({"id","query"}) or TSV (id<TAB>text) file');
    }
    return parseQueriesFile(text, queriesFile).map((q) => ({ query: { id: q.id, text: q.text } }));
  }
  const state = journal.state();
  const out: QueueItem[] = [];
  const seen = new Set<string>();
  for (const q of decideGolden(state).queries) {
    seen.add(q.id);
    out.push({ query: { id: q.id, text: q.text, principals: q.principals, tenant: q.tenant } });
  }
  for (const q of state.queries.values()) if (!seen.has(q.id)) out.push({ query: q });
  return out;
}

export function typedQuery(journal: Journal, text: string): QueryInfo {
  const state = journal.state();
  for (const q of [...decideGolden(state).queries, ...state.queries.values()]) if (q.text === text) return { id: q.id, text };
  return { id: `q-${sha256(text).slice(0, 8)}`, text };
}
