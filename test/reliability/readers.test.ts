/**
 * Searches while the index is rebuilt, as real processes. A rebuild used to drop the table
 * searches were reading (`…/tokens.lance not found`, or zero results with exit 0); now it fills a
 * new generation and switches the manifest in one commit.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/engine/config.js';
import { Retriever } from '../../src/engine/search/retriever.js';
import { Store } from '../../src/engine/store/store.js';
import { rag, requireModel, STATIC_MODEL, tempDir } from '../helpers/cli.js';
import { beirLine, duplicated, ids, ragAsync, tableCounts, writeBeir, type Proc } from './helpers.js';

const REBUILDS = 4;
const DOCS = 300;

describe('readers during rebuilds (local store)', () => {
  it(`two query loops during ${REBUILDS} rebuilds and ${REBUILDS} in-place re-indexes: no errors, no empty answers`, async () => {
    requireModel(STATIC_MODEL);
    const dir = tempDir('rag-rel-readers-');
    const db = path.join(dir, 'store');
    const corpus = ids('d', DOCS);
    writeBeir(path.join(dir, 'corpus'), corpus.map((id) => beirLine(id)));
    const base = ['--db', db, '--json', '-q'];
    expect(rag([...base, 'ingest', '--format', 'beir', 'corpus'], { cwd: dir }).code).toBe(0);
    expect(rag([...base, 'index', '--model', STATIC_MODEL], { cwd: dir }).code).toBe(0);

    const windows: { kind: string; start: number; end: number }[] = [];
    let writing = true;
    const writer = (async () => {
      try {
        for (let i = 1; i <= REBUILDS; i++) {
          let t0 = Date.now();
          const rebuild = await ragAsync([...base, 'index', '--rebuild'], { cwd: dir });
          expect(rebuild.code, rebuild.stderr).toBe(0);
          windows.push({ kind: 'rebuild', start: t0, end: Date.now() });
          // A quarter of the records change: ingest withdraws them, and the re-index is large
          // enough to rebuild the FTS and scalar indexes of the live table in place.
          writeBeir(path.join(dir, 'corpus'), corpus.map((id, j) => beirLine(id, j % 4 === i % 4 ? i : 0)));
          t0 = Date.now();
          const ing = await ragAsync([...base, 'ingest', '--format', 'beir', 'corpus'], { cwd: dir });
          expect(ing.code, ing.stderr).toBe(0);
          const idx = await ragAsync([...base, 'index'], { cwd: dir });
          expect(idx.code, idx.stderr).toBe(0);
          windows.push({ kind: 'in-place', start: t0, end: Date.now() });
        }
      } finally {
        writing = false;
      }
    })();

    const reader = async (mode: string) => {
      const log: { r: Proc; hits: number }[] = [];
      while (writing) {
        const r = await ragAsync([...base, 'query', 'common marker', '--mode', mode, '-k', '5'], { cwd: dir });
        log.push({ r, hits: r.code === 0 ? r.json<{ results: unknown[] }>().results.length : -1 });
      }
      return log;
    };
    const logs = await Promise.all([reader('hybrid'), reader('bm25')]);
    await writer;

    const all = logs.flat();
    const errors = all.filter((q) => q.r.code !== 0).map((q) => `exit ${q.r.code}: ${q.r.stderr.trim()}`);
    const empty = all.filter((q) => q.r.code === 0 && q.hits === 0).length;
    const during = (kind: string) => all.filter((q) => windows.some((w) => w.kind === kind && q.r.started < w.end && q.r.ended > w.start)).length;
    expect(errors, errors.join('\n')).toEqual([]);
    expect(empty).toBe(0);
    expect(during('rebuild'), 'queries ran while rebuilds ran').toBeGreaterThanOrEqual(REBUILDS);
    expect(during('in-place')).toBeGreaterThan(0);
    console.log(
      `local readers: ${all.length} queries (${during('rebuild')} during ${REBUILDS} rebuilds, ${during('in-place')} during ${REBUILDS} in-place re-indexes), 0 errors, 0 empty answers`,
    );

    // Retired generations stay for the grace period (an hour by default)…
    const idxTables = () => readdirSync(db).filter((f) => f.startsWith('idx_')).sort();
    expect(idxTables()).toHaveLength(REBUILDS + 1);
    // …and the next build after it drops them.
    const cfg = path.join(dir, 'rag.config.json');
    writeFileSync(cfg, JSON.stringify({ index: { graceSeconds: 0 } }));
    const idx = rag([...base, '--config', cfg, 'index'], { cwd: dir });
    expect(idx.code, idx.stderr).toBe(0);
    expect(idxTables()).toEqual([`idx_default.g${REBUILDS}.lance`]);
    expect(duplicated(await tableCounts(db))).toEqual([]);
  }, 900_000);

  it('a search opened before a rebuild finishes on the table it opened; the next one opens the new generation', async () => {
    const dir = tempDir('rag-rel-pinned-');
    const db = path.join(dir, 'store');
    writeBeir(path.join(dir, 'corpus'), ids('d', 60).map((id) => beirLine(id)));
    const base = ['--db', db, '-q'];
    expect(rag([...base, 'ingest', '--format', 'beir', 'corpus'], { cwd: dir }).code).toBe(0);
    expect(rag([...base, 'index', '--model', 'none'], { cwd: dir }).code).toBe(0);

    const config = defaultConfig();
    const caller = { principals: ['public'], tenant: 'default' };
    const store = await Store.open(db);
    const before = await Retriever.open(store, config, 'default');
    const first = await before.search('d17word', { k: 5, caller, mode: 'bm25' });
    expect(first.hits[0]?.chunk.doc_id).toBe('d17');

    const rebuild = rag([...base, 'index', '--rebuild'], { cwd: dir });
    expect(rebuild.code, rebuild.stderr).toBe(0);

    const again = await before.search('d17word', { k: 5, caller, mode: 'bm25' });
    expect(again.ranked).toEqual(first.ranked);
    const after = await Retriever.open(store, config, 'default');
    expect(after.manifest.table).toBe('idx_default.g1');
    expect(before.manifest.table).toBe('idx_default');
    expect((await after.search('d17word', { k: 5, caller, mode: 'bm25' })).ranked.map((r) => r.chunk_id)).toEqual(first.ranked.map((r) => r.chunk_id));
    store.close();
  }, 300_000);
});
