import { Command } from 'commander';
import { DEFAULT_KEYS_FILE } from '../server/keys.js';
import { contextFrom, intOption } from './context.js';

interface ServeOpts {
  host: string;
  port: number;
  keys?: string;
  index?: string;
  http: boolean;
  socket: boolean;
  refreshMs: number;
  staleLimit: number;
  timeoutMs: number;
  maxBodyKb: number;
  maxConcurrent: number;
  drainMs: number;
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('serve the index over HTTP/JSON to applications (API keys) and to local `rag query` runs (warm models)')
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .option('--port <n>', 'TCP port (0: any free port)', intOption('--port', 0, 65535), 7700)
    .option('--keys <file>', `API keys file written by \`rag keys add\` (default: RAG_KEYS or ./${DEFAULT_KEYS_FILE})`)
    .option('--index <name>', 'index to serve by default (requests may name another)')
    .option('--no-http', 'no HTTP listener: only answer local `rag query` runs over the Unix socket')
    .option('--no-socket', 'no local socket: `rag query` runs search in their own process')
    .option('--refresh-ms <n>', 'look for a new index version this often', intOption('--refresh-ms', 50), 1000)
    .option('--stale-limit <seconds>', 'withhold answers (500) when a newer index version stays unreadable this long', intOption('--stale-limit', 1), 60)
    .option('--timeout-ms <n>', 'answer 503 to a request still running after this long', intOption('--timeout-ms', 100), 10_000)
    .option('--max-body-kb <n>', 'largest request body accepted (413 beyond)', intOption('--max-body-kb', 1, 10_240), 64)
    .option('--max-concurrent <n>', 'requests in flight per API key (429 beyond)', intOption('--max-concurrent', 1), 32)
    .option('--drain-ms <n>', 'on SIGTERM, wait this long for in-flight requests', intOption('--drain-ms', 0), 10_000)
    .addHelpText(
      'after',
      `
Examples:
  $ rag keys add --as group:support --name helpdesk        # prints the key once
  $ rag serve --port 7700
  $ curl -s localhost:7700/v1/query -H "Authorization: Bearer $KEY" \\
      -H 'content-type: application/json' -d '{"query": "rotate an API key", "k": 3}'
  $ rag serve --no-http &                                  # a warm daemon for \`rag query\`

Endpoints: POST /v1/query, GET /v1/documents/{id}, GET /healthz, GET /metrics, GET /openapi.json.
Each request's caller is its key's principals and tenant (a request may narrow them, never widen).
New index versions written by \`rag ingest\`/\`rag index\` are served within --refresh-ms plus the
warm-up, without a restart; requests in flight finish on the version they started on. A newer
version this server cannot read (say, built with a model it lacks) is bridged for --stale-limit
seconds, then answers are withheld: the old version may still show withdrawn documents. One JSON
access-log line per request goes to stdout; notices go to stderr. SIGTERM or SIGINT: stop
accepting, finish in-flight requests, exit 0.`,
    )
    .action(async (opts: ServeOpts, c: Command) => {
      const ctx = contextFrom(c);
      // The HTTP stack loads only for this command, not for every `rag` run.
      const { startService } = await import('../server/service.js');
      const service = await startService({
        db: ctx.db,
        config: ctx.config,
        configPath: ctx.configPath,
        index: opts.index ?? ctx.config.index.name,
        http: opts.http ? { host: opts.host, port: opts.port, keysFile: opts.keys ?? process.env.RAG_KEYS ?? DEFAULT_KEYS_FILE } : null,
        socket: opts.socket,
        refreshMs: opts.refreshMs,
        staleLimitMs: opts.staleLimit * 1000,
        timeoutMs: opts.timeoutMs,
        bodyLimit: opts.maxBodyKb * 1024,
        maxConcurrentPerKey: opts.maxConcurrent,
        notice: (m) => ctx.log(`rag serve: ${m}`),
        accessLog: (line) => process.stdout.write(`${line}\n`),
      });
      if (!service.url && !service.socket) {
        await service.close(0);
        ctx.log('rag serve: nothing to listen on (no HTTP and no local socket)');
        process.exitCode = 2;
        return;
      }
      ctx.log(`rag serve: listening${service.url ? ` on ${service.url}` : ''}${service.socket ? `${service.url ? ',' : ''} local socket ${service.socket}` : ''}`);
      const signal = await new Promise<NodeJS.Signals>((resolve) => {
        process.once('SIGTERM', () => resolve('SIGTERM'));
        process.once('SIGINT', () => resolve('SIGINT'));
      });
      ctx.log(`rag serve: ${signal}: finishing in-flight requests`);
      const { drained } = await service.close(opts.drainMs);
      ctx.log(drained ? 'rag serve: stopped' : `rag serve: stopped after ${opts.drainMs} ms with requests still open`);
    });
}
