/**
 * A JSONL or BEIR record is its id and its content, not its line number. Deleting the first line
 * of a corpus used to "update" every record and withdraw them all from the index until the next
 * `rag index` (queries answered nothing, with exit 0).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { rag, tempDir } from '../helpers/cli.js';
import { beirLine, ids, writeBeir } from './helpers.js';

type Summary = { added: number; updated: number; unchanged: number; deleted: number; failed: number; documents: number };

function lines(file: string): string[] {
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim());
}

describe('record identity', () => {
  it('BEIR: deleting, reordering and inserting lines changes only the records touched; the index keeps answering', () => {
    const dir = tempDir('rag-rel-id-beir-');
    const db = path.join(dir, 'store');
    const file = path.join(writeBeir(path.join(dir, 'corpus'), ids('d', 50).map((id) => beirLine(id))), 'corpus.jsonl');
    const cli = (...args: string[]) => rag(['--db', db, '--json', ...args], { cwd: dir });
    const ingest = () => {
      const r = cli('-q', 'ingest', '--format', 'beir', 'corpus');
      expect(r.code, r.stderr).toBe(0);
      return r.json<Summary>();
    };
    ingest();
    expect(cli('-q', 'index', '--model', 'none').code).toBe(0);

    // Delete the first line.
    writeFileSync(file, `${lines(file).slice(1).join('\n')}\n`);
    expect(ingest()).toMatchObject({ added: 0, updated: 0, unchanged: 49, deleted: 1 });
    // The index was not emptied: an untouched record is found without re-indexing, and no notice says the index is behind.
    const q = cli('query', 'd17word', '--mode', 'bm25', '-k', '3');
    expect(q.code, q.stderr).toBe(0);
    expect(q.json<{ results: { doc_id: string; source: string }[] }>().results[0]).toMatchObject({ doc_id: 'd17', source: 'corpus/corpus.jsonl' });
    expect(q.stderr).not.toMatch(/behind the chunks/);
    expect(q.json<{ index_freshness: { current: boolean } }>().index_freshness.current).toBe(true);

    // Reverse the order of every line.
    writeFileSync(file, `${lines(file).reverse().join('\n')}\n`);
    expect(ingest()).toMatchObject({ added: 0, updated: 0, unchanged: 49, deleted: 0 });

    // Insert a record at the top and change one in the middle.
    const current = lines(file);
    current[20] = beirLine(JSON.parse(current[20]!)._id, 7);
    writeFileSync(file, `${[beirLine('new-1'), ...current].join('\n')}\n`);
    expect(ingest()).toMatchObject({ added: 1, updated: 1, unchanged: 48, deleted: 0 });
  }, 300_000);

  it('JSONL: the same, and a record without an id is an input error naming its line', () => {
    const dir = tempDir('rag-rel-id-jsonl-');
    const db = path.join(dir, 'store');
    const file = path.join(dir, 'tickets.jsonl');
    const record = (id: string, v = 0) => JSON.stringify({ id, title: `Ticket ${id}`, body: `common marker ${id}word body text, revision ${v}.` });
    writeFileSync(file, `${ids('T', 30).map((id) => record(id)).join('\n')}\n`);
    const ingest = () => {
      const r = rag(['--db', db, '--json', '-q', 'ingest', 'tickets.jsonl'], { cwd: dir });
      return { code: r.code, summary: r.json<Summary & { failures: { source: string; line: number; error: string }[] }>() };
    };
    expect(ingest().summary.added).toBe(30);
    writeFileSync(file, `${lines(file).slice(1).reverse().join('\n')}\n`);
    expect(ingest().summary).toMatchObject({ added: 0, updated: 0, unchanged: 29, deleted: 1 });

    const noId = JSON.stringify({ title: 'orphan', body: 'a record without its id' });
    writeFileSync(file, `${[...lines(file).slice(0, 3), noId, ...lines(file).slice(3)].join('\n')}\n`);
    const r = ingest();
    expect(r.code).toBe(2);
    expect(r.summary).toMatchObject({ added: 0, updated: 0, unchanged: 29, deleted: 0, failed: 1 });
    expect(r.summary.failures).toEqual([{ source: 'tickets.jsonl:4', line: 4, error: 'missing id field "id" (or it is not a string/number)' }]);
  }, 300_000);
});
