/**
 * Relevance judgments and ranked runs: the two inputs of every evaluation.
 *
 * Ids are compared as trec_eval compares them (strcmp on bytes), so these helpers are the one
 * place that defines "id order" for metrics, run files and reports.
 */

/** qid → (doc id or chunk id → graded relevance). Negative grades mean "in the pool, unjudged". */
export type Qrels = Map<string, Map<string, number>>;

export interface RunEntry {
  docId: string;
  score: number;
}

/** qid → retrieved entries. Order is irrelevant to metrics: they re-sort by score like trec_eval. */
export type Run = Map<string, RunEntry[]>;

/** Byte-wise comparison of the UTF-8 encodings, i.e. C strcmp on the ids trec_eval reads. */
export function compareBytes(a: string, b: string): number {
  if (isAscii(a) && isAscii(b)) return a < b ? -1 : a > b ? 1 : 0;
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

/**
 * Order for query ids in outputs: numeric ids numerically (so 2 < 10), everything else bytewise.
 * Only presentation depends on it, never a metric value.
 */
export function compareQids(a: string, b: string): number {
  const na = /^\d+$/.test(a);
  const nb = /^\d+$/.test(b);
  if (na && nb) {
    const d = a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
    if (d !== 0) return d;
  } else if (na !== nb) return na ? -1 : 1;
  return compareBytes(a, b);
}

export function sortedQids(ids: Iterable<string>): string[] {
  return [...new Set(ids)].sort(compareQids);
}

/** Chunk ids are `doc_id#ordinal…`; a judgment key containing '#' targets one chunk. */
export function isChunkId(key: string): boolean {
  return key.includes('#');
}

/** The document a chunk id belongs to (the key itself when it is already a doc id). */
export function docIdOf(key: string): string {
  const i = key.indexOf('#');
  return i < 0 ? key : key.slice(0, i);
}

/** Split judgments into the document-level and chunk-level parts (eval ranks each separately). */
export function splitQrels(qrels: Qrels): { docs: Qrels; chunks: Qrels } {
  const docs: Qrels = new Map();
  const chunks: Qrels = new Map();
  for (const [qid, judged] of qrels) {
    for (const [key, rel] of judged) {
      const target = isChunkId(key) ? chunks : docs;
      let m = target.get(qid);
      if (!m) target.set(qid, (m = new Map()));
      m.set(key, rel);
    }
  }
  return { docs, chunks };
}

/** Number of judged keys with grade ≥ relLevel, per query. */
export function countRelevant(qrels: Qrels, relLevel = 1): Map<string, number> {
  const out = new Map<string, number>();
  for (const [qid, judged] of qrels) {
    let n = 0;
    for (const rel of judged.values()) if (rel >= relLevel) n++;
    out.set(qid, n);
  }
  return out;
}

/** Plain-object form (sorted) for JSON and hashing. */
export function qrelsToObject(qrels: Qrels): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const qid of sortedQids(qrels.keys())) {
    const judged = qrels.get(qid)!;
    const inner: Record<string, number> = {};
    for (const key of [...judged.keys()].sort(compareBytes)) inner[key] = judged.get(key)!;
    out[qid] = inner;
  }
  return out;
}

export function qrelsFromObject(obj: Record<string, Record<string, number>>): Qrels {
  const qrels: Qrels = new Map();
  for (const [qid, inner] of Object.entries(obj)) qrels.set(qid, new Map(Object.entries(inner)));
  return qrels;
}
