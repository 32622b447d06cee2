/**
 * An index behind its chunks says so. With part of the index missing (after an update ingest, or
 * an index killed mid-run) `rag eval` used to score it with exit 0 and no message.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Store } from '../../src/engine/store/store.js';
import { rag, tempDir } from '../helpers/cli.js';
import { beirLine, ids, writeBeir } from './helpers.js';

type Freshness = { current: boolean; missing_documents: number; partial_documents: number; stale_documents: number };

describe('a stale index says so', () => {
  it('query notices (one line, and index_freshness in --json); eval --gate refuses with exit 2 unless --allow-stale', async () => {
    const dir = tempDir('rag-rel-stale-idx-');
    const db = path.join(dir, 'store');
    const corpus = ids('d', 40);
    const line = (id: string, v = 0) => beirLine(id, v, id === 'd10' ? 6 : 1);
    const golden = writeBeir(path.join(dir, 'corpus'), corpus.map((id) => line(id)));
    // A golden set over the same records: each query names one record by its own word.
    writeFileSync(path.join(golden, 'queries.jsonl'), `${corpus.slice(0, 10).map((id) => JSON.stringify({ _id: `q-${id}`, text: `${id}word` })).join('\n')}\n`);
    mkdirSync(path.join(golden, 'qrels'));
    writeFileSync(path.join(golden, 'qrels', 'test.tsv'), `query-id\tcorpus-id\tscore\n${corpus.slice(0, 10).map((id) => `q-${id}\t${id}\t1`).join('\n')}\n`);
    const cli = (...args: string[]) => rag(['--db', db, ...args], { cwd: dir });
    expect(cli('-q', 'ingest', '--format', 'beir', 'corpus').code).toBe(0);
    expect(cli('-q', 'index', '--model', 'none').code).toBe(0);

    const fresh = cli('--json', 'query', 'common marker', '--mode', 'bm25');
    expect(fresh.code, fresh.stderr).toBe(0);
    expect(fresh.stderr).toBe('');
    expect(fresh.json<{ index_freshness: Freshness }>().index_freshness).toEqual({ current: true, missing_documents: 0, partial_documents: 0, stale_documents: 0 });

    // Three records change: ingest withdraws them from the index until `rag index` runs.
    writeBeir(golden, corpus.map((id, i) => line(id, i < 3 ? 1 : 0)));
    expect(cli('-q', 'ingest', '--format', 'beir', 'corpus').code).toBe(0);
    // And, as an index killed mid-run would leave it: one chunk of another record not indexed, and rows that no longer match their chunk.
    const store = await Store.open(db);
    const rows = await store.readAll<{ chunk_id: string; doc_id: string }>('idx_default', ['chunk_id', 'doc_id'], "doc_id IN ('d10', 'd11')");
    const d10 = rows.filter((r) => r.doc_id === 'd10');
    expect(d10.length).toBeGreaterThan(1);
    await store.deleteWhereIn('idx_default', 'chunk_id', [d10[0]!.chunk_id]);
    await store.update('idx_default', "doc_id = 'd11'", { row_hash: 'edited' });
    store.close();

    const notice = cli('query', 'common marker', '--mode', 'bm25');
    expect(notice.code).toBe(0);
    expect(notice.stderr).toBe('note: index "default" is behind the chunks (3 documents missing, 1 partial, 1 stale): answers may miss documents — run `rag index`\n');
    const json = cli('--json', 'query', 'common marker', '--mode', 'bm25');
    expect(json.json<{ index_freshness: Freshness }>().index_freshness).toEqual({ current: false, missing_documents: 3, partial_documents: 1, stale_documents: 1 });
    expect(cli('-q', 'query', 'common marker').stderr).toBe('');

    const gated = cli('eval', '--golden', 'corpus', '--gate', 'ndcg@10>=0.1', '--out', path.join(dir, 'run1'));
    expect(gated.code).toBe(2);
    expect(gated.stderr).toBe(
      'error: index "default" is behind the chunks (3 documents missing, 1 partial, 1 stale): a gate on it would score a partial index\n' +
        'fix: run `rag index` first, or pass --allow-stale to gate anyway\n',
    );
    // --allow-stale accepts the partial index, not the judged documents it lacks: that is a second, separate consent.
    const stale = cli('eval', '--golden', 'corpus', '--gate', 'ndcg@10>=0.1', '--allow-stale', '--out', path.join(dir, 'run2'));
    expect(stale.code).toBe(2);
    expect(stale.stderr).toMatch(/3 of 10 judged-relevant ids \(in 3 of 10 queries\) can never be retrieved from index "default"/);
    expect(stale.stderr).toMatch(/query q-d0: d0 — ingested but not in this index/);
    const allowed = cli('eval', '--golden', 'corpus', '--gate', 'ndcg@10>=0.1', '--allow-stale', '--allow-missing', '--out', path.join(dir, 'run2'));
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(allowed.stderr).toMatch(/note: index "default" is behind the chunks/);
    const ungated = cli('eval', '--golden', 'corpus', '--allow-missing', '--out', path.join(dir, 'run3'));
    expect(ungated.code).toBe(0);
    expect(ungated.stderr).toMatch(/note: index "default" is behind the chunks/);

    expect(cli('-q', 'index').code).toBe(0);
    const after = cli('--json', 'query', 'common marker', '--mode', 'bm25');
    expect(after.stderr).toBe('');
    expect(after.json<{ index_freshness: Freshness }>().index_freshness.current).toBe(true);
    expect(cli('eval', '--golden', 'corpus', '--gate', 'ndcg@10>=0.1', '--out', path.join(dir, 'run4')).code).toBe(0);
  }, 300_000);
});
