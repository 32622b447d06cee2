/** Shared ONNX Runtime plumbing: one session per graph, int64 feeds, batches sorted by length. */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { env } from '@huggingface/transformers';
import * as ort from 'onnxruntime-node';
import { StoreError, errorMessage } from '../errors.js';
import type { ModelInfo } from './registry.js';
import type { Encoded } from './tokenizer.js';

/** transformers.js must never reach for the hub: everything comes from the models dir. */
export function lockDownTransformers(modelsDir: string): void {
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = modelsDir;
}

export async function openSession(info: ModelInfo): Promise<ort.InferenceSession> {
  const file = join(info.dir, info.weightFiles[0]);
  try {
    return await ort.InferenceSession.create(file, {
      intraOpNumThreads: Number(process.env.RAG_ORT_THREADS) || availableParallelism(),
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      executionProviders: ['cpu'],
    });
  } catch (err) {
    throw new StoreError(`cannot load ONNX graph ${file}: ${errorMessage(err)}`, 'check the file is a complete ONNX model (re-run scripts/prepare-models.sh or `rag models add`)');
  }
}

/** Pads a batch and builds the feeds the graph asks for (input_ids, attention_mask, token_type_ids). */
export function buildFeeds(session: ort.InferenceSession, batch: Encoded[], padId: number): { feeds: Record<string, ort.Tensor>; seqLen: number; mask: Uint8Array } {
  const seqLen = Math.max(1, ...batch.map((e) => e.inputIds.length));
  const n = batch.length;
  const ids = new BigInt64Array(n * seqLen).fill(BigInt(padId));
  const att = new BigInt64Array(n * seqLen);
  const types = new BigInt64Array(n * seqLen);
  const mask = new Uint8Array(n * seqLen);
  batch.forEach((e, b) => {
    e.inputIds.forEach((id, t) => {
      ids[b * seqLen + t] = BigInt(id);
      att[b * seqLen + t] = 1n;
      types[b * seqLen + t] = BigInt(e.tokenTypeIds[t] ?? 0);
      mask[b * seqLen + t] = 1;
    });
  });
  const dims = [n, seqLen];
  const feeds: Record<string, ort.Tensor> = {};
  for (const name of session.inputNames) {
    if (name === 'input_ids') feeds[name] = new ort.Tensor('int64', ids, dims);
    else if (name === 'attention_mask') feeds[name] = new ort.Tensor('int64', att, dims);
    else if (name === 'token_type_ids') feeds[name] = new ort.Tensor('int64', types, dims);
    else if (name === 'position_ids') {
      const pos = new BigInt64Array(n * seqLen);
      for (let b = 0; b < n; b++) for (let t = 0; t < seqLen; t++) pos[b * seqLen + t] = BigInt(t);
      feeds[name] = new ort.Tensor('int64', pos, dims);
    } else throw new StoreError(`ONNX graph wants an input "${name}" that rag does not know how to fill`);
  }
  return { feeds, seqLen, mask };
}

/** Indices of items sorted by length (longest first), so each batch pads little. */
export function lengthOrder(lengths: number[]): number[] {
  return lengths.map((l, i) => [l, i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]).map(([, i]) => i);
}

export function outputAsFloat(t: ort.Tensor): Float32Array {
  if (t.type === 'float32') return t.data as Float32Array;
  if (t.type === 'float16') {
    // onnxruntime-node hands float16 back as raw Uint16 bits
    const raw = t.data as Uint16Array;
    const out = new Float32Array(raw.length);
    for (let i = 0; i < raw.length; i++) {
      const h = raw[i];
      const s = h & 0x8000 ? -1 : 1;
      const e = (h >> 10) & 0x1f;
      const f = h & 0x3ff;
      out[i] = e === 0 ? s * 2 ** -14 * (f / 1024) : e === 31 ? (f ? NaN : s * Infinity) : s * 2 ** (e - 15) * (1 + f / 1024);
    }
    return out;
  }
  return Float32Array.from(t.data as ArrayLike<number>);
}

export function l2normalize(v: Float32Array): Float32Array {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  const n = Math.sqrt(s);
  if (n > 0) for (let i = 0; i < v.length; i++) v[i] /= n;
  return v;
}
