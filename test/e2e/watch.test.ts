import { spawn } from 'node:child_process';
import { cpSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, FIXTURES, MODELS_DIR, rag, tempDir } from '../helpers/cli.js';

/** Polls `rag query` until `ok` holds for its results; returns the milliseconds it took. */
async function until(dir: string, query: string, ok: (docIds: string[]) => boolean, as: string[] = [], timeoutMs = 60_000): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    const r = rag(['--json', 'query', query, '--mode', 'bm25', '-k', '5', ...as.flatMap((p) => ['--as', p])], { cwd: dir });
    const ids = r.code === 0 ? (r.json().results as { doc_id: string }[]).map((h) => h.doc_id) : [];
    if (r.code === 0 && ok(ids)) return performance.now() - t0;
    if (performance.now() - t0 > timeoutMs) throw new Error(`"${query}" did not reach the expected state in ${timeoutMs} ms (last: ${JSON.stringify(ids)}; ${r.stderr})`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

describe('rag ingest --watch', () => {
  it('keeps the store and the index current: add, change, delete, tightened ACLs; Ctrl-C ends cleanly', async () => {
    const dir = tempDir();
    cpSync(path.join(FIXTURES, 'docs'), path.join(dir, 'docs'), { recursive: true });
    const config = path.join(dir, 'rag.config.json');
    writeFileSync(config, JSON.stringify({ tenant: { default: 'acme' }, index: { model: 'none' } }));
    const child = spawn(process.execPath, [BIN, 'ingest', '--watch', 'docs'], {
      cwd: dir,
      env: { ...process.env, RAG_MODELS_DIR: MODELS_DIR, NO_COLOR: '1', LANCEDB_LOG: 'error' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((res) => child.on('close', (code) => res(code)));
    try {
      const t0 = performance.now();
      while (!err.includes('watching docs for changes')) {
        if (performance.now() - t0 > 120_000) throw new Error(`watch did not start:\n${out}\n${err}`);
        await new Promise((res) => setTimeout(res, 100));
      }
      expect(out).toMatch(/ingested: 15 added/);
      await until(dir, 'rotate API key grace period', (ids) => ids.includes('docs/api-keys.md'));

      // A new file becomes searchable.
      const note = path.join(dir, 'docs/zebra.md');
      writeFileSync(note, '# Zebra crossings\n\nThe zebra crossing code is ZX-99.\n');
      const addMs = await until(dir, 'zebra crossing code', (ids) => ids.includes('docs/zebra.md'));
      // A changed file: its new text is found, its old text no longer.
      writeFileSync(note, '# Zebra crossings\n\nThe pelican crossing code is PX-12.\n');
      await until(dir, 'pelican crossing code', (ids) => ids.includes('docs/zebra.md'));
      await until(dir, 'ZX-99', (ids) => !ids.includes('docs/zebra.md'));
      // A tightened ACL in the file itself: gone for the public, there for HR.
      writeFileSync(note, '---\nacl: group:hr\n---\n# Zebra crossings\n\nThe pelican crossing code is PX-12.\n');
      await until(dir, 'pelican crossing code', (ids) => !ids.includes('docs/zebra.md'));
      await until(dir, 'pelican crossing code', (ids) => ids.includes('docs/zebra.md'), ['group:hr']);
      // A tightened ACL rule in the config file applies to an untouched file.
      writeFileSync(config, JSON.stringify({ tenant: { default: 'acme' }, index: { model: 'none' }, acl: { rules: [{ match: 'docs/webhooks.md', acl: ['group:platform'] }] } }));
      await until(dir, 'Acme-Signature header', (ids) => !ids.includes('docs/webhooks.md'));
      await until(dir, 'Acme-Signature header', (ids) => ids.includes('docs/webhooks.md'), ['group:platform']);
      // A broken config pauses ingestion (the old config might hold the rule being tightened); fixing it catches up.
      const good = JSON.stringify({ tenant: { default: 'acme' }, index: { model: 'none' }, acl: { rules: [{ match: 'docs/webhooks.md', acl: ['group:platform'] }] } });
      writeFileSync(config, '{ "tenant": ');
      const t1 = performance.now();
      while (!/watch: batch failed: .*nothing is ingested until the config is valid again/.test(err)) {
        if (performance.now() - t1 > 60_000) throw new Error(`no pause on a broken config:\n${err}`);
        await new Promise((res) => setTimeout(res, 100));
      }
      writeFileSync(path.join(dir, 'docs/okapi.md'), '# Okapi\n\nThe okapi enclosure code is OK-7.\n');
      await new Promise((res) => setTimeout(res, 1500));
      writeFileSync(path.join(dir, 'good.json'), good);
      const paused = rag(['--config', 'good.json', '--json', 'query', 'okapi enclosure code', '--mode', 'bm25'], { cwd: dir });
      expect(paused.code, paused.stderr).toBe(0);
      expect(paused.json().results.map((h: { doc_id: string }) => h.doc_id)).not.toContain('docs/okapi.md');
      writeFileSync(config, good);
      await until(dir, 'okapi enclosure code', (ids) => ids.includes('docs/okapi.md'));
      // A deleted file disappears.
      rmSync(note);
      await until(dir, 'pelican crossing code', (ids) => !ids.includes('docs/zebra.md'), ['group:hr']);
      expect(addMs).toBeLessThan(60_000);
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
    expect(err).toMatch(/stopping: finishing the batch in flight/);
    // The only failed batches are the paused ones, said in one line each.
    expect(err.split('\n').filter((l) => /batch failed/.test(l)).every((l) => /nothing is ingested until the config is valid again/.test(l))).toBe(true);
    expect(err).not.toMatch(/Error/);
    // The store is consistent after the stop: a normal ingest finds nothing to do.
    const again = rag(['--json', 'ingest', 'docs'], { cwd: dir });
    expect(again.json()).toMatchObject({ added: 0, updated: 0, deleted: 0 });
  }, 300_000);
});
