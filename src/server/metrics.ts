/** Prometheus metrics of the service (`GET /metrics`): requests, latency per search stage, caches, index versions. */
import client from 'prom-client';
import type { SearchResult } from '../engine/search/retriever.js';
import type { RetrieverPool, Stamp } from './pool.js';

/** Seconds; fine below 100 ms, where the service's goals are. */
const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.02, 0.035, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5, 10];
const STAGES = ['embed', 'bm25', 'vector', 'fuse', 'rerank', 'fetch', 'total'] as const;

export class ServiceMetrics {
  readonly registry = new client.Registry();
  private readonly requests = new client.Counter({
    name: 'rag_http_requests_total',
    help: 'HTTP requests answered, by route, method and status code',
    labelNames: ['route', 'method', 'status'],
    registers: [this.registry],
  });
  private readonly duration = new client.Histogram({
    name: 'rag_http_request_duration_seconds',
    help: 'Time from request received to response sent, by route',
    labelNames: ['route'],
    buckets: BUCKETS,
    registers: [this.registry],
  });
  private readonly stages = new client.Histogram({
    name: 'rag_search_stage_duration_seconds',
    help: 'Time per search stage (embed, bm25, vector, fuse, rerank, fetch, total), by retrieval mode',
    labelNames: ['stage', 'mode'],
    buckets: BUCKETS,
    registers: [this.registry],
  });
  private readonly swaps = new client.Counter({
    name: 'rag_index_swaps_total',
    help: 'New index versions picked up without a restart',
    labelNames: ['index'],
    registers: [this.registry],
  });

  constructor(pool: RetrieverPool) {
    const stamps = () => pool.indexes().map((i) => pool.stamp(i)).filter((s): s is Stamp => s !== null);
    new client.Gauge({
      name: 'rag_index_version',
      help: 'LanceDB table version each open index is served from',
      labelNames: ['index', 'table'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const s of stamps()) this.set({ index: s.index, table: s.table }, s.tableVersion);
      },
    });
    const counters = (name: string, help: string, hits: 'query_vector_hits' | 'passage_hits', misses: 'query_vector_misses' | 'passage_misses') => {
      for (const [suffix, field] of [['hits', hits], ['misses', misses]] as const) {
        new client.Gauge({
          name: `rag_${name}_cache_${suffix}`,
          help: `${help}: ${suffix} since the current index version was opened`,
          labelNames: ['index'],
          registers: [this.registry],
          async collect() {
            this.reset();
            for (const i of pool.indexes()) {
              const lease = await pool.acquire(i);
              this.set({ index: i }, lease.retriever.cacheStats[field]);
              lease.release();
            }
          },
        });
      }
    };
    counters('query_vector', 'Query embeddings served from the retriever cache', 'query_vector_hits', 'query_vector_misses');
    counters('passage', 'Passages served from memory instead of a table read', 'passage_hits', 'passage_misses');
  }

  request(route: string, method: string, status: number, seconds: number): void {
    this.requests.inc({ route, method, status: String(status) });
    this.duration.observe({ route }, seconds);
  }

  search(res: SearchResult): void {
    for (const stage of STAGES) {
      const ms = res.timings[`${stage}_ms`];
      if (typeof ms === 'number') this.stages.observe({ stage, mode: res.mode }, ms / 1000);
    }
  }

  swapped(to: Stamp): void {
    this.swaps.inc({ index: to.index });
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
