/**
 * The cost of `rag query`'s stale-index check (engine/index/freshness.ts): the version comparison
 * every query pays, and the row comparison a query pays only while the index is behind.
 */
import { fixtureStore, scifactStore } from './datasets.js';
import { latency } from './stats.js';
import { tempDir } from './proc.js';
import type { SectionContext, SectionResult } from './types.js';

export async function freshnessSection(ctx: SectionContext): Promise<SectionResult> {
  const built = ctx.quick ? await fixtureStore(tempDir('rag-bench-fixtures-')) : await scifactStore(ctx.log);
  const { loadConfig } = await import('../../src/engine/config.js');
  const { Store } = await import('../../src/engine/store/store.js');
  const { readIndexManifest } = await import('../../src/engine/store/manifest.js');
  const { indexFreshness } = await import('../../src/engine/index/freshness.js');
  const { config } = loadConfig(built.config);
  const store = await Store.open(built.db);
  const manifest = await readIndexManifest(store, config.index.name);
  const time = async (n: number, m: typeof manifest) => {
    const ms: number[] = [];
    for (let i = 0; i < n; i++) {
      // A new store each time, as each `rag query` process has: nothing remembered between runs.
      const s = await Store.open(built.db);
      const t = performance.now();
      const f = await indexFreshness(s, m);
      ms.push(performance.now() - t);
      s.close();
      if (!f.current) throw new Error('the benchmark store is expected to be current');
    }
    return latency(ms);
  };
  ctx.log('freshness: version check');
  const versions = await time(ctx.quick ? 20 : 200, manifest);
  ctx.log('freshness: row comparison');
  // Without the recorded chunks version the check must compare rows: what a query pays while behind.
  const rows = await time(ctx.quick ? 5 : 20, { ...manifest, chunks_version: undefined });
  store.close();
  return { corpus: ctx.quick ? 'fixtures' : 'scifact', chunks: built.chunks, versionCheckMs: versions, rowComparisonMs: rows };
}
