import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import * as lancedb from '@lancedb/lancedb';
import { describe, expect, it } from 'vitest';
import { BIN, FIXTURE_CONFIG, FIXTURES, MODELS_DIR, rag, ROOT, SHARED, tempDir } from '../helpers/cli.js';

const FIXTURE_DIRS = ['fixtures/docs', 'fixtures/html', 'fixtures/pdf', 'fixtures/tickets'];

async function readTable(db: string, name: string): Promise<Record<string, any>[]> {
  const conn = await lancedb.connect(db);
  const t = await conn.openTable(name);
  const rows = await t.query().toArray();
  return rows.map((r) => ({ ...r, acl: r.acl ? Array.from(r.acl.toArray()) : undefined }));
}

describe('rag ingest on the fixtures', () => {
  it('ingests every kind, then reports everything unchanged on a second run', async () => {
    const db = path.join(tempDir(), 'db');
    const first = rag(['--db', db, '--config', FIXTURE_CONFIG, '--json', 'ingest', ...FIXTURE_DIRS]);
    expect(first.code, first.stderr).toBe(0);
    const s1 = first.json();
    expect(s1.failed).toBe(0);
    expect(s1.added).toBeGreaterThan(30);
    expect(s1.documents).toBe(s1.added);

    const docs = await readTable(db, 'documents');
    const byId = new Map(docs.map((d) => [d.doc_id, d]));
    // Markdown front matter ACLs and tenants; config rule for the PDF; JSONL field mapping.
    expect(byId.get('fixtures/docs/internal/salary-bands.md')!.acl).toEqual(['group:hr']);
    expect(byId.get('fixtures/docs/personal/alice-notes.md')!.acl).toEqual(['user:alice']);
    expect(byId.get('fixtures/docs/globex/welcome.md')!.tenant).toBe('globex');
    expect(byId.get('fixtures/docs/api-keys.md')!.acl).toEqual(['public']);
    expect(byId.get('fixtures/docs/api-keys.md')!.tenant).toBe('acme');
    expect(byId.get('fixtures/pdf/security-whitepaper.pdf')!.acl).toEqual(['group:security', 'group:sre']);
    expect(byId.get('TCK-1003')!.acl).toEqual(['group:billing', 'group:support']);
    expect(JSON.parse(byId.get('TCK-1003')!.metadata)['customer.name'] ?? JSON.parse(byId.get('TCK-1003')!.metadata).customer).toBeTruthy();

    const chunks = await readTable(db, 'chunks');
    // Every chunk's text is exactly the slice of its document it claims to be (citations rely on it).
    for (const c of chunks) {
      const doc = byId.get(c.doc_id)!;
      expect(doc.text.slice(c.char_start, c.char_end)).toBe(c.text);
      expect(c.acl).toEqual(doc.acl);
      expect(c.tenant).toBe(doc.tenant);
    }
    // Structure: heading paths on Markdown chunks, page numbers on PDF chunks, no HTML noise.
    expect(chunks.some((c) => c.doc_id === 'fixtures/docs/api-keys.md' && Array.from(c.heading_path.toArray()).includes('Rotating a key'))).toBe(true);
    const pdfPages = chunks.filter((c) => c.connector === 'pdf').map((c) => c.page);
    expect(Math.min(...pdfPages)).toBe(1);
    expect(Math.max(...pdfPages)).toBeGreaterThan(1);
    expect(chunks.filter((c) => c.connector === 'html').some((c) => /NAVNOISE|SCRIPTNOISE/.test(c.text))).toBe(false);

    const second = rag(['--db', db, '--config', FIXTURE_CONFIG, '--json', 'ingest', ...FIXTURE_DIRS]);
    expect(second.code).toBe(0);
    const s2 = second.json();
    expect(s2).toMatchObject({ added: 0, updated: 0, deleted: 0, failed: 0, unchanged: s1.added, chunks_written: 0 });
  });

  it('updates a changed file, tombstones a removed one, and re-chunks only what changed', async () => {
    const dir = tempDir();
    const src = path.join(dir, 'docs');
    cpSync(path.join(FIXTURES, 'docs'), src, { recursive: true });
    const db = path.join(dir, 'db');
    const run = () => rag(['--db', db, '--config', FIXTURE_CONFIG, '--json', 'ingest', 'docs'], { cwd: dir });
    const s1 = run().json();
    appendFileSync(path.join(src, 'webhooks.md'), '\n## Replaying events\n\nUse the dashboard to replay a failed delivery.\n');
    rmSync(path.join(src, 'data-export.md'));
    const r2 = run();
    expect(r2.code, r2.stderr).toBe(0);
    expect(r2.json()).toMatchObject({ added: 0, updated: 1, deleted: 1, unchanged: s1.added - 2 });
    const docs = await readTable(db, 'documents');
    expect(docs.find((d) => d.doc_id === 'docs/data-export.md')!.deleted).toBe(true);
    const chunks = await readTable(db, 'chunks');
    expect(chunks.some((c) => c.doc_id === 'docs/data-export.md')).toBe(false);
    expect(chunks.some((c) => c.doc_id === 'docs/webhooks.md' && c.text.includes('replay a failed delivery'))).toBe(true);
    // No stale chunks of the old version remain: ordinals are unique per document.
    const ids = chunks.filter((c) => c.doc_id === 'docs/webhooks.md').map((c) => c.ordinal);
    expect(new Set(ids).size).toBe(ids.length);
    // --no-prune keeps documents whose file vanished.
    rmSync(path.join(src, 'rate-limits.md'));
    const r3 = rag(['--db', db, '--config', FIXTURE_CONFIG, '--json', 'ingest', '--no-prune', 'docs'], { cwd: dir });
    expect(r3.json().deleted).toBe(0);
  });

  it('skips unchanged files without parsing, yet applies a changed ACL rule to untouched files', async () => {
    const dir = tempDir();
    cpSync(path.join(FIXTURES, 'docs'), path.join(dir, 'docs'), { recursive: true });
    const db = path.join(dir, 'db');
    const cfg = path.join(dir, 'rag.config.json');
    writeFileSync(cfg, JSON.stringify({ tenant: { default: 'acme' } }));
    const run = () => rag(['--db', db, '--json', 'ingest', 'docs'], { cwd: dir });
    const first = run().json();
    expect(run().json()).toMatchObject({ added: 0, updated: 0, unchanged: first.added });
    // Only the config changes: the rule must reach the stored ACL of a file nobody touched.
    writeFileSync(cfg, JSON.stringify({ tenant: { default: 'acme' }, acl: { rules: [{ match: 'docs/webhooks.md', acl: ['group:platform'] }] } }));
    expect(run().json()).toMatchObject({ updated: 1, unchanged: first.added - 1 });
    const docs = await readTable(db, 'documents');
    expect(docs.find((d) => d.doc_id === 'docs/webhooks.md')!.acl).toEqual(['group:platform']);
    // A touched but unchanged file is not rewritten.
    const f = path.join(dir, 'docs/rate-limits.md');
    writeFileSync(f, readFileSync(f));
    expect(run().json()).toMatchObject({ added: 0, updated: 0, chunks_written: 0 });
  });

  it('keeps nested front matter in the stored metadata and in the filter keys', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'runbook.md'), '---\ntitle: Runbook\nowner:\n  team: platform\n  oncall: alice\ntags: [ops, db]\n---\n\n# Runbook\n\nRestart the database.\n');
    const db = path.join(dir, 'db');
    expect(rag(['--db', db, 'ingest', 'runbook.md'], { cwd: dir }).code).toBe(0);
    const [doc] = await readTable(db, 'documents');
    expect(JSON.parse(doc!.metadata)).toEqual({ owner: { team: 'platform', oncall: 'alice' }, tags: ['ops', 'db'] });
    const [chunk] = await readTable(db, 'chunks');
    expect(Array.from(chunk!.meta_kv.toArray())).toEqual(['owner.oncall=alice', 'owner.team=platform', 'tags=db', 'tags=ops']);
  });

  it('reports broken inputs with file and line, ingests the rest, and exits 2', async () => {
    const db = path.join(tempDir(), 'db');
    const r = rag(['--db', db, '--config', FIXTURE_CONFIG, '--json', 'ingest', 'fixtures/broken', 'fixtures/docs/api-keys.md']);
    expect(r.code).toBe(2);
    const s = r.json();
    const failures: { source: string; error: string }[] = s.failures;
    const find = (name: string) => failures.find((f) => f.source.includes(name));
    expect(find('broken.pdf')!.error).toMatch(/not a readable PDF/);
    expect(find('not-really.pdf')!.error).toMatch(/not a PDF/);
    expect(find('latin1.txt')!.error).toMatch(/UTF-8/);
    expect(find('binary.md')!.error).toMatch(/binary/);
    expect(find('bad-frontmatter.md')!.error).toMatch(/bad-frontmatter\.md:\d+/);
    expect(find('bad-acl.md')!.error).toMatch(/acl/);
    expect(failures.some((f) => /tickets-bad\.jsonl:2/.test(f.source) && /JSON/.test(f.error))).toBe(true);
    // The good document and the good JSONL records still went in.
    expect(s.added).toBeGreaterThanOrEqual(2);
    const docs = await readTable(db, 'documents');
    expect(docs.some((d) => d.doc_id === 'fixtures/docs/api-keys.md')).toBe(true);
    // Human output names the file too.
    const human = rag(['--db', path.join(tempDir(), 'db'), '--config', FIXTURE_CONFIG, 'ingest', 'fixtures/broken']);
    expect(human.code).toBe(2);
    expect(human.stderr).toMatch(/failed: fixtures\/broken\/latin1\.txt:\d+: .*UTF-8/);
  });

  it('ingests the SciFact BEIR corpus with doc_id = _id, and a second run changes nothing', () => {
    const db = path.join(tempDir(), 'db');
    const beir = path.join(SHARED, 'datasets/scifact');
    const r1 = rag(['--db', db, '--json', 'ingest', '--format', 'beir', beir]);
    expect(r1.code, r1.stderr).toBe(0);
    expect(r1.json()).toMatchObject({ added: 5183, failed: 0, documents: 5183 });
    const r2 = rag(['--db', db, '--json', 'ingest', '--format', 'beir', beir]);
    expect(r2.json()).toMatchObject({ added: 0, updated: 0, unchanged: 5183 });
  });

  it('survives kill -9 mid-ingest: the store stays readable and the next run completes it', async () => {
    const dir = tempDir();
    const src = path.join(dir, 'many');
    mkdirSync(src);
    for (let i = 0; i < 3000; i++) {
      writeFileSync(path.join(src, `note-${String(i).padStart(4, '0')}.md`), `# Note ${i}\n\nThis is note number ${i} about topic ${i % 17}.\n`);
    }
    const db = path.join(dir, 'db');
    const child = spawn(process.execPath, [BIN, '--db', db, 'ingest', 'many'], { cwd: dir, env: { ...process.env, RAG_MODELS_DIR: MODELS_DIR } });
    // Kill it once it has committed something (a documents table exists) but before it finishes.
    await new Promise<void>((resolve) => {
      const timer = setInterval(async () => {
        try {
          const conn = await lancedb.connect(db);
          if ((await conn.tableNames()).includes('chunks')) {
            clearInterval(timer);
            child.kill('SIGKILL');
            resolve();
          }
        } catch {
          /* not created yet */
        }
      }, 20);
      child.on('exit', () => {
        clearInterval(timer);
        resolve();
      });
    });
    await new Promise((r) => child.on('exit', r).once('exit', r));
    // Readable after the kill.
    const conn = await lancedb.connect(db);
    expect(await conn.tableNames()).toContain('chunks');
    const after = rag(['--db', db, '--json', 'ingest', 'many'], { cwd: dir });
    expect(after.code, after.stderr).toBe(0);
    expect(after.json().documents).toBe(3000);
    const chunks = await readTable(db, 'chunks');
    expect(new Set(chunks.map((c) => c.chunk_id)).size).toBe(chunks.length);
    expect(new Set(chunks.map((c) => c.doc_id)).size).toBe(3000);
    const again = rag(['--db', db, '--json', 'ingest', 'many'], { cwd: dir });
    expect(again.json()).toMatchObject({ added: 0, updated: 0, unchanged: 3000 });
  });

  it('rejects an invalid config naming the key, and a missing path, with exit 2', () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'rag.config.json'), JSON.stringify({ chunking: { maxTokens: 'big' } }));
    const r = rag(['--db', path.join(dir, 'db'), 'ingest', '.'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/rag\.config\.json.*chunking\.maxTokens/);
    writeFileSync(path.join(dir, 'rag.config.json'), JSON.stringify({ acl: { default: ['everyone'] } }));
    expect(rag(['--db', path.join(dir, 'db'), 'ingest', '.'], { cwd: dir }).stderr).toMatch(/acl\.default/);
    rmSync(path.join(dir, 'rag.config.json'));
    const missing = rag(['--db', path.join(dir, 'db'), 'ingest', 'nope'], { cwd: dir });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/path not found: nope/);
    expect(existsSync(path.join(dir, 'db'))).toBe(false); // nothing created for a failed command
    expect(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).toContain('"rag"');
  });
});
