/**
 * `rag serve` as a whole: the warm retriever pool, the HTTP API (keyed callers), the local socket
 * for `rag query`, and an orderly stop: no new requests, in-flight ones finish, stores close.
 */
import type { FastifyInstance } from 'fastify';
import type { RagConfig } from '../engine/config.js';
import { UsageError } from '../engine/errors.js';
import { buildHttpApp } from './http.js';
import { KeyRing } from './keys.js';
import { listenLocal } from './local.js';
import { configText, resolveDb } from './local-socket.js';
import { ServiceMetrics } from './metrics.js';
import { RetrieverPool, stampLabel } from './pool.js';

export interface ServeOptions {
  db: string;
  config: RagConfig;
  configPath?: string;
  index: string;
  /** null: no HTTP listener (local socket only). */
  http: { host: string; port: number; keysFile: string } | null;
  socket: boolean;
  refreshMs: number;
  /** See PoolOptions.staleLimitMs. */
  staleLimitMs?: number;
  timeoutMs: number;
  bodyLimit: number;
  maxConcurrentPerKey: number;
  notice: (msg: string) => void;
  /** One JSON line per request. */
  accessLog: (line: string) => void;
}

export interface Service {
  /** `http://host:port` when listening over HTTP. */
  url: string | null;
  socket: string | null;
  /** Stops accepting, lets in-flight requests finish (at most `drainMs`), closes the stores. */
  close(drainMs: number): Promise<{ drained: boolean }>;
}

export async function startService(o: ServeOptions): Promise<Service> {
  const keys = o.http ? new KeyRing(o.http.keysFile, 1000, o.notice) : null;
  if (keys && keys.size === 0) {
    throw new UsageError(
      `no API keys in ${o.http!.keysFile}: every request would be refused`,
      'add one with `rag keys add --as group:NAME`, pass --keys FILE, or run `rag serve --no-http` for local queries only',
    );
  }
  const db = resolveDb(o.db);
  let metrics: ServiceMetrics | null = null;
  const pool = new RetrieverPool({
    db,
    config: o.config,
    refreshMs: o.refreshMs,
    staleLimitMs: o.staleLimitMs,
    notice: o.notice,
    onSwap: (from, to) => {
      metrics?.swapped(to);
      o.notice(`index "${to.index}": now serving ${stampLabel(to)} (was ${stampLabel(from)})`);
    },
  });
  await pool.open(o.index);
  metrics = new ServiceMetrics(pool);
  const accessLog = (entry: Record<string, unknown>) => o.accessLog(JSON.stringify(entry));
  const logError = (msg: string) => o.notice(`error: ${msg}`);

  let http: FastifyInstance | null = null;
  let url: string | null = null;
  let local: FastifyInstance | null = null;
  let socket: string | null = null;
  try {
    if (o.http) {
      http = await buildHttpApp({
        pool,
        config: o.config,
        index: o.index,
        keys: keys!,
        metrics,
        timeoutMs: o.timeoutMs,
        bodyLimit: o.bodyLimit,
        maxConcurrentPerKey: o.maxConcurrentPerKey,
        accessLog,
        logError,
      });
      await http.listen({ host: o.http.host, port: o.http.port });
      const addr = http.server.address();
      const port = typeof addr === 'object' && addr ? addr.port : o.http.port;
      url = `http://${o.http.host.includes(':') ? `[${o.http.host}]` : o.http.host}:${port}`;
      if (!/^(127\.|::1$|localhost$)/.test(o.http.host)) o.notice(`plain HTTP on ${o.http.host}: keys travel in the clear unless TLS (a reverse proxy) is in front`);
    }
    if (o.socket) {
      const l = await listenLocal({ pool, config: o.config, db, configText: configText(o.configPath) ?? null, metrics, accessLog, logError });
      if (l.app) ({ app: local, socket } = l);
      else o.notice(`no local socket: ${l.reason}`);
    }
  } catch (err) {
    await Promise.allSettled([http?.close(), local?.close()]);
    await pool.close(0);
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE') throw new UsageError(`port ${o.http?.port} on ${o.http?.host} is already in use`, 'pass another --port, or stop the process using it');
    if (e.code === 'EADDRNOTAVAIL' || e.code === 'ENOTFOUND') throw new UsageError(`cannot listen on ${o.http?.host}: no such local address`, 'pass --host 127.0.0.1 or an address of this machine');
    throw err;
  }
  pool.start();

  return {
    url,
    socket,
    async close(drainMs) {
      let drained = true;
      const closing = Promise.allSettled([http?.close(), local?.close()]);
      const timer = new Promise<void>((resolve) =>
        setTimeout(() => {
          drained = false;
          // Past the deadline: cut what is left rather than hang the stop.
          http?.server.closeAllConnections();
          local?.server.closeAllConnections();
          resolve();
        }, drainMs).unref(),
      );
      await Promise.race([closing, timer]);
      // HTTP responses are out; work that outlived its deadline may still hold a generation.
      await pool.close(drained ? drainMs : 0);
      return { drained };
    },
  };
}
