/**
 * Model2Vec static embedder. As model2vec does it: tokenize without special tokens, drop the
 * unknown token, keep at most maxTokens ids, take the mean of `embeddings[mapping[id]] * weights[id]`
 * (mapping and weights exist in vocabulary-quantized models; otherwise row id, weight 1), then
 * L2-normalise. Text is first cut to maxTokens × the median token length in characters, as model2vec
 * does, so huge inputs stay cheap to tokenize.
 */
import { join } from 'node:path';
import { StoreError } from '../errors.js';
import type { Embedder } from './types.js';
import { l2normalize } from './vectors.js';
import type { ModelInfo } from './registry.js';
import { readSafetensors } from './safetensors.js';
import { loadTokenizer, type ModelTokenizer } from './tokenizer.js';

export class StaticEmbedder implements Embedder {
  readonly dim: number;
  private readonly maxChars: number;

  private constructor(
    readonly info: ModelInfo,
    private readonly tokenizer: ModelTokenizer,
    private readonly embeddings: Float64Array,
    private readonly mapping: Float64Array | undefined,
    private readonly weights: Float64Array | undefined,
    private readonly vocabSize: number,
    medianTokenLength: number,
  ) {
    this.dim = info.dim ?? 0;
    this.maxChars = (info.max_tokens ?? 512) * Math.max(1, medianTokenLength);
  }

  static async load(info: ModelInfo): Promise<StaticEmbedder> {
    const file = join(info.dir, 'model.safetensors');
    const tensors = await readSafetensors(file);
    const emb = tensors.get('embeddings');
    if (!emb || emb.shape.length !== 2) throw new StoreError(`${file}: no 2-D "embeddings" tensor`);
    const mapping = tensors.get('mapping')?.data;
    const weights = tensors.get('weights')?.data;
    const rows = emb.shape[0];
    const vocab = mapping?.length ?? weights?.length ?? rows;
    if (mapping) for (const m of mapping) if (m < 0 || m >= rows) throw new StoreError(`${file}: mapping points past the ${rows} embedding rows`);
    if (weights && mapping && weights.length !== mapping.length) throw new StoreError(`${file}: weights and mapping differ in length`);
    const tokenizer = await loadTokenizer(info.dir);
    const lengths = [...tokenizer.vocabulary()].map((t) => t.length).sort((a, b) => a - b);
    const median = lengths.length ? lengths[Math.floor(lengths.length / 2)] : 1;
    return new StaticEmbedder({ ...info, dim: emb.shape[1] }, tokenizer, emb.data, mapping, weights, vocab, median);
  }

  /** Token ids that count for a text (exposed for tests and debugging). */
  tokenIds(text: string): number[] {
    const unk = this.tokenizer.unkTokenId;
    const ids = this.tokenizer.idsWithoutSpecials(text.slice(0, this.maxChars)).filter((id) => id !== unk && id < this.vocabSize);
    return ids.slice(0, this.info.max_tokens ?? 512);
  }

  embedOne(text: string): Float32Array {
    const dim = this.dim;
    const acc = new Float64Array(dim);
    const ids = this.tokenIds(text);
    for (const id of ids) {
      const row = this.mapping ? this.mapping[id] : id;
      const w = this.weights ? this.weights[id] : 1;
      const base = row * dim;
      for (let d = 0; d < dim; d++) acc[d] += this.embeddings[base + d] * w;
    }
    const v = new Float32Array(dim);
    if (ids.length) for (let d = 0; d < dim; d++) v[d] = acc[d] / ids.length;
    return l2normalize(v);
  }

  async embedQueries(texts: string[]): Promise<Float32Array[]> {
    return texts.map((t) => this.embedOne(t));
  }

  async embedPassages(texts: string[], onProgress?: (done: number, total: number) => void): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    for (let i = 0; i < texts.length; i++) {
      out.push(this.embedOne(texts[i]));
      if (onProgress && ((i + 1) % 256 === 0 || i + 1 === texts.length)) onProgress(i + 1, texts.length);
    }
    return out;
  }
}
