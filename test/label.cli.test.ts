/**
 * `rag label export` and `--import` as a script would run them: the exported TREC qrels give
 * `rag eval` the same numbers as the golden file itself, CSV and JSONL import back to the same
 * judgments, and an import without any labeler name stops with a message naming --labeler.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveCaller } from '../src/engine/acl.js';
import { loadConfig } from '../src/engine/config.js';
import { getChunk } from '../src/engine/search/documents.js';
import { Store } from '../src/engine/store/store.js';
import { FIXTURE_CONFIG, FIXTURES, rag, tempDir } from './helpers/cli.js';

let dir: string;
const GOLDEN = [
  { id: 'k1', query: 'how do I rotate an API key', judgments: { 'docs/api-keys.md': 3, 'docs/cli-install.md': 1, 'docs/webhooks.md': 0 } },
  { id: 'k2', query: 'requests per minute for each plan', judgments: { 'docs/rate-limits.md': 3, 'docs/billing-invoices.md': 1 } },
].map((q) => JSON.stringify(q)).join('\n') + '\n';

describe('rag label export and import', () => {
  beforeAll(() => {
    dir = tempDir('rag-label-cli-');
    expect(rag(['--db', path.join(dir, 'db'), '--config', FIXTURE_CONFIG, 'ingest', path.join(FIXTURES, 'docs')], { cwd: FIXTURES }).code).toBe(0);
    expect(rag(['--db', path.join(dir, 'db'), '--config', FIXTURE_CONFIG, 'index', '--model', 'none'], { cwd: FIXTURES }).code).toBe(0);
    writeFileSync(path.join(dir, 'g.jsonl'), GOLDEN);
  });

  it('TREC qrels from export score the same as the golden file in rag eval', () => {
    const ex = rag(['label', 'export', '--golden', 'g.jsonl', '--format', 'trec', '--out', 'g.qrels'], { cwd: dir });
    expect(ex.code, ex.stderr).toBe(0);
    expect(ex.stderr).toMatch(/wrote 5 judgment\(s\) for 2 queries to g\.qrels \(trec\)/);
    expect(readFileSync(path.join(dir, 'g.qrels'), 'utf8').split('\n')[0]).toBe('k1 0 docs/api-keys.md 3');
    const common = ['--db', 'db', '--config', FIXTURE_CONFIG, '--json', 'eval', '--mode', 'bm25', '--cutoffs', '3,10'];
    const fromGolden = rag([...common, '--golden', 'g.jsonl', '--out', 'run-a'], { cwd: dir });
    const fromQrels = rag([...common, '--golden', 'g.jsonl', '--qrels', 'g.qrels', '--out', 'run-b'], { cwd: dir });
    expect(fromGolden.code, fromGolden.stderr).toBe(0);
    expect(fromQrels.code, fromQrels.stderr).toBe(0);
    expect(fromQrels.json().mean).toEqual(fromGolden.json().mean);
    expect(fromGolden.json().mean['ndcg@10']).toBeGreaterThan(0);
  });

  it('CSV and JSONL exports import back to the same judgments', () => {
    for (const format of ['csv', 'jsonl']) {
      const ex = rag(['label', 'export', '--golden', 'g.jsonl', '--format', format], { cwd: dir });
      expect(ex.code, ex.stderr).toBe(0);
      writeFileSync(path.join(dir, `export.${format}`), ex.stdout);
      const im = rag(['label', '--golden', `copy-${format}.jsonl`, '--import', `export.${format}`, '--labeler', 'sme'], { cwd: dir });
      expect(im.code, im.stderr).toBe(0);
      const judgments = (file: string) => readFileSync(path.join(dir, file), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).map((q) => [q.id, q.query, q.judgments]);
      expect(judgments(`copy-${format}.jsonl`)).toEqual(judgments('g.jsonl'));
    }
  });

  it('an import without --labeler, $RAG_LABELER or $USER names --labeler; a labeler column is enough', () => {
    writeFileSync(path.join(dir, 'nolabeler.csv'), 'qid,query,doc_id,grade\nk1,how do I rotate an API key,docs/api-keys.md,2\n');
    const env = { USER: '', RAG_LABELER: '', USERNAME: '' };
    const r = rag(['label', '--golden', 'n.jsonl', '--import', 'nolabeler.csv'], { cwd: dir, env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/nolabeler\.csv:2: the row names no labeler/);
    expect(r.stderr).toMatch(/--labeler NAME/);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    writeFileSync(path.join(dir, 'withlabeler.csv'), 'qid,query,doc_id,grade,labeler\nk1,how do I rotate an API key,docs/api-keys.md,2,bo\n');
    const ok = rag(['label', '--golden', 'n.jsonl', '--import', 'withlabeler.csv'], { cwd: dir, env });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/imported 1 grade\(s\)/);
  });

  it('reads a single chunk (a grade revisited from the journal) through the same permission clause as search', async () => {
    const { config } = loadConfig(FIXTURE_CONFIG);
    const store = await Store.open(path.join(dir, 'db'));
    try {
      const [row] = await store.readAll<{ chunk_id: string }>('chunks', ['chunk_id'], "doc_id = 'docs/internal/salary-bands.md'");
      const insider = await getChunk(store, row!.chunk_id, resolveCaller(config, { as: ['group:hr'] }));
      expect(insider?.doc_id).toBe('docs/internal/salary-bands.md');
      expect(insider!.char_end).toBeGreaterThan(insider!.char_start);
      expect(await getChunk(store, row!.chunk_id, resolveCaller(config, {}))).toBeNull();
      expect(await getChunk(store, 'docs/none.md#0:00', resolveCaller(config, { as: ['group:hr'] }))).toBeNull();
    } finally {
      store.close();
    }
  });

  it('export refuses a bad format and a missing golden set with exit 2', () => {
    const bad = rag(['label', 'export', '--golden', 'g.jsonl', '--format', 'xml'], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/trec, csv, jsonl/);
    const missing = rag(['label', 'export', '--golden', 'none.jsonl'], { cwd: dir });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/none\.jsonl: golden set not found/);
  });
});
