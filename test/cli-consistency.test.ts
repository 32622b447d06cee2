import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE_CONFIG, rag, tempDir } from './helpers/cli.js';

/** One small BM25 store over the fixture docs, shared by the checks below. */
let dir: string;
let base: string[];
beforeAll(() => {
  dir = tempDir('rag-cli-');
  base = ['--db', path.join(dir, 'store'), '--config', FIXTURE_CONFIG];
  expect(rag([...base, 'ingest', 'fixtures/docs']).code).toBe(0);
  expect(rag([...base, 'index', '--model', 'none']).code).toBe(0);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('--color', () => {
  const ESC = '\x1b[';
  it('auto: plain when piped; always: ANSI even when piped; never: plain; NO_COLOR wins over auto only', () => {
    const q = ['query', 'rotate an API key', '-k', '2'];
    expect(rag([...base, ...q]).stdout).not.toContain(ESC);
    expect(rag([...base, '--color', 'always', ...q]).stdout).toContain(ESC);
    expect(rag([...base, '--color', 'never', ...q], { env: { FORCE_COLOR: '1' } }).stdout).not.toContain(ESC);
    expect(rag([...base, '--color', 'always', ...q], { env: { NO_COLOR: '1' } }).stdout).toContain(ESC);
  });

  it('rejects an unknown value with exit 2', () => {
    const r = rag([...base, '--color', 'sometimes', 'query', 'x']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/auto, always, never/);
  });
});

describe('exit codes as README says', () => {
  it('a model that is not installed is a store/model error (3), naming the models there are', () => {
    const r = rag([...base, 'index', '--name', 'other', '--model', 'acme/not-installed']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/model "acme\/not-installed" is not in .*available: /);
  });

  it('an unknown --index is a usage error (2) listing the indexes; no index at all is 3', () => {
    const r = rag([...base, 'query', 'x', '--index', 'nope']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/fix: use --index with one of: default/);
    const fresh = ['--db', path.join(dir, 'fresh'), '--config', FIXTURE_CONFIG];
    expect(rag([...fresh, 'ingest', 'fixtures/docs/api-keys.md']).code).toBe(0);
    const none = rag([...fresh, 'query', 'x']);
    expect(none.code).toBe(3);
    expect(none.stderr).toMatch(/no index yet.*\nfix: run `rag index` first/);
  });
});

describe('errors with --json', () => {
  it('are one JSON object on stderr: error, fix, file, line, exit — for engine and parse errors alike', () => {
    const missing = rag(['--json', '--db', path.join(dir, 'nope'), 'query', 'x']);
    expect(missing.code).toBe(3);
    expect(missing.stdout).toBe('');
    expect(JSON.parse(missing.stderr)).toEqual({ error: expect.stringMatching(/no rag store/), fix: expect.any(String), exit: 3 });
    const bad = path.join(dir, 'bad-config.json');
    writeFileSync(bad, '{\n  "tenant": { "default": 7 }\n}\n');
    const cfg = rag(['--json', '--config', bad, 'query', 'x']);
    expect(cfg.code).toBe(2);
    expect(JSON.parse(cfg.stderr)).toMatchObject({ file: bad, exit: 2, error: expect.stringMatching(/tenant\.default/) });
    // Broken syntax: the line it breaks on, in one line of text (V8 quotes the file, newlines and all).
    const broken = path.join(dir, 'broken-config.json');
    writeFileSync(broken, '{\n  "db": ,\n  "tenant": {}\n}\n');
    expect(JSON.parse(rag(['--json', '--config', broken, 'query', 'x']).stderr)).toMatchObject({ file: broken, line: 2, exit: 2 });
    const plain = rag(['--config', broken, 'query', 'x']);
    expect(plain.code).toBe(2);
    expect(plain.stderr.trimEnd().split('\n')).toEqual([expect.stringMatching(new RegExp(`^error: ${broken.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2: invalid JSON \\(`)), 'fix: fix the JSON syntax']);
    const parse = rag(['--json', ...base, 'query', 'x', '--mode', 'fuzzy']);
    expect(parse.code).toBe(2);
    expect(JSON.parse(parse.stderr)).toEqual({ error: expect.stringMatching(/Allowed choices are hybrid, bm25, vector/), exit: 2 });
  });
});

describe('--help', () => {
  it('every command and subcommand shows examples and the global options', async () => {
    const { buildProgram } = await import('../src/cli.js');
    const paths: string[][] = [];
    const walk = (c: { name(): string; commands: readonly unknown[] }, prefix: string[]) => {
      for (const sub of c.commands as { name(): string; commands: readonly unknown[] }[]) {
        paths.push([...prefix, sub.name()]);
        walk(sub, [...prefix, sub.name()]);
      }
    };
    walk(await buildProgram(), []);
    expect(paths.length).toBeGreaterThan(15);
    const missing: string[] = [];
    for (const p of paths) {
      const r = rag([...p, '--help']);
      if (r.code !== 0 || !/\nExamples:\n  \$ [^\n]*\brag\b/.test(r.stdout) || !/Global Options:[\s\S]*--db[\s\S]*--config[\s\S]*--json[\s\S]*--quiet/.test(r.stdout)) missing.push(p.join(' '));
    }
    expect(missing).toEqual([]);
  });
});

describe('rag status', () => {
  it('shows documents per tenant and each index with its lag behind the chunks', () => {
    const s = rag([...base, '--json', 'status']).json();
    expect(s.documents).toBeGreaterThan(10);
    expect(s.tenants.map((t: { tenant: string }) => t.tenant)).toEqual(['acme', 'globex']);
    expect(s.indexes).toEqual([expect.objectContaining({ name: 'default', model: null, up_to_date: true })]);

    const work = tempDir('rag-status-');
    const db = ['--db', path.join(work, 'store'), '--config', FIXTURE_CONFIG];
    const doc = path.join(work, 'note.md');
    writeFileSync(doc, '# Note\n\nThe first version of this note.\n');
    expect(rag([...db, 'ingest', doc]).code).toBe(0);
    expect(rag([...db, 'index', '--model', 'none']).code).toBe(0);
    writeFileSync(doc, '# Note\n\nThe second version of this note, with more words.\n');
    expect(rag([...db, 'ingest', doc]).code).toBe(0);
    const behind = rag([...db, '--json', 'status']).json();
    expect(behind.indexes[0]).toMatchObject({ up_to_date: false, documents: { missing: 1, current: 0 } });
    const text = rag([...db, 'status']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/0 current; 1 missing/);
    expect(text.stdout).toMatch(/index "default" is behind the chunks: run `rag index`/);
  });
});

describe('rag query: stdin, --batch, and answers that explain themselves', () => {
  it('reads the query from stdin with `-` or a pipe, and labels the score column', () => {
    const dash = rag([...base, '--json', 'query', '-', '-k', '1'], { input: 'rotate an API key\n' });
    expect(dash.code).toBe(0);
    expect(dash.json().query).toBe('rotate an API key');
    expect(dash.json().results).toHaveLength(1);
    const piped = rag([...base, 'query', '-k', '1'], { input: 'rotate an API key' });
    expect(piped.stdout).toMatch(/│ # │ bm25 +│ title/);
    expect(piped.stdout).toMatch(/^1 result · bm25 /m);
    const none = rag([...base, 'query'], { input: '' });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no query on stdin/);
  });

  it('--batch runs every line in one process and writes one JSON answer per line; a bad line is refused before any search', () => {
    const file = path.join(dir, 'batch.jsonl');
    writeFileSync(file, [
      JSON.stringify({ id: 'keys', query: 'rotate an API key', k: 2 }),
      JSON.stringify({ id: 'limits', query: 'rate limit exceeded', mode: 'bm25', filter: 'category=api' }),
      '',
    ].join('\n'));
    const r = rag([...base, 'query', '--batch', file]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.id)).toEqual(['keys', 'limits']);
    expect(lines[0].results).toHaveLength(2);
    expect(lines[0].query).toBe('rotate an API key');
    expect(lines[1].mode).toBe('bm25');
    const tsv = path.join(dir, 'batch.tsv');
    writeFileSync(tsv, 'a\tinvoices\nb\tsso with okta\n');
    expect(rag([...base, 'query', '--batch', tsv]).stdout.trim().split('\n')).toHaveLength(2);
    const bad = path.join(dir, 'bad.jsonl');
    writeFileSync(bad, `${JSON.stringify({ id: 'x', query: 'ok' })}\n${JSON.stringify({ id: 'y', query: 'ok', mode: 'fuzzy' })}\n`);
    const refused = rag([...base, 'query', '--batch', bad]);
    expect(refused.code).toBe(2);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(/bad\.jsonl:2: "mode" must be bm25, vector or hybrid/);
  });

  it('an empty answer says why: an unknown tenant, a filter key nobody has, no access', () => {
    const tenant = rag([...base, 'query', 'api key', '--tenant', 'initech']);
    expect(tenant.stdout).toMatch(/no results .*: tenant "initech" has no documents \(tenants in this store: acme, globex/);
    const key = rag([...base, '--json', 'query', 'api key', '--filter', 'colour=red']);
    expect(key.json().explanation).toMatch(/--filter names metadata key no document visible in tenant "acme" has: colour \(keys there: .*category/);
    const plain = rag([...base, '--json', 'query', 'zzzqqq']);
    expect(plain.json().results).toEqual([]);
    expect(plain.json().explanation).toBeUndefined(); // nothing to explain: the words matched nothing
  });
});

describe('eval cutoffs have their own name', () => {
  it('--cutoffs sets them; -k is refused with the fix', () => {
    const r = rag([...base, 'eval', '--golden', 'goldens/fixtures.jsonl', '-k', '10']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/eval has no -k: its cutoffs are --cutoffs\nfix: e\.g\. rag eval --cutoffs 10/);
  });

  it('numeric flags are checked like query\'s: --candidates 0 or 2.5 is a usage error, not a hang', () => {
    for (const v of ['0', '2.5']) {
      const r = rag([...base, 'eval', '--golden', 'goldens/fixtures.jsonl', '--candidates', v]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`--candidates must be an integer between 1 and \\d+, got "${v.replace('.', '\\.')}"`));
    }
  });
});

describe('numbers read as what they are', () => {
  it('metric tables list cutoffs in order, and a diff with no change prints 0', () => {
    const out = (name: string) => path.join(dir, name);
    const e = rag([...base, 'eval', '--golden', 'goldens/fixtures.jsonl', '--allow-missing', '--out', out('run-a')]);
    expect(e.code, e.stderr).toBe(0);
    const metrics = [...e.stdout.matchAll(/│ (ndcg@\d+) /g)].map((m) => m[1]);
    expect(metrics).toEqual(['ndcg@1', 'ndcg@3', 'ndcg@5', 'ndcg@10', 'ndcg@100']);
    expect(rag([...base, 'eval', '--golden', 'goldens/fixtures.jsonl', '--allow-missing', '--out', out('run-b')]).code).toBe(0);
    const d = rag(['diff-eval', out('run-a'), out('run-b')], { env: { COLUMNS: '200' } });
    expect(d.code, d.stderr).toBe(0);
    const row = d.stdout.split('\n').find((l) => l.includes('│ ndcg@10 '))!;
    expect(row).toMatch(/│ 0 +│/);
    expect(d.stdout).not.toContain('±0.0000');
  });
});
