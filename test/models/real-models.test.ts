/**
 * Real weights, prepared by scripts/prepare-models.sh into RAG_MODELS_DIR (CI prepares them).
 * Locally the suite is skipped when they are absent; under CI=true absence is a failure.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listModels, loadEmbedder } from '../../src/engine/models/index.js';

const DIR = process.env.RAG_MODELS_DIR ? resolve(process.env.RAG_MODELS_DIR) : resolve(import.meta.dirname, '..', '..', '.models');
const MINILM = 'sentence-transformers/all-MiniLM-L6-v2';
const present = existsSync(join(DIR, ...MINILM.split('/'), 'onnx'));
const inCI = process.env.CI === 'true';
const lock = JSON.parse(readFileSync(resolve(import.meta.dirname, '..', '..', 'models.lock.json'), 'utf8')) as {
  models: { id: string; files: { path: string; sha256: string }[] }[];
};

/**
 * Reference: the same prepared files run by an independent pipeline — Python `tokenizers` 0.23.3
 * (truncation 256 = sentence_bert_config max_seq_length), onnxruntime (Python) on onnx/model_int8.onnx,
 * numpy mean over the attention mask, L2 norm — first 16 dims, rounded to 5 places. The long text is
 * the sentence below repeated 40 times (cut to 256 tokens, ending in [SEP]).
 */
const REF_SHORT = [0.03095, 0.00667, -0.00437, 0.04751, -0.13992, -0.03591, 0.10226, -0.05563, -0.04433, -0.04068, 0.00813, -0.01078, -0.06835, -0.01745, 0.04774, -0.05782];
const REF_LONG = [-0.06912, -0.02692, -0.01189, 0.0178, -0.04372, -0.08961, -0.01607, -0.04465, 0.06822, -0.0358, -0.07754, -0.01498, 0.04797, 0.01868, 0.05457, -0.04733];
const LONG = Array(40).fill('Retrieval quality gates compare nDCG across runs of the same golden set.').join(' ');

const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, v, i) => s + v * b[i], 0);

describe.skipIf(!present && !inCI)('prepared real models', () => {
  it('are present (run scripts/prepare-models.sh and set RAG_MODELS_DIR)', () => {
    expect(present, `all-MiniLM-L6-v2 is missing from ${DIR}`).toBe(true);
  });

  it('match the sha256 lock', async () => {
    const list = await listModels(DIR);
    const minilm = list.find((m) => m.id === MINILM);
    expect(minilm).toBeDefined();
    const locked = lock.models.find((m) => m.id === MINILM)!.files.find((f) => f.path === minilm!.weight_files[0]);
    expect(minilm!.weights_sha256).toBe(locked?.sha256);
  });

  it('all-MiniLM-L6-v2 reproduces the independent onnxruntime + tokenizers reference', async () => {
    const e = await loadEmbedder(MINILM, DIR);
    expect(e.dim).toBe(384);
    expect(e.info.pooling).toBe('mean');
    expect(e.info.max_tokens).toBe(256);
    const [short, long] = await e.embedPassages(['A man is eating food.', LONG]);
    REF_SHORT.forEach((x, i) => expect(short[i]).toBeCloseTo(x, 4));
    REF_LONG.forEach((x, i) => expect(long[i]).toBeCloseTo(x, 4));
    expect(dot(short, short)).toBeCloseTo(1, 5);
  });

  it('all-MiniLM-L6-v2 ranks a paraphrase above an unrelated sentence', async () => {
    const e = await loadEmbedder(MINILM, DIR);
    const [q] = await e.embedQueries(['How do I reset my password?']);
    const [para, other] = await e.embedPassages(['Steps to change a forgotten account password', 'The recipe needs two cups of flour']);
    expect(dot(q, para)).toBeGreaterThan(0.5);
    expect(dot(q, para)).toBeGreaterThan(dot(q, other) + 0.3);
  });
});
