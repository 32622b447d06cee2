/**
 * A loopback S3-compatible server (moto, started by scripts/start-s3.sh) for the tests that run
 * the CLI against `--db s3://bucket/prefix`. Under CI=true a server that cannot be started fails
 * the suite; elsewhere those tests skip with the reason.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { ROOT, tempDir } from './cli.js';

export interface S3Server {
  endpoint: string;
  /** Environment for a rag process: credentials, region, endpoint. */
  env: Record<string, string>;
  /** Empty when running; why not otherwise. */
  startError: string;
  /** Creates a bucket (HTTP PUT). */
  makeBucket(name: string): Promise<void>;
  /** Keys under a prefix (ListObjectsV2). */
  listKeys(bucket: string, prefix: string): Promise<string[]>;
  stop(): Promise<void>;
  running: boolean;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * One plain HTTP request on its own connection. (moto's development server can stall while a
 * client holds an idle keep-alive connection, as fetch does, so none is kept.)
 */
export function request(method: string, url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent: false, headers: { connection: 'close' } }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function waitForServer(url: string, child: ChildProcess, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`S3 server exited with code ${child.exitCode}`);
    try {
      const r = await request('GET', url);
      if (r.status < 500) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`S3 server did not answer at ${url} within ${ms / 1000}s`);
}

export async function startS3Server(): Promise<S3Server> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  // The server logs every request. It writes to a file, not a pipe: tests may block in spawnSync,
  // nobody would drain a pipe meanwhile, and a full pipe would freeze the server mid-request.
  const logFile = path.join(tempDir('rag-s3-log-'), 'server.log');
  const fd = openSync(logFile, 'w');
  const log = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-2000) : '');
  let child: ChildProcess | null = null;
  let startError = '';
  try {
    child = spawn('bash', [path.join(ROOT, 'scripts/start-s3.sh'), String(port)], { stdio: ['ignore', fd, fd] });
    closeSync(fd);
    await waitForServer(endpoint, child, 240_000);
  } catch (err) {
    startError = `${(err as Error).message}\n${log()}`;
    child?.kill('SIGTERM');
    child = null;
    if (process.env.CI === 'true') throw new Error(`S3-compatible server could not be started (required under CI): ${startError}`);
  }
  const server: S3Server = {
    endpoint,
    env: { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1', RAG_S3_ENDPOINT: endpoint },
    startError,
    running: child !== null,
    async makeBucket(name) {
      const made = await request('PUT', `${endpoint}/${name}`);
      if (made.status !== 200) throw new Error(`cannot create bucket ${name}: HTTP ${made.status} ${made.body}`);
    },
    async listKeys(bucket, prefix) {
      const { body: xml } = await request('GET', `${endpoint}/${bucket}?list-type=2&prefix=${encodeURIComponent(prefix)}&max-keys=1000`);
      return [...xml.matchAll(/<Key>([^<]+)<\/Key>/g)].map((m) => m[1]!);
    },
    async stop() {
      if (!child) return;
      const s = child;
      const exited = new Promise((r) => s.once('exit', r));
      s.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (s.exitCode === null && s.signalCode === null) s.kill('SIGKILL');
      server.running = false;
    },
  };
  return server;
}
