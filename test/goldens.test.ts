import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatGoldenJsonl, loadGoldenSet, parseGoldenJsonl } from '../src/engine/evaluation/goldens.js';
import { InputError } from '../src/engine/errors.js';
import { splitQrels } from '../src/engine/evaluation/qrels.js';

const line = (o: unknown) => JSON.stringify(o);

function expectInputError(fn: () => unknown, lineNo: number | undefined, problem: RegExp): InputError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    const e = err as InputError;
    expect(e.file).toBe('g.jsonl');
    expect(e.line).toBe(lineNo);
    expect(e.message).toMatch(problem);
    expect(e.fix, 'every error carries a fix').toBeTruthy();
    return e;
  }
  throw new Error('expected an InputError');
}

describe('rag JSONL golden sets', () => {
  const text = [
    line({ id: 'q1', query: 'how do I rotate an API key', as: ['user:alice', 'group:support'], tenant: 'acme',
      judgments: { 'docs/api-keys.md': 3, 'docs/sso.md#0:abcd': 1, 'docs/other.md': 0 } }),
    '',
    line({ id: 'q2', query: 'reset password', judgments: { 'docs/reset.md': 2 }, notes: 'from ticket 42' }),
    line({ id: 'q3', query: 'not yet labelled' }),
  ].join('\n');

  it('parses queries, principals, tenants and graded judgments', () => {
    const set = parseGoldenJsonl(text, 'g.jsonl');
    expect(set.queries).toEqual([
      { id: 'q1', text: 'how do I rotate an API key', principals: ['user:alice', 'group:support'], tenant: 'acme' },
      { id: 'q2', text: 'reset password' },
      { id: 'q3', text: 'not yet labelled' },
    ]);
    expect(set.qrels.get('q1')).toEqual(new Map([['docs/api-keys.md', 3], ['docs/sso.md#0:abcd', 1], ['docs/other.md', 0]]));
    expect(set.qrels.has('q3')).toBe(false);
    expect(set.warnings.join('\n')).toMatch(/g\.jsonl:4: query "q3" has no judgments/);
    expect(set.source).toBe('jsonl:g.jsonl');
    const { docs, chunks } = splitQrels(set.qrels);
    expect([...chunks.get('q1')!.keys()]).toEqual(['docs/sso.md#0:abcd']);
    expect(docs.get('q1')!.size).toBe(2);
  });

  it('hash ignores key order, whitespace and line order but not content', () => {
    const a = parseGoldenJsonl(text, 'g.jsonl');
    const reordered = [
      '  ' + line({ judgments: { 'docs/reset.md': 2 }, query: 'reset password', id: 'q2' }),
      line({ query: 'not yet labelled', id: 'q3' }),
      JSON.stringify({ tenant: 'acme', judgments: { 'docs/other.md': 0, 'docs/sso.md#0:abcd': 1, 'docs/api-keys.md': 3 },
        as: ['group:support', 'user:alice'], query: 'how do I rotate an API key', id: 'q1' }, null, 0),
    ].join('\r\n');
    expect(parseGoldenJsonl(reordered, 'other.jsonl').hash).toBe(a.hash);
    expect(a.hash).toMatch(/^[0-9a-f]{64}$/);
    const edited = text.replace('"docs/reset.md":2', '"docs/reset.md":1');
    expect(edited).not.toBe(text);
    expect(parseGoldenJsonl(edited, 'g.jsonl').hash).not.toBe(a.hash);
  });

  it('round-trips through formatGoldenJsonl', () => {
    const a = parseGoldenJsonl(text, 'g.jsonl');
    const b = parseGoldenJsonl(formatGoldenJsonl(a.queries, a.qrels), 'g.jsonl');
    expect(b.hash).toBe(a.hash);
    expect(b.queries).toEqual(a.queries);
  });

  it('names the file, line and fix for each kind of mistake', () => {
    const ok = line({ id: 'q1', query: 'x', judgments: { a: 1 } });
    expectInputError(() => parseGoldenJsonl(`${ok}\n{"id": "q2", "query": `, 'g.jsonl'), 2, /invalid JSON/);
    expectInputError(() => parseGoldenJsonl(`${ok}\n${line({ query: 'x' })}`, 'g.jsonl'), 2, /missing "id"/);
    expectInputError(() => parseGoldenJsonl(line({ id: 'q1', judgments: {} }), 'g.jsonl'), 1, /no "query" text/);
    expectInputError(() => parseGoldenJsonl(line({ id: 'q1', query: 'x', judgments: { a: 4 } }), 'g.jsonl'), 1, /not an integer 0–3/);
    expectInputError(() => parseGoldenJsonl(line({ id: 'q1', query: 'x', judgments: { a: 1.5 } }), 'g.jsonl'), 1, /not an integer/);
    expectInputError(() => parseGoldenJsonl(line({ id: 'q1', query: 'x', judgments: { a: '2' } }), 'g.jsonl'), 1, /not an integer/);
    expectInputError(() => parseGoldenJsonl(line({ id: 'q1', query: 'x', judgments: ['a'] }), 'g.jsonl'), 1, /must be an object/);
    const dup = expectInputError(() => parseGoldenJsonl(`${ok}\n\n${ok}`, 'g.jsonl'), 3, /duplicate query id "q1" \(first on line 1\)/);
    expect(dup.fix).toMatch(/unique/);
    expectInputError(() => parseGoldenJsonl(line({ id: 'q1', query: 'x', as: ['alice'] }), 'g.jsonl'), 1, /invalid principal/);
    expectInputError(() => parseGoldenJsonl(line({ _id: 'q1', text: 'x' }), 'g.jsonl'), 1, /BEIR/);
    expectInputError(() => parseGoldenJsonl('\n\n', 'g.jsonl'), undefined, /empty/);
  });

  it('warns about unknown keys such as a misspelt "judgements"', () => {
    const set = parseGoldenJsonl(line({ id: 'q1', query: 'x', judgements: { a: 1 } }), 'g.jsonl');
    expect(set.warnings.some((w) => /unknown key "judgements"/.test(w))).toBe(true);
  });
});

describe('BEIR and TREC golden sources', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rag-goldens-'));
  const beir = join(dir, 'beir');
  mkdirSync(join(beir, 'qrels'), { recursive: true });
  writeFileSync(join(beir, 'queries.jsonl'), [
    line({ _id: '1', text: 'first query', metadata: {} }),
    line({ _id: '2', text: 'second query' }),
    line({ _id: '3', text: 'unjudged query' }),
  ].join('\n') + '\n');
  writeFileSync(join(beir, 'qrels', 'test.tsv'), 'query-id\tcorpus-id\tscore\n1\tdocA\t1\n2\tdocB\t2\n2\tdocC\t0\n9\tdocZ\t1\n');
  writeFileSync(join(beir, 'qrels', 'dev.tsv'), 'query-id\tcorpus-id\tscore\n3\tdocA\t1\n');

  it('loads a BEIR directory, keeping only judged queries', async () => {
    const set = await loadGoldenSet(beir);
    expect(set.queries.map((q) => q.id)).toEqual(['1', '2']);
    expect(set.qrels.get('2')).toEqual(new Map([['docB', 2], ['docC', 0]]));
    expect(set.qrels.has('9')).toBe(false);
    expect(set.warnings.join()).toMatch(/no query text/);
    const dev = await loadGoldenSet(beir, { split: 'dev' });
    expect(dev.queries.map((q) => q.id)).toEqual(['3']);
    await expect(loadGoldenSet(beir, { split: 'nope' })).rejects.toThrow(/no qrels for split "nope"/);
  });

  it('loads a queries file with a TREC qrels file, and gives the same hash as equivalent JSONL', async () => {
    const queries = join(dir, 'topics.tsv');
    const qrels = join(dir, 'qrels.txt');
    writeFileSync(queries, '1\tfirst query\n2\tsecond query\n');
    writeFileSync(qrels, '1 0 docA 1\n2 0 docB 2\n2 0 docC 0\n');
    const set = await loadGoldenSet(queries, { qrels });
    expect(set.queries).toEqual([{ id: '1', text: 'first query' }, { id: '2', text: 'second query' }]);
    const jsonl = join(dir, 'same.jsonl');
    writeFileSync(jsonl, [
      line({ id: '2', query: 'second query', judgments: { docC: 0, docB: 2 } }),
      line({ id: '1', query: 'first query', judgments: { docA: 1 } }),
    ].join('\n'));
    expect((await loadGoldenSet(jsonl)).hash).toBe(set.hash);
    expect((await loadGoldenSet(beir)).hash).toBe(set.hash);
  });

  it('reports a missing path', async () => {
    await expect(loadGoldenSet(join(dir, 'missing.jsonl'))).rejects.toBeInstanceOf(InputError);
  });
});
