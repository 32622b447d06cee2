import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUNDLED } from '../scripts/build.js';
import { commandIn } from '../src/cli.js';
import { FIXTURES, rag, tempDir } from './helpers/cli.js';
import { loadTrace } from './helpers/load-trace.js';

describe('the CLI loads only the command it runs', () => {
  it('finds the command after global options, skipping their values', () => {
    expect(commandIn(['node', 'rag', 'query', 'how', 'to'])).toBe('query');
    expect(commandIn(['node', 'rag', '--db', 'query', '--json', 'index', '--model', 'none'])).toBe('index');
    expect(commandIn(['node', 'rag', '--config', 'eval', '-q', 'diff-eval', 'a', 'b'])).toBe('diff-eval');
    expect(commandIn(['node', 'rag', '--json', 'label', 'stats'])).toBe('label');
    expect(commandIn(['node', 'rag', '--color', 'never', 'status'])).toBe('status');
  });

  it('loads every command for help, an unknown command or none', () => {
    expect(commandIn(['node', 'rag'])).toBeUndefined();
    expect(commandIn(['node', 'rag', '--help'])).toBeUndefined();
    expect(commandIn(['node', 'rag', 'help', 'query'])).toBeUndefined();
    expect(commandIn(['node', 'rag', 'qeury'])).toBeUndefined();
    expect(commandIn(['node', 'rag', 'toString'])).toBeUndefined();
    expect(commandIn(['node', 'rag', 'completion', 'bash'])).toBeUndefined(); // it describes them all
  });

  it('still lists every command in help and suggests one for a typo', () => {
    const help = rag(['--help']);
    expect(help.code).toBe(0);
    for (const c of ['init', 'ingest', 'index', 'query', 'models', 'eval', 'diff-eval', 'runs', 'audit', 'label', 'status', 'serve', 'mcp', 'keys', 'completion']) expect(help.stdout).toMatch(new RegExp(`^\\s+${c}\\b`, 'm'));
    const typo = rag(['qeury', 'x']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/Did you mean query\?/);
  });
});

describe('the built CLI (dist/, one esbuild bundle)', () => {
  it('runs a query without loading any bundled package a second time from node_modules', () => {
    const dir = tempDir('rag-bundle-');
    const trace = loadTrace();
    const db = path.join(dir, 'db');
    expect(rag(['--db', db, '-q', 'ingest', path.join(FIXTURES, 'docs')]).code).toBe(0);
    expect(rag(['--db', db, '-q', 'index', '--model', 'none']).code).toBe(0);
    const q = rag(['--db', db, '--json', 'query', 'rotate the API key', '--mode', 'bm25'], { env: { NODE_OPTIONS: trace.nodeOptions } });
    expect(q.code, q.stderr).toBe(0);
    expect(q.json().results.length).toBeGreaterThan(0);
    const loaded = trace.take();
    const fromPackages = loaded.map((f) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(f)?.[1]).filter((p): p is string => Boolean(p));
    // The trace itself works: the native LanceDB binary and onnxruntime are outside the bundle.
    expect(fromPackages.some((p) => p.startsWith('@lancedb/lancedb-'))).toBe(true);
    expect(loaded.some((f) => f.includes('/dist/cli.js'))).toBe(true);
    const twice = [...new Set(fromPackages)].filter((p) => BUNDLED.has(p));
    expect(twice).toEqual([]);
  });
});
