/**
 * Batching and the optimised-graph copy must not change a single bit of any vector.
 *
 * The equality tested: for every text, the Float32 bytes `embedPassages(all)` returns are the bytes
 * `embedPassages([text])` returns — the text embedded alone, in a batch of one, with no padding.
 * It holds because every op of the encoder is per token except attention, and padded keys get
 * attention_mask 0, which the graph turns into a −3.4e38 bias: their softmax weights are exactly 0,
 * so they add exact zeros (in the same lanes) to every sum over keys; pooling reads real tokens only.
 * A vector that equals its text alone equals it in any batch, so it also equals what the embedder
 * produced before batches were capped by tokens (32 rows per batch then).
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadEmbedder, resolveModel } from '../../src/engine/models/index.js';
import { BATCH_TOKENS, OnnxEmbedder } from '../../src/engine/models/onnx-embedder.js';
import { ORT_CACHE_FOLDER, optimisedGraphPath, tokenBatches } from '../../src/engine/models/onnx-session.js';
import { loadTokenizer } from '../../src/engine/models/tokenizer.js';

const DIR = process.env.RAG_MODELS_DIR ? resolve(process.env.RAG_MODELS_DIR) : resolve(import.meta.dirname, '..', '..', '.models');
const MINILM = 'sentence-transformers/all-MiniLM-L6-v2';
const present = existsSync(join(DIR, ...MINILM.split('/'), 'onnx'));
const inCI = process.env.CI === 'true';

const bytes = (v: Float32Array) => Buffer.from(v.buffer, v.byteOffset, v.byteLength);

/** Texts from 3 to far past 256 tokens (MiniLM truncates there), in no particular order. */
function texts(): string[] {
  const sentences = [
    'Rotate the API key from the admin console before it expires.',
    'Invoices are issued on the first business day of each month.',
    'Backups run nightly and are kept for thirty days.',
    'Single sign-on needs the identity provider metadata URL.',
    'Export your data as JSON or CSV from the settings page.',
  ];
  return Array.from({ length: 48 }, (_, i) => {
    const n = [1, 2, 3, 5, 8, 13, 21, 34, 60][i % 9]!;
    return Array.from({ length: n }, (_, j) => sentences[(i + j) % sentences.length]).join(' ') + ` (${i})`;
  });
}

describe('token batches', () => {
  it('sorts longest first, caps rows × longest row at the budget, and lets a longer item run alone', () => {
    const lengths = [5, 300, 40, 40, 7, 120, 1, 40];
    const batches = tokenBatches(lengths, 100);
    expect(batches.flat().sort((a, b) => a - b)).toEqual(lengths.map((_, i) => i));
    expect(batches.flat().map((i) => lengths[i])).toEqual([...lengths].sort((a, b) => b - a));
    for (const b of batches) expect(b.length === 1 || b.length * lengths[b[0]!]! <= 100).toBe(true);
    expect(batches[0]).toEqual([1]); // 300 tokens: over budget, alone
    expect(batches[1]).toEqual([5]); // 120 tokens
    expect(batches[2]).toEqual([2, 3]); // 40 + 40 padded to 40: 80 ≤ 100, a third would make 120
  });
});

describe.skipIf(!present && !inCI)('MiniLM vectors do not depend on batching', () => {
  it('every text embedded in batches equals the same text embedded alone, byte for byte', async () => {
    const e = await loadEmbedder(MINILM, DIR);
    const all = texts();
    // The batches really mix lengths: several runs, and padding inside them.
    const tok = await loadTokenizer(e.info.dir);
    const lens = all.map((t) => tok.encode(t, e.info.max_tokens ?? 512).inputIds.length);
    const batches = tokenBatches(lens, BATCH_TOKENS);
    expect(batches.length).toBeGreaterThan(1);
    expect(batches.some((b) => new Set(b.map((i) => lens[i])).size > 1)).toBe(true);
    expect(Math.max(...lens)).toBe(256);

    const batched = await e.embedPassages(all);
    for (let i = 0; i < all.length; i++) {
      const [alone] = await e.embedPassages([all[i]!]);
      expect(bytes(batched[i]!).equals(bytes(alone!)), `text ${i} (${lens[i]} tokens)`).toBe(true);
    }
    // Input order does not matter either (it decides which texts share a batch).
    const reversed = await e.embedPassages([...all].reverse());
    reversed.reverse().forEach((v, i) => expect(bytes(v).equals(bytes(batched[i]!))).toBe(true));
  }, 600_000);

  it('the optimised copy of the graph gives the same bytes as optimising it on load, and a broken copy is rebuilt', async () => {
    const root = mkdtempSync(join(tmpdir(), 'rag-ortcache-'));
    try {
      cpSync(join(DIR, ...MINILM.split('/')), join(root, ...MINILM.split('/')), { recursive: true });
      const info = await resolveModel(MINILM, root);
      const copy = optimisedGraphPath(info)!;
      expect(copy.startsWith(join(root, ORT_CACHE_FOLDER))).toBe(true);
      expect(existsSync(copy)).toBe(false);
      const sample = texts().filter((_, i) => [0, 4, 8, 9, 17, 22].includes(i)); // 1 to 60 sentences

      // The single-file copy older versions kept under the same key goes when the new one is saved.
      const older = `${dirname(copy)}.onnx`;
      mkdirSync(join(root, ORT_CACHE_FOLDER), { recursive: true });
      writeFileSync(older, 'an older copy');
      const first = await OnnxEmbedder.load(info); // optimises the graph and saves the copy
      expect(existsSync(copy)).toBe(true);
      expect(existsSync(older)).toBe(false);
      // The graph is small; its weights sit beside it in a file of their own, mapped on load.
      const weights = join(dirname(copy), 'weights.bin');
      expect(statSync(copy).size).toBeLessThan(1e6);
      expect(statSync(weights).size).toBeGreaterThan(1e7);
      expect(readdirSync(join(root, ORT_CACHE_FOLDER)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
      const a = await first.embedPassages(sample);
      const second = await OnnxEmbedder.load(info); // opens the copy, optimisation off
      const b = await second.embedPassages(sample);
      a.forEach((v, i) => expect(bytes(v).equals(bytes(b[i]!))).toBe(true));

      // A broken graph, weights cut short (a full disk), a copy of the older layout (no marker:
      // weights not saved prepacked): each is rebuilt, same bytes.
      const layout = join(dirname(copy), 'layout');
      expect(existsSync(layout)).toBe(true);
      for (const [file, breakIt] of [
        [copy, () => writeFileSync(copy, 'not an onnx graph')],
        [weights, () => truncateSync(weights, 1000)],
        [layout, () => rmSync(layout)],
      ] as const) {
        breakIt();
        const again = await OnnxEmbedder.load(info);
        const c = await again.embedPassages(sample);
        a.forEach((v, i) => expect(bytes(v).equals(bytes(c[i]!)), file).toBe(true));
        expect(statSync(weights).size, file).toBeGreaterThan(1e7); // rebuilt in place
        expect(existsSync(layout), file).toBe(true);
      }
      // A folder left without its graph is replaced, not kept beside a copy that never loads.
      rmSync(copy);
      const fourth = await OnnxEmbedder.load(info);
      const d = await fourth.embedPassages(sample);
      a.forEach((v, i) => expect(bytes(v).equals(bytes(d[i]!))).toBe(true));
      expect(existsSync(copy)).toBe(true);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }, 600_000); // three real graph loads, one of them optimising: minutes on a loaded 2-core machine
});
