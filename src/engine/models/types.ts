import type { ModelInfo } from './registry.js';

/** What the index and search stages need of a model; implementations live beside this file. */
export interface Embedder {
  info: ModelInfo;
  dim: number;
  embedQueries(texts: string[]): Promise<Float32Array[]>;
  embedPassages(texts: string[], onProgress?: (done: number, total: number) => void): Promise<Float32Array[]>;
}

export interface Reranker {
  info: ModelInfo;
  score(query: string, passages: string[]): Promise<number[]>;
}
