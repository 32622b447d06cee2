/**
 * One key casing across every JSON rag writes: snake_case in every `--json` output, every artifact
 * file and the HTTP API. The main commands run for real on the bundled fixtures and every key of
 * their JSON is walked; maps keyed by data (query ids, doc ids, labeler names, metadata, principals)
 * are skipped by name, since their keys are the user's, not rag's. Stores and run folders written
 * before the rename (camelCase) must still open and compare: that is the second part.
 */
import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE_CONFIG, FIXTURES, rag, ROOT, STATIC_MODEL, requireModel, tempDir } from './helpers/cli.js';
import { stableHash } from '../src/engine/hash.js';
import { Store } from '../src/engine/store/store.js';
import { diffReportHtmlFromFiles } from '../src/render/html/diff-report.js';
import { evalReportHtml } from '../src/render/html/eval-report.js';
import { addKey, request, startServe, waitFor, type Served } from './server/serve-process.js';

/** Keys whose value is a map keyed by data, not by rag's own field names. */
const DATA_KEYED = new Set([
  'per_query', // query id → …
  'per_query_ms',
  'per_query_stage_ms',
  'judgments', // doc/chunk id → grade
  'grades', // labeler → grade
  'metadata', // the document's own metadata
  'by_principal', // principal → count
  'by_tenant', // tenant → count
]);

/** A key rag chose: lower-case words joined by `_` (metric names such as `ndcg@10` and `P_10` pass). */
const camel = (key: string) => /[a-z0-9][A-Z]/.test(key);

/** Paths of camelCase keys anywhere in `value`, skipping data-keyed maps. */
export function camelKeys(value: unknown, at = '$', skipTop = false): string[] {
  const out: string[] = [];
  const walk = (v: unknown, p: string, top: boolean) => {
    // Array positions are dropped from the path: one line per key, however many rows hold it.
    if (Array.isArray(v)) return v.forEach((x) => walk(x, `${p}[]`, false));
    if (!v || typeof v !== 'object') return;
    for (const [k, x] of Object.entries(v)) {
      if (!top && camel(k)) out.push(`${p}.${k}`);
      if (!DATA_KEYED.has(k)) walk(x, `${p}.${k}`, false);
    }
  };
  walk(value, at, skipTop);
  return [...new Set(out)];
}

let dir: string;
let db: string;
let served: Served | undefined;
/** The OpenAPI document: its own keywords are camelCase by standard; the property names it declares are rag's. */
let openapi: unknown;
/** Every JSON document gathered: where it came from → parsed value. */
const outputs = new Map<string, unknown>();

function cli(args: string[], opts: { code?: number[] } = {}) {
  const r = rag(['--db', db, '--config', FIXTURE_CONFIG, ...args], { cwd: dir });
  expect(opts.code ?? [0], `rag ${args.join(' ')}\n${r.stderr}`).toContain(r.code);
  return r;
}

/** `rag --json ARGS`: its stdout as one JSON document. */
function json(name: string, args: string[], opts: { code?: number[] } = {}): any {
  const v = cli(['--json', ...args], opts).json();
  outputs.set(name, v);
  return v;
}

/** One JSON document per non-empty line. */
function jsonLines(name: string, text: string): void {
  const lines = text.split('\n').filter((l) => l.trim());
  expect(lines.length, name).toBeGreaterThan(0);
  lines.forEach((l, i) => outputs.set(`${name} line ${i + 1}`, JSON.parse(l)));
}

/** Every .json file of an artifact folder. */
function artifact(name: string, folder: string): void {
  for (const f of readdirSync(folder).filter((x) => x.endsWith('.json')).sort()) {
    outputs.set(`${name}/${f}`, JSON.parse(readFileSync(path.join(folder, f), 'utf8')));
  }
}

beforeAll(async () => {
  requireModel(STATIC_MODEL);
  dir = tempDir('rag-casing-');
  db = path.join(dir, 'db');
  for (const s of ['docs', 'html', 'pdf', 'tickets', 'audit']) cpSync(path.join(FIXTURES, s), path.join(dir, 'fixtures', s), { recursive: true });
  cpSync(path.join(ROOT, 'goldens/fixtures.jsonl'), path.join(dir, 'golden.jsonl'));

  json('ingest', ['ingest', 'fixtures/docs', 'fixtures/html', 'fixtures/pdf', 'fixtures/tickets']);
  json('index', ['index', '--model', STATIC_MODEL]);
  json('query', ['query', 'rotate an api key', '--as', 'group:hr']);
  writeFileSync(path.join(dir, 'batch.jsonl'), '{"id":"b1","query":"rate limits"}\n{"id":"b2","query":"sso"}\n');
  const batch = cli(['--json', 'query', '--batch', 'batch.jsonl']).stdout.trim().split('\n');
  batch.forEach((l, i) => outputs.set(`query --batch line ${i + 1}`, JSON.parse(l)));
  json('status', ['status']);
  json('models list', ['models', 'list']);

  json('eval bm25', ['eval', '--golden', 'golden.jsonl', '--mode', 'bm25', '--out', 'runs/bm25', '--gate', 'ndcg@10>=0.1']);
  json('eval hybrid', ['eval', '--golden', 'golden.jsonl', '--out', 'runs/hybrid']);
  artifact('eval bm25', path.join(dir, 'runs/bm25'));
  artifact('eval hybrid', path.join(dir, 'runs/hybrid'));
  json('diff-eval', ['diff-eval', 'runs/bm25', 'runs/hybrid', '--out', 'runs/diff', '--gate', 'no-significant-regression'], { code: [0, 1] });
  artifact('diff-eval', path.join(dir, 'runs/diff'));
  json('runs', ['runs', 'runs']);

  json('audit lineage', ['audit', 'lineage', '--out', 'audit/lineage']);
  artifact('audit lineage', path.join(dir, 'audit/lineage'));
  json('audit lineage --since', ['audit', 'lineage', '--since', '1', '--include-deleted']);
  json('audit acl', ['audit', 'acl', '--out', 'audit/acl'], { code: [0, 1] });
  artifact('audit acl', path.join(dir, 'audit/acl'));
  json('audit content', ['audit', 'content', '--all', '--out', 'audit/content'], { code: [0, 1] });
  artifact('audit content', path.join(dir, 'audit/content'));

  writeFileSync(path.join(dir, 'grades.csv'), [
    'qid,query,doc_id,grade,labeler',
    'fx-01,how do I rotate an API key,fixtures/docs/api-keys.md,3,ann',
    'fx-01,how do I rotate an API key,fixtures/docs/api-keys.md,2,bo',
    'fx-01,how do I rotate an API key,fixtures/docs/sso-saml.md,0,ann',
    'fx-01,how do I rotate an API key,fixtures/docs/sso-saml.md,1,bo',
  ].join('\n') + '\n');
  json('label import', ['label', '--golden', 'labels.jsonl', '--import', 'grades.csv']);
  json('label stats', ['label', 'stats', '--golden', 'labels.jsonl']);
  jsonLines('label export --format jsonl', cli(['label', 'export', '--golden', 'labels.jsonl', '--format', 'jsonl']).stdout);
  // The golden set and its journal are JSONL files rag writes too.
  for (const f of readdirSync(dir).filter((x) => x.startsWith('labels.') && x.endsWith('.jsonl')).sort()) jsonLines(f, readFileSync(path.join(dir, f), 'utf8'));

  const keys = path.join(dir, 'keys.json');
  json('keys add', ['keys', 'add', '--keys', keys, '--as', 'group:hr', '--name', 'hr']);
  json('keys list', ['keys', 'list', '--keys', keys]);
  outputs.set('keys file', JSON.parse(readFileSync(keys, 'utf8')));

  const key = addKey(dir, keys, ['--as', 'group:support']);
  const env = { RAG_RUNTIME_DIR: path.join(tempDir('rag-casing-run-'), 'rt') };
  served = await startServe(['--db', db, '--config', FIXTURE_CONFIG], ['--keys', keys], { cwd: dir, env });
  const q = await request(`${served.url}/v1/query`, { key, body: { query: 'rotate an api key', k: 3 } });
  expect(q.status).toBe(200);
  outputs.set('HTTP /v1/query', q.json());
  const doc = await request(`${served.url}/v1/documents/fixtures/docs/api-keys.md`, { key });
  expect(doc.status).toBe(200);
  outputs.set('HTTP /v1/documents', doc.json());
  outputs.set('HTTP /healthz', (await request(`${served.url}/healthz`)).json());
  openapi = (await request(`${served.url}/openapi.json`)).json();
  outputs.set('HTTP error', (await request(`${served.url}/v1/query`, { key, body: { query: 1 } })).json());
  // A plain `rag query` answered by the running service over its local socket.
  const viaDaemon = rag(['--db', db, '--config', FIXTURE_CONFIG, '--json', 'query', 'rotate an api key', '--as', 'group:hr'], { cwd: dir, env });
  expect(viaDaemon.code, viaDaemon.stderr).toBe(0);
  outputs.set('query via rag serve', viaDaemon.json());
  await waitFor(() => served!.log().some((l) => l.route === 'local' && l.status === 200), 10_000, 'the daemon to answer the query');
  served.log().forEach((l, i) => outputs.set(`rag serve access log line ${i + 1}`, l));
}, 900_000);

afterAll(async () => {
  await served?.stop();
});

describe('JSON key casing', () => {
  it('the walker finds camelCase keys at any depth and leaves data-keyed maps alone', () => {
    expect(camelKeys({ a_b: 1, fooBar: { ok: [{ deepKey: 1 }] }, per_query: { myQuery: { x: 1 } }, metadata: { customerName: 'x' } }))
      .toEqual(['$.fooBar', '$.fooBar.ok[].deepKey']);
    expect(camelKeys({ qId: 'x' }, '$', true)).toEqual([]);
  });

  it('every --json output, artifact file and HTTP answer uses snake_case keys', () => {
    expect(outputs.size).toBeGreaterThan(45);
    const bad: string[] = [];
    // queries.json is query id → text: a data-keyed map at the top.
    for (const [name, v] of outputs) bad.push(...camelKeys(v, name, name.endsWith('/queries.json')));
    expect(bad).toEqual([]);
  });

  it('every property the OpenAPI document declares is snake_case', () => {
    const declared: string[] = [];
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) return v.forEach(walk);
      if (!v || typeof v !== 'object') return;
      for (const [k, x] of Object.entries(v)) {
        if (k === 'properties' && x && typeof x === 'object') declared.push(...Object.keys(x));
        walk(x);
      }
    };
    walk(openapi);
    expect(declared).toContain('chunk_id');
    expect(declared.filter(camel)).toEqual([]);
  });
});

/** Manifest keys that were already snake_case before the rename, so an old manifest has them as they are. */
const MANIFEST_SNAKE_BEFORE = new Set(['chunks_version', 'retired_tables', 'retired_at']);
const camelCase = (k: string) => k.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** `value` as an older rag wrote it: every key camelCase, except the ones in `snakeBefore`. */
function oldShape(value: unknown, snakeBefore: ReadonlySet<string> = new Set()): any {
  if (Array.isArray(value)) return value.map((v) => oldShape(v, snakeBefore));
  if (!value || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [snakeBefore.has(k) ? k : camelCase(k), oldShape(v, snakeBefore)]));
}

const readJson = (file: string) => JSON.parse(readFileSync(file, 'utf8'));
const writeJson = (file: string, v: unknown) => writeFileSync(file, `${JSON.stringify(v, null, 2)}\n`);

describe('files written before the rename', () => {
  it('a store whose manifest row has the old camelCase keys opens, searches as current, and is rewritten by the next index', async () => {
    const old = path.join(dir, 'db-old');
    cpSync(db, old, { recursive: true });
    const store = await Store.open(old);
    const m = (await store.readManifestJson('default')) as Record<string, any>;
    const legacy = oldShape(m, MANIFEST_SNAKE_BEFORE);
    expect(legacy).toMatchObject({ tableVersion: m.table_version, model: { weightsSha256: m.model.weights_sha256 }, chunker: { config: { maxTokens: m.chunker.config.max_tokens } }, fts: { withPosition: m.fts.with_position } });
    await store.writeManifest('default', legacy);
    store.close();

    const run = (args: string[]) => rag(['--db', old, '--config', FIXTURE_CONFIG, '--json', ...args], { cwd: dir });
    const q = run(['query', 'rotate an api key', '--as', 'group:hr']);
    expect(q.code, q.stderr).toBe(0);
    // The recorded table version is read: the index is not reported as stale.
    expect(q.stderr).not.toMatch(/stale|behind/i);
    expect(q.json().results.length).toBeGreaterThan(0);
    expect(q.json().index_freshness).toMatchObject({ current: true });
    const lineage = run(['audit', 'lineage']).json();
    expect(lineage.indexes[0]).toMatchObject({ name: 'default', manifest_table_version: m.table_version, model: { weights_sha256: m.model.weights_sha256 } });
    expect(lineage.indexes[0].chunker.config).toEqual(m.chunker.config);
    expect(camelKeys(lineage)).toEqual([]);

    const idx = run(['index']);
    expect(idx.code, idx.stderr).toBe(0);
    const again = await Store.open(old);
    const rewritten = (await again.readManifestJson('default')) as Record<string, unknown>;
    again.close();
    expect(camelKeys(rewritten)).toEqual([]);
    expect(rewritten).toMatchObject({ model: { weights_sha256: m.model.weights_sha256 }, chunker: { hash: m.chunker.hash } });
  }, 300_000);

  it('diff-eval, rag runs and the HTML reports read a run folder written with the old keys', () => {
    const oldRun = path.join(dir, 'runs-old/bm25');
    mkdirSync(oldRun, { recursive: true });
    cpSync(path.join(dir, 'runs/bm25'), oldRun, { recursive: true });
    const metrics = readJson(path.join(oldRun, 'metrics.json'));
    const manifest = readJson(path.join(oldRun, 'manifest.json'));
    // As rag wrote them before: retrieval settings and the embedded index manifest in camelCase,
    // the retrieval hash over those spellings.
    const retrieval = oldShape(metrics.retrieval);
    expect(retrieval).toMatchObject({ rerankTopN: metrics.retrieval.rerank_top_n, rrfK: metrics.retrieval.rrf_k });
    writeJson(path.join(oldRun, 'metrics.json'), { ...metrics, retrieval, retrieval_hash: stableHash(retrieval), index: { ...metrics.index, model: oldShape(metrics.index.model) } });
    writeJson(path.join(oldRun, 'manifest.json'), { ...manifest, retrieval, retrieval_hash: stableHash(retrieval), index: oldShape(manifest.index, MANIFEST_SNAKE_BEFORE) });
    expect(readFileSync(path.join(oldRun, 'manifest.json'), 'utf8')).toMatch(/"tableVersion"/);
    expect(readFileSync(path.join(oldRun, 'metrics.json'), 'utf8')).toMatch(/"weightsSha256"/);

    const d = rag(['--json', 'diff-eval', oldRun, path.join(dir, 'runs/bm25'), '--out', path.join(dir, 'runs-old/diff')], { cwd: dir });
    expect(d.code, d.stderr).toBe(0);
    const out = d.json();
    expect(out.same_golden_set).toBe(true);
    // The same run, read through old and new spellings: nothing recorded differs.
    expect(out.differences).toEqual([]);
    for (const m of out.metrics) expect(m.delta).toBe(0);

    const runs = rag(['--json', 'runs', path.join(dir, 'runs-old')], { cwd: dir }).json();
    expect(runs.runs.map((r: { dir: string; mode: string; model: string | null }) => [path.basename(r.dir), r.mode, r.model])).toEqual([['bm25', 'bm25', STATIC_MODEL]]);
    expect(runs.skipped).toEqual([]);

    const files = (folder: string) => Object.fromEntries(readdirSync(folder).map((f) => [f, readFileSync(path.join(folder, f), 'utf8')]));
    const newHtml = evalReportHtml(files(path.join(dir, 'runs/bm25')));
    const oldHtml = evalReportHtml(files(oldRun));
    const weights = /weights ([0-9a-f]{64})/.exec(newHtml)?.[1];
    expect(weights).toBe(manifest.index.model.weights_sha256);
    expect(oldHtml).toContain(`weights ${weights}`);
    expect(oldHtml).toContain(`table version ${manifest.index.table_version}`);

    const diffFiles = files(path.join(dir, 'runs/diff'));
    const fresh = diffReportHtmlFromFiles(diffFiles);
    const legacy = diffReportHtmlFromFiles({ ...diffFiles, 'comparison.json': JSON.stringify(oldShape(JSON.parse(diffFiles['comparison.json']!))) });
    expect(diffFiles['comparison.json']).toMatch(/"p_adjusted"/);
    expect(legacy).toBe(fresh);
  }, 300_000);
});
