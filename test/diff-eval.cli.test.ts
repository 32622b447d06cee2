/**
 * `rag diff-eval` end to end through the built CLI (`node bin/rag`), on artifact directories and
 * TREC run files constructed in a temp dir with known answers.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { goldenHash } from '../src/engine/evaluation/goldens.js';
import {
  queries,
  qrelsFor,
  scenario,
  writeArtifactDir,
  writeGolden,
  writeQrelsFile,
  writeRunFile,
} from './diff-eval.fixtures.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(ROOT, 'bin', 'rag');
const N = 60;
let dir: string;

function rag(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const BGE = { id: 'BAAI/bge-small-en-v1.5', weights_sha256: 'ab'.repeat(32) };

beforeAll(() => {
  // dist/ is built once by test/global-setup.ts.
  if (!existsSync(path.join(ROOT, 'dist', 'cli.js'))) throw new Error('build failed: dist/cli.js missing');

  dir = mkdtempSync(path.join(tmpdir(), 'rag-diff-eval-'));
  const golden = writeGolden(dir, N);
  for (const kind of ['identical', 'drop', 'noise'] as const) {
    const s = scenario(kind, N);
    writeArtifactDir(path.join(dir, kind, 'a'), { ranks: s.a, mode: 'bm25', goldenFile: golden });
    writeArtifactDir(path.join(dir, kind, 'b'), { ranks: s.b, mode: 'hybrid', model: BGE, goldenFile: golden });
  }
  // Same runs, but B scored on a different golden set (one query reworded).
  const other = queries(N).map((q, i) => (i === 0 ? { ...q, text: `${q.text}?` } : q));
  const otherGolden = writeGolden(dir, N, other);
  const s = scenario('identical', N);
  writeArtifactDir(path.join(dir, 'mismatch', 'b'), { ranks: s.b, mode: 'hybrid', model: BGE, goldenQueries: other, goldenFile: otherGolden });
  // TREC run files + qrels.
  const drop = scenario('drop', N);
  writeQrelsFile(path.join(dir, 'qrels.txt'), N);
  writeRunFile(path.join(dir, 'a.trec'), drop.a, 'bm25');
  writeRunFile(path.join(dir, 'b.trec'), drop.b, 'hybrid');
}, 300_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('rag diff-eval (built CLI)', () => {
  it('identical runs: p = 1, the gate passes, exit 0', () => {
    const r = rag('diff-eval', 'identical/a', 'identical/b', '--gate', 'ndcg@10:-0.01', '--json');
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.metrics.map((m: { metric: string }) => m.metric)).toEqual(['ndcg@10', 'mrr@10', 'recall@100']);
    for (const m of out.metrics) {
      expect(m.p_permutation).toBe(1);
      expect(m.p_t_test).toBe(1);
      expect(m.delta).toBe(0);
    }
    expect(out.gate.passed).toBe(true);
    // --json owns stdout: the verdict lines travel in the JSON.
    expect(out.gate.lines).toEqual(['gate: passed ndcg@10:-0.01: ndcg@10 changed +0.0000 (allowed drop 0.0100), p=1.000 at alpha 0.05: within the allowed drop', 'gate: passed']);
  });

  it('prints a table per metric and what changed between the manifests', () => {
    const r = rag('diff-eval', 'identical/a', 'identical/b');
    expect(r.code, r.stderr).toBe(0);
    for (const h of ['metric', 'Δ%', '95% CI of Δ', 'p (perm)', 'p (t)', 'p Holm', 'W/T/L', 'ndcg@10', 'recall@100']) expect(r.stdout).toContain(h);
    expect(r.stdout).toContain('model: none (BM25 only) → BAAI/bge-small-en-v1.5');
    expect(r.stdout).toContain('retrieval mode: bm25 → hybrid');
  });

  it('planted drop: significant, the gate fails with exit 1 naming metric, drop and p-value; junit.xml and report.md written', () => {
    const r = rag('diff-eval', 'drop/a', 'drop/b', '--gate', 'ndcg@10:-0.01', '--out', 'reports/drop');
    expect(r.code, r.stderr).toBe(1);
    const g = (rank: number) => 1 / Math.log2(rank + 1);
    const drop = (20 * (g(5) - g(1)) + 20 * (g(6) - g(2))) / N;
    // Verdict lines on stdout, as eval and audit print them.
    const line = r.stdout.split('\n').find((l) => l.startsWith('gate: FAILED ndcg@10'));
    expect(line, r.stdout).toBeDefined();
    expect(line).toContain(drop.toFixed(4));
    expect(line).toMatch(/p=[0-9.e-]+/);
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe('gate: FAILED (1 of 1 rules)');

    const out = path.join(dir, 'reports', 'drop');
    const junit = readFileSync(path.join(out, 'junit.xml'), 'utf8');
    expect(junit).toContain('failures="1"');
    expect(junit).toContain('<failure');
    expect(junit).toContain('ndcg@10');
    const md = readFileSync(path.join(out, 'report.md'), 'utf8');
    expect(md).toContain('**Gate failed**');
    expect(md).toContain('Queries that regressed most');
    const cmp = JSON.parse(readFileSync(path.join(out, 'comparison.json'), 'utf8'));
    const ndcg = cmp.metrics.find((m: { metric: string }) => m.metric === 'ndcg@10');
    expect(ndcg.delta).toBeCloseTo(drop, 9);
    expect(ndcg.p_adjusted).toBeLessThan(0.05);
    expect(ndcg.ci.upper).toBeLessThan(0);
    // Written atomically: no temp directory is left beside the report.
    expect(readdirSync(path.join(dir, 'reports'))).toEqual(['drop']);
    expect(readdirSync(out).sort()).toEqual(['comparison.json', 'junit.xml', 'per-query.json', 'report.html', 'report.md']);
  });

  it('refuses to replace an existing --out unless --overwrite', () => {
    const first = rag('diff-eval', 'identical/a', 'identical/b', '--out', 'reports/again');
    expect(first.code, first.stderr).toBe(0);
    const second = rag('diff-eval', 'identical/a', 'identical/b', '--out', 'reports/again');
    expect(second.code).toBe(2);
    expect(second.stderr).toContain('--overwrite');
    const third = rag('diff-eval', 'identical/a', 'identical/b', '--out', 'reports/again', '--overwrite');
    expect(third.code, third.stderr).toBe(0);
  });

  it('no-significant-regression fails on the planted drop too', () => {
    const r = rag('diff-eval', 'drop/a', 'drop/b', '--gate', 'no-significant-regression');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/gate: FAILED no-significant-regression: significant drop in ndcg@10/);
  });

  it('noise only: not significant, exit 0 with a gate', () => {
    const r = rag('diff-eval', 'noise/a', 'noise/b', '--gate', 'ndcg@10:-0.01,no-significant-regression', '--json');
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    for (const m of out.metrics) expect(m.p_adjusted).toBeGreaterThan(0.05);
    const ndcg = out.metrics[0];
    expect(ndcg.wins).toBeGreaterThan(0);
    expect(ndcg.losses).toBeGreaterThan(0);
    // Movers name the documents that entered / left the top 10, with grades from the golden set.
    const entered = [...out.movers.improved, ...out.movers.regressed].flatMap((m: { entered: Array<{ rel?: number }> }) => m.entered);
    expect(entered.some((d: { rel?: number }) => d.rel === 1)).toBe(true);
  });

  it('same inputs and seed give byte-identical output', () => {
    const one = rag('diff-eval', 'noise/a', 'noise/b', '--json', '--iterations', '500');
    const two = rag('diff-eval', 'noise/a', 'noise/b', '--json', '--iterations', '500');
    expect(one.code).toBe(0);
    expect(one.stdout).toBe(two.stdout);
  });

  it('golden set mismatch: exit 2 listing the manifest differences; --force proceeds', () => {
    const r = rag('diff-eval', 'identical/a', 'mismatch/b');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('not scored on the same golden set');
    const hashA = goldenHash(queries(N), qrelsFor(N));
    expect(r.stderr).toContain(`golden set hash: ${hashA}`);
    expect(r.stderr).toContain('model: none (BM25 only) → BAAI/bge-small-en-v1.5');
    expect(r.stderr).toContain('--force');
    const forced = rag('diff-eval', 'identical/a', 'mismatch/b', '--force', '--json');
    expect(forced.code, forced.stderr).toBe(0);
    expect(JSON.parse(forced.stdout).forced).toBe(true);
  });

  it('TREC run files with --qrels: scored here, same verdict as the artifacts', () => {
    const r = rag('diff-eval', 'a.trec', 'b.trec', '--qrels', 'qrels.txt', '--metric', 'ndcg@10', '--gate', 'ndcg@10:-0.01', '--json');
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout);
    const artifacts = JSON.parse(rag('diff-eval', 'drop/a', 'drop/b', '--metric', 'ndcg@10', '--json').stdout);
    expect(out.metrics[0].delta).toBeCloseTo(artifacts.metrics[0].delta, 9);
    expect(out.metrics[0].p_permutation).toBe(artifacts.metrics[0].p_permutation);
    expect(out.a.kind).toBe('run');
  });

  it('usage errors exit 2 with a fix', () => {
    const noQrels = rag('diff-eval', 'a.trec', 'b.trec');
    expect(noQrels.code).toBe(2);
    expect(noQrels.stderr).toContain('--qrels');
    const missing = rag('diff-eval', 'identical/a', 'nope');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('nope');
    const badMetric = rag('diff-eval', 'identical/a', 'identical/b', '--metric', 'ndcg@20');
    expect(badMetric.code).toBe(2);
    expect(badMetric.stderr).toContain('ndcg@20');
    const badGate = rag('diff-eval', 'identical/a', 'identical/b', '--gate', 'ndcg@10:+0.01');
    expect(badGate.code).toBe(2);
  });

  it('--help shows examples', () => {
    const r = rag('diff-eval', '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Examples:');
    expect(r.stdout).toContain('--gate');
  });
});
