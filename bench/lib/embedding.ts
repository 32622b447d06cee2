/**
 * Embedding throughput of the product's pipeline (`embedder.embedPassages`) against the bare
 * onnxruntime session on the same graph, texts and batches. The difference is the pipeline's
 * overhead. Two raw figures: session.run alone on pre-built tensors, and tokenize + tensors + run.
 */
import { availableParallelism } from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { fixtureQueries, MINILM, modelsDir, requireModel, scifactCorpus } from './datasets.js';
import { selfMaxRssMiB } from './proc.js';
import type { SectionContext, SectionResult } from './types.js';
import { round, spread } from './stats.js';

const BATCH = 32;

interface Encoded {
  inputIds: number[];
  tokenTypeIds: number[];
}

/** Padded int64 feeds of one batch, built the plain way. */
function feedsOf(session: ort.InferenceSession, batch: Encoded[]): Record<string, ort.Tensor> {
  const seq = Math.max(1, ...batch.map((e) => e.inputIds.length));
  const ids = new BigInt64Array(batch.length * seq);
  const att = new BigInt64Array(batch.length * seq);
  const types = new BigInt64Array(batch.length * seq);
  batch.forEach((e, b) => {
    for (let t = 0; t < e.inputIds.length; t++) {
      ids[b * seq + t] = BigInt(e.inputIds[t]!);
      att[b * seq + t] = 1n;
      types[b * seq + t] = BigInt(e.tokenTypeIds[t] ?? 0);
    }
  });
  const dims = [batch.length, seq];
  const all: Record<string, ort.Tensor> = {
    input_ids: new ort.Tensor('int64', ids, dims),
    attention_mask: new ort.Tensor('int64', att, dims),
    token_type_ids: new ort.Tensor('int64', types, dims),
  };
  return Object.fromEntries(session.inputNames.map((n) => [n, all[n]!]));
}

export async function embeddingComparison(ctx: SectionContext): Promise<SectionResult> {
  requireModel(MINILM);
  const { loadEmbedder, resolveModel } = await import('../../src/engine/models/index.js');
  const { loadTokenizer } = await import('../../src/engine/models/tokenizer.js');
  const n = ctx.quick ? 64 : 512;
  const reps = ctx.quick ? 2 : 5;
  // Quick mode cuts passages short (fewer tokens) so CI spends seconds here, not minutes.
  const clip = (t: string) => (ctx.quick ? t.slice(0, 300) : t);
  let texts: string[];
  try {
    texts = scifactCorpus().docs.slice(0, n).map((d) => clip(`${d.title ?? ''} ${d.text}`.trim()));
  } catch {
    const q = fixtureQueries();
    texts = Array.from({ length: n }, (_, i) => `${q[i % q.length]} ${'details of the procedure '.repeat(1 + (i % 12))}`);
  }
  const info = await resolveModel(MINILM, modelsDir());
  const max = info.maxTokens ?? 512;
  const embedder = await loadEmbedder(MINILM);
  const tokenizer = await loadTokenizer(info.dir);
  // Same options as the product's session, so the comparison isolates the pipeline around it.
  const session = await ort.InferenceSession.create(path.join(info.dir, info.weightFiles[0]!), {
    intraOpNumThreads: availableParallelism(),
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    executionProviders: ['cpu'],
  });
  // Same batches as the pipeline: sorted by token length, longest first.
  const encode = () => texts.map((t) => tokenizer.encode(t, max));
  const batchesOf = (enc: Encoded[]) => {
    const order = enc.map((e, i) => [e.inputIds.length, i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]).map(([, i]) => i);
    const out: Encoded[][] = [];
    for (let s = 0; s < order.length; s += BATCH) out.push(order.slice(s, s + BATCH).map((i) => enc[i]!));
    return out;
  };
  const pre = batchesOf(encode()).map((b) => feedsOf(session, b));
  const tokens = pre.reduce((s, f) => s + Number((f.input_ids ?? Object.values(f)[0]!).dims[0]) * Number((f.input_ids ?? Object.values(f)[0]!).dims[1]), 0);

  const runSession = async () => {
    for (const feeds of pre) await session.run(feeds);
  };
  const runRawFull = async () => {
    for (const b of batchesOf(encode())) await session.run(feedsOf(session, b));
  };
  const runPipeline = async () => {
    await embedder.embedPassages(texts);
  };
  const time = async (f: () => Promise<void>) => {
    const t = performance.now();
    await f();
    return (performance.now() - t) / 1000;
  };
  // Warm all three once, then interleave repetitions so drift (thermal, page cache) hits them alike.
  await runSession();
  await runRawFull();
  await runPipeline();
  const s: number[] = [];
  const rf: number[] = [];
  const p: number[] = [];
  for (let i = 0; i < reps; i++) {
    ctx.log(`embedding: repetition ${i + 1}/${reps}`);
    s.push(await time(runSession));
    rf.push(await time(runRawFull));
    p.push(await time(runPipeline));
  }
  const rate = (xs: number[]) => spread(xs.map((x) => texts.length / x));
  // Ratios use each path's fastest repetition: on a shared 2-core machine interference only ever
  // slows a run down, so the minimum is the least disturbed estimate of each.
  const med = (xs: number[]) => Math.min(...xs);
  return {
    model: MINILM,
    weights: info.weightFiles[0],
    texts: texts.length,
    batch: BATCH,
    paddedTokens: tokens,
    threads: availableParallelism(),
    rawSessionPassagesPerSecond: rate(s),
    rawWithTokenizationPassagesPerSecond: rate(rf),
    pipelinePassagesPerSecond: rate(p),
    ratioVsRawSession: round(med(s) / med(p)),
    ratioVsRawWithTokenization: round(med(rf) / med(p)),
    tokenizationShare: round((med(rf) - med(s)) / med(rf)),
    ratioBasis: 'fastest repetition of each path',
    maxRssMiB: selfMaxRssMiB(),
  };
}
