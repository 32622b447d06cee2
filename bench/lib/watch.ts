/**
 * Freshness under `rag ingest --watch`: time from a file write to its new text being returned by a
 * search (the same Retriever `rag query` runs, opened fresh per poll so it reads the latest commit),
 * in BM25 and hybrid mode, on a generated store of N documents. The cold `rag query` process time
 * is measured beside it: what a user who queries right after saving waits on top.
 */
import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BIN, benchEnv, parseJson, rag, tempDir, type Timed } from './proc.js';
import { latency, round, spread } from './stats.js';
import type { SectionContext, SectionResult } from './types.js';

export async function watchFreshness(ctx: SectionContext): Promise<SectionResult> {
  const { generateCorpus, docPath } = await import('./corpus.js');
  const { STATIC } = await import('./datasets.js');
  const { loadConfig } = await import('../../src/engine/config.js');
  const { resolveCaller } = await import('../../src/engine/acl.js');
  const { Retriever } = await import('../../src/engine/search/retriever.js');
  const { Store } = await import('../../src/engine/store/store.js');
  const n = ctx.quick ? 500 : 5000;
  const edits = ctx.quick ? 4 : 20;
  const dir = tempDir('rag-bench-watch-');
  const src = path.join(dir, 'docs');
  const db = path.join(dir, '.rag');
  const configFile = path.join(dir, 'rag.config.json');
  writeFileSync(configFile, JSON.stringify({ index: { model: STATIC } }));
  generateCorpus(src, n, 11);
  ctx.log(`watch: ${n} documents, first ingest + index (${STATIC})`);

  const child = spawn(process.execPath, [BIN, '--json', 'ingest', '--watch', 'docs'], { cwd: dir, env: benchEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((res) => child.on('close', (c) => res(c)));
  const t0 = performance.now();
  while (!out.includes('"batch":0')) {
    if (child.exitCode !== null || performance.now() - t0 > 900_000) throw new Error(`watch did not start: ${err.slice(-1000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const initialSeconds = (performance.now() - t0) / 1000;

  const { config } = loadConfig(configFile);
  const caller = resolveCaller(config, {});
  /** Milliseconds from `t` until a search in `mode` returns a chunk holding `marker`. */
  const visible = async (marker: string, mode: 'bm25' | 'hybrid', t: number): Promise<number> => {
    for (;;) {
      const store = await Store.open(db);
      try {
        const r = await Retriever.open(store, config, config.index.name);
        const res = await r.search(`${marker} procedure`, { mode, k: 10, caller, rerank: null });
        if (res.hits.some((h) => h.chunk.text.includes(marker))) return performance.now() - t;
      } catch {
        // a table mid-commit: try again
      } finally {
        store.close();
      }
      if (performance.now() - t > 60_000) throw new Error(`${marker} not visible after 60 s in ${mode} mode`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };

  const results: Record<string, number[]> = { bm25: [], hybrid: [] };
  const batchesBefore = () => out.split('\n').filter((l) => l.startsWith('{')).length;
  for (let i = 0; i < edits; i++) {
    for (const mode of ['bm25', 'hybrid'] as const) {
      const marker = `zq${mode}${i}marker`;
      const file = path.join(src, docPath((i * 97 + (mode === 'bm25' ? 0 : 13)) % n));
      const before = batchesBefore();
      const t = performance.now();
      writeFileSync(file, `# Runbook edit ${i}\n\n## Procedure\n\nStep ${marker}: restart the queue worker and check the replica lag.\n`);
      results[mode]!.push(await visible(marker, mode, t));
      // Let the batch finish before the next write, so each sample is one write's own batch.
      while (batchesBefore() === before) await new Promise((r) => setTimeout(r, 20));
    }
  }
  const batches = out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { ingest_seconds: number; index_seconds: number });
  const later = batches.slice(1);

  ctx.log('watch: cold `rag query` processes');
  const cold: Record<string, Timed[]> = { bm25: [], hybrid: [] };
  for (const mode of ['bm25', 'hybrid'] as const) {
    for (let i = 0; i < 3; i++) cold[mode]!.push(await rag(['--json', 'query', `zq${mode}0marker procedure`, '--mode', mode, '-k', '10'], { cwd: dir }));
    parseJson(cold[mode]![0]!);
  }
  child.kill('SIGINT');
  const code = await exited;
  rmSync(dir, { recursive: true, force: true });
  return {
    documents: n,
    edits,
    model: STATIC,
    initialSeconds: round(initialSeconds),
    writeToVisibleMs: { bm25: latency(results.bm25!), hybrid: latency(results.hybrid!) },
    coldQueryMs: { bm25: spread(cold.bm25!.map((r) => r.wallMs)), hybrid: spread(cold.hybrid!.map((r) => r.wallMs)) },
    batchIngestSeconds: spread(later.map((b) => b.ingest_seconds)),
    batchIndexSeconds: spread(later.map((b) => b.index_seconds)),
    cleanExit: code === 0,
  };
}
