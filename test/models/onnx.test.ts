/**
 * ONNX plumbing on tiny generated graphs (scripts/make-tiny-onnx.ts): the expected values are
 * recomputed here from the graph's weights, independently of the pooling/batching code under test.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadEmbedder, loadReranker } from '../../src/engine/models/index.js';
import { TINY_HIDDEN, TINY_VOCAB, tinyWeights, writeTinyModel } from '../../scripts/make-tiny-onnx.js';

const H = TINY_HIDDEN;
const word = tinyWeights(1, TINY_VOCAB.length * H);
const type = tinyWeights(2, 2 * H);
const head = tinyWeights(3, H);
const id = (t: string) => {
  const i = TINY_VOCAB.indexOf(t);
  if (i < 0) throw new Error(`not in tiny vocab: ${t}`);
  return i;
};
const hidden = (tok: string, tt: number) => Array.from({ length: H }, (_, d) => Math.fround(word[id(tok) * H + d] + type[tt * H + d]));
const unit = (v: number[]) => {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
};
function meanPooled(tokens: string[]): number[] {
  const acc = new Array(H).fill(0);
  for (const t of tokens) hidden(t, 0).forEach((x, d) => (acc[d] += x));
  return unit(acc.map((x) => x / tokens.length));
}
function expectVec(got: Float32Array, want: number[]) {
  expect(got.length).toBe(want.length);
  got.forEach((x, i) => expect(x).toBeCloseTo(want[i], 5));
}

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'rag-onnx-'));
  writeTinyModel(join(root, 'tiny', 'mean'), 'embedder', 'mean');
  writeTinyModel(join(root, 'tiny', 'cls'), 'embedder', 'cls');
  writeTinyModel(join(root, 'tiny', 'short'), 'embedder', 'mean');
  writeFileSync(join(root, 'tiny', 'short', 'rag-model.json'), JSON.stringify({ maxTokens: 4, queryPrefix: 'search ' }));
  writeTinyModel(join(root, 'tiny', 'ce'), 'cross-encoder');
  writeTinyModel(join(root, 'tiny', 'ce-short'), 'cross-encoder');
  writeFileSync(join(root, 'tiny', 'ce-short', 'rag-model.json'), JSON.stringify({ maxTokens: 6 }));
});

describe('ONNX embedder', () => {
  it('mean-pools over real tokens including [CLS] and [SEP], then L2-normalises', async () => {
    const e = await loadEmbedder('tiny/mean', root);
    expect(e.info.kind).toBe('onnx-embedder');
    expect(e.info.pooling).toBe('mean');
    expect(e.dim).toBe(H);
    const [v] = await e.embedPassages(['The cat SAT']);
    expectVec(v, meanPooled(['[CLS]', 'the', 'cat', 'sat', '[SEP]']));
  });

  it('keeps each text independent of its batch: padding is masked and input order restored', async () => {
    const e = await loadEmbedder('tiny/mean', root);
    const words = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'cat', 'dog', 'mat'];
    const texts = Array.from({ length: 70 }, (_, i) => words.slice(0, 1 + (i * 7) % words.length).join(' '));
    const all = await e.embedPassages(texts);
    for (const i of [0, 13, 35, 69]) {
      const toks = ['[CLS]', ...texts[i].split(' '), '[SEP]'];
      expectVec(all[i], meanPooled(toks));
    }
  });

  it('uses the [CLS] state when the pooling config says so', async () => {
    const e = await loadEmbedder('tiny/cls', root);
    expect(e.info.pooling).toBe('cls');
    const [a, b] = await e.embedPassages(['cat', 'alpha beta gamma']);
    expectVec(a, unit(hidden('[CLS]', 0)));
    expectVec(b, unit(hidden('[CLS]', 0)));
  });

  it('truncates to maxTokens but keeps the final [SEP], and applies the query prefix to queries only', async () => {
    const e = await loadEmbedder('tiny/short', root);
    expect(e.info.max_tokens).toBe(4);
    const [long] = await e.embedPassages(['alpha beta gamma delta']);
    expectVec(long, meanPooled(['[CLS]', 'alpha', 'beta', '[SEP]']));
    const [q] = await e.embedQueries(['cat']);
    expectVec(q, meanPooled(['[CLS]', 'search', 'cat', '[SEP]']));
  });

  it('refuses to load a cross-encoder as an embedder', async () => {
    await expect(loadEmbedder('tiny/ce', root)).rejects.toThrow(/cross-encoder/);
  });
});

describe('cross-encoder reranker', () => {
  const score = (toks: [string, number][]) => toks.reduce((s, [t, tt]) => s + hidden(t, tt).reduce((a, x, d) => a + x * head[d], 0), 0);

  it('scores each (query, passage) pair as one sequence with segment ids', async () => {
    const r = await loadReranker('tiny/ce', root);
    expect(r.info.kind).toBe('cross-encoder');
    const got = await r.score('cat', ['the cat sat on the mat', 'dog', 'alpha beta']);
    const want = [
      score([['[CLS]', 0], ['cat', 0], ['[SEP]', 0], ['the', 1], ['cat', 1], ['sat', 1], ['on', 1], ['the', 1], ['mat', 1], ['[SEP]', 1]]),
      score([['[CLS]', 0], ['cat', 0], ['[SEP]', 0], ['dog', 1], ['[SEP]', 1]]),
      score([['[CLS]', 0], ['cat', 0], ['[SEP]', 0], ['alpha', 1], ['beta', 1], ['[SEP]', 1]]),
    ];
    got.forEach((x, i) => expect(x).toBeCloseTo(want[i], 4));
  });

  it('cuts long pairs longest-first and keeps the special tokens', async () => {
    const r = await loadReranker('tiny/ce-short', root);
    const [got] = await r.score('alpha beta', ['gamma delta epsilon the cat']);
    const want = score([['[CLS]', 0], ['alpha', 0], ['beta', 0], ['[SEP]', 0], ['gamma', 1], ['[SEP]', 1]]);
    expect(got).toBeCloseTo(want, 4);
  });

  it('refuses to load an embedder as a reranker', async () => {
    await expect(loadReranker('tiny/mean', root)).rejects.toThrow(/not a cross-encoder/);
  });
});
