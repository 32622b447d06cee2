/**
 * The service under load: `rag serve` (a child process) on loopback, driven by autocannon from this
 * process. Throughput and latency for BM25 and hybrid at 1, 8 and 32 concurrent clients; the HTTP
 * overhead over the in-process search (wall time at the client minus the server's own
 * `timings.total_ms` for the same request); a cold `rag query` process answered by the daemon.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import autocannon from 'autocannon';
import { fixtureQueries, fixtureStore, scifactStore, scifactTestQueries, type BuiltStore } from './datasets.js';
import { benchEnv, BIN, EXTRA_CA_SET, parseJson, processSummary, rag, runTimed, tempDir, timedWithoutExtraCa, type Timed } from './proc.js';
import { latency, spread } from './stats.js';
import type { SectionContext, SectionResult } from './types.js';

const MODES = ['bm25', 'hybrid'] as const;
const CLIENTS = [1, 8, 32];

/**
 * The query texts in request order: the corpus's queries, then the same with a round number
 * appended ("… (2)"), so no text repeats and every hybrid request pays for its query embedding
 * (the retriever caches the last 1,024 query vectors; a benchmark of cache hits would flatter it).
 */
function queryStream(queries: string[]): () => string {
  let i = 0;
  return () => {
    const round = Math.floor(i / queries.length);
    const q = queries[i++ % queries.length]!;
    return round === 0 ? q : `${q} (${round})`;
  };
}

async function startServer(store: BuiltStore, keysFile: string, runtime: string): Promise<{ url: string; proc: ChildProcess }> {
  const proc = spawn(process.execPath, [BIN, '--db', store.db, '--config', store.config, 'serve', '--port', '0', '--keys', keysFile, '--max-concurrent', '64'], {
    env: benchEnv({ RAG_RUNTIME_DIR: runtime }),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  const url = await new Promise<string>((resolve, reject) => {
    proc.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /listening on (http:\/\/[^\s,]+)/.exec(err);
      if (m) resolve(m[1]!);
    });
    proc.on('exit', (code) => reject(new Error(`rag serve exited ${code}: ${err.slice(-1000)}`)));
  });
  return { url, proc };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function post(url: string, key: string, body: unknown): Promise<{ status: number; json: any; ms: number }> {
  const text = JSON.stringify(body);
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) } }, (res) => {
      let out = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (out += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(out), ms: performance.now() - t0 }));
    });
    req.on('error', reject);
    req.end(text);
  });
}

async function cacheCounters(url: string): Promise<{ hits: number; misses: number }> {
  const text = await new Promise<string>((resolve, reject) => {
    http.get(`${url}/metrics`, (res) => {
      let out = '';
      res.on('data', (d: Buffer) => (out += d.toString()));
      res.on('end', () => resolve(out));
    }).on('error', reject);
  });
  const n = (name: string) => Number(new RegExp(`^${name}\\{index="default"\\} (\\d+)`, 'm').exec(text)?.[1] ?? NaN);
  return { hits: n('rag_query_vector_cache_hits'), misses: n('rag_query_vector_cache_misses') };
}

/** One autocannon run: `connections` clients for `seconds`, each request the next query in turn. */
async function load(url: string, key: string, mode: string, connections: number, seconds: number, next: () => string): Promise<SectionResult> {
  const times: number[] = [];
  const instance = autocannon({
    url: `${url}/v1/query`,
    connections,
    duration: seconds,
    timeout: 10,
    requests: [
      {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        setupRequest: (req: Record<string, unknown>) => ({ ...req, body: JSON.stringify({ query: next(), mode, k: 10 }) }),
      },
    ],
  });
  instance.on('response', (_client: unknown, _status: number, _bytes: number, ms: number) => times.push(ms));
  const r = await instance;
  const l = latency(times);
  return {
    mode,
    connections,
    seconds,
    requests: r.requests.total,
    requestsPerSecond: Math.round((r.requests.total / r.duration) * 10) / 10,
    latencyMs: l,
    errors: r.errors + r.timeouts + r.non2xx,
  };
}

export async function serveSection(ctx: SectionContext): Promise<SectionResult> {
  const store = ctx.quick ? await fixtureStore(tempDir('rag-bench-serve-')) : await scifactStore(ctx.log);
  const queries = ctx.quick ? fixtureQueries() : scifactTestQueries();
  const work = tempDir('rag-bench-serve-keys-');
  const runtime = path.join(work, 'run');
  mkdirSync(runtime, { mode: 0o700 });
  const keysFile = path.join(work, 'keys.json');
  const added = await rag(['--config', store.config, '--json', 'keys', 'add', '--keys', keysFile, '--name', 'bench']);
  const key = parseJson<{ key: string }>(added).key;
  ctx.log(`serve: starting rag serve on ${ctx.quick ? 'the fixtures' : 'SciFact'}`);
  const { url, proc } = await startServer(store, keysFile, runtime);
  try {
    const next = queryStream(queries);
    for (let w = 0; w < 20; w++) await post(`${url}/v1/query`, key, { query: next(), mode: w % 2 ? 'bm25' : 'hybrid', k: 10 });

    // HTTP overhead: one client, one request at a time, keep-alive, as an application would call it.
    const overhead: SectionResult = {};
    const n = ctx.quick ? 60 : 300;
    for (const mode of MODES) {
      ctx.log(`serve: HTTP overhead, ${mode} × ${n}`);
      const wall: number[] = [];
      const search: number[] = [];
      const diff: number[] = [];
      for (let q = 0; q < n; q++) {
        const r = await post(`${url}/v1/query`, key, { query: next(), mode, k: 10 });
        if (r.status !== 200) throw new Error(`HTTP ${r.status}: ${JSON.stringify(r.json)}`);
        wall.push(r.ms);
        search.push(r.json.timings.total_ms);
        diff.push(r.ms - r.json.timings.total_ms);
      }
      overhead[mode] = { wallMs: latency(wall), searchMs: latency(search), overheadMs: latency(diff) };
    }

    const seconds = ctx.quick ? 2 : 10;
    const runs: SectionResult[] = [];
    const before = await cacheCounters(url);
    for (const mode of MODES) {
      for (const c of CLIENTS) {
        ctx.log(`serve: autocannon ${mode}, ${c} clients, ${seconds} s`);
        runs.push(await load(url, key, mode, c, seconds, next));
      }
    }
    const after = await cacheCounters(url);

    // autocannon stops with requests still queued in the server: let it finish them, or the first
    // cold runs time the tail of the load (`node -e 0` took 79–132 ms right after it, 72–77 alone).
    await new Promise((r) => setTimeout(r, 3000));
    // A cold `rag query` process answered by the daemon (the socket `rag serve` opened), then without it.
    const coldRuns = ctx.quick ? 3 : 7;
    const cold: SectionResult = {};
    const coldEnv = benchEnv({ RAG_RUNTIME_DIR: runtime });
    const floor: Timed[] = [];
    for (let r = 0; r < coldRuns; r++) floor.push(await runTimed(process.execPath, ['-e', '0']));
    cold.nodeStartup = processSummary(floor);
    // hybridTable: what a terminal user gets, the results table rather than JSON.
    const coldCases = [['bm25', ['--json'], ['--mode', 'bm25']], ['hybrid', ['--json'], ['--mode', 'hybrid']], ['hybridTable', [], ['--mode', 'hybrid']], ['hybridNoDaemon', ['--json'], ['--mode', 'hybrid', '--no-daemon']]] as const;
    for (const [label, global, extra] of coldCases) {
      ctx.log(`serve: cold rag query ${[...global, ...extra].join(' ')} × ${coldRuns}`);
      const timed: Timed[] = [];
      for (let r = 0; r < coldRuns; r++) timed.push(await rag(['--db', store.db, '--config', store.config, ...global, 'query', next(), '-k', '10', ...extra], { env: coldEnv }));
      cold[label] = processSummary(timed);
    }
    if (EXTRA_CA_SET) {
      ctx.log(`serve: node -e 0 and cold rag query answered by the daemon, without NODE_EXTRA_CA_CERTS × ${coldRuns}`);
      const answered = coldCases.filter(([label]) => label !== 'hybridNoDaemon');
      cold.withoutExtraCa = await timedWithoutExtraCa(
        coldRuns,
        coldEnv,
        Object.fromEntries(answered.map(([label, global, extra]) => [label, (_: number, env: NodeJS.ProcessEnv) => rag(['--db', store.db, '--config', store.config, ...global, 'query', next(), '-k', '10', ...extra], { env })])),
      );
    }
    const serverRssMiB = peakRssMiB(proc.pid!);
    return {
      corpus: ctx.quick ? 'fixtures' : 'scifact',
      model: store.model,
      chunks: store.chunks,
      distinctQueries: queries.length,
      overhead,
      load: runs,
      errors: runs.reduce((s, r) => s + (r.errors as number), 0),
      loadQueryVectorCache: { hits: after.hits - before.hits, misses: after.misses - before.misses },
      cold,
      serverPeakRssMiB: serverRssMiB,
    };
  } finally {
    proc.kill('SIGTERM');
    await new Promise((r) => proc.once('exit', r));
  }
}

/** VmHWM of a live process (Linux), MiB. */
function peakRssMiB(pid: number): number | null {
  const file = `/proc/${pid}/status`;
  if (!existsSync(file)) return null;
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(file, 'utf8'));
  return m ? Math.round((Number(m[1]) / 1024) * 10) / 10 : null;
}
