/**
 * Cross-encoder reranker: each (query, passage) pair goes through the sequence-classification
 * graph together; the score is the relevance logit (single-label models), or for a two-label
 * head the log-odds of the "relevant" label (logit[1] − logit[0]). Pairs are cut to the model's
 * max length longest-first, as sentence-transformers' CrossEncoder does.
 */
import * as ort from 'onnxruntime-node';
import { StoreError } from '../errors.js';
import type { Reranker } from './types.js';
import { buildFeeds, lengthOrder, openSession, outputAsFloat } from './onnx-session.js';
import type { ModelInfo } from './registry.js';
import { loadTokenizer, type ModelTokenizer } from './tokenizer.js';

const BATCH = 16;

export class CrossEncoderReranker implements Reranker {
  private constructor(
    readonly info: ModelInfo,
    private readonly session: ort.InferenceSession,
    private readonly tokenizer: ModelTokenizer,
    private readonly padId: number,
  ) {}

  static async load(info: ModelInfo): Promise<CrossEncoderReranker> {
    const [session, tokenizer] = await Promise.all([openSession(info), loadTokenizer(info.dir)]);
    return new CrossEncoderReranker(info, session, tokenizer, tokenizer.padId);
  }

  async score(query: string, passages: string[]): Promise<number[]> {
    const max = this.info.max_tokens ?? 512;
    const encoded = passages.map((p) => this.tokenizer.encodePair(query, p, max));
    const order = lengthOrder(encoded.map((e) => e.inputIds.length));
    const scores = new Array<number>(passages.length);
    const outName = this.session.outputNames.includes('logits') ? 'logits' : this.session.outputNames[0];
    for (let start = 0; start < order.length; start += BATCH) {
      const idx = order.slice(start, start + BATCH);
      const { feeds } = buildFeeds(this.session, idx.map((i) => encoded[i]), this.padId);
      const out = (await this.session.run(feeds))[outName] as ort.Tensor;
      const data = outputAsFloat(out);
      const labels = out.dims.length === 2 ? Number(out.dims[1]) : 1;
      if (labels < 1 || labels > 2) throw new StoreError(`reranker ${this.info.id} has ${labels} output labels; expected 1 (or 2)`);
      idx.forEach((i, k) => (scores[i] = labels === 1 ? data[k] : data[k * 2 + 1] - data[k * 2]));
    }
    return scores;
  }
}
