/**
 * Every failure is one clear line. An unreadable sub-folder used to abort the whole ingest with a
 * stack trace (exit 3); symbolic links were skipped without a word; a damaged store printed
 * LanceDB's own `Error: … lance error: … .rs:133:40`.
 */
import { chmodSync, cpSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FIXTURES, rag, tempDir } from '../helpers/cli.js';
import { beirLine, ids, ragAsync, writeBeir } from './helpers.js';

/**
 * Root reads any folder whatever its mode; run rag without the capabilities that allow it, so
 * a mode-000 folder is as unreadable to it as to any user.
 */
const UNPRIVILEGED = process.getuid?.() === 0 ? ['setpriv', '--inh-caps=-dac_override,-dac_read_search', '--bounding-set=-dac_override,-dac_read_search'] : [];

const locked: string[] = [];
afterAll(() => {
  for (const d of locked) chmodSync(d, 0o755);
});

describe('ingest goes on past what it cannot or will not read', () => {
  it('an unreadable sub-folder is reported with its path and skipped; what it held before is kept', async () => {
    const dir = tempDir('rag-rel-eacces-');
    cpSync(path.join(FIXTURES, 'docs'), path.join(dir, 'docs'), { recursive: true });
    mkdirSync(path.join(dir, 'docs', 'private'));
    writeFileSync(path.join(dir, 'docs', 'private', 'plan.md'), '# Plan\n\nThe private plan.\n');
    const db = path.join(dir, 'store');
    const run = (...args: string[]) => ragAsync(['--db', db, ...args], { cwd: dir, wrap: UNPRIVILEGED });
    const first = await run('--json', '-q', 'ingest', 'docs');
    expect(first.code, first.stderr).toBe(0);
    const before = first.json<{ documents: number }>().documents;

    chmodSync(path.join(dir, 'docs', 'private'), 0o000);
    locked.push(path.join(dir, 'docs', 'private'));
    const r = await run('ingest', 'docs');
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('failed: docs/private: cannot read this folder (permission denied): skipped with everything under it; fix its permissions and ingest again\n');
    expect(r.stdout).toMatch(/^ingested: 0 added, 0 updated, \d+ unchanged, 0 deleted, 1 failed — (\d+) documents in store/);
    // The plan ingested before is not tombstoned because its folder could not be read this time.
    expect(Number(/— (\d+) documents/.exec(r.stdout)![1])).toBe(before);
    const json = await run('--json', '-q', 'ingest', 'docs');
    expect(json.json<{ failures: unknown[] }>().failures).toEqual([
      { source: 'docs/private', error: 'cannot read this folder (permission denied): skipped with everything under it; fix its permissions and ingest again' },
    ]);
  }, 300_000);

  it('symbolic links (to a file, to a folder, in a loop, dangling) are not followed, and each is reported', () => {
    const dir = tempDir('rag-rel-links-');
    const docs = path.join(dir, 'docs');
    cpSync(path.join(FIXTURES, 'docs'), docs, { recursive: true });
    const outside = path.join(dir, 'outside');
    mkdirSync(outside);
    writeFileSync(path.join(outside, 'secret.md'), '# Secret\n\nNot for this corpus.\n');
    symlinkSync(path.join(outside, 'secret.md'), path.join(docs, 'file-link.md'));
    symlinkSync(outside, path.join(docs, 'folder-link'));
    symlinkSync(path.join(docs, 'loop-b'), path.join(docs, 'loop-a'));
    symlinkSync(path.join(docs, 'loop-a'), path.join(docs, 'loop-b'));
    symlinkSync(path.join(dir, 'nowhere.md'), path.join(docs, 'dangling.md'));
    const db = path.join(dir, 'store');
    const r = rag(['--db', db, 'ingest', 'docs'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr.split('\n').filter(Boolean)).toEqual([
      `skipped: docs/dangling.md: dangling symbolic link (${path.join(dir, 'nowhere.md')} does not exist), not followed`,
      `skipped: docs/file-link.md: symbolic link to a file (${path.join(outside, 'secret.md')}), not followed: ingest the target path itself if it belongs in the store`,
      `skipped: docs/folder-link: symbolic link to a folder (${outside}), not followed: ingest the target path itself if it belongs in the store`,
      `skipped: docs/loop-a: symbolic link loop (${path.join(docs, 'loop-b')}), not followed`,
      `skipped: docs/loop-b: symbolic link loop (${path.join(docs, 'loop-a')}), not followed`,
    ]);
    const json = rag(['--db', db, '--json', 'ingest', 'docs'], { cwd: dir });
    const summary = json.json<{ skipped: { source: string }[]; unchanged: number }>();
    expect(summary.skipped.map((s) => s.source)).toEqual(['docs/dangling.md', 'docs/file-link.md', 'docs/folder-link', 'docs/loop-a', 'docs/loop-b']);
    expect(rag(['--db', db, '-q', 'index', '--model', 'none'], { cwd: dir }).code).toBe(0);
    const q = rag(['--db', db, '--json', 'query', 'Not for this corpus', '--mode', 'bm25'], { cwd: dir });
    expect(q.json<{ results: { doc_id: string }[] }>().results.map((h) => h.doc_id).filter((d) => /secret|link/.test(d))).toEqual([]);
    // A path named on the command line is the user's choice: followed.
    const named = rag(['--db', db, '--json', 'ingest', 'docs/file-link.md'], { cwd: dir });
    expect(named.json<{ added: number }>().added).toBe(1);
  }, 300_000);
});

describe('store failures are one line', () => {
  it('a damaged index table: exit 3, one line and a fix, no raw LanceDB text; --verbose adds it', () => {
    const dir = tempDir('rag-rel-damaged-');
    writeBeir(path.join(dir, 'corpus'), ids('d', 20).map((id) => beirLine(id)));
    const db = path.join(dir, 'store');
    expect(rag(['--db', db, '-q', 'ingest', '--format', 'beir', 'corpus'], { cwd: dir }).code).toBe(0);
    expect(rag(['--db', db, '-q', 'index', '--model', 'none'], { cwd: dir }).code).toBe(0);
    const data = path.join(db, 'idx_default.lance', 'data');
    for (const f of readdirSync(data)) rmSync(path.join(data, f));

    const r = rag(['--db', db, 'query', 'common marker', '--mode', 'bm25'], { cwd: dir });
    expect(r.code).toBe(3);
    expect(r.stderr).toBe(
      'error: part of the store is missing (table idx_default): its files were deleted, or an index table was removed while this command read it\n' +
        'fix: rerun the command; if it fails again, rebuild with `rag index --rebuild` (or re-ingest into a fresh store)\n',
    );
    expect(r.stderr).not.toMatch(/Error:|lance error|\.rs:\d/);

    const v = rag(['--db', db, '--verbose', 'query', 'common marker', '--mode', 'bm25'], { cwd: dir });
    expect(v.code).toBe(3);
    const lines = v.stderr.trim().split('\n');
    expect(lines[0]).toMatch(/^error: part of the store is missing/);
    expect(lines[2]).toMatch(/^detail: .*lance error: Not found: .*idx_default\.lance\/data\//);

    // The way out the fix names works.
    const rebuilt = rag(['--db', db, '-q', 'index', '--rebuild'], { cwd: dir });
    expect(rebuilt.code, rebuilt.stderr).toBe(0);
    expect(rag(['--db', db, 'query', 'common marker', '--mode', 'bm25'], { cwd: dir }).code).toBe(0);
  }, 300_000);
});
