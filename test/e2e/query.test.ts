import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as lancedb from '@lancedb/lancedb';
import { beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE_CONFIG, FIXTURES, rag, requireModel, STATIC_MODEL, tempDir } from '../helpers/cli.js';

const SOURCES = ['docs', 'html', 'pdf', 'tickets'];
let dir: string;
let db: string;
const q = (args: string[]) => rag(['--db', db, '--config', FIXTURE_CONFIG, '--json', 'query', ...args], { cwd: dir });
const ids = (r: ReturnType<typeof q>) => (r.json().results as { doc_id: string }[]).map((x) => x.doc_id);

beforeAll(() => {
  requireModel(STATIC_MODEL);
  dir = tempDir();
  for (const s of SOURCES) cpSync(path.join(FIXTURES, s), path.join(dir, s), { recursive: true });
  db = path.join(dir, 'db');
  const ing = rag(['--db', db, '--config', FIXTURE_CONFIG, 'ingest', ...SOURCES], { cwd: dir });
  expect(ing.code, ing.stderr).toBe(0);
  const idx = rag(['--db', db, '--config', FIXTURE_CONFIG, '--json', 'index', '--model', STATIC_MODEL], { cwd: dir });
  expect(idx.code, idx.stderr).toBe(0);
  expect(idx.json().model).toBe(STATIC_MODEL);
});

describe('rag query on the fixtures (static model)', () => {
  const cases: [string, string, ('bm25' | 'vector' | 'hybrid')[]][] = [
    ['how do I rotate an API key', 'docs/api-keys.md', ['bm25', 'hybrid']],
    ['configure SAML single sign-on with Okta', 'docs/sso-saml.md', ['bm25', 'vector', 'hybrid']],
    ['verify webhook signatures', 'docs/webhooks.md', ['bm25', 'hybrid']],
    ['restore a deleted project from a backup', 'docs/backups-restore.md', ['bm25', 'vector', 'hybrid']],
    ['export all workspace data', 'docs/data-export.md', ['bm25', 'vector', 'hybrid']],
    ['install the CLI on linux', 'docs/cli-install.md', ['bm25', 'vector', 'hybrid']],
    ['uptime commitment and service credits', 'pdf/sla.pdf', ['bm25', 'vector', 'hybrid']],
    ['audit log retention', 'docs/audit-logs.md', ['bm25', 'vector', 'hybrid']],
  ];
  for (const [text, expected, firstIn] of cases) {
    it(`"${text}" → ${expected}`, () => {
      for (const mode of ['bm25', 'vector', 'hybrid'] as const) {
        const got = ids(q([text, '--mode', mode, '-k', '3']));
        if (firstIn.includes(mode)) expect(got[0], `${mode}: ${got}`).toBe(expected);
        else expect(got, mode).toContain(expected); // the tiny static model is weaker: top 3
      }
    });
  }

  it('returns citations: offsets, heading path or page, per-stage scores', () => {
    const r = q(['rotate a leaked key', '-k', '3']).json();
    expect(r.mode).toBe('hybrid');
    const top = r.results[0];
    expect(top).toMatchObject({ rank: 1, doc_id: 'docs/api-keys.md', source: 'docs/api-keys.md', title: 'Managing API keys' });
    expect(top.heading_path).toContain('Rotating a key');
    expect(top.char_end).toBeGreaterThan(top.char_start);
    const file = readFileSync(path.join(dir, 'docs/api-keys.md'), 'utf8');
    expect(file).toContain(top.text.slice(0, 60));
    expect(top.scores).toHaveProperty('fused');
    expect(typeof top.scores.bm25 === 'number' || typeof top.scores.vector === 'number').toBe(true);
    const pdf = q(['service credits', '--filter', 'connector=pdf', '-k', '1']).json().results[0];
    expect(pdf.page).toBeGreaterThanOrEqual(1);
  });

  it('prints a table for people with highlighted terms', () => {
    const r = rag(['--db', db, '--config', FIXTURE_CONFIG, 'query', 'rotate', 'API', 'key', '-k', '2'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Managing API keys/);
    expect(r.stdout).toMatch(/\[[Rr]otat\w*\]/);
    expect(r.stdout).toMatch(/2 results · hybrid/);
  });

  it('is deterministic: the same query gives the same ranking and scores', () => {
    const a = q(['billing plan change', '-k', '10']).json().results.map((x: any) => [x.chunk_id, x.score]);
    const b = q(['billing plan change', '-k', '10']).json().results.map((x: any) => [x.chunk_id, x.score]);
    expect(a).toEqual(b);
  });
});

describe('permissions: restricted documents never reach outsiders, in any mode', () => {
  const restricted: { query: string; doc: string; insider: string[]; tenant?: string }[] = [
    { query: 'engineering salary bands promotion increases', doc: 'docs/internal/salary-bands.md', insider: ['--as', 'group:hr'] },
    { query: 'incident response runbook severity levels', doc: 'docs/internal/incident-response.md', insider: ['--as', 'group:sre'] },
    { query: "Alice's working notes 1:1 with Dana", doc: 'docs/personal/alice-notes.md', insider: ['--as', 'user:alice'] },
    { query: 'Globex private network VPN', doc: 'docs/globex/vpn-access.md', insider: ['--as', 'group:globex-engineering', '--tenant', 'globex'] },
    { query: 'security whitepaper encryption', doc: 'pdf/security-whitepaper.pdf', insider: ['--as', 'group:security'] },
  ];
  for (const { query, doc, insider } of restricted) {
    it(`${doc}: hidden from outsiders, found by insiders`, () => {
      for (const mode of ['bm25', 'vector', 'hybrid']) {
        const outsiders = [[], ['--as', 'group:support'], ['--as', 'user:bob'], ['--profile', 'alice']].filter((o) => !insider.every((x) => o.includes(x)));
        for (const who of outsiders) {
          if (doc.includes('alice') && who.includes('alice')) continue;
          const got = ids(q([query, '--mode', mode, '-k', '50', ...who]));
          expect(got, `${mode} as ${who.join(' ') || 'public'}`).not.toContain(doc);
        }
        const mine = ids(q([query, '--mode', mode, '-k', '10', ...insider]));
        expect(mine, `${mode} as insider`).toContain(doc);
      }
    });
  }

  it('keeps tenants apart: globex content is invisible from acme, and acme public content from globex', () => {
    expect(ids(q(['Globex workspace handbook deployment windows', '-k', '50']))).not.toContain('docs/globex/welcome.md');
    expect(ids(q(['Globex workspace handbook deployment windows', '--tenant', 'globex', '-k', '3']))[0]).toBe('docs/globex/welcome.md');
    expect(ids(q(['rotate an API key', '--tenant', 'globex', '-k', '50']))).not.toContain('docs/api-keys.md');
  });

  it('never starves top-k: a public hit is returned even when restricted chunks match better', () => {
    // Many restricted tickets mention "invoice"; the public billing doc must still come back.
    const got = ids(q(['invoice', '--mode', 'bm25', '-k', '1']));
    expect(got).toHaveLength(1);
  });

  it('applies an ACL change at ingest time, before any re-index', () => {
    const file = path.join(dir, 'docs/rate-limits.md');
    const before = ids(q(['rate limit headers', '--mode', 'bm25', '-k', '5']));
    expect(before).toContain('docs/rate-limits.md');
    const orig = readFileSync(file, 'utf8');
    writeFileSync(file, orig.replace(/^---\n/, '---\nacl: [group:platform]\n'));
    try {
      expect(rag(['--db', db, '--config', FIXTURE_CONFIG, 'ingest', ...SOURCES], { cwd: dir }).code).toBe(0);
      for (const mode of ['bm25', 'vector', 'hybrid']) {
        expect(ids(q(['rate limit headers', '--mode', mode, '-k', '50']))).not.toContain('docs/rate-limits.md');
      }
      const idx = rag(['--db', db, '--config', FIXTURE_CONFIG, '--json', 'index'], { cwd: dir }).json();
      expect(idx.embedded).toBe(0); // same text: vectors come from the cache
      expect(idx.reused).toBeGreaterThan(0);
      expect(ids(q(['rate limit headers', '--mode', 'bm25', '-k', '50']))).not.toContain('docs/rate-limits.md');
      expect(ids(q(['rate limit headers', '--mode', 'bm25', '-k', '5', '--as', 'group:platform']))).toContain('docs/rate-limits.md');
    } finally {
      writeFileSync(file, orig);
      rag(['--db', db, '--config', FIXTURE_CONFIG, 'ingest', ...SOURCES], { cwd: dir });
      rag(['--db', db, '--config', FIXTURE_CONFIG, 'index'], { cwd: dir });
    }
  });
});

describe('filters, incremental index, BM25 fallback', () => {
  it('filters on metadata and built-in fields, and refuses injection', () => {
    const pdf = q(['security', '--filter', 'connector=pdf', '-k', '20', '--as', 'group:security']).json().results;
    expect(pdf.length).toBeGreaterThan(0);
    expect(pdf.every((r: any) => r.doc_id.endsWith('.pdf'))).toBe(true);
    const open = q(['invoice', '--filter', 'status=open', '--as', 'group:support', '-k', '20']).json().results;
    expect(open.length).toBeGreaterThan(0);
    expect(open.every((r: any) => r.doc_id.startsWith('TCK-'))).toBe(true);
    const bad = rag(['--db', db, '--config', FIXTURE_CONFIG, 'query', 'x', '--filter', "title='a' OR 1=1"], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/invalid --filter/);
    // A quote inside a value is data, not SQL.
    const quoted = q(['x', '--filter', `title="it's"`]);
    expect(quoted.code).toBe(0);
    expect(quoted.json().results).toEqual([]);
  });

  it('re-embeds only the chunks of the changed document', async () => {
    const file = path.join(dir, 'docs/webhooks.md');
    const orig = readFileSync(file, 'utf8');
    writeFileSync(file, `${orig}\n## Replaying events\n\nReplay a failed delivery from the dashboard.\n`);
    try {
      expect(rag(['--db', db, '--config', FIXTURE_CONFIG, 'ingest', ...SOURCES], { cwd: dir }).code).toBe(0);
      const idx = rag(['--db', db, '--config', FIXTURE_CONFIG, '--json', 'index'], { cwd: dir }).json();
      expect(idx.embedded).toBeGreaterThanOrEqual(1);
      // Only webhooks.md's chunks left and re-entered the index; the rest was untouched.
      const conn = await lancedb.connect(db);
      const chunks = await (await conn.openTable('chunks')).query().where("doc_id = 'docs/webhooks.md'").select(['chunk_id']).toArray();
      expect(idx.embedded + idx.reused).toBe(chunks.length);
      expect(idx.unchanged).toBe((await (await conn.openTable('chunks')).countRows()) - chunks.length);
      // The new text is searchable right away (indexes merged incrementally, not rebuilt).
      for (const mode of ['bm25', 'hybrid']) {
        const hit = q(['replay a failed delivery from the dashboard', '--mode', mode, '-k', '1']).json().results[0];
        expect(hit.doc_id, mode).toBe('docs/webhooks.md');
        expect(hit.text).toMatch(/Replay a failed delivery/);
      }
      const again = rag(['--db', db, '--config', FIXTURE_CONFIG, '--json', 'index'], { cwd: dir }).json();
      expect(again).toMatchObject({ embedded: 0, reused: 0, removed: 0 });
    } finally {
      writeFileSync(file, orig);
    }
  });

  it('without a model the index is BM25-only: the default mode is bm25, and asking for hybrid is exit 2', () => {
    const r = rag(['--db', db, '--config', FIXTURE_CONFIG, '--json', 'index', '--name', 'plain', '--model', 'none'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/BM25-only/);
    const res = rag(['--db', db, '--config', FIXTURE_CONFIG, '--json', 'query', 'api key', '--index', 'plain'], { cwd: dir });
    expect(res.code).toBe(0);
    expect(res.json().mode).toBe('bm25');
    const hybrid = rag(['--db', db, '--config', FIXTURE_CONFIG, '--json', 'query', 'api key', '--index', 'plain', '--mode', 'hybrid'], { cwd: dir });
    expect(hybrid.code).toBe(2);
    expect(JSON.parse(hybrid.stderr).error).toMatch(/^mode hybrid needs vectors, but index "plain" has none/);
  });

  it('exits 2 on usage errors (an unknown --index names the ones there are) and 3 on a missing store', () => {
    expect(rag(['--db', db, 'query', 'x', '--mode', 'fuzzy'], { cwd: dir }).code).toBe(2);
    expect(rag(['--db', db, 'query', 'x', '--as', 'alice'], { cwd: dir }).stderr).toMatch(/invalid principal "alice"/);
    const none = rag(['--db', path.join(dir, 'nope'), 'query', 'x'], { cwd: dir });
    expect(none.code).toBe(3);
    expect(none.stderr).toMatch(/no rag store/);
    const unknown = rag(['--db', db, 'query', 'x', '--index', 'missing'], { cwd: dir });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no index named "missing"\nfix: use --index with one of: /);
  });
});
