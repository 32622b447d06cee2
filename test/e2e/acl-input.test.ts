/**
 * ACLs fail closed at ingest: an empty or unparsable ACL is refused per document (path:line, exit 2),
 * never defaulted, never aborting the batch; a stored version of a refused document is withdrawn.
 * Real CLI, real LanceDB store on disk.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as lancedb from '@lancedb/lancedb';
import { describe, expect, it } from 'vitest';
import { rag, tempDir } from '../helpers/cli.js';

const md = (front: string, body: string) => `---\ntitle: t\n${front}\n---\n\n${body}\n`;

async function documents(db: string): Promise<Map<string, { acl: string[]; deleted: boolean }>> {
  const conn = await lancedb.connect(db);
  const rows = await (await conn.openTable('documents')).query().toArray();
  return new Map(rows.map((r) => [r.doc_id as string, { acl: Array.from(r.acl.toArray() as string[]), deleted: r.deleted as boolean }]));
}

function corpus(): string {
  const dir = tempDir('rag-acl-');
  mkdirSync(path.join(dir, 'docs'));
  writeFileSync(path.join(dir, 'rag.config.json'), JSON.stringify({ jsonl: { id: 'id', body: ['body'], acl: 'acl' } }));
  const files: Record<string, string> = {
    'good.md': md('acl: [group:hr]', 'Quarterly salary bands for engineering.'),
    'open.md': md('tags: [x]', 'A public note with no acl key at all.'),
    'empty-list.md': md('acl: []', 'Empty list must not become public.'),
    'empty-value.md': md('acl:', 'A key with no value is empty too.'),
    'bad-principal.md': md('acl: [grp:hr]', 'Typo in the principal kind.'),
    'one-string.md': md('acl: "group:hr, user:x"', 'Two principals in one string.'),
  };
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, 'docs', name), text);
  writeFileSync(
    path.join(dir, 'docs', 'records.jsonl'),
    [
      { id: 'R1', body: 'good record', acl: ['group:support'] },
      { id: 'R2', body: 'bad principal record', acl: ['team:support'] },
      { id: 'R3', body: 'null acl record', acl: null },
      { id: 'R4', body: 'empty acl record', acl: [] },
      { id: 'R5', body: 'no acl field: config default' },
    ]
      .map((r) => JSON.stringify(r))
      .join('\n') + '\n',
  );
  return dir;
}

describe('ACL input fails closed', () => {
  it('refuses empty and invalid ACLs per document with path:line, ingests the rest, exits 2', async () => {
    const dir = corpus();
    const db = path.join(dir, 'db');
    const r = rag(['--db', db, '--json', 'ingest', 'docs'], { cwd: dir });
    expect(r.code, r.stderr).toBe(2);
    const s = r.json();
    const failures: { source: string; error: string }[] = s.failures;
    const err = (name: string) => failures.find((f) => f.source.includes(name))?.error ?? '';
    expect(err('empty-list.md')).toMatch(/^docs\/empty-list\.md:3: front matter "acl": empty ACL/);
    expect(err('empty-value.md')).toMatch(/^docs\/empty-value\.md:3: .*empty ACL/);
    expect(err('bad-principal.md')).toMatch(/^docs\/bad-principal\.md:3: .*invalid principal "grp:hr"/);
    expect(err('one-string.md')).toMatch(/^docs\/one-string\.md:3: .*several principals.*\[group:hr, user:x\]/);
    expect(failures.find((f) => f.source === 'docs/records.jsonl:2')?.error).toMatch(/invalid principal "team:support"/);
    expect(failures.find((f) => f.source === 'docs/records.jsonl:3')?.error).toMatch(/empty ACL/);
    expect(failures.find((f) => f.source === 'docs/records.jsonl:4')?.error).toMatch(/empty ACL/);
    expect(s.failed).toBe(7);

    const docs = await documents(db);
    expect([...docs.keys()].sort()).toEqual(['R1', 'R5', 'docs/good.md', 'docs/open.md']);
    expect(docs.get('docs/good.md')!.acl).toEqual(['group:hr']);
    expect(docs.get('R1')!.acl).toEqual(['group:support']);
    // Only an absent ACL takes the default.
    expect(docs.get('docs/open.md')!.acl).toEqual(['public']);
    expect(docs.get('R5')!.acl).toEqual(['public']);

    const human = rag(['--db', db, 'ingest', 'docs'], { cwd: dir });
    expect(human.code).toBe(2);
    expect(human.stderr).toMatch(/failed: docs\/bad-principal\.md:3: front matter "acl": invalid principal "grp:hr"; use public, user:NAME/);
    expect(human.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('withdraws the stored version of a document whose edited ACL is refused', async () => {
    const dir = corpus();
    const db = path.join(dir, 'db');
    rag(['--db', db, 'ingest', 'docs'], { cwd: dir });
    expect(rag(['--db', db, 'index', '--model', 'none'], { cwd: dir }).code).toBe(0);
    const asHr = () => rag(['--db', db, '--json', 'query', 'salary bands engineering', '--mode', 'bm25', '--as', 'group:hr'], { cwd: dir }).json();
    expect(asHr().results.map((h: { doc_id: string }) => h.doc_id)).toContain('docs/good.md');

    // Was group:hr; an edit meant to narrow it has a typo. Keeping the old version would keep
    // serving it under the old ACL: instead nobody sees it until the ACL is fixed.
    writeFileSync(path.join(dir, 'docs', 'good.md'), md('acl: [usr:alice]', 'Quarterly salary bands for engineering, revised.'));
    const r = rag(['--db', db, '--json', 'ingest', 'docs'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.json().failures.find((f: { source: string }) => f.source === 'docs/good.md').error).toMatch(/usr:alice.*stored version was withdrawn/);
    expect((await documents(db)).get('docs/good.md')!.deleted).toBe(true);
    expect(asHr().results.map((h: { doc_id: string }) => h.doc_id)).not.toContain('docs/good.md');

    writeFileSync(path.join(dir, 'docs', 'good.md'), md('acl: [user:alice]', 'Quarterly salary bands for engineering, revised.'));
    expect(rag(['--db', db, 'ingest', 'docs'], { cwd: dir }).code).toBe(2); // the other broken files remain
    const fixed = (await documents(db)).get('docs/good.md')!;
    expect(fixed).toEqual({ acl: ['user:alice'], deleted: false });
  });

  it('rejects empty or invalid ACLs in config rules, defaults and profiles, naming the key', () => {
    const dir = tempDir('rag-acl-config-');
    writeFileSync(path.join(dir, 'a.md'), '# a\n\ntext\n');
    const bad: Array<[unknown, RegExp]> = [
      [{ acl: { rules: [{ match: '**', acl: [] }] } }, /acl\.rules\.0\.acl/],
      [{ acl: { rules: [{ match: '**', acl: ['grp:hr'] }] } }, /acl\.rules\.0\.acl\.0/],
      [{ acl: { default: [] } }, /acl\.default/],
      [{ profiles: { hr: { as: [] } } }, /profiles\.hr\.as/],
      [{ profiles: { hr: { as: ['group:hr, user:x'] } } }, /profiles\.hr\.as\.0/],
    ];
    for (const [config, key] of bad) {
      writeFileSync(path.join(dir, 'rag.config.json'), JSON.stringify(config));
      const r = rag(['--db', path.join(dir, 'db'), 'ingest', '.'], { cwd: dir });
      expect(r.code, JSON.stringify(config)).toBe(2);
      expect(r.stderr).toMatch(key);
    }
  });
});
