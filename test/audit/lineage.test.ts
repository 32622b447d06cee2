import { existsSync, readFileSync, rmSync, unlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diffDocs, parseSince } from '../../src/engine/audit/lineage.js';
import { rag, tempDir } from '../helpers/cli.js';

type Doc = Parameters<typeof diffDocs>[0][number];
const doc = (id: string, over: Partial<Doc> = {}): Doc => ({
  doc_id: id,
  source: id,
  connector: 'markdown',
  title: id,
  content_hash: `c-${id}`,
  record_hash: `r-${id}`,
  mtime: 0,
  ingested_at: '2024-01-01T00:00:00.000Z',
  acl: ['public'],
  tenant: 'default',
  deleted: false,
  ...over,
});

describe('diffDocs', () => {
  it('classifies added, changed (with what changed), deleted and revived documents', () => {
    const before = [doc('a'), doc('b'), doc('c'), doc('d', { deleted: true }), doc('e')];
    const after = [
      doc('a'),
      doc('b', { record_hash: 'r2', acl: ['group:hr'] }),
      doc('c', { deleted: true }),
      doc('d'),
      doc('f'),
    ];
    const changes = diffDocs(before, after);
    expect(changes.map((c) => [c.doc_id, c.change])).toEqual([
      ['b', 'changed'],
      ['c', 'deleted'],
      ['d', 'added'],
      ['e', 'deleted'],
      ['f', 'added'],
    ]);
    expect(changes.find((c) => c.doc_id === 'b')!.detail).toBe('acl');
  });

  it('reports nothing between identical snapshots', () => {
    expect(diffDocs([doc('a'), doc('b')], [doc('a'), doc('b')])).toEqual([]);
  });
});

describe('parseSince', () => {
  it('reads integers as versions and anything else as a date', () => {
    expect(parseSince('12')).toEqual({ version: 12 });
    expect('date' in parseSince('2024-05-01')).toBe(true);
    expect(() => parseSince('last tuesday-ish')).toThrow(/neither a table version nor a date/);
  });
});

describe('rag audit lineage (CLI)', () => {
  let dir: string;
  const db = () => path.join(dir, 'db');
  const run = (...args: string[]) => rag(['--db', db(), ...args], { cwd: dir });
  const write = (rel: string, body: string) => {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), body);
  };

  beforeAll(() => {
    dir = tempDir('rag-lineage-');
    write('docs/handbook.md', '# Handbook\n\nHow we work together, for everyone.\n');
    write('docs/pay.md', '---\nacl: [group:hr]\n---\n# Pay review\n\nAnnual pay review calendar and salary band rules.\n');
    write('docs/globex.md', '---\nacl: [group:support]\ntenant: globex\n---\n# Globex escalation\n\nEscalation contacts for the Globex account.\n');
    expect(run('ingest', 'docs').code).toBe(0);
    expect(run('index', '--model', 'none').code).toBe(0);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('inventories documents, indexes and per-principal / per-tenant totals', () => {
    const r = run('--json', 'audit', 'lineage');
    expect(r.code).toBe(0);
    const rep = r.json();
    expect(rep.documents.map((d: { doc_id: string }) => d.doc_id).sort()).toEqual(['docs/globex.md', 'docs/handbook.md', 'docs/pay.md']);
    const pay = rep.documents.find((d: { doc_id: string }) => d.doc_id === 'docs/pay.md');
    expect(pay.acl).toEqual(['group:hr']);
    expect(pay.content_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(pay.indexes[0]).toMatchObject({ index: 'default', state: 'current' });
    expect(pay.indexes[0].indexed_at).toMatch(/^\d{4}-/);
    expect(rep.indexes).toHaveLength(1);
    expect(rep.indexes[0]).toMatchObject({ name: 'default', model: null });
    expect(rep.indexes[0].manifest_table_version).toBe(rep.indexes[0].current_table_version);
    const byPrincipal = Object.fromEntries(rep.totals.by_principal.map((p: { key: string; documents: number }) => [p.key, p.documents]));
    expect(byPrincipal).toEqual({ 'group:hr': 1, 'group:support': 1, public: 1 });
    const byTenant = Object.fromEntries(rep.totals.by_tenant.map((p: { key: string; documents: number }) => [p.key, p.documents]));
    expect(byTenant).toEqual({ default: 2, globex: 1 });
  });

  it('lists changes since a documents-table version, and writes a Markdown report', () => {
    const v0 = run('--json', 'audit', 'lineage').json().documents_table_version as number;
    write('docs/handbook.md', '# Handbook\n\nHow we work together, for everyone. Now with a section on holidays.\n');
    write('docs/pay.md', '---\nacl: [group:hr, group:finance]\n---\n# Pay review\n\nAnnual pay review calendar and salary band rules.\n');
    unlinkSync(path.join(dir, 'docs/globex.md'));
    write('docs/new.md', '# New\n\nA new page.\n');
    expect(run('ingest', 'docs').code).toBe(0);

    const out = path.join(dir, 'reports/lineage');
    const r = run('--json', 'audit', 'lineage', '--since', String(v0), '--include-deleted', '--out', out);
    expect(r.code).toBe(0);
    const rep = r.json();
    expect(rep.since.method).toBe('version');
    expect(rep.since.base_version).toBe(v0);
    const changes = Object.fromEntries(rep.since.changes.map((c: { doc_id: string; change: string; detail?: string }) => [c.doc_id, `${c.change}:${c.detail ?? ''}`]));
    expect(changes).toEqual({
      'docs/globex.md': 'deleted:',
      'docs/handbook.md': 'changed:content',
      'docs/new.md': 'added:',
      'docs/pay.md': 'changed:acl',
    });
    // Ingest removed the changed documents' rows from the index: lineage says the index lags.
    const handbook = rep.documents.find((d: { doc_id: string }) => d.doc_id === 'docs/handbook.md');
    expect(handbook.indexes[0].state).toBe('missing');
    expect(rep.totals.deleted).toBe(1);

    expect(existsSync(out)).toBe(true);
    const md = readFileSync(path.join(out, 'report.md'), 'utf8');
    expect(md).toContain('# rag audit — lineage');
    expect(md).toMatch(/\| changed \| `docs\/pay\.md` \|.*\| acl \|/);

    // A date in the future: nothing changed after it.
    const later = run('--json', 'audit', 'lineage', '--since', '2999-01-01').json();
    expect(later.since.changes).toEqual([]);
  });

  it('rejects an unreadable --since and an unknown index with exit 2', () => {
    expect(run('audit', 'lineage', '--since', 'soonish').code).toBe(2);
    const r = run('audit', 'lineage', '--index', 'nope');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no index named "nope"/);
  });
});
