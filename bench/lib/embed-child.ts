/**
 * One embedding path, in its own process so its peak RSS is its own (run by embedding.ts):
 *
 *   node --import tsx bench/lib/embed-child.ts PATH SPEC.json OUT.json
 *
 * PATH is one of
 * - `before`:   the embedder as it was before token-capped batches (commit 33f11e1): a session
 *               opened from the original graph with full optimisation, texts in the indexer's
 *               groups of 512, each sorted by length and cut into batches of 32 rows;
 * - `pipeline`: the product, `embedder.embedPassages` on the same groups of 512;
 * - `raw`:      the bare onnxruntime session on the pipeline's own length-sorted, token-capped
 *               batches, tensors built beforehand, so only `session.run` is timed.
 * All three pool and normalise alike, so their vectors can be compared byte for byte.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { loadEmbedder, resolveModel } from '../../src/engine/models/index.js';
import { BATCH_TOKENS, pool } from '../../src/engine/models/onnx-embedder.js';
import { buildFeeds, lengthOrder, openSession, tokenBatches } from '../../src/engine/models/onnx-session.js';
import { loadTokenizer } from '../../src/engine/models/tokenizer.js';

export interface EmbedSpec {
  model: string;
  texts: string[];
  /** The indexer hands the embedder this many chunks at a time. */
  group: number;
}

export interface EmbedChildResult {
  path: string;
  seconds: number;
  cpuSeconds: number;
  /** rows × padded length summed over the runs: the tokens the graph actually computed. */
  paddedTokens: number;
  realTokens: number;
  runs: number;
  maxRssMiB: number;
  /** sha256 of every vector's bytes in input order. */
  vectorsSha256: string;
  /** The first vectors, for comparison with the Python peer. */
  sample: number[][];
}

const BEFORE_BATCH = 32;
const groups = <T>(xs: T[], n: number) => Array.from({ length: Math.ceil(xs.length / n) }, (_, i) => xs.slice(i * n, (i + 1) * n));

async function main(): Promise<void> {
  const [which, specFile, outFile] = process.argv.slice(2) as [string, string, string];
  const spec = JSON.parse(readFileSync(specFile, 'utf8')) as EmbedSpec;
  const info = await resolveModel(spec.model);
  const max = info.max_tokens ?? 512;
  const tokenizer = await loadTokenizer(info.dir);
  let padded = 0;
  let real = 0;
  let runs = 0;
  const count = (batchLens: number[]) => {
    padded += batchLens.length * Math.max(...batchLens);
    real += batchLens.reduce((a, b) => a + b, 0);
    runs++;
  };

  let embedAll: (texts: string[]) => Promise<Float32Array[]>;
  if (which === 'before') {
    const session = await ort.InferenceSession.create(path.join(info.dir, info.weight_files[0]!), {
      intraOpNumThreads: availableParallelism(),
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      executionProviders: ['cpu'],
    });
    embedAll = async (texts) => {
      const out: Float32Array[] = [];
      for (const group of groups(texts, spec.group)) {
        const encoded = group.map((t) => tokenizer.encode(t, max));
        const order = lengthOrder(encoded.map((e) => e.inputIds.length));
        const result: Float32Array[] = new Array(group.length);
        for (let s = 0; s < order.length; s += BEFORE_BATCH) {
          const idx = order.slice(s, s + BEFORE_BATCH);
          count(idx.map((i) => encoded[i]!.inputIds.length));
          const { feeds, seqLen, mask } = buildFeeds(session, idx.map((i) => encoded[i]!), tokenizer.padId);
          const t = (await session.run(feeds)).last_hidden_state as ort.Tensor;
          pool(t.data as Float32Array, mask, idx.length, seqLen, Number(t.dims[2]), info.pooling ?? 'mean').forEach((v, k) => (result[idx[k]!] = v));
        }
        out.push(...result);
      }
      return out;
    };
  } else if (which === 'pipeline') {
    const embedder = await loadEmbedder(spec.model);
    embedAll = async (texts) => {
      const out: Float32Array[] = [];
      for (const group of groups(texts, spec.group)) out.push(...(await embedder.embedPassages(group)));
      return out;
    };
  } else if (which === 'raw') {
    const session = await openSession(info);
    embedAll = async (texts) => {
      const feeds: ReturnType<typeof buildFeeds>[] = [];
      for (const group of groups(texts, spec.group)) {
        const encoded = group.map((t) => tokenizer.encode(t, max));
        for (const idx of tokenBatches(encoded.map((e) => e.inputIds.length), BATCH_TOKENS)) {
          count(idx.map((i) => encoded[i]!.inputIds.length));
          feeds.push(buildFeeds(session, idx.map((i) => encoded[i]!), tokenizer.padId));
        }
      }
      const started = performance.now();
      const c0 = process.cpuUsage();
      for (const f of feeds) await session.run(f.feeds);
      rawTimes = { seconds: (performance.now() - started) / 1000, cpu: process.cpuUsage(c0) };
      return [];
    };
  } else {
    throw new Error(`unknown path ${which}`);
  }

  let rawTimes: { seconds: number; cpu: NodeJS.CpuUsage } | null = null;
  // First runs allocate the arena and plan memory: warm up on texts that are not measured.
  await embedAll(spec.texts.slice(0, 16).map((t) => `${t} warm-up`));
  padded = real = runs = 0;
  rawTimes = null;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const vectors = await embedAll(spec.texts);
  let seconds = (performance.now() - t0) / 1000;
  let cpu = process.cpuUsage(c0);
  if (which === 'pipeline') {
    // The same batches embedPassages formed, counted after the clock stopped.
    for (const group of groups(spec.texts, spec.group)) {
      const lens = group.map((t) => tokenizer.encode(t, max).inputIds.length);
      for (const idx of tokenBatches(lens, BATCH_TOKENS)) count(idx.map((i) => lens[i]!));
    }
  }
  if (rawTimes) ({ seconds, cpu } = rawTimes as { seconds: number; cpu: NodeJS.CpuUsage });
  const h = createHash('sha256');
  for (const v of vectors) h.update(Buffer.from(v.buffer, v.byteOffset, v.byteLength));
  const result: EmbedChildResult = {
    path: which,
    seconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    paddedTokens: padded,
    realTokens: real,
    runs,
    maxRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    vectorsSha256: vectors.length ? h.digest('hex') : '',
    sample: vectors.slice(0, 64).map((v) => Array.from(v)),
  };
  writeFileSync(outFile, JSON.stringify(result));
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
