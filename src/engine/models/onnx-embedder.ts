/**
 * Transformer sentence embedder run from an ONNX graph: tokenize (with the model's own special
 * tokens and truncation), run, pool as the model's sentence-transformers config says, L2-normalise.
 */
import * as ort from 'onnxruntime-node';
import { StoreError } from '../errors.js';
import type { Embedder } from './types.js';
import { buildFeeds, openSession, outputAsFloat, tokenBatches } from './onnx-session.js';
import type { ModelInfo } from './registry.js';
import { loadTokenizer, type ModelTokenizer } from './tokenizer.js';
import { l2normalize } from './vectors.js';

/**
 * Padded tokens per run. A passage's vector does not depend on the batch it runs in (padding is
 * masked out exactly, see embed()), so this only trades per-run overhead against the size of the
 * activations: past a few thousand tokens they fall out of the CPU caches and the arena grows.
 */
export const BATCH_TOKENS = 4096;

export function pool(hidden: Float32Array, mask: Uint8Array, batch: number, seqLen: number, dim: number, mode: string): Float32Array[] {
  const out: Float32Array[] = [];
  for (let b = 0; b < batch; b++) {
    const v = new Float32Array(dim);
    if (mode === 'cls') {
      v.set(hidden.subarray(b * seqLen * dim, b * seqLen * dim + dim));
    } else if (mode === 'max') {
      v.fill(-Infinity);
      for (let t = 0; t < seqLen; t++) {
        if (!mask[b * seqLen + t]) continue;
        const base = (b * seqLen + t) * dim;
        for (let d = 0; d < dim; d++) if (hidden[base + d] > v[d]) v[d] = hidden[base + d];
      }
    } else {
      let count = 0;
      for (let t = 0; t < seqLen; t++) {
        if (!mask[b * seqLen + t]) continue;
        count++;
        const base = (b * seqLen + t) * dim;
        for (let d = 0; d < dim; d++) v[d] += hidden[base + d];
      }
      if (count > 0) for (let d = 0; d < dim; d++) v[d] /= count;
    }
    out.push(l2normalize(v));
  }
  return out;
}

export class OnnxEmbedder implements Embedder {
  dim: number;
  private constructor(
    readonly info: ModelInfo,
    private readonly session: ort.InferenceSession,
    private readonly tokenizer: ModelTokenizer,
    private readonly padId: number,
  ) {
    this.dim = info.dim ?? 0;
  }

  static async load(info: ModelInfo): Promise<OnnxEmbedder> {
    const [session, tokenizer] = await Promise.all([openSession(info), loadTokenizer(info.dir)]);
    const e = new OnnxEmbedder(info, session, tokenizer, tokenizer.padId);
    if (!e.dim) e.dim = (await e.embed(['dimension probe']))[0].length;
    return e;
  }

  embedQueries(texts: string[]): Promise<Float32Array[]> {
    const p = this.info.query_prefix ?? '';
    return this.embed(texts.map((t) => p + t));
  }

  embedPassages(texts: string[], onProgress?: (done: number, total: number) => void): Promise<Float32Array[]> {
    const p = this.info.passage_prefix ?? '';
    return this.embed(texts.map((t) => p + t), onProgress);
  }

  /**
   * Batches are formed by length (longest first) under a token budget. A text's vector is the
   * same bytes whatever its batchmates: padded positions carry attention_mask 0, which the graph
   * turns into a −3.4e38 bias before the softmax, so their weights are exactly 0 and add exact
   * zeros to every sum over keys; all other ops are per token; pooling reads real tokens only.
   * test/models/embedding-batches.test.ts checks it against embedding each text alone.
   */
  private async embed(texts: string[], onProgress?: (done: number, total: number) => void): Promise<Float32Array[]> {
    const max = this.info.max_tokens ?? 512;
    const encoded = texts.map((t) => this.tokenizer.encode(t, max));
    const result: Float32Array[] = new Array(texts.length);
    let done = 0;
    for (const idx of tokenBatches(encoded.map((e) => e.inputIds.length), BATCH_TOKENS)) {
      const { feeds, seqLen, mask } = buildFeeds(this.session, idx.map((i) => encoded[i]), this.padId);
      const outputs = await this.session.run(feeds);
      const vectors = this.readOutput(outputs, idx.length, seqLen, mask);
      idx.forEach((i, k) => (result[i] = vectors[k]));
      done += idx.length;
      onProgress?.(done, texts.length);
    }
    return result;
  }

  private readOutput(outputs: ort.InferenceSession.OnnxValueMapType, n: number, seqLen: number, mask: Uint8Array): Float32Array[] {
    const names = this.session.outputNames;
    const pooledName = names.find((x) => x === 'sentence_embedding' || x === 'pooler_output_normalized');
    const tokenName = names.find((x) => x === 'last_hidden_state' || x === 'token_embeddings') ?? names[0];
    // Prefer token states so pooling follows the model's config; a graph that only emits a pooled vector is used as is.
    const t = outputs[tokenName] as ort.Tensor;
    if (t.dims.length === 3) return pool(outputAsFloat(t), mask, n, seqLen, Number(t.dims[2]), this.info.pooling ?? 'mean');
    const p = (pooledName ? outputs[pooledName] : t) as ort.Tensor;
    if (p.dims.length !== 2) throw new StoreError(`model ${this.info.id}: unexpected output shape [${p.dims.join(', ')}]`);
    const dim = Number(p.dims[1]);
    const data = outputAsFloat(p);
    return Array.from({ length: n }, (_, b) => l2normalize(Float32Array.from(data.subarray(b * dim, (b + 1) * dim))));
  }
}
