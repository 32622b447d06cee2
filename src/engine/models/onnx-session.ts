/**
 * Shared ONNX Runtime plumbing: one session per graph (opened from an optimised copy kept beside
 * the models), int64 feeds, batches sorted by length and capped by tokens.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { arch, availableParallelism, cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { StoreError, errorMessage } from '../errors.js';
import type { ModelInfo } from './registry.js';
import type { Encoded } from './tokenizer.js';

/** Graphs up to this size get an optimised copy; a larger one would not fit in one protobuf file. */
const OPTIMISED_COPY_MAX_BYTES = 512 * 2 ** 20;
/** Where optimised graphs are kept, under the models dir (dot folders are not models). */
export const ORT_CACHE_FOLDER = '.ort-cache';

// Idle pool threads sleep instead of spinning: after a query's embedding, a spinning thread
// takes a core from LanceDB's search. Measured on a loaded 2-core machine, 150 SciFact queries,
// embed + BM25 + vector: p50 36 ms without spinning against 91 ms with it; bulk embedding
// throughput was no lower (3.7 against 3.3 passages/s). Threading only: same vectors.
const SESSION_CONFIG = { intra_op: { allow_spinning: '0' } };

function sessionOptions(): ort.InferenceSession.SessionOptions {
  return {
    intraOpNumThreads: Number(process.env.RAG_ORT_THREADS) || availableParallelism(),
    interOpNumThreads: 1,
    executionProviders: ['cpu'],
    // ORT warns on stderr when it saves a graph optimised for this machine; that is the point here.
    logSeverityLevel: 3,
    extra: { session: SESSION_CONFIG },
  };
}

/** What the optimised graph depends on: the weights, the runtime, and this machine's CPU features. */
function cpuSignature(): string {
  let flags = '';
  try {
    flags = /^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? '';
  } catch {
    // not Linux: the model name stands for the features
  }
  return `${arch()}|${cpus()[0]?.model ?? ''}|${flags}`;
}

/** The files of an optimised copy: the graph and, beside it, its weights (see openSession). */
const COPY_GRAPH = 'model.onnx';
const COPY_WEIGHTS = 'weights.bin';
/**
 * Written last into a copy's folder: which layout it has. A copy of an older layout (no marker:
 * weights not saved prepacked) still gives the same bytes, so it is replaced when the folder is
 * writable and used as it is when not.
 */
const COPY_LAYOUT = 'layout';
const LAYOUT = 'prepacked-1\n';

/**
 * The optimised copy's graph file, `.ort-cache/<key>/model.onnx`, or null when the graph does not
 * qualify (external data, too big).
 */
export function optimisedGraphPath(info: ModelInfo): string | null {
  if (info.weight_files.length !== 1 || info.size_bytes > OPTIMISED_COPY_MAX_BYTES) return null;
  const modelsRoot = resolve(info.dir, ...info.id.split('/').map(() => '..'));
  const key = createHash('sha256').update(`${info.weights_sha256}\n${ort.env.versions.common}\n${cpuSignature()}`).digest('hex').slice(0, 24);
  return join(modelsRoot, ORT_CACHE_FOLDER, key, COPY_GRAPH);
}

/**
 * Opens the model's graph. Optimising a graph (constant folding the int8 weights to float, fusing
 * attention and layer norms) is most of what opening it costs, so the first open saves the result
 * and later ones load that with optimisation off: same graph, same kernels, same vectors (tested),
 * a fraction of the time. The copy keeps its weights in a file of their own beside the graph:
 * onnxruntime maps that file instead of parsing 90 MB of protobuf, which cut MiniLM's load from
 * ~230 to ~75 ms and its resident memory from 210 to 123 MB, with the same output bytes
 * (README, Performance). A copy that cannot be written or read is skipped, never an error.
 */
export async function openSession(info: ModelInfo): Promise<ort.InferenceSession> {
  const file = join(info.dir, info.weight_files[0]);
  const copy = optimisedGraphPath(info);
  const copyDir = copy ? dirname(copy) : undefined;
  // A copy of an older layout goes (in a read-only models dir it stays, and is opened below).
  if (copy && exists(copy) && !currentLayout(copyDir!)) dropCopy(copyDir!);
  if (copy && exists(copy)) {
    try {
      return await ort.InferenceSession.create(copy, { ...sessionOptions(), graphOptimizationLevel: 'disabled' });
    } catch {
      // Unreadable (cut short by a full disk, say): optimise again below, on load if this is read-only.
      dropCopy(copyDir!);
    }
  }
  let tmp: string | undefined;
  if (copyDir) {
    try {
      // Graph and weights are written into a private folder, published by one rename of it.
      tmp = `${copyDir}.${process.pid}.tmp`;
      rmSync(tmp, { recursive: true, force: true });
      mkdirSync(tmp, { recursive: true });
    } catch {
      tmp = undefined; // read-only models dir: open without keeping a copy
    }
  }
  if (tmp) {
    try {
      const session = await ort.InferenceSession.create(file, {
        ...sessionOptions(),
        graphOptimizationLevel: 'all',
        optimizedModelFilePath: join(tmp, COPY_GRAPH),
        extra: {
          session: {
            ...SESSION_CONFIG,
            // Named relative to the graph, so the folder can be renamed whole.
            optimized_model_external_initializers_file_name: COPY_WEIGHTS,
            optimized_model_external_initializers_min_size_in_bytes: '1024',
            // The weights are also saved as the CPU kernels repack them on load, so a later open
            // maps them instead of repacking: MiniLM opens in ~50 ms instead of ~70, same output
            // bytes (tested), ~45 MB more on disk and up to ~30 MB more resident.
            save_external_prepacked_constant_initializers: '1',
          },
        },
      });
      writeFileSync(join(tmp, COPY_LAYOUT), LAYOUT);
      publish(tmp, copyDir!);
      return session;
    } catch {
      rmSync(tmp, { recursive: true, force: true }); // the copy could not be written (disk full, say): open without it
    }
  }
  try {
    return await ort.InferenceSession.create(file, { ...sessionOptions(), graphOptimizationLevel: 'all' });
  } catch (err) {
    throw new StoreError(`cannot load ONNX graph ${file}: ${errorMessage(err)}`, 'check the file is a complete ONNX model (re-run scripts/prepare-models.sh or `rag models add`)');
  }
}

/** Removes a copy's folder; in a read-only models dir it stays. */
function dropCopy(dir: string): void {
  try {
    rmSync(dir, { recursive: true, force: true });
  } catch {
    // read-only: kept
  }
}

function currentLayout(dir: string): boolean {
  try {
    return readFileSync(join(dir, COPY_LAYOUT), 'utf8') === LAYOUT;
  } catch {
    return false;
  }
}

function exists(p: string): boolean {
  try {
    return statSync(p).size > 0;
  } catch {
    return false;
  }
}

/**
 * Whole folder or nothing: readers never see a half-written copy. A concurrent writer that
 * published first wins (the rename onto its folder fails) and this one's folder is dropped; a
 * folder left without its graph (emptied by hand, say) is replaced rather than kept forever. The
 * single-file copy older versions kept under the same key is removed.
 */
function publish(tmp: string, dest: string): void {
  try {
    try {
      renameSync(tmp, dest);
    } catch (err) {
      if (exists(join(dest, COPY_GRAPH))) throw err;
      rmSync(dest, { recursive: true, force: true });
      renameSync(tmp, dest);
    }
    rmSync(`${dest}.onnx`, { force: true });
  } catch {
    rmSync(tmp, { recursive: true, force: true });
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

/**
 * Batches of item indices, longest first, each holding at most `maxTokens` padded tokens (rows ×
 * its longest row). Capping tokens rather than rows keeps every run's activations (and so the
 * runtime's memory arena) the same size whatever the texts' lengths; a longer item runs alone.
 */
export function tokenBatches(lengths: number[], maxTokens: number): number[][] {
  const out: number[][] = [];
  let batch: number[] = [];
  let width = 0;
  for (const i of lengthOrder(lengths)) {
    if (batch.length && (batch.length + 1) * width > maxTokens) {
      out.push(batch);
      batch = [];
    }
    if (!batch.length) width = Math.max(1, lengths[i]!);
    batch.push(i);
  }
  if (batch.length) out.push(batch);
  return out;
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
