import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../src/engine/errors.js';
import { parseGoldenJsonl } from '../src/engine/evaluation/goldens.js';
import { importInto, parseCsv, parseImport } from '../src/engine/labeling/import.js';
import {
  actionsOf, decideGolden, Journal, journalPathFor, judgmentKey, lowerMedian, readJournal, replay, tally, verdictOf, type JournalEvent, type LabelEvent,
} from '../src/engine/labeling/journal.js';
import { readHolder, withFileLock } from '../src/engine/file-lock.js';
import { exportGolden } from '../src/render/golden-export.js';
import { availableSystems, poolCandidates, seededShuffle, type PoolSearcher } from '../src/engine/labeling/pool.js';
import { computeStats, labelStats } from '../src/engine/labeling/stats.js';
import type { SearchOptions, SearchResult } from '../src/engine/search/retriever.js';
import type { Hit } from '../src/engine/types.js';
import { tempDir } from './helpers/cli.js';

let clock = 0;
function ev(type: LabelEvent['type'], labeler: string, qid: string, doc: string, extra: Partial<LabelEvent> = {}): LabelEvent {
  clock++;
  return {
    type, qid, query: `text of ${qid}`, doc_id: doc, chunk_id: `${doc}#0:aa`, unit: 'doc', labeler,
    at: new Date(Date.UTC(2024, 0, 1, 0, 0, clock)).toISOString(), index_manifest_hash: 'h', ...extra,
  };
}
const grade = (labeler: string, qid: string, doc: string, g: number, extra: Partial<LabelEvent> = {}) => ev('grade', labeler, qid, doc, { grade: g, ...extra });

// ─── pooling ──────────────────────────────────────────────────────────────────────────────────

function hit(doc: string, ordinal = 0): Hit {
  return {
    rank: 0, score: 1, scores: {},
    chunk: {
      chunk_id: `${doc}#${ordinal}:x`, doc_id: doc, ordinal, text: `passage ${ordinal} of ${doc}`, title: doc.toUpperCase(), source: doc,
      connector: 'markdown', heading_path: ['H'], page: 0, char_start: 0, char_end: 10, tokens: 3, acl: ['public'], tenant: 'default', metadata: '{}', content_hash: 'c',
    },
  };
}

class FakeSearcher implements PoolSearcher {
  calls: SearchOptions[] = [];
  constructor(readonly hasVectors: boolean, private lists: Record<string, Hit[]>) {}
  async search(_q: string, opts: SearchOptions): Promise<SearchResult> {
    this.calls.push(opts);
    const name = opts.rerank ? 'reranked' : opts.mode!;
    const hits = this.lists[name]!.slice(0, opts.k);
    return { mode: opts.mode!, hits, ranked: hits.map((h) => ({ chunk_id: h.chunk.chunk_id, doc_id: h.chunk.doc_id, score: h.score })), timings: { total_ms: 0 } };
  }
}

describe('pooling', () => {
  it('offers vector and hybrid only with vectors, reranked only with a reranker', () => {
    expect(availableSystems({ hasVectors: false })).toEqual(['bm25']);
    expect(availableSystems({ hasVectors: true })).toEqual(['bm25', 'vector', 'hybrid']);
    expect(availableSystems({ hasVectors: false, reranker: 'r' })).toEqual(['bm25', 'reranked']);
    expect(availableSystems({ hasVectors: true, reranker: 'r' })).toEqual(['bm25', 'vector', 'hybrid', 'reranked']);
  });

  it('shuffles deterministically by seed, as a permutation', () => {
    const items = Array.from({ length: 20 }, (_, i) => i);
    const a = seededShuffle(items, 's1');
    expect(seededShuffle(items, 's1')).toEqual(a);
    expect([...a].sort((x, y) => x - y)).toEqual(items);
    expect(a).not.toEqual(items);
    expect(seededShuffle(items, 's2')).not.toEqual(a);
  });

  it('pools the top N of each system, deduplicated, in an order that hides which system found what', async () => {
    const lists = {
      bm25: [hit('a'), hit('b'), hit('c'), hit('z')],
      vector: [hit('b', 1), hit('d'), hit('a', 2), hit('y')],
      hybrid: [hit('a'), hit('d'), hit('e'), hit('x')],
      reranked: [hit('f'), hit('a'), hit('b'), hit('w')],
    };
    const caller = { principals: ['group:x', 'public'], tenant: 't' };
    const s = new FakeSearcher(true, lists);
    const opts = { depth: 3, caller, unit: 'doc' as const, seed: 'seed', qid: 'q1', reranker: 'rr' };
    const pooled = await poolCandidates(s, 'query', { ...opts, systems: availableSystems({ hasVectors: true, reranker: 'rr' }) });
    expect(pooled.map((c) => c.key).sort()).toEqual(['a', 'b', 'c', 'd', 'e', 'f']); // the 4th of each list is beyond the depth
    expect(pooled.find((c) => c.key === 'a')!.foundBy.sort()).toEqual(['bm25', 'hybrid', 'reranked', 'vector']);
    expect(pooled.find((c) => c.key === 'b')!.chunkId).toBe('b#0:x'); // the passage of the first system that found it
    // Every search ran as the labeler, one document each, rerank only for the reranked system.
    expect(s.calls.every((c) => c.caller === caller && c.groupByDoc === true && c.k === 3)).toBe(true);
    expect(s.calls.map((c) => c.rerank ?? null)).toEqual([null, null, null, 'rr']);
    // The order does not depend on the order the systems ran in.
    const reversed = await poolCandidates(new FakeSearcher(true, lists), 'query', { ...opts, systems: ['reranked', 'hybrid', 'vector', 'bm25'] });
    expect(reversed.map((c) => c.key)).toEqual(pooled.map((c) => c.key));
    const otherQuery = await poolCandidates(new FakeSearcher(true, lists), 'query', { ...opts, qid: 'q2', systems: ['bm25', 'vector', 'hybrid', 'reranked'] });
    expect(otherQuery.map((c) => c.key).sort()).toEqual(pooled.map((c) => c.key).sort());
  });

  it('pools chunks when judging chunks', async () => {
    const s = new FakeSearcher(false, { bm25: [hit('a', 0), hit('a', 1), hit('b')] });
    const pooled = await poolCandidates(s, 'q', { depth: 5, caller: { principals: ['public'], tenant: 'd' }, unit: 'chunk', seed: 's', qid: 'q', systems: ['bm25'] });
    expect(pooled.map((c) => c.key).sort()).toEqual(['a#0:x', 'a#1:x', 'b#0:x']);
    expect(s.calls[0]!.groupByDoc).toBe(false);
  });
});

// ─── journal ──────────────────────────────────────────────────────────────────────────────────

describe('journal replay and the golden rule', () => {
  it('undo withdraws the latest grade or skip, restoring the one before', () => {
    const s = replay([grade('al', 'q1', 'd1', 1), grade('al', 'q1', 'd1', 3), ev('undo', 'al', 'q1', 'd1'), ev('skip', 'al', 'q1', 'd2'), ev('undo', 'al', 'q1', 'd2')]);
    expect(verdictOf(s, 'al', 'q1', 'd1')!.grade).toBe(1);
    expect(verdictOf(s, 'al', 'q1', 'd2')).toBeUndefined();
    const skipped = replay([ev('skip', 'al', 'q1', 'd2')]);
    expect(verdictOf(skipped, 'al', 'q1', 'd2')!.grade).toBeNull();
    expect(decideGolden(skipped).queries).toEqual([]); // a skip is not a judgment
  });

  it('decides the golden grade: adjudicated, else lower median, else the base snapshot', () => {
    expect(lowerMedian([2])).toBe(2);
    expect(lowerMedian([1, 2])).toBe(1);
    expect(lowerMedian([3, 0, 2])).toBe(2);
    expect(lowerMedian([3, 0, 2, 1])).toBe(1);
    const base: JournalEvent = { type: 'base', at: 'x', golden: `${JSON.stringify({ id: 'q1', query: 'text of q1', judgments: { d9: 2, d1: 0 }, notes: 'old' })}\n` };
    const s = replay([
      base,
      grade('al', 'q1', 'd1', 3), grade('bo', 'q1', 'd1', 1),
      grade('al', 'q1', 'd2', 0), grade('bo', 'q1', 'd2', 2), grade('cy', 'q1', 'd2', 3),
      grade('al', 'q1', 'd3', 3), grade('bo', 'q1', 'd3', 0), grade('ed', 'q1', 'd3', 2, { adjudicated: true }),
      grade('al', 'q2', 'd4', 2, { as: ['group:x', 'public'] }), ev('undo', 'al', 'q2', 'd4'),
      grade('al', 'q3', 'd5', 1, { as: ['group:x', 'public'], tenant: 'acme' }),
      ev('note', 'bo', 'q1', 'd1', { note: 'only half of it' }),
    ]);
    const g = decideGolden(s);
    expect(Object.fromEntries(g.qrels.get('q1')!)).toEqual({ d9: 2, d1: 1, d2: 2, d3: 2 });
    expect(g.queries.map((q) => q.id)).toEqual(['q1', 'q3']); // q2's only grade was undone
    expect(g.queries[1]).toEqual({ id: 'q3', text: 'text of q3', principals: ['group:x'], tenant: 'acme' });
    expect(g.notes.q1).toBe('old | [bo on d1] only half of it');
  });

  it('appends durably, resumes from the file, survives a torn last line, and materialises an eval-readable golden set', () => {
    const dir = tempDir('rag-journal-');
    const golden = path.join(dir, 'g.jsonl');
    writeFileSync(golden, `${JSON.stringify({ id: 'q0', query: 'kept', judgments: { base: 1 } })}\n`);
    const j = Journal.open(golden);
    const jp = journalPathFor(golden);
    expect(readJournal(jp).events[0]).toMatchObject({ type: 'base' });
    j.append(grade('al', 'q1', 'd1', 2));
    j.append(grade('al', 'q1', 'd2', 0));
    expect(readJournal(jp).events).toHaveLength(3); // on disk already, before any materialise
    j.materialize();
    const set = parseGoldenJsonl(readFileSync(golden, 'utf8'), golden);
    expect(set.queries.map((q) => q.id)).toEqual(['q0', 'q1']);
    expect(Object.fromEntries(set.qrels.get('q1')!)).toEqual({ d1: 2, d2: 0 });

    // A kill in the middle of a write leaves half a line: it is dropped, the rest replays.
    appendFileSync(jp, '{"type":"grade","qid":"q1","que');
    expect(readJournal(jp)).toMatchObject({ torn: true });
    const again = Journal.open(golden);
    expect(again.notices.join()).toMatch(/cut short/);
    expect(verdictOf(again.state(), 'al', 'q1', 'd2')!.grade).toBe(0);
    again.append(ev('undo', 'al', 'q1', 'd2'));
    expect(readJournal(jp).events.at(-1)).toMatchObject({ type: 'undo' });
    again.materialize();
    expect(parseGoldenJsonl(readFileSync(golden, 'utf8')).qrels.get('q1')!.has('d2')).toBe(false);
    expect(readdirTmp(dir)).toEqual([]); // atomic writes leave no temp files

    // A hand edit of the golden file becomes the new base instead of being overwritten.
    writeFileSync(golden, `${readFileSync(golden, 'utf8')}${JSON.stringify({ id: 'q9', query: 'added by hand', judgments: { x: 3 } })}\n`);
    const third = Journal.open(golden);
    expect(third.notices.join()).toMatch(/edited outside/);
    third.materialize();
    expect(parseGoldenJsonl(readFileSync(golden, 'utf8')).queries.map((q) => q.id)).toEqual(['q0', 'q1', 'q9']);
  });

  it('rejects a corrupt line in the middle with its line number', () => {
    const dir = tempDir('rag-journal-');
    const jp = path.join(dir, 'j.jsonl');
    writeFileSync(jp, `${JSON.stringify({ type: 'base', at: 'x', golden: '' })}\nnot json\n${JSON.stringify(grade('a', 'q', 'd', 1))}\n`);
    expect(() => readJournal(jp)).toThrowError(expect.objectContaining({ file: jp, line: 2 }) as Error);
    writeFileSync(jp, `${JSON.stringify({ ...grade('a', 'q', 'd', 1), grade: 7 })}\n`);
    expect(() => readJournal(jp)).toThrow(/grade 7/);
  });
});

function readdirTmp(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.includes('.tmp-'));
}

// ─── import ───────────────────────────────────────────────────────────────────────────────────

describe('--import', () => {
  const known = new Map([['q1', 'known query']]);

  it('parses RFC 4180 CSV (quotes, commas and newlines inside quotes) with line numbers', () => {
    const rows = parseCsv('a,b\n"x, y","say ""hi""\nthere"\n\n3,4\n', 'f.csv');
    expect(rows).toEqual([
      { line: 1, cells: ['a', 'b'] },
      { line: 2, cells: ['x, y', 'say "hi"\nthere'] },
      { line: 5, cells: ['3', '4'] },
    ]);
  });

  it('turns CSV and JSONL rows into grade and note events', () => {
    const csv = 'qid,query,doc_id,grade,labeler,note\nq1,,docs/a.md,2,bo,"close, not exact"\nq7,new query,docs/b.md#3:ff,0,,\n';
    const evs = parseImport('g.csv', csv, { labeler: 'al', knownQueries: known, now: '2024-01-01T00:00:00.000Z' });
    expect(evs.map((e) => [e.type, e.qid, e.query, e.doc_id, e.chunk_id, e.unit, e.grade, e.labeler, e.note])).toEqual([
      ['grade', 'q1', 'known query', 'docs/a.md', '', 'doc', 2, 'bo', undefined],
      ['note', 'q1', 'known query', 'docs/a.md', '', 'doc', undefined, 'bo', 'close, not exact'],
      ['grade', 'q7', 'new query', 'docs/b.md', 'docs/b.md#3:ff', 'chunk', 0, 'al', undefined],
    ]);
    expect(evs[0]!.source).toBe('import:g.csv:2');
    const jsonl = [
      JSON.stringify({ qid: 'q1', doc_id: 'docs/a.md', grade: 3, at: '2024-02-02T10:00:00Z' }),
      JSON.stringify({ id: 'q2', query: 'golden form', judgments: { 'docs/c.md': 1, 'docs/d.md': 0 } }),
    ].join('\n');
    const j = parseImport('g.jsonl', jsonl, { labeler: 'al', knownQueries: known });
    expect(j.map((e) => [e.qid, e.doc_id, e.grade, e.at])).toEqual([
      ['q1', 'docs/a.md', 3, '2024-02-02T10:00:00.000Z'],
      ['q2', 'docs/c.md', 1, expect.any(String)],
      ['q2', 'docs/d.md', 0, expect.any(String)],
    ]);
  });

  it('names the file, the line and the fix for every bad row', () => {
    const bad: [string, string, number, RegExp][] = [
      ['g.csv', 'qid,doc_id,grade\nq1,docs/a.md,2\nq1,docs/b.md,5\n', 3, /grade "5" is not an integer 0–3/],
      ['g.csv', 'qid,doc_id,grade\nq9,docs/a.md,2\n', 2, /"q9" is not in the golden set/],
      ['g.csv', 'qid,doc_id,grade\nq1,docs/a.md,2,extra\n', 2, /4 fields where the header has 3/],
      ['g.csv', 'query,grade\nx,1\n', 1, /lacks qid, grade or doc_id/],
      ['g.csv', 'qid,doc_id,grade\nq1,,2\n', 2, /no doc_id or chunk_id/],
      ['g.jsonl', '{"qid":"q1","doc_id":"a","grade":1}\n{"qid":"q1","doc_id":"a"\n', 2, /invalid JSON/],
      ['g.jsonl', '{"qid":"q1","doc_id":"a","grade":1.5}\n', 1, /grade 1.5/],
    ];
    for (const [file, text, line, problem] of bad) {
      let err: unknown;
      try {
        parseImport(file, text, { labeler: 'al', knownQueries: known });
      } catch (e) {
        err = e;
      }
      expect(err, text).toBeInstanceOf(InputError);
      expect((err as InputError).line, text).toBe(line);
      expect((err as InputError).message).toContain(`${file}:${line}:`);
      expect((err as InputError).message).toMatch(problem);
      expect((err as InputError).fix).toBeTruthy();
    }
  });

  it('merges into the journal once: importing the same file again changes nothing', () => {
    const dir = tempDir('rag-import-');
    const golden = path.join(dir, 'g.jsonl');
    const csv = path.join(dir, 'grades.csv');
    writeFileSync(csv, 'qid,query,doc_id,grade,note\nq1,rotate key,docs/a.md,3,spot on\nq1,rotate key,docs/b.md,1,\n');
    const j = Journal.open(golden);
    expect(importInto(j, csv, { labeler: 'bo', knownQueries: new Map() })).toEqual({ added: 2, unchanged: 0, notes: 1 });
    expect(importInto(j, csv, { labeler: 'bo', knownQueries: new Map() })).toEqual({ added: 0, unchanged: 2, notes: 0 });
    j.materialize();
    expect(existsSync(golden)).toBe(true);
    const set = parseGoldenJsonl(readFileSync(golden, 'utf8'));
    expect(Object.fromEntries(set.qrels.get('q1')!)).toEqual({ 'docs/a.md': 3, 'docs/b.md': 1 });
  });
});

// ─── stats ────────────────────────────────────────────────────────────────────────────────────

describe('label stats', () => {
  it('two labelers: Cohen\'s kappa and the quadratic-weighted kappa, as computed by hand', () => {
    // A: 3 2 0 1 3 0 / B: 3 1 0 1 2 0 → p_o = 4/6; p_e = (2·2 + 1·2 + 1·1 + 2·1)/36 = 1/4
    // κ = (2/3 − 1/4)/(3/4) = 5/9. Quadratic: observed 2/6, expected 102/36 → κw = 1 − 12/102 = 15/17.
    const A = [3, 2, 0, 1, 3, 0];
    const B = [3, 1, 0, 1, 2, 0];
    const events: JournalEvent[] = [];
    A.forEach((g, i) => events.push(grade('alice', 'q1', `d${i}`, g)));
    B.forEach((g, i) => events.push(grade('bob', 'q1', `d${i}`, g)));
    events.push(ev('skip', 'alice', 'q2', 'dx'), grade('alice', 'q2', 'dy', 2), ev('note', 'bob', 'q1', 'd0', { note: 'n' }));
    const s = computeStats(replay(events), 'j');
    expect(s.agreement!.method).toBe('cohen-kappa');
    expect(s.agreement!.items).toBe(6);
    expect(s.agreement!.percent_agreement).toBeCloseTo(4 / 6, 10);
    expect(s.agreement!.kappa).toBeCloseTo(5 / 9, 10);
    expect(s.agreement!.weighted_kappa).toBeCloseTo(15 / 17, 10);
    expect(s.labelers).toEqual([
      expect.objectContaining({ labeler: 'alice', graded: 7, skipped: 1, notes: 0, queries: 2, coverage: 1 }),
      expect.objectContaining({ labeler: 'bob', graded: 6, skipped: 0, notes: 1, queries: 1, coverage: 6 / 7 }),
    ]);
    expect(s.disagreements.map((d) => [d.key, d.grades, d.golden])).toEqual([
      ['d1', { alice: 2, bob: 1 }, 1],
      ['d4', { alice: 3, bob: 2 }, 2],
    ]);
  });

  it('three labelers: Krippendorff\'s alpha (interval and ordinal), as computed by hand', () => {
    // Items: (3,3,3), (0,0,1), (2,1,–). n = 8; values 0,1,2,3 with n_c = 2,2,1,3.
    // Interval: Σo·δ² = 4, Σn_c·n_k·δ² = 190 → α = 1 − 7·4/190 = 81/95.
    // Ordinal: δ²(0,1)=4, δ²(1,2)=2.25, … → Σo·δ² = 12.5, Σn_c·n_k·δ² = 624 → α = 1 − 7·12.5/624.
    const events = [
      grade('a', 'q1', 'i1', 3), grade('b', 'q1', 'i1', 3), grade('c', 'q1', 'i1', 3),
      grade('a', 'q1', 'i2', 0), grade('b', 'q1', 'i2', 0), grade('c', 'q1', 'i2', 1),
      grade('a', 'q1', 'i3', 2), grade('b', 'q1', 'i3', 1),
    ];
    const s = computeStats(replay(events), 'j');
    expect(s.agreement!.method).toBe('krippendorff-alpha');
    expect(s.agreement!.alpha_interval).toBeCloseTo(81 / 95, 10);
    expect(s.agreement!.alpha).toBeCloseTo(1 - (7 * 12.5) / 624, 10);
    expect(s.agreement!.percent_agreement).toBeCloseTo(4 / 9, 10);
    expect(s.disagreements.map((d) => [d.key, d.spread, d.golden])).toEqual([['i2', 1, 0], ['i3', 1, 1]]);
    expect(computeStats(replay(events), 'j', { minSpread: 2 }).disagreements).toEqual([]);
  });

  it('an adjudicated item is no longer a disagreement, and adjudications are not opinions', () => {
    const events = [grade('a', 'q', 'd', 0), grade('b', 'q', 'd', 3), grade('judge', 'q', 'd', 2, { adjudicated: true }), grade('a', 'q', 'e', 1), grade('b', 'q', 'e', 1)];
    const s = computeStats(replay(events), 'j');
    expect(s.disagreements).toEqual([]);
    expect(s.agreement!.labelers).toEqual(['a', 'b']);
    expect(decideGolden(replay(events)).qrels.get('q')!.get('d')).toBe(2);
  });

  it('reads the journal from disk and fails clearly without one', () => {
    const dir = tempDir('rag-stats-');
    expect(() => labelStats(path.join(dir, 'none.jsonl'))).toThrow(InputError);
    const golden = path.join(dir, 'g.jsonl');
    const j = Journal.open(golden);
    j.append(grade('a', 'q', 'd', 1));
    const s = labelStats(j.path);
    expect(s).toMatchObject({ items: 1, queries: 1, agreement: null });
  });
});

// ─── hand edits, undo history, the lock ──────────────────────────────────────────────────────

describe('hand edits of the golden file', () => {
  const line = (id: string, judgments: Record<string, number>) => `${JSON.stringify({ id, query: `text of ${id}`, judgments })}\n`;

  it('keeps what a hand edit changed or deleted until someone grades it again', () => {
    const dir = tempDir('rag-hand-');
    const golden = path.join(dir, 'g.jsonl');
    const j = Journal.open(golden);
    j.append(grade('al', 'q1', 'd1', 2));
    j.append(grade('al', 'q1', 'd2', 1));
    j.append(grade('al', 'q1', 'd3', 3));
    expect(j.materialize()).toEqual({ queries: 1, judgments: 3 });
    // By hand: d1 lowered, d2 deleted, d3 untouched, a new query.
    writeFileSync(golden, line('q1', { d1: 0, d3: 3 }) + line('q9', { x: 3 }));
    const m = j.materialize();
    expect(m.merged).toMatch(/edited while labeling: the edit is kept/);
    const g = () => parseGoldenJsonl(readFileSync(golden, 'utf8'));
    expect(Object.fromEntries(g().qrels.get('q1')!)).toEqual({ d1: 0, d3: 3 });
    expect(g().queries.map((q) => q.id)).toEqual(['q1', 'q9']);
    // A new grade on an edited judgment wins again; its undo brings the edit back, not the old grade.
    j.append(grade('al', 'q1', 'd2', 2));
    j.materialize();
    expect(Object.fromEntries(g().qrels.get('q1')!)).toEqual({ d1: 0, d2: 2, d3: 3 });
    j.append(ev('undo', 'al', 'q1', 'd2'));
    j.materialize();
    expect(g().qrels.get('q1')!.has('d2')).toBe(false);
    // Reopening with an unchanged file takes no new snapshot; the file is not an edit of itself.
    const again = Journal.open(golden);
    expect(again.notices).toEqual([]);
    expect(readJournal(journalPathFor(golden)).events.filter((e) => e.type === 'base')).toHaveLength(2);
  });

  it('counts grades given after the edited file was written as newer than the edit', () => {
    const dir = tempDir('rag-hand-');
    const golden = path.join(dir, 'g.jsonl');
    const j = Journal.open(golden);
    j.append(grade('al', 'q1', 'd1', 2));
    j.materialize();
    const written = readFileSync(golden, 'utf8');
    // Someone edits the file; meanwhile (before any rewrite) a grade on the same and another item lands.
    writeFileSync(golden, written.replace('"d1":2', '"d1":1'));
    j.append(grade('al', 'q1', 'd2', 3));
    j.append(grade('bo', 'q1', 'd1', 3));
    j.materialize();
    // d1: the edit is older than bo's grade → lower median of the grades after it (bo 3 alone) = 3.
    expect(Object.fromEntries(parseGoldenJsonl(readFileSync(golden, 'utf8')).qrels.get('q1')!)).toEqual({ d1: 3, d2: 3 });
  });

  it('never overwrites an edit that does not parse, and names the line', () => {
    const dir = tempDir('rag-hand-');
    const golden = path.join(dir, 'g.jsonl');
    const j = Journal.open(golden);
    j.append(grade('al', 'q1', 'd1', 2));
    j.materialize();
    const broken = `${readFileSync(golden, 'utf8')}{"id": "q2"\n`;
    writeFileSync(golden, broken);
    j.append(grade('al', 'q1', 'd2', 1));
    const m = j.materialize();
    expect(m.blocked).toMatch(/g\.jsonl:2: .*not overwritten/);
    expect(readFileSync(golden, 'utf8')).toBe(broken);
    expect(() => Journal.open(golden)).toThrowError(expect.objectContaining({ file: golden, line: 2 }) as Error);
    // A deleted golden file is simply written again.
    rmSync(golden);
    expect(j.materialize().blocked).toBeUndefined();
    expect(Object.fromEntries(parseGoldenJsonl(readFileSync(golden, 'utf8')).qrels.get('q1')!)).toEqual({ d1: 2, d2: 1 });
    // Every grade undone: the file is emptied, not left holding grades nobody gives any more.
    j.append(ev('undo', 'al', 'q1', 'd1'));
    j.append(ev('undo', 'al', 'q1', 'd2'));
    expect(j.materialize()).toEqual({ queries: 0, judgments: 0 });
    expect(readFileSync(golden, 'utf8')).toBe('');
    expect(Journal.open(golden).notices).toEqual([]); // and that empty file is rag's, not an edit
  });
});

describe('undo across sessions and the status counts', () => {
  it('lists a labeler\'s grades and skips still in effect, oldest first, as undo walks them back', () => {
    const events: JournalEvent[] = [
      grade('al', 'q1', 'd1', 1), grade('bo', 'q1', 'd1', 3), ev('skip', 'al', 'q1', 'd2'), grade('al', 'q2', 'd3', 2),
      ev('undo', 'al', 'q2', 'd3'), grade('al', 'q1', 'd1', 2), ev('note', 'al', 'q1', 'd1', { note: 'n' }),
    ];
    expect(actionsOf(events, 'al').map((a) => [a.qid, a.key, a.grade])).toEqual([['q1', 'd1', 1], ['q1', 'd2', null], ['q1', 'd1', 2]]);
    expect(actionsOf(events, 'bo').map((a) => a.grade)).toEqual([3]);
    // An undo of q1/d1 withdraws the latest of the two (2), leaving the first (1) in effect.
    const after = actionsOf([...events, ev('undo', 'al', 'q1', 'd1')], 'al');
    expect(after.map((a) => [a.key, a.grade])).toEqual([['d1', 1], ['d2', null]]);
    const state = replay(events);
    expect(tally(state, 'al')).toEqual({ graded: 1, skipped: 1 });
    expect(tally(state, 'al', 'q2')).toEqual({ graded: 0, skipped: 0 });
  });
});

describe('the golden file lock', () => {
  it('waits for a live holder and then names it; takes over a lock whose process is gone', () => {
    const dir = tempDir('rag-lock-');
    const lock = path.join(dir, 'g.jsonl.lock');
    // A live holder: another process that owns the lock file.
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 20000)'], { stdio: 'ignore' });
    try {
      writeFileSync(lock, JSON.stringify({ pid: holder.pid, host: os.hostname(), owner: 'bob', since: new Date().toISOString() }));
      const t0 = Date.now();
      expect(() => withFileLock(lock, 'alice', () => 1, { waitMs: 300 })).toThrow(new RegExp(`held by bob \\(pid ${holder.pid} on ${os.hostname()}`));
      expect(Date.now() - t0).toBeGreaterThanOrEqual(300);
    } finally {
      holder.kill();
    }
    // A stale one: its process has exited.
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    writeFileSync(lock, JSON.stringify({ pid: Number(gone.stdout), host: os.hostname(), owner: 'carol', since: new Date().toISOString() }));
    expect(withFileLock(lock, 'alice', () => readHolder(lock)?.holder?.owner, { waitMs: 300 })).toBe('alice');
    expect(existsSync(lock)).toBe(false); // released
    // Too old to be a rewrite in progress, whoever holds it.
    writeFileSync(lock, JSON.stringify({ pid: 1, host: 'elsewhere', owner: 'dan', since: '2000-01-01T00:00:00Z' }));
    expect(withFileLock(lock, 'alice', () => 'ok', { waitMs: 300 })).toBe('ok');
  });
});

// ─── export ───────────────────────────────────────────────────────────────────────────────────

describe('label export', () => {
  const set = parseGoldenJsonl([
    JSON.stringify({ id: 'q1', query: 'rotate, "safely"', judgments: { 'docs/b.md': 1, 'docs/a.md': 3, 'docs/a.md#2:ff': 2 } }),
    JSON.stringify({ id: 'q0', query: 'waiting', judgments: {} }),
  ].join('\n'));

  it('writes TREC qrels, CSV and JSONL with a fixed order', () => {
    expect(exportGolden(set.queries, set.qrels, 'trec', 'g.jsonl')).toBe('q1 0 docs/a.md 3\nq1 0 docs/a.md#2:ff 2\nq1 0 docs/b.md 1\n');
    expect(exportGolden(set.queries, set.qrels, 'csv', 'g.jsonl')).toBe(
      'qid,query,doc_id,chunk_id,grade\nq1,"rotate, ""safely""",docs/a.md,,3\nq1,"rotate, ""safely""",,docs/a.md#2:ff,2\nq1,"rotate, ""safely""",docs/b.md,,1\n',
    );
    expect(exportGolden(set.queries, set.qrels, 'jsonl', 'g.jsonl').trim().split('\n').map((l) => JSON.parse(l))).toEqual([
      { qid: 'q1', query: 'rotate, "safely"', doc_id: 'docs/a.md', grade: 3 },
      { qid: 'q1', query: 'rotate, "safely"', chunk_id: 'docs/a.md#2:ff', grade: 2 },
      { qid: 'q1', query: 'rotate, "safely"', doc_id: 'docs/b.md', grade: 1 },
    ]);
  });

  it('reads back through --import unchanged (CSV and JSONL)', () => {
    for (const format of ['csv', 'jsonl'] as const) {
      const evs = parseImport(`x.${format}`, exportGolden(set.queries, set.qrels, format, 'g.jsonl'), { labeler: 'al', knownQueries: new Map() });
      expect(evs.map((e) => [e.qid, judgmentKey(e), e.grade, e.unit])).toEqual([
        ['q1', 'docs/a.md', 3, 'doc'], ['q1', 'docs/a.md#2:ff', 2, 'chunk'], ['q1', 'docs/b.md', 1, 'doc'],
      ]);
    }
  });

  it('refuses an id TREC cannot hold, naming it', () => {
    const spaced = parseGoldenJsonl(JSON.stringify({ id: 'q 1', query: 'x', judgments: { d: 1 } }));
    expect(() => exportGolden(spaced.queries, spaced.qrels, 'trec', 'g.jsonl')).toThrow(/query id "q 1" .*whitespace/);
  });
});

describe('--import without a labeler name', () => {
  it('a row without a labeler needs --labeler (named in the error); rows naming one do not', () => {
    let err: unknown;
    try {
      parseImport('g.csv', 'qid,query,doc_id,grade\nq1,x,docs/a.md,2\n', { knownQueries: new Map() });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).message).toMatch(/^g\.csv:2: the row names no labeler/);
    expect((err as InputError).fix).toMatch(/--labeler NAME/);
    const ok = parseImport('g.csv', 'qid,query,doc_id,grade,labeler\nq1,x,docs/a.md,2,bo\n', { knownQueries: new Map() });
    expect(ok[0]!.labeler).toBe('bo');
  });
});
