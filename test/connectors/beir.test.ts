import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { iterateBeirCorpus, parseBeirCorpus } from '../../src/connectors/beir.js';
import { InputError } from '../../src/engine/errors.js';
import { thrown } from './helpers.js';

const SCIFACT = '/work/shared/datasets/scifact';

describe('parseBeirCorpus on SciFact', () => {
  it('parses all 5,183 documents quickly, ids exactly as in the file', async () => {
    const lines = gunzipSync(readFileSync(join(SCIFACT, 'corpus.jsonl.gz'))).toString('utf8').split('\n').filter((l) => l.trim());
    const first = JSON.parse(lines[0]) as { _id: string; title: string; text: string };

    const t0 = performance.now();
    const { documents, failures, origin } = await parseBeirCorpus(SCIFACT, { cwd: '/work/shared' });
    const ms = performance.now() - t0;

    expect(failures).toEqual([]);
    expect(documents).toHaveLength(lines.length);
    expect(documents).toHaveLength(5183);
    expect(documents[0].docId).toBe(first._id);
    expect(documents[0].connector).toBe('beir');
    expect(documents[0].title).toBe(first.title);
    expect(documents[0].text.startsWith(`${first.title}\n\n`)).toBe(true);
    expect(origin).toBe('datasets/scifact/corpus.jsonl.gz');
    expect(documents[0].source).toBe('datasets/scifact/corpus.jsonl.gz');
    expect(new Set(documents.map((d) => d.docId)).size).toBe(5183);
    expect(ms).toBeLessThan(2000); // ~150 ms on a laptop; generous for CI
  });
});

describe('parseBeirCorpus on a small corpus', () => {
  const makeCorpus = (content: string, gz: boolean) => {
    const dir = mkdtempSync(join(tmpdir(), 'rag-beir-'));
    writeFileSync(join(dir, gz ? 'corpus.jsonl.gz' : 'corpus.jsonl'), gz ? gzipSync(content) : content);
    return dir;
  };
  const content = [
    '{"_id": "d1", "title": "Title one", "text": "Body one.", "metadata": {"year": 2020}}',
    '{"_id": "d2", "title": "", "text": "No title here."}',
    'not json',
    '{"title": "no id", "text": "x"}',
    '{"_id": 42, "text": "numeric id, no title field"}',
    '{"_id": "d1", "title": "dup", "text": "dup"}',
    '{"_id": "d6", "title": "t"}',
  ].join('\n');

  it('maps records and reports bad lines, from plain and gzipped files alike', async () => {
    for (const gz of [false, true]) {
      const { documents, failures } = await parseBeirCorpus(makeCorpus(content, gz));
      expect(documents.map((d) => d.docId)).toEqual(['d1', 'd2', '42']);
      expect(documents[0].text).toBe('Title one\n\nBody one.');
      expect(documents[0].metadata).toEqual({ year: 2020 });
      expect(documents[1].text).toBe('No title here.');
      expect(documents[1].title).toBe('d2');
      expect(failures.map((f) => f.line)).toEqual([3, 4, 6, 7]);
      expect(failures[3].error).toMatch(/"text"/);
    }
  });

  it('streams as an async generator', async () => {
    let n = 0;
    for await (const r of iterateBeirCorpus(makeCorpus(content, true))) if (r.doc) n++;
    expect(n).toBe(3);
  });

  it('rejects a directory without a corpus', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rag-beir-'));
    const err = await thrown(() => parseBeirCorpus(dir));
    expect(err).toBeInstanceOf(InputError);
    expect(err.message).toMatch(/no corpus\.jsonl/);
  });
});
