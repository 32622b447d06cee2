import { writeFileSync } from 'node:fs';
import path from 'node:path';
import * as lancedb from '@lancedb/lancedb';
import { describe, expect, it } from 'vitest';
import { chunkDocument } from '../src/engine/ingest/chunker.js';
import { estimateTokens } from '../src/engine/ingest/tokens.js';
import { paragraphBlocks } from '../src/connectors/normalise.js';
import type { ParsedDocument } from '../src/engine/types.js';
import { rag, tempDir } from './helpers/cli.js';

const doc = (text: string): ParsedDocument => ({ docId: 'd', source: 'd', connector: 'text', title: 't', text, blocks: paragraphBlocks(text), metadata: {} });

describe('CJK text in the chunker and the token estimate', () => {
  it('counts every CJK character and CJK punctuation mark as a token, the prolonged sound mark included', () => {
    expect(estimateTokens('熊猫基地。')).toBe(5);
    expect(estimateTokens('コーヒー')).toBe(4); // ー is Script=Common but written and tokenised per character
    expect(estimateTokens('「東京」、大阪！')).toBe(8);
    expect(estimateTokens('々')).toBe(1);
  });

  it('cuts a long Chinese paragraph at 。！？ (no spaces between sentences), every chunk within budget', () => {
    const sentences = Array.from({ length: 40 }, (_, i) => `第${i}句话说明熊猫基地的开放时间和门票价格`).map((s, i) => s + (i % 3 === 0 ? '！' : '。'));
    const text = sentences.join('');
    const chunks = chunkDocument(doc(text), { maxTokens: 64, overlapTokens: 8, hardMaxTokens: 128 });
    expect(chunks.length).toBeGreaterThan(5);
    for (const c of chunks) {
      expect(c.text).toBe(text.slice(c.charStart, c.charEnd));
      expect(c.tokens).toBeLessThanOrEqual(64);
      // Pieces end at a sentence end, not in the middle of one.
      expect(c.text).toMatch(/[。！]$/);
    }
  });

  it('cuts an over-long Japanese sentence between characters, not into fixed windows of bytes', () => {
    const text = '富士山の山頂にある郵便局は夏の間だけ営業しています'.repeat(12);
    const chunks = chunkDocument(doc(text), { maxTokens: 50, overlapTokens: 10, hardMaxTokens: 100 });
    expect(chunks.length).toBeGreaterThan(3);
    for (const c of chunks) expect(c.tokens).toBeLessThanOrEqual(50);
    // Consecutive pieces overlap by about overlapTokens characters.
    expect(chunks[1]!.charStart).toBeLessThan(chunks[0]!.charEnd);
  });
});

describe('a CJK full-text index through the CLI', () => {
  it('finds Chinese and Japanese documents in bm25 mode with index.language "cjk"; the English stemmer cannot', async () => {
    const dir = tempDir();
    const db = path.join(dir, 'db');
    const cjk = path.join(dir, 'cjk.json');
    const english = path.join(dir, 'english.json');
    writeFileSync(cjk, JSON.stringify({ index: { language: 'cjk' } }));
    writeFileSync(english, JSON.stringify({}));
    expect(rag(['--db', db, 'ingest', 'fixtures/cjk', 'fixtures/docs']).code).toBe(0);
    const query = (config: string, q: string) => {
      const r = rag(['--db', db, '--config', config, '--json', 'query', q, '--mode', 'bm25', '-k', '3']);
      expect(r.code, r.stderr).toBe(0);
      return r.json().results as { doc_id: string; heading_path: string[] }[];
    };
    // The English default index: the whole Chinese sentence is one token, so a question finds nothing.
    expect(rag(['--db', db, '--config', english, 'index', '--model', 'none']).code).toBe(0);
    expect(query(english, '熊猫什么时候最活跃')).toEqual([]);

    const r = rag(['--db', db, '--config', cjk, 'index', '--model', 'none']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/full-text language changed for index "default" \(now cjk\): rebuilding its BM25 index/);
    expect(query(cjk, '熊猫什么时候最活跃')[0]).toMatchObject({ doc_id: 'fixtures/cjk/zh/panda-base.md' });
    expect(query(cjk, '明前茶的价格')[0]).toMatchObject({ doc_id: 'fixtures/cjk/zh/tea-garden.md' });
    expect(query(cjk, '山頂の郵便局の営業時間')[0]).toMatchObject({ doc_id: 'fixtures/cjk/ja/fuji-post-office.md' });
    expect(query(cjk, '清水寺の拝観料')[0]).toMatchObject({ doc_id: 'fixtures/cjk/ja/kyoto-temples.md' });
    // English text still matches in the same index (as character n-grams).
    expect(query(cjk, 'Retry-After header').map((h) => h.doc_id)).toContain('fixtures/docs/rate-limits.md');
    // The manifest records the settings the FTS index was built with.
    const conn = await lancedb.connect(db);
    const rows = await (await conn.openTable('manifests')).query().toArray();
    const fts = JSON.parse(rows.find((m) => m.name === 'default')!.json).fts;
    expect(fts).toMatchObject({ base_tokenizer: 'ngram', ngram_min_length: 1, ngram_max_length: 2, stem: false });
  }, 240_000);

  it('takes the language per index: index.languages names one index, the others keep index.language', () => {
    const dir = tempDir();
    const db = path.join(dir, 'db');
    const config = path.join(dir, 'rag.config.json');
    writeFileSync(config, JSON.stringify({ index: { languages: { ja: 'cjk' } } }));
    expect(rag(['--db', db, '--config', config, 'ingest', 'fixtures/cjk']).code).toBe(0);
    for (const name of ['default', 'ja']) expect(rag(['--db', db, '--config', config, 'index', '--model', 'none', '--name', name]).code).toBe(0);
    const hits = (index: string) => rag(['--db', db, '--config', config, '--json', 'query', '富士山の郵便局', '--mode', 'bm25', '--index', index]).json().results;
    expect(hits('default')).toEqual([]);
    expect(hits('ja')[0].doc_id).toBe('fixtures/cjk/ja/fuji-post-office.md');
  }, 240_000);
});
