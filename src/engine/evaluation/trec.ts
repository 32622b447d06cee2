/**
 * TREC run files, TREC qrels and BEIR qrels: reading and writing.
 *
 * Run:   `qid Q0 docid rank score tag` — whitespace separated; extra trailing fields are ignored
 *        (trec_eval ignores them too). The rank column is read but never used: metrics re-sort by
 *        score, as trec_eval does.
 * Qrels: `qid iter docid rel` — exactly four fields, integer rel (negative = in pool, unjudged).
 * BEIR:  `query-id<TAB>corpus-id<TAB>score` with a header line.
 *
 * Ids containing whitespace or '%' cannot be written verbatim into these whitespace-separated
 * formats; `formatRun`/`formatQrels` percent-encode those characters, and the readers decode them
 * only when asked (`decodeIds`), so foreign files are read exactly as written.
 */
import { readFile } from 'node:fs/promises';
import { InputError, UsageError } from '../errors.js';
import { compareBytes, sortedQids, type Qrels, type Run, type RunEntry } from './qrels.js';

export interface ReadOptions {
  /** Undo the percent-encoding formatRun/formatQrels apply to ids with whitespace or '%'. */
  decodeIds?: boolean;
}

/** Percent-encode the characters that would break a whitespace-separated line. */
export function encodeTrecId(id: string): string {
  return id.replace(/[%\s]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

export function decodeTrecId(id: string): string {
  return id.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

function lines(text: string): string[] {
  return text.replace(/^\uFEFF/, '').split(/\r?\n/);
}

/** Parse a TREC run. Entries keep file order within each topic; topics keep first-seen order. */
export function parseTrecRun(text: string, file = '<run>', opts: ReadOptions = {}): Run {
  const run: Run = new Map();
  const decode = opts.decodeIds ? decodeTrecId : (s: string) => s;
  lines(text).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    const f = line.split(/\s+/);
    if (f.length < 6) {
      throw new InputError(file, i + 1, `expected 6 fields "qid Q0 docid rank score tag", found ${f.length}`,
        'write one result per line as: qid Q0 docid rank score tag');
    }
    const rank = Number(f[3]);
    if (!Number.isFinite(rank)) {
      throw new InputError(file, i + 1, `rank "${f[3]}" is not a number`, 'the 4th field must be the integer rank');
    }
    const score = Number(f[4]);
    if (f[4] === '' || !Number.isFinite(score)) {
      throw new InputError(file, i + 1, `score "${f[4]}" is not a finite number`, 'the 5th field must be the numeric score');
    }
    const qid = decode(f[0]);
    let entries = run.get(qid);
    if (!entries) run.set(qid, (entries = []));
    entries.push({ docId: decode(f[2]), score });
  });
  return run;
}

export async function readTrecRun(path: string, opts: ReadOptions = {}): Promise<Run> {
  return parseTrecRun(await readText(path), path, opts);
}

/** Parse TREC qrels (`qid iter docid rel`). A repeated (qid, docid) pair is an error, as in trec_eval. */
export function parseTrecQrels(text: string, file = '<qrels>', opts: ReadOptions = {}): Qrels {
  const qrels: Qrels = new Map();
  const decode = opts.decodeIds ? decodeTrecId : (s: string) => s;
  lines(text).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    const f = line.split(/\s+/);
    if (f.length !== 4) {
      throw new InputError(file, i + 1, `expected 4 fields "qid iter docid rel", found ${f.length}`,
        'write one judgment per line as: qid 0 docid relevance');
    }
    addJudgment(qrels, decode(f[0]), decode(f[2]), f[3], file, i + 1);
  });
  return qrels;
}

/** Parse a BEIR qrels TSV (`query-id corpus-id score`, header line optional). */
export function parseBeirQrels(text: string, file = '<qrels.tsv>'): Qrels {
  const qrels: Qrels = new Map();
  let first = true;
  lines(text).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    const f = line.includes('\t') ? line.split('\t').map((s) => s.trim()) : line.split(/\s+/);
    const isFirst = first;
    first = false;
    if (isFirst && f.length >= 3 && !/^-?\d+$/.test(f[f.length - 1])) return; // header
    if (f.length !== 3) {
      throw new InputError(file, i + 1, `expected 3 tab-separated fields "query-id corpus-id score", found ${f.length}`,
        'write one judgment per line as: query-id<TAB>corpus-id<TAB>score');
    }
    addJudgment(qrels, f[0], f[1], f[2], file, i + 1);
  });
  return qrels;
}

function addJudgment(qrels: Qrels, qid: string, docId: string, relText: string, file: string, line: number): void {
  if (!/^[+-]?\d+$/.test(relText)) {
    throw new InputError(file, line, `relevance "${relText}" is not an integer`, 'use an integer grade such as 0, 1, 2');
  }
  let judged = qrels.get(qid);
  if (!judged) qrels.set(qid, (judged = new Map()));
  if (judged.has(docId)) {
    throw new InputError(file, line, `duplicate judgment for query ${qid}, doc ${docId}`, 'keep one line per (query, doc) pair');
  }
  judged.set(docId, parseInt(relText, 10));
}

/** Read qrels in TREC (4 fields) or BEIR (3 fields, header) format, detected from the content. */
export async function readQrels(path: string, opts: ReadOptions = {}): Promise<Qrels> {
  const text = await readText(path);
  const firstLine = lines(text).find((l) => l.trim() !== '') ?? '';
  const fields = firstLine.trim().split(/\s+/);
  return fields.length === 4 ? parseTrecQrels(text, path, opts) : parseBeirQrels(text, path);
}

/**
 * A qrels/run pair that can be scored: judgments present, results present, and at least one query
 * in both. Anything else would score 0 queries (or all zeros) and look like a result.
 */
export function assertScorable(qrels: Qrels, run: Run, qrelsFile: string, runFile: string): void {
  if (qrels.size === 0) throw new InputError(qrelsFile, undefined, 'holds no judgments', 'pass a qrels file with lines "qid 0 docid grade" (or a BEIR qrels TSV)');
  if (run.size === 0) throw new InputError(runFile, undefined, 'holds no results', 'pass a TREC run file with lines "qid Q0 docid rank score tag"');
  if (![...run.keys()].some((q) => qrels.has(q))) {
    const few = (ids: Iterable<string>) => {
      const all = sortedQids(ids);
      return `${all.slice(0, 3).join(', ')}${all.length > 3 ? ', …' : ''}`;
    };
    throw new UsageError(`${runFile} and ${qrelsFile} have no query in common (run: ${few(run.keys())}; qrels: ${few(qrels.keys())})`,
      'score a run against the judgments of the same topics');
  }
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(path, undefined, code === 'ENOENT' ? 'file not found' : `cannot read: ${(err as Error).message}`,
      'check the path');
  }
}

/**
 * Write a run in TREC format. Topics in compareQids order; within a topic, the entries in the
 * order given, ranked 1..n.
 *
 * Scores are printed with fixed decimals: 6, or more when 6 would make two different adjacent
 * scores of a topic equal (so rounding never invents a tie). Rounding is monotone, so when the
 * given order is by non-increasing score the file reads back in the same order. Scores that are
 * truly tied stay tied; trec_eval (and `evaluate`) then order them by doc id descending, which may
 * differ from the rank column. If the given order is not by score, trec_eval follows the scores.
 */
export function formatRun(run: Run, tag: string): string {
  if (!/^\S+$/.test(tag)) throw new UsageError(`run tag "${tag}" must be one word without spaces`, 'pick a tag like rag-bm25');
  const qids = sortedQids(run.keys());
  const decimals = scoreDecimals(qids.map((q) => run.get(q)!));
  const format = decimals === undefined ? (x: number) => String(x) : (x: number) => x.toFixed(decimals);
  const out: string[] = [];
  for (const qid of qids) {
    run.get(qid)!.forEach((e, i) => {
      if (!Number.isFinite(e.score)) throw new RangeError(`score of ${qid}/${e.docId} is not finite: ${e.score}`);
      out.push(`${encodeTrecId(qid)} Q0 ${encodeTrecId(e.docId)} ${i + 1} ${format(e.score)} ${tag}`);
    });
  }
  return out.length ? out.join('\n') + '\n' : '';
}

/** Fewest decimals (≥ 6) that keep every pair of different adjacent scores different; undefined = use full precision. */
function scoreDecimals(topics: RunEntry[][]): number | undefined {
  for (let d = 6; d <= 20; d++) {
    const ok = topics.every((entries) =>
      entries.every((e, i) => i === 0 || e.score === entries[i - 1].score || e.score.toFixed(d) !== entries[i - 1].score.toFixed(d)),
    );
    if (ok) return d;
  }
  return undefined;
}

/** Write qrels in TREC format (`qid 0 docid rel`), topics and docs sorted. */
export function formatQrels(qrels: Qrels): string {
  const out: string[] = [];
  for (const qid of sortedQids(qrels.keys())) {
    const judged = qrels.get(qid)!;
    for (const docId of [...judged.keys()].sort(compareBytes)) {
      out.push(`${encodeTrecId(qid)} 0 ${encodeTrecId(docId)} ${judged.get(docId)}`);
    }
  }
  return out.length ? out.join('\n') + '\n' : '';
}
