import { configSchema } from './src/engine/config.js';
import { Retriever } from './src/engine/retriever.js';
import { Store } from './src/engine/store.js';
import { readFileSync } from 'node:fs';
const qs = readFileSync('/work/shared/datasets/scifact/queries.jsonl', 'utf8').trim().split('\n').map((l) => JSON.parse(l).text).slice(0, 300);
const store = await Store.open(process.env.DB ?? '/tmp/sfm');
const config = configSchema.parse({});
const r = await Retriever.open(store, config, 'default');
await r.warm();
for (const q of qs.slice(0, 20)) await r.search(q + 'warm', { mode: 'hybrid', k: 10, caller: { principals: ['public'], tenant: 'default' } });
const caller = { principals: ['public'], tenant: 'default' };
const t: number[] = []; const st: Record<string, number[]> = {};
for (const q of qs) { const t0 = performance.now(); const res = await r.search(q, { mode: 'hybrid', k: 10, caller }); t.push(performance.now() - t0); for (const [s, v] of Object.entries(res.timings)) (st[s] ??= []).push(v as number); }
const p = (a: number[], q: number) => [...a].sort((x, y) => x - y)[Math.ceil(q * a.length) - 1]!.toFixed(1);
console.log('hybrid p50', p(t, 0.5), 'p95', p(t, 0.95), Object.entries(st).map(([s, v]) => s + ':' + p(v, 0.5) + '/' + p(v, 0.95)).join(' '));
