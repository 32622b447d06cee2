/**
 * `rag eval --gate` must not lie (issue 13, cases 3 and 4). Each case here passed silently on the
 * previous main: a mode that did not run, judged documents eval could never return, a qrels/run
 * pair with nothing to score, a gate naming a metric nobody computes (found out only after the
 * whole eval), a regression gate on a set too small to ever see a drop.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE_CONFIG, FIXTURES, rag, requireModel, ROOT, STATIC_MODEL, tempDir } from './helpers/cli.js';

const GOLDEN = path.join(ROOT, 'goldens/fixtures.jsonl');
let dir: string;
let db: string;
const r = (args: string[]) => rag(['--db', db, '--config', FIXTURE_CONFIG, ...args], { cwd: dir });
const VERDICT = /^gate: (passed|FAILED|WARNING) \S.*: .+$/;

beforeAll(() => {
  requireModel(STATIC_MODEL);
  dir = tempDir('rag-honest-');
  db = path.join(dir, 'db');
  for (const s of ['docs', 'html', 'pdf', 'tickets']) cpSync(path.join(FIXTURES, s), path.join(dir, 'fixtures', s), { recursive: true });
  expect(r(['ingest', 'fixtures/docs', 'fixtures/html', 'fixtures/pdf', 'fixtures/tickets']).code).toBe(0);
  expect(r(['index', '--model', STATIC_MODEL]).code).toBe(0);
  expect(r(['index', '--name', 'plain', '--model', 'none']).code).toBe(0);
});

describe('nothing silently changes what was asked', () => {
  it('vector or hybrid on an index without vectors is exit 2 with the fix, for eval and query; the manifest records what ran', () => {
    for (const mode of ['vector', 'hybrid']) {
      const e = r(['eval', '--golden', GOLDEN, '--index', 'plain', '--mode', mode, '--out', `runs/plain-${mode}`]);
      expect(e.code, e.stderr).toBe(2);
      expect(e.stderr).toMatch(new RegExp(`mode ${mode} needs vectors, but index "plain" has none`));
      expect(e.stderr).toMatch(/rag index --name plain --model MODEL --rebuild/);
      expect(existsSync(path.join(dir, `runs/plain-${mode}`))).toBe(false);
      expect(r(['query', 'api key', '--index', 'plain', '--mode', mode]).code).toBe(2);
    }
    const plain = r(['--json', 'eval', '--golden', GOLDEN, '--index', 'plain', '--out', 'runs/plain-default']);
    expect(plain.code, plain.stderr).toBe(0);
    const manifest = JSON.parse(readFileSync(path.join(dir, 'runs/plain-default/manifest.json'), 'utf8'));
    expect(manifest.retrieval.mode).toBe('bm25');
    expect(manifest.retrieval.depth).toBe(1000);
  });

  it('judged-relevant ids eval can never return: exit 2 listing them and the cause; --allow-missing counts them for a gate', () => {
    const golden = path.join(dir, 'gaps.jsonl');
    writeFileSync(golden, [
      // Ids made from another root: the store has fixtures/docs/api-keys.md.
      { id: 'g1', query: 'how do I rotate an API key', judgments: { 'docs/api-keys.md': 3, 'fixtures/docs/cli-install.md': 1 } },
      // Restricted to group:hr, asked as public only.
      { id: 'g2', query: 'salary band for a senior engineer', judgments: { 'fixtures/docs/internal/salary-bands.md': 3 } },
      // Not in the store at all; a non-relevant judgment is never "missing".
      { id: 'g3', query: 'verify webhook signatures', judgments: { 'fixtures/docs/webhooks.md': 3, 'fixtures/docs/nope.md': 2, 'gone.md': 0 } },
    ].map((l) => JSON.stringify(l)).join('\n'));
    const refused = r(['eval', '--golden', golden, '--out', 'runs/gaps']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/3 of 5 judged-relevant ids \(in 3 of 3 queries\) can never be retrieved from index "default"/);
    expect(refused.stderr).toContain('query g1: docs/api-keys.md — not in the store under this id (the store has fixtures/docs/api-keys.md: ids relative to another root)');
    expect(refused.stderr).toContain('query g2: fixtures/docs/internal/salary-bands.md — in the index but invisible to the principals the query runs as');
    expect(refused.stderr).toContain('query g3: fixtures/docs/nope.md — not in the store');
    expect(refused.stderr).toMatch(/--allow-missing/);
    expect(existsSync(path.join(dir, 'runs/gaps'))).toBe(false);

    const allowed = r(['--json', 'eval', '--golden', golden, '--allow-missing', '--out', 'runs/gaps', '--gate', 'judged_missing<=0']);
    expect(allowed.code).toBe(1);
    expect(allowed.stderr).toMatch(/note: 3 of 5 judged-relevant ids .* judged_missing = 3/);
    const out = allowed.json();
    expect(out.judged_missing).toBe(3);
    expect(out.gate.lines[0]).toBe('gate: FAILED judged_missing <= 0: judged_missing = 3, missed by 3');
    const metrics = JSON.parse(readFileSync(path.join(dir, 'runs/gaps/metrics.json'), 'utf8'));
    expect(metrics.judged_missing).toEqual({ total: 3, per_query: { g1: 1, g2: 1, g3: 1 } });
  });

  it('an empty or non-overlapping qrels/run pair is exit 2, not "0 queries"', () => {
    writeFileSync(path.join(dir, 'run.trec'), 'q1 Q0 d1 1 2.0 x\nq1 Q0 d2 2 1.0 x\n');
    writeFileSync(path.join(dir, 'other.qrels'), 'q9 0 d1 1\n');
    writeFileSync(path.join(dir, 'empty.trec'), '');
    const empty = r(['eval', '--qrels', '/dev/null', '--run', 'run.trec']);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/\/dev\/null: holds no judgments/);
    const disjoint = r(['eval', '--qrels', 'other.qrels', '--run', 'run.trec']);
    expect(disjoint.code).toBe(2);
    expect(disjoint.stderr).toMatch(/run\.trec and other\.qrels have no query in common \(run: q1; qrels: q9\)/);
    expect(r(['eval', '--qrels', 'other.qrels', '--run', 'empty.trec']).stderr).toMatch(/empty\.trec: holds no results/);
    expect(r(['diff-eval', 'run.trec', 'run.trec', '--qrels', 'other.qrels']).code).toBe(2);
  });
});

describe('gates are checked before work', () => {
  // A store that does not exist: any work would fail with exit 3, so exit 2 proves the gate
  // (or --out) was refused first.
  const early = (args: string[]) => rag(['--db', path.join(dir, 'no-store'), ...args], { cwd: dir });

  it('a metric the eval does not compute, or an unknown name, is exit 2 naming the valid ones', () => {
    const k20 = early(['eval', '--golden', GOLDEN, '--gate', 'ndcg@20>=0.5']);
    expect(k20.code).toBe(2);
    expect(k20.stderr).toMatch(/"ndcg@20" is not measured here in gate "ndcg@20>=0.5": the eval computes cutoffs 1, 3, 5, 10, 100; add 20 with --cutoffs 1,3,5,10,20,100/);
    const p95 = early(['eval', '--golden', GOLDEN, '--gate', 'ndcg@10>=0.5,p95<=300']);
    expect(p95.code).toBe(2);
    expect(p95.stderr).toMatch(/unknown name "p95"/);
    expect(p95.stderr).toMatch(/p50_ms, p90_ms, p95_ms/);
    expect(early(['eval', '--golden', GOLDEN, '--cutoffs', '10,20', '--gate', 'ndcg@20>=0.5']).code).toBe(3);
  });

  it('an --out that exists is refused before the first query', () => {
    mkdirSync(path.join(dir, 'runs/taken'), { recursive: true });
    const taken = early(['eval', '--golden', GOLDEN, '--out', 'runs/taken']);
    expect(taken.code).toBe(2);
    expect(taken.stderr).toMatch(/runs\/taken already exists/);
  });
});

describe('one gate grammar', () => {
  it('eval, diff-eval and audit print the same verdict lines on stdout, and --json carries them', () => {
    const ev = r(['eval', '--golden', GOLDEN, '--mode', 'bm25', '--out', 'runs/g-bm25', '--gate', 'ndcg@10>=0.5,p95_ms<=60000']);
    const evJson = r(['--json', 'eval', '--golden', GOLDEN, '--mode', 'vector', '--out', 'runs/g-vector', '--gate', 'ndcg@10>=0.5']);
    const diff = r(['diff-eval', 'runs/g-bm25', 'runs/g-vector', '--gate', 'ndcg@10>=-1']);
    const content = r(['audit', 'content', '--gate', 'critical<=100']);
    const acl = r(['audit', 'acl', '--mode', 'bm25', '--max-probes', '3', '--callers-per-probe', '2']);
    for (const [name, run] of [['eval', ev], ['diff-eval', diff], ['audit content', content], ['audit acl', acl]] as const) {
      expect(run.code, `${name}: ${run.stderr}`).toBe(0);
      const lines = run.stdout.trimEnd().split('\n').filter((l) => l.startsWith('gate:'));
      expect(lines.length, name).toBeGreaterThanOrEqual(2);
      for (const l of lines.slice(0, -1)) expect(l, name).toMatch(VERDICT);
      expect(lines.at(-1), name).toBe('gate: passed');
      expect(run.stderr, name).not.toMatch(/gate:/);
    }
    expect(acl.stdout).toMatch(/^gate: passed leaks <= 0: leaks = 0, passed by 0$/m);
    expect(evJson.json().gate.lines).toEqual([expect.stringMatching(VERDICT), expect.stringMatching(/^gate: (passed|FAILED)/)]);
    expect(r(['--json', 'audit', 'content', '--gate', 'high']).json().gate.lines.at(-1)).toMatch(/^gate: /);
  });

  it('diff-eval: a −100% drop on 3 queries fails by default (the test can never reach alpha there) and says what the set can detect', () => {
    writeFileSync(path.join(dir, 'three.qrels'), 'q1 0 d1 1\nq2 0 d2 1\nq3 0 d3 1\n');
    writeFileSync(path.join(dir, 'a.trec'), 'q1 Q0 d1 1 3 a\nq2 Q0 d2 1 3 a\nq3 Q0 d3 1 3 a\n');
    writeFileSync(path.join(dir, 'b.trec'), 'q1 Q0 x 1 3 b\nq2 Q0 x 1 3 b\nq3 Q0 x 1 3 b\n');
    const failed = r(['diff-eval', 'a.trec', 'b.trec', '--qrels', 'three.qrels', '--gate', 'ndcg@10:-0.01']);
    expect(failed.code, failed.stdout).toBe(1);
    expect(failed.stdout).toMatch(/Underpowered: with 3 paired queries the test can never reach alpha 0\.05 on ndcg@10 \(smallest possible p 0\.2500\)/);
    expect(failed.stdout).toMatch(/Power: smallest \|Δ\| detected with 80% power/);
    expect(failed.stdout).toMatch(/^gate: FAILED ndcg@10:-0\.01: ndcg@10 changed -1\.0000 .*too small for the test to ever reach alpha 0\.05.*--underpowered warn/m);
    const warned = r(['--json', 'diff-eval', 'a.trec', 'b.trec', '--qrels', 'three.qrels', '--gate', 'ndcg@10>=-0.01', '--underpowered', 'warn']);
    expect(warned.code).toBe(0);
    expect(warned.json().gate.lines[0]).toMatch(/^gate: WARNING ndcg@10 >= -0\.01: /);
    const ndcg = warned.json().metrics.find((m: { metric: string }) => m.metric === 'ndcg@10');
    expect(ndcg.min_p).toBe(0.25);
  });
});
