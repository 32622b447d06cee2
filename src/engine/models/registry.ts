/**
 * The models directory: ids map to folders (`owner/name` → `<dir>/owner/name`, Hugging Face
 * layout). This module finds models, works out what kind each is, and fingerprints the weights
 * it would actually load. Loading lives in the embedder/reranker modules.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, relative, resolve, sep } from 'node:path';
import { StoreError, UsageError } from '../errors.js';
import { jsonSyntaxError } from '../jsonc.js';

export type ModelKind = 'onnx-embedder' | 'static-embedder' | 'cross-encoder';
export type Pooling = 'mean' | 'cls' | 'max';

/** A model as `rag models list --json` shows it (snake_case; `rag-model.json` overrides keep their own names). */
export interface ModelInfo {
  id: string;
  kind: ModelKind;
  dir: string;
  dim?: number;
  size_bytes: number;
  weights_sha256: string;
  /** Weight files actually loaded, relative to dir (onnx graph + external data, or safetensors). */
  weight_files: string[];
  max_tokens?: number;
  pooling?: string;
  query_prefix?: string;
  passage_prefix?: string;
}

/**
 * Optional `rag-model.json` in a model folder overrides what detection guesses:
 * `{ "kind": "onnx-embedder"|"static-embedder"|"cross-encoder", "pooling": "mean"|"cls"|"max",
 *    "queryPrefix": "...", "passagePrefix": "...", "maxTokens": 256, "onnxFile": "onnx/model_int8.onnx",
 *    "dim": 384 }`
 */
export interface RagModelOverrides {
  kind?: ModelKind;
  pooling?: Pooling;
  queryPrefix?: string;
  passagePrefix?: string;
  maxTokens?: number;
  onnxFile?: string;
  dim?: number;
}

export const RAG_MODEL_FILE = 'rag-model.json';
const HASH_SIDECAR = '.rag-weights.json';
/** Encoders here are BERT-sized; nothing we run was trained past 512 positions. */
const MAX_TOKENS_CAP = 512;

/** Query instructions the model authors (and MTEB) use for retrieval; prefixes are part of the model's contract. */
const KNOWN_PREFIXES: { match: RegExp; query: string; passage: string }[] = [
  { match: /(^|\/)bge-(small|base|large)-en-v1\.5$/i, query: 'Represent this sentence for searching relevant passages: ', passage: '' },
  { match: /(^|\/)(multilingual-)?e5-(small|base|large)(-v2)?$/i, query: 'query: ', passage: 'passage: ' },
];

/** Preference when a folder holds several ONNX graphs: full precision first, then quantized ones. */
const ONNX_PREFERENCE = [
  'onnx/model.onnx',
  'model.onnx',
  'onnx/model_fp16.onnx',
  'onnx/model_quantized.onnx',
  'onnx/model_int8.onnx',
  'onnx/model_uint8.onnx',
  'onnx/model_q4.onnx',
];

export function modelsDir(): string {
  const env = process.env.RAG_MODELS_DIR;
  return env && env.trim() ? resolve(env) : join(homedir(), '.cache', 'rag', 'models');
}

export function validateModelId(id: string): void {
  const parts = id.split('/');
  if (!id || parts.length > 2 || parts.some((p) => !p || p === '.' || p === '..' || !/^[A-Za-z0-9._-]+$/.test(p))) {
    throw new UsageError(`invalid model id "${id}"`, 'use owner/name (letters, digits, . _ -), e.g. sentence-transformers/all-MiniLM-L6-v2');
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

async function readJson<T = Record<string, unknown>>(p: string): Promise<T | undefined> {
  let text: string;
  try {
    text = await readFile(p, 'utf8');
  } catch {
    return undefined;
  }
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    const { line, message } = jsonSyntaxError(text, err);
    throw new StoreError(`${p}${line === undefined ? '' : `:${line}`}: invalid JSON (${message})`);
  }
}

/** Reads only the JSON header of a safetensors file (cheap, even for big files). */
export async function safetensorsHeader(file: string): Promise<Record<string, { dtype: string; shape: number[] }>> {
  const fh = await open(file, 'r');
  try {
    const lenBuf = Buffer.alloc(8);
    await fh.read(lenBuf, 0, 8, 0);
    const len = Number(lenBuf.readBigUInt64LE(0));
    if (len <= 0 || len > 100 * 1024 * 1024) throw new StoreError(`${file}: bad safetensors header length`);
    const hdr = Buffer.alloc(len);
    await fh.read(hdr, 0, len, 8);
    return JSON.parse(hdr.toString('utf8'));
  } finally {
    await fh.close();
  }
}

async function listOnnx(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const sub of ['', 'onnx']) {
    try {
      for (const f of await readdir(join(dir, sub))) if (f.endsWith('.onnx')) found.push(sub ? `${sub}/${f}` : f);
    } catch {
      // no such folder
    }
  }
  return found;
}

export function pickOnnxFile(files: string[]): string | undefined {
  for (const pref of ONNX_PREFERENCE) if (files.includes(pref)) return pref;
  return [...files].sort()[0];
}

/** Whether a folder looks like a model at all (used when walking the models dir). */
async function looksLikeModel(dir: string): Promise<boolean> {
  for (const f of ['config.json', 'model.safetensors', RAG_MODEL_FILE, 'onnx']) if (await exists(join(dir, f))) return true;
  return false;
}

export interface DetectedModel {
  kind: ModelKind;
  weightFiles: string[];
  dim?: number;
  maxTokens?: number;
  pooling?: Pooling;
  queryPrefix?: string;
  passagePrefix?: string;
}

/** Works out kind, weights, pooling, prefixes and max length from the folder's files. */
export async function detectModel(id: string, dir: string): Promise<DetectedModel> {
  const overrides = (await readJson<RagModelOverrides>(join(dir, RAG_MODEL_FILE))) ?? {};
  const config = (await readJson(join(dir, 'config.json'))) ?? {};
  const onnxFiles = await listOnnx(dir);
  const hasSafetensors = await exists(join(dir, 'model.safetensors'));

  let kind = overrides.kind;
  let staticHeader: Record<string, { dtype: string; shape: number[] }> | undefined;
  if (!kind && hasSafetensors && onnxFiles.length === 0) {
    staticHeader = await safetensorsHeader(join(dir, 'model.safetensors'));
    if (staticHeader.embeddings) kind = 'static-embedder';
  }
  if (!kind) {
    const archs = Array.isArray(config.architectures) ? (config.architectures as string[]) : [];
    kind = archs.some((a) => /ForSequenceClassification$/.test(a)) || /rerank|cross-encoder/i.test(id) ? 'cross-encoder' : 'onnx-embedder';
  }

  if (kind === 'static-embedder') {
    staticHeader ??= await safetensorsHeader(join(dir, 'model.safetensors'));
    const emb = staticHeader.embeddings;
    if (!emb || emb.shape.length !== 2) throw new StoreError(`${join(dir, 'model.safetensors')}: a static model needs a 2-D "embeddings" tensor`);
    return { kind, weightFiles: ['model.safetensors'], dim: overrides.dim ?? emb.shape[1], maxTokens: overrides.maxTokens ?? MAX_TOKENS_CAP, pooling: 'mean' };
  }

  const onnxFile = overrides.onnxFile ?? pickOnnxFile(onnxFiles);
  if (!onnxFile || !(await exists(join(dir, onnxFile)))) {
    throw new StoreError(`model ${id} in ${dir} has no ONNX graph${overrides.onnxFile ? ` (${overrides.onnxFile} is missing)` : ''}`, 'put the exported graph at onnx/model.onnx (Hugging Face layout)');
  }
  const weightFiles = [onnxFile];
  for (const extra of [`${onnxFile}_data`, `${onnxFile}.data`]) if (await exists(join(dir, extra))) weightFiles.push(extra);

  const stCfg = await readJson<{ max_seq_length?: number }>(join(dir, 'sentence_bert_config.json'));
  const tokCfg = await readJson<{ model_max_length?: number }>(join(dir, 'tokenizer_config.json'));
  const maxPos = typeof config.max_position_embeddings === 'number' ? config.max_position_embeddings : MAX_TOKENS_CAP;
  const maxTokens = overrides.maxTokens ?? Math.min(stCfg?.max_seq_length ?? tokCfg?.model_max_length ?? MAX_TOKENS_CAP, MAX_TOKENS_CAP, maxPos);

  if (kind === 'cross-encoder') return { kind, weightFiles, maxTokens };

  const poolCfg = await readJson<Record<string, unknown>>(join(dir, '1_Pooling', 'config.json'));
  let pooling: Pooling = 'mean';
  if (poolCfg?.pooling_mode_cls_token) pooling = 'cls';
  else if (poolCfg?.pooling_mode_max_tokens) pooling = 'max';
  else if (!poolCfg && /(^|\/)bge-/i.test(id)) pooling = 'cls';
  pooling = overrides.pooling ?? pooling;

  const stPrompts = (await readJson<{ prompts?: Record<string, string> }>(join(dir, 'config_sentence_transformers.json')))?.prompts;
  const known = KNOWN_PREFIXES.find((k) => k.match.test(id));
  const queryPrefix = overrides.queryPrefix ?? (stPrompts?.query || known?.query || undefined);
  const passagePrefix = overrides.passagePrefix ?? (stPrompts?.passage || stPrompts?.document || known?.passage || undefined);
  const dim = overrides.dim ?? (typeof poolCfg?.word_embedding_dimension === 'number' ? poolCfg.word_embedding_dimension : typeof config.hidden_size === 'number' ? config.hidden_size : undefined);
  return { kind, weightFiles, dim, maxTokens, pooling, queryPrefix, passagePrefix };
}

async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

type HashCache = Record<string, { stamp: string; sha256: string }>;

/**
 * sha256 of the weights: of the one file when there is one, else of the files' bytes in order.
 * Cached in a sidecar keyed by size+mtime, so listing a big models dir stays fast.
 */
export async function weightsFingerprint(dir: string, files: string[]): Promise<{ sha256: string; sizeBytes: number }> {
  const stats = await Promise.all(files.map((f) => stat(join(dir, f))));
  const sizeBytes = stats.reduce((a, s) => a + s.size, 0);
  const key = files.join('|');
  const stamp = stats.map((s) => `${s.size}:${s.mtimeMs}`).join(',');
  const sidecar = join(dir, HASH_SIDECAR);
  const cache = ((await readJson<HashCache>(sidecar).catch(() => undefined)) ?? {}) as HashCache;
  const hit = cache[key];
  if (hit && hit.stamp === stamp) return { sha256: hit.sha256, sizeBytes };
  let sha256: string;
  if (files.length === 1) sha256 = await sha256File(join(dir, files[0]));
  else {
    const h = createHash('sha256');
    for (const f of files) for await (const chunk of createReadStream(join(dir, f))) h.update(chunk as Buffer);
    sha256 = h.digest('hex');
  }
  cache[key] = { stamp, sha256 };
  await writeFile(sidecar, JSON.stringify(cache, null, 2) + '\n').catch(() => undefined); // read-only model dirs are fine
  return { sha256, sizeBytes };
}

async function infoFor(id: string, dir: string): Promise<ModelInfo> {
  const d = await detectModel(id, dir);
  const { sha256, sizeBytes } = await weightsFingerprint(dir, d.weightFiles);
  const info: ModelInfo = { id, kind: d.kind, dir, size_bytes: sizeBytes, weights_sha256: sha256, weight_files: d.weightFiles };
  if (d.dim !== undefined) info.dim = d.dim;
  if (d.maxTokens !== undefined) info.max_tokens = d.maxTokens;
  if (d.pooling !== undefined) info.pooling = d.pooling;
  if (d.queryPrefix) info.query_prefix = d.queryPrefix;
  if (d.passagePrefix) info.passage_prefix = d.passagePrefix;
  return info;
}

/** Folders under dir (depth 1 or 2) that hold a model, as ids. */
export async function listModelIds(dir = modelsDir()): Promise<string[]> {
  const ids: string[] = [];
  let top: string[];
  try {
    top = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name);
  } catch {
    return [];
  }
  for (const a of top.sort()) {
    if (await looksLikeModel(join(dir, a))) {
      ids.push(a);
      continue;
    }
    let inner: string[] = [];
    try {
      inner = (await readdir(join(dir, a), { withFileTypes: true })).filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name);
    } catch {
      continue;
    }
    for (const b of inner.sort()) if (await looksLikeModel(join(dir, a, b))) ids.push(`${a}/${b}`);
  }
  return ids;
}

export async function listModels(dir = modelsDir()): Promise<ModelInfo[]> {
  const out: ModelInfo[] = [];
  for (const id of await listModelIds(dir)) out.push(await infoFor(id, join(dir, ...id.split('/'))));
  return out;
}

export async function resolveModel(id: string, dir = modelsDir()): Promise<ModelInfo> {
  validateModelId(id);
  const folder = join(dir, ...id.split('/'));
  if (relative(dir, folder).startsWith('..') || folder.includes(`${sep}..${sep}`)) throw new UsageError(`invalid model id "${id}"`);
  if (!(await looksLikeModel(folder))) {
    const available = await listModelIds(dir);
    // Exit 3, not 2: the command is fine, the machine lacks the model (README "Exit codes").
    throw new StoreError(
      `model "${id}" is not in ${dir}${available.length ? ` (available: ${available.join(', ')})` : ' (no models installed)'}`,
      'run `rag models add DIR` for a local folder, `rag models pull ID` where the hub is reachable, or scripts/prepare-models.sh; RAG_MODELS_DIR selects the models directory',
    );
  }
  return infoFor(id, folder);
}
