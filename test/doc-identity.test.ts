/**
 * A file's doc_id does not depend on the directory `rag ingest` runs from (issue 13, case 1).
 * On the previous main, ids were paths relative to the working directory: ingesting the same
 * folder from another directory stored every document a second time under a second id.
 */
import { cpSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as lancedb from '@lancedb/lancedb';
import { describe, expect, it } from 'vitest';
import { FIXTURE_CONFIG, FIXTURES, rag, ROOT, tempDir } from './helpers/cli.js';

async function liveIds(db: string): Promise<string[]> {
  const conn = await lancedb.connect(db);
  const t = await conn.openTable('documents');
  const rows = await t.query().where('deleted = false').select(['doc_id']).toArray();
  return rows.map((r) => String(r.doc_id)).sort();
}

function project(): { dir: string; proj: string; db: string } {
  const dir = tempDir('rag-ids-');
  const proj = path.join(dir, 'proj');
  cpSync(path.join(FIXTURES, 'docs'), path.join(proj, 'docs'), { recursive: true });
  return { dir, proj, db: path.join(dir, 'db') };
}

describe('document identity', () => {
  it('the same folder ingested from three directories gets identical ids, never twice', async () => {
    const { dir, proj, db } = project();
    const first = rag(['--db', db, '--json', 'ingest', 'docs'], { cwd: proj });
    expect(first.code, first.stderr).toBe(0);
    const n = first.json().added;
    const ids = await liveIds(db);
    expect(ids).toContain('docs/api-keys.md');
    expect(ids).toHaveLength(n);

    for (const [cwd, arg] of [[path.join(proj, 'docs'), '.'], [dir, 'proj/docs'], ['/', path.join(proj, 'docs')]] as const) {
      const again = rag(['--db', db, '--json', 'ingest', arg], { cwd });
      expect(again.code, again.stderr).toBe(0);
      expect(again.json(), `from ${cwd}`).toMatchObject({ added: 0, updated: 0, deleted: 0, unchanged: n, documents: n });
      expect(await liveIds(db)).toEqual(ids);
    }

    // Pruning works from anywhere too: the vanished file is tombstoned by a run from its folder.
    rmSync(path.join(proj, 'docs/webhooks.md'));
    const pruned = rag(['--db', db, '--json', 'ingest', '.'], { cwd: path.join(proj, 'docs') });
    expect(pruned.json()).toMatchObject({ added: 0, deleted: 1, documents: n - 1 });
    expect(await liveIds(db)).toEqual(ids.filter((id) => id !== 'docs/webhooks.md'));
  });

  it('the fixtures keep their ids (fixtures/docs/…), and ingesting them from fixtures/ adds nothing', async () => {
    const db = path.join(tempDir(), 'db');
    const usual = rag(['--db', db, '--config', FIXTURE_CONFIG, '--json', 'ingest', 'fixtures/docs'], { cwd: ROOT });
    expect(usual.code, usual.stderr).toBe(0);
    const ids = await liveIds(db);
    expect(ids).toContain('fixtures/docs/api-keys.md');
    const fromFixtures = rag(['--db', db, '--config', 'rag.config.json', '--json', 'ingest', 'docs'], { cwd: FIXTURES });
    expect(fromFixtures.code, fromFixtures.stderr).toBe(0);
    expect(fromFixtures.json()).toMatchObject({ added: 0, updated: 0, unchanged: ids.length });
    expect(await liveIds(db)).toEqual(ids);
  });

  it('a "root" in the config fixes the root of a new store, relative to the config file', async () => {
    const { proj, db } = project();
    writeFileSync(path.join(proj, 'rag.config.json'), JSON.stringify({ root: '.' }));
    const r = rag(['--db', db, '--config', '../rag.config.json', 'ingest', '.'], { cwd: path.join(proj, 'docs') });
    expect(r.code, r.stderr).toBe(0);
    expect(await liveIds(db)).toContain('docs/api-keys.md');
    writeFileSync(path.join(proj, 'rag.config.json'), JSON.stringify({ root: 'nope' }));
    const bad = rag(['--db', db, '--config', 'rag.config.json', 'ingest', 'docs'], { cwd: proj });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/rag\.config\.json: config key "root": .*nope is not a directory/);
  });

  it('a root that does not match the stored ids is refused with the rebuild command', async () => {
    const { proj, db } = project();
    expect(rag(['--db', db, 'ingest', 'docs'], { cwd: proj }).code).toBe(0);
    mkdirSync(path.join(proj, 'other'));
    writeFileSync(path.join(proj, 'rag.config.json'), JSON.stringify({ root: 'other' }));
    const r = rag(['--db', db, 'ingest', 'docs'], { cwd: proj });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/holds document ids relative to .*proj, but this ingest would make them relative to .*other: every file would be stored twice/);
    expect(r.stderr).toContain(`rm -rf ${db} && rag --db ${db} ingest docs`);
  });

  it('office and mail stores are checked too (their ids are paths, or paths with a part inside the file)', async () => {
    const dir = tempDir('rag-ids-office-');
    const proj = path.join(dir, 'proj');
    for (const d of ['office', 'mail']) cpSync(path.join(FIXTURES, d), path.join(proj, d), { recursive: true });
    const db = path.join(dir, 'db');
    expect(rag(['--db', db, 'ingest', 'office', 'mail'], { cwd: proj }).code).toBe(0);
    // Moved checkout: the same layout elsewhere resolves every id, so it is adopted.
    const moved = path.join(dir, 'moved');
    renameSync(proj, moved);
    const again = rag(['--db', db, '--json', 'ingest', 'office', 'mail'], { cwd: moved });
    expect(again.code, again.stderr).toBe(0);
    expect(again.json()).toMatchObject({ added: 0 });
    // Another root under which none of them resolves: refused, not stored twice.
    mkdirSync(path.join(moved, 'other'));
    writeFileSync(path.join(moved, 'rag.config.json'), JSON.stringify({ root: 'other' }));
    const r = rag(['--db', db, 'ingest', 'office'], { cwd: moved });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/every file would be stored twice/);
  });

  it('a store written by an older rag (cwd-relative ids) is adopted from its own directory, refused from another', async () => {
    const { proj, db } = project();
    expect(rag(['--db', db, 'ingest', 'docs'], { cwd: proj }).code).toBe(0);
    // What an older rag left: the same tables, no record of the root.
    await (await lancedb.connect(db)).dropTable('store_meta');
    const elsewhere = rag(['--db', db, 'ingest', '.'], { cwd: path.join(proj, 'docs') });
    expect(elsewhere.code).toBe(2);
    expect(elsewhere.stderr).toMatch(/built by an older rag, with document ids relative to the directory each ingest ran in/);
    expect(elsewhere.stderr).toContain(`rm -rf ${db} && rag --db ${db} ingest .`);
    const home = rag(['--db', db, '--json', 'ingest', 'docs'], { cwd: proj });
    expect(home.code, home.stderr).toBe(0);
    expect(home.json()).toMatchObject({ added: 0, updated: 0 });
    // Adopted: from now on any directory works.
    expect(rag(['--db', db, '--json', 'ingest', '.'], { cwd: path.join(proj, 'docs') }).json()).toMatchObject({ added: 0, updated: 0 });
  });
});
