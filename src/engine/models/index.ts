/**
 * Local models: embedders (ONNX transformer or Model2Vec static) and cross-encoder rerankers,
 * looked up by id in the models dir. Nothing here downloads at run time except `pullModel`,
 * which the user asks for explicitly.
 */
import { resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { modelsDir, resolveModel } from './registry.js';
import type { Embedder, Reranker } from './types.js';

export { listModels, modelsDir, resolveModel, type ModelInfo, type ModelKind, type RagModelOverrides } from './registry.js';
export { addModel, pullModel } from './hub.js';

export type { Embedder, Reranker } from './types.js';

/** One load per model folder per process: sessions are big and slow to open. */
const embedders = new Map<string, Promise<Embedder>>();
const rerankers = new Map<string, Promise<Reranker>>();

function cached<T>(cache: Map<string, Promise<T>>, key: string, make: () => Promise<T>): Promise<T> {
  let p = cache.get(key);
  if (!p) {
    p = make();
    cache.set(key, p);
    p.catch(() => cache.delete(key)); // a failed load may succeed after the user fixes the folder
  }
  return p;
}

export async function loadEmbedder(id: string, dir = modelsDir()): Promise<Embedder> {
  const root = resolve(dir);
  return cached(embedders, `${root}\0${id}`, async () => {
    const info = await resolveModel(id, root);
    if (info.kind === 'cross-encoder') throw new UsageError(`model ${id} is a cross-encoder reranker, not an embedder`, 'pass it as the reranker (--rerank) and pick an embedding model for the index');
    // Runtimes are imported on first use, and only the one this model needs: a BM25 query or an
    // ingest never loads onnxruntime, a static model never does either.
    if (info.kind === 'static-embedder') return (await import('./static-embedder.js')).StaticEmbedder.load(info);
    return (await import('./onnx-embedder.js')).OnnxEmbedder.load(info);
  });
}

export async function loadReranker(id: string, dir = modelsDir()): Promise<Reranker> {
  const root = resolve(dir);
  return cached(rerankers, `${root}\0${id}`, async () => {
    const info = await resolveModel(id, root);
    if (info.kind !== 'cross-encoder') throw new UsageError(`model ${id} is an embedder (${info.kind}), not a cross-encoder reranker`, 'rerank with a cross-encoder such as cross-encoder/ms-marco-MiniLM-L-6-v2, or add rag-model.json {"kind":"cross-encoder"} to the folder');
    return (await import('./reranker.js')).CrossEncoderReranker.load(info);
  });
}
