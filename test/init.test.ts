import { cpSync, existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/engine/config.js';
import { FIXTURES, rag, tempDir } from './helpers/cli.js';

describe('rag init', () => {
  it('writes a commented config and a .ragignore that rag then uses, and refuses to overwrite', () => {
    const dir = tempDir('rag-init-');
    cpSync(path.join(FIXTURES, 'docs'), path.join(dir, 'docs'), { recursive: true });
    writeFileSync(path.join(dir, '.env'), 'API_TOKEN=sk-live-not-for-indexing\n');
    const r = rag(['init', '--tenant', 'acme'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/next: rag ingest docs\//);
    const text = readFileSync(path.join(dir, 'rag.config.json'), 'utf8');
    expect(text).toMatch(/^\/\/ rag configuration/); // it is commented…
    const { config } = loadConfig(undefined, dir); // …and still loads
    expect(config.tenant.default).toBe('acme');
    expect(readFileSync(path.join(dir, '.ragignore'), 'utf8')).toMatch(/^\.env$/m);

    // The project works with what init wrote: default store, tenant, and the ignore file.
    const ing = rag(['--json', 'ingest', '.'], { cwd: dir });
    expect(ing.code).toBe(0);
    expect(ing.json().added).toBeGreaterThan(10);
    expect(existsSync(path.join(dir, '.rag'))).toBe(true);
    rag(['index', '--model', 'none'], { cwd: dir });
    const q = rag(['--json', 'query', 'rotate an API key', '-k', '3'], { cwd: dir });
    expect(q.json().caller.tenant).toBe('acme');
    expect(q.json().results.map((h: { source: string }) => h.source).join(' ')).not.toMatch(/\.env/);

    const again = rag(['init'], { cwd: dir });
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already exist.*\n.*--force/);
    expect(rag(['init', '--force'], { cwd: dir }).code).toBe(0);
  });

  it('--force replaces a config that no longer parses', () => {
    const dir = tempDir('rag-init-');
    writeFileSync(path.join(dir, 'rag.config.json'), '{ "tenant": ');
    expect(rag(['query', 'x'], { cwd: dir }).code).toBe(2);
    expect(rag(['init', '--force'], { cwd: dir }).code).toBe(0);
    mkdirSync(path.join(dir, 'notes'));
    expect(loadConfig(undefined, dir).config.tenant.default).toBe('default');
  });
});
