/**
 * One row per id is an invariant of every table. Copies (from two writers in an older rag, or a
 * damaged table) used to be reported by `rag audit` as data, copied by `rag index`, and never
 * repaired.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHUNKS, chunksSchema, DOCUMENTS, documentsSchema, indexSchema, MANIFESTS, manifestsSchema, Store } from '../../src/engine/store/store.js';
import { arrow, type ArrowTypes } from '../../src/engine/store/arrow.js';
import { rag, requireModel, STATIC_MODEL, tempDir } from '../helpers/cli.js';
import { beirLine, duplicated, ids, tableCounts, writeBeir } from './helpers.js';

type Violation = { kind: string; table: string; doc_id: string; chunk_id?: string; message: string };

describe('duplicate rows', () => {
  it('rag audit acl fails on copies in any table; the next ingest and index keep one of each', async () => {
    requireModel(STATIC_MODEL);
    const dir = tempDir('rag-rel-dups-');
    const db = path.join(dir, 'store');
    writeBeir(path.join(dir, 'corpus'), ids('d', 30).map((id) => beirLine(id)));
    const cli = (...args: string[]) => rag(['--db', db, '--json', '-q', ...args], { cwd: dir });
    expect(cli('ingest', '--format', 'beir', 'corpus').code).toBe(0);
    expect(cli('index', '--model', STATIC_MODEL).code).toBe(0);
    const clean = await tableCounts(db);
    expect(duplicated(clean)).toEqual([]);
    const audit0 = cli('audit', 'acl', '--mode', 'bm25', '--max-probes', '5');
    expect(audit0.code, audit0.stderr).toBe(0);

    // Plant copies, as two concurrent writers used to leave them.
    const store = await Store.open(db);
    const tables = await store.tableNames();
    const cache = tables.find((t) => t.startsWith('emb_'))!;
    const copy = async (table: string, schema: ArrowTypes.Schema, where: string) => {
      const rows = (await store.readAll<Record<string, unknown>>(table, undefined, where)).map((r) =>
        Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v instanceof Float32Array ? Array.from(v) : v])),
      );
      expect(rows.length).toBeGreaterThan(0);
      await store.add(table, schema, rows);
      return rows.length;
    };
    await copy(DOCUMENTS, documentsSchema, "doc_id IN ('d1', 'd2')");
    const chunkCopies = await copy(CHUNKS, chunksSchema, "doc_id = 'd3'");
    const dim = (await store.readAll<{ vector: Float32Array }>('idx_default', ['vector'], "doc_id = 'd4'"))[0]!.vector.length;
    await copy('idx_default', indexSchema(dim), "doc_id = 'd4'");
    const cacheSchema = new arrow.Schema([
      new arrow.Field('content_hash', new arrow.Utf8(), false),
      new arrow.Field('vector', new arrow.FixedSizeList(dim, new arrow.Field('item', new arrow.Float32(), true)), false),
    ]);
    const oneHash = (await store.readAll<{ content_hash: string }>(cache, ['content_hash']))[0]!.content_hash;
    await copy(cache, cacheSchema, `content_hash = '${oneHash}'`);
    await copy(MANIFESTS, manifestsSchema, "name = 'default'");
    store.close();
    const planted = duplicated(await tableCounts(db)).map((c) => c.table).sort();
    expect(planted).toEqual(['chunks', 'documents', cache, 'idx_default', 'manifests'].sort());

    const audit = cli('audit', 'acl', '--mode', 'bm25', '--max-probes', '5');
    expect(audit.code).toBe(1);
    const dups = audit.json<{ violations: Violation[]; passed: boolean }>().violations.filter((v) => v.kind === 'duplicate-row');
    expect([...new Set(dups.map((v) => v.table))].sort()).toEqual(planted);
    expect(dups.find((v) => v.table === 'documents' && v.doc_id === 'd1')?.message).toBe('doc_id "d1" is stored 2 times; the next `rag ingest` keeps one');

    const ing = cli('ingest', '--format', 'beir', 'corpus');
    expect(ing.code, ing.stderr).toBe(0);
    // d1, d2 and the chunks of d3 had copies; their documents are rewritten.
    expect(ing.json<{ duplicates_removed: number; updated: number }>()).toMatchObject({ duplicates_removed: 2 + chunkCopies, updated: 3 });
    const idx = cli('index');
    expect(idx.code, idx.stderr).toBe(0);
    expect(idx.json<{ duplicates_removed: number }>().duplicates_removed).toBeGreaterThanOrEqual(2);
    const repaired = await tableCounts(db);
    expect(duplicated(repaired)).toEqual([]);
    expect(repaired).toEqual(clean);
    const audit2 = cli('audit', 'acl', '--mode', 'bm25', '--max-probes', '5');
    expect(audit2.code, audit2.stdout).toBe(0);
  }, 300_000);
});
