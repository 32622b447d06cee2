import { cpSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeTinyModel } from '../../scripts/make-tiny-onnx.js';
import { FIXTURE_CONFIG, MODELS_DIR, rag, requireModel, ROOT, SHARED, STATIC_MODEL, tempDir } from '../helpers/cli.js';

let dir: string;
let db: string;
let models: string;
const GOLDEN = path.join(ROOT, 'goldens/fixtures.jsonl');
const r = (args: string[]) => rag(['--db', db, '--config', FIXTURE_CONFIG, ...args], { cwd: dir, env: { RAG_MODELS_DIR: models } });

beforeAll(() => {
  requireModel(STATIC_MODEL);
  dir = tempDir();
  db = path.join(dir, 'db');
  // A models dir with the static embedder and a tiny generated cross-encoder (random weights:
  // it proves the rerank plumbing end to end, not quality).
  models = path.join(dir, 'models');
  mkdirSync(path.join(models, 'minishlab'), { recursive: true });
  symlinkSync(path.join(MODELS_DIR, STATIC_MODEL), path.join(models, STATIC_MODEL));
  writeTinyModel(path.join(models, 'test/tiny-cross-encoder'), 'cross-encoder');
  for (const s of ['docs', 'html', 'pdf', 'tickets']) cpSync(path.join(ROOT, 'fixtures', s), path.join(dir, 'fixtures', s), { recursive: true });
  expect(r(['ingest', 'fixtures/docs', 'fixtures/html', 'fixtures/pdf', 'fixtures/tickets']).code).toBe(0);
  expect(r(['index', '--model', STATIC_MODEL]).code).toBe(0);
});

describe('rag eval', () => {
  it('scores the fixture golden set, writes the artifact, and is byte-identical on a second run', () => {
    const a = r(['--json', 'eval', '--golden', GOLDEN, '--out', 'runs/a']);
    expect(a.code, a.stderr).toBe(0);
    const out = a.json();
    expect(out.queries).toBe(16);
    expect(out.mean['ndcg@10']).toBeGreaterThan(0.8); // hybrid on our own corpus
    for (const f of ['run.trec', 'metrics.json', 'manifest.json', 'timings.json', 'report.md']) {
      expect(existsSync(path.join(dir, 'runs/a', f)), f).toBe(true);
    }
    // Latency is what `rag query` pays, passage fetch included (the gate's p95_ms is its total).
    expect(Object.keys(JSON.parse(readFileSync(path.join(dir, 'runs/a/timings.json'), 'utf8')).per_stage_ms)).toContain('fetch_ms');
    const b = r(['--json', 'eval', '--golden', GOLDEN, '--out', 'runs/b']);
    expect(b.code).toBe(0);
    const ma = readFileSync(path.join(dir, 'runs/a/metrics.json'));
    expect(readFileSync(path.join(dir, 'runs/b/metrics.json')).equals(ma)).toBe(true);
    expect(readFileSync(path.join(dir, 'runs/b/run.trec'), 'utf8')).toBe(readFileSync(path.join(dir, 'runs/a/run.trec'), 'utf8'));
    const manifest = JSON.parse(readFileSync(path.join(dir, 'runs/a/manifest.json'), 'utf8'));
    expect(manifest.index.model.id).toBe(STATIC_MODEL);
    expect(manifest.index.model.weights_sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(manifest.golden.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(manifest.retrieval.mode).toBe('hybrid');
    // metrics.json holds no timestamps or timings.
    expect(ma.toString()).not.toMatch(/created_at|_ms/);
    // Restricted queries ran as their principals: the HR query found the HR document.
    expect(JSON.parse(ma.toString()).per_query['fx-11']['ndcg@10']).toBeGreaterThan(0.5);
  });

  it('gates: exit 0 when every threshold holds, exit 1 with the gap and junit.xml when one fails', () => {
    const pass = r(['eval', '--golden', GOLDEN, '--out', 'runs/pass', '--gate', 'ndcg@10>=0.5,p95_ms<=60000']);
    expect(pass.code, pass.stderr).toBe(0);
    expect(pass.stdout).toMatch(/^gate: passed ndcg@10 >= 0.5: ndcg@10 = 0\.\d+, passed by 0\.\d+$/m);
    expect(pass.stdout.trimEnd().split('\n').at(-1)).toBe('gate: passed');
    const fail = r(['eval', '--golden', GOLDEN, '--out', 'runs/fail', '--gate', 'ndcg@10>=0.999,recall@100>=0.5']);
    expect(fail.code).toBe(1);
    expect(fail.stdout).toMatch(/^gate: FAILED ndcg@10 >= 0.999: ndcg@10 = 0\.\d+, missed by 0\.\d+$/m);
    expect(fail.stdout.trimEnd().split('\n').at(-1)).toBe('gate: FAILED (1 of 2 rules)');
    const junit = readFileSync(path.join(dir, 'runs/fail/junit.xml'), 'utf8');
    expect(junit).toMatch(/<testsuite[^>]*failures="1"/);
    expect(readFileSync(path.join(dir, 'runs/fail/report.md'), 'utf8')).toMatch(/missed by/);
    const bad = r(['eval', '--golden', GOLDEN, '--gate', 'ndcg@10>=high']);
    expect(bad.code).toBe(2);
  });

  it('runs every mode and reranks with a cross-encoder when asked', () => {
    const modes = ['bm25', 'vector', 'hybrid'].map((m) => r(['--json', 'eval', '--golden', GOLDEN, '--mode', m, '--out', `runs/${m}`]).json().mean['ndcg@10']);
    for (const v of modes) expect(v).toBeGreaterThan(0.5);
    const q = r(['--json', 'query', 'rotate an api key', '--rerank', 'test/tiny-cross-encoder', '--rerank-top-n', '5', '-k', '8']);
    expect(q.code, q.stderr).toBe(0);
    const res = q.json().results as { scores: { rerank?: number } }[];
    const reranked = res.slice(0, 5).map((x) => x.scores.rerank!);
    expect(reranked.every((x) => typeof x === 'number')).toBe(true);
    expect([...reranked].sort((a, b) => b - a)).toEqual(reranked); // ordered by the cross-encoder
    expect(res.slice(5).every((x) => x.scores.rerank === undefined)).toBe(true);
    const ev = r(['--json', 'eval', '--golden', GOLDEN, '--rerank', 'test/tiny-cross-encoder', '--out', 'runs/rerank']);
    expect(ev.code, ev.stderr).toBe(0);
    expect(JSON.parse(readFileSync(path.join(dir, 'runs/rerank/manifest.json'), 'utf8')).retrieval.rerank).toBe('test/tiny-cross-encoder');
    const missing = r(['query', 'x', '--rerank', 'nope/none']);
    expect(missing.code).toBe(3); // a model that is not installed: exit 3 (README "Exit codes")
  });

  it('scores an external TREC run like trec_eval, and rejects a malformed golden set with file and line', () => {
    const te = path.join(SHARED, 'datasets/trec_eval');
    const ext = rag(['--json', 'eval', '--qrels', path.join(te, 'qrels.test'), '--run', path.join(te, 'results.test')]);
    expect(ext.code, ext.stderr).toBe(0);
    // trec_eval's own summary for this pair (out.test.a): map 0.1785, P_10 0.3000.
    const expected = readFileSync(path.join(te, 'out.test.a'), 'utf8');
    const val = (m: string) => Number(new RegExp(`^${m}\\s+all\\s+(\\S+)`, 'm').exec(expected)![1]);
    expect(ext.json().mean.map.toFixed(4)).toBe(val('map').toFixed(4));
    expect(ext.json().mean['precision@10'].toFixed(4)).toBe(val('P_10').toFixed(4));
    const bad = path.join(dir, 'bad.jsonl');
    writeFileSync(bad, '{"id":"a","query":"x","judgments":{"d":1}}\n{"id":"b","query":"y","judgments":{"d":7}}\n');
    const e = r(['eval', '--golden', bad]);
    expect(e.code).toBe(2);
    expect(e.stderr).toMatch(/bad\.jsonl:2/);
  });
});
