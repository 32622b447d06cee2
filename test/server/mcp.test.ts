/**
 * `rag mcp` as an agent runs it: the MCP SDK's own client spawns the process and talks to it over
 * stdio. The caller is fixed by the launch flags.
 */
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, FIXTURE_CONFIG, MODELS_DIR } from '../helpers/cli.js';
import { fixtureStore, waitFor } from './serve-process.js';

let dir: string;
let db: string;
let cli: ReturnType<typeof fixtureStore>['cli'];
const clients: Client[] = [];

beforeAll(() => {
  ({ dir, db, cli } = fixtureStore());
}, 300_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  rmSync(dir, { recursive: true, force: true });
});

async function connect(callerArgs: string[]): Promise<{ client: Client; stderr: () => string }> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [BIN, '--db', db, '--config', FIXTURE_CONFIG, 'mcp', '--refresh-ms', '200', ...callerArgs],
    cwd: dir,
    env: { ...(process.env as Record<string, string>), RAG_MODELS_DIR: MODELS_DIR, LANCEDB_LOG: 'error' },
    stderr: 'pipe',
  });
  let err = '';
  transport.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const client = new Client({ name: 'rag-test-agent', version: '1.0.0' });
  await client.connect(transport);
  clients.push(client);
  return { client, stderr: () => err };
}

type Text = { type: string; text: string }[];

describe('rag mcp', () => {
  it('lists the search and get_document tools with their input schemas', async () => {
    const { client } = await connect(['--as', 'group:hr']);
    expect(client.getServerVersion()?.name).toBe('rag');
    const { tools } = await client.listTools();
    const byName = Object.fromEntries(tools.map((t) => [t.name, t]));
    expect(Object.keys(byName).sort()).toEqual(['get_document', 'search']);
    expect(Object.keys(byName.search!.inputSchema.properties ?? {}).sort()).toEqual(['filter', 'k', 'mode', 'query']);
    expect(byName.search!.inputSchema.required).toEqual(['query']);
    expect(byName.get_document!.inputSchema.required).toEqual(['id']);
  });

  it('searches as the launch caller and reads a whole document', async () => {
    const { client } = await connect(['--as', 'group:hr']);
    const res = await client.callTool({ name: 'search', arguments: { query: 'salary bands for engineers', k: 3, mode: 'hybrid' } });
    expect(res.isError).toBeFalsy();
    const json = res.structuredContent as { caller: unknown; mode: string; results: { doc_id: string }[] };
    expect(json.caller).toEqual({ principals: ['group:hr', 'public'], tenant: 'acme' });
    expect(json.mode).toBe('hybrid');
    expect(json.results[0]!.doc_id).toBe('docs/internal/salary-bands.md');
    expect((res.content as Text)[0]!.text).toMatch(/^\[1\] Engineering salary bands 2024 — docs\/internal\/salary-bands\.md/);

    const doc = await client.callTool({ name: 'get_document', arguments: { id: 'docs/internal/salary-bands.md' } });
    expect(doc.isError).toBeFalsy();
    expect((doc.content as Text)[0]!.text).toMatch(/^# Engineering salary bands 2024\nsource: docs\/internal\/salary-bands\.md/);
    expect((doc.structuredContent as { acl: string[] }).acl).toContain('group:hr');

    const filtered = await client.callTool({ name: 'search', arguments: { query: 'service credits', filter: 'connector=pdf', k: 2, mode: 'bm25' } });
    expect((filtered.structuredContent as { results: { source: string }[] }).results.every((r) => r.source.endsWith('.pdf'))).toBe(true);
  });

  it('never shows another caller what it may not see: same error for invisible and missing documents', async () => {
    const { client } = await connect([]); // public only
    const res = await client.callTool({ name: 'search', arguments: { query: 'salary bands', k: 10 } });
    expect((res.structuredContent as { results: { doc_id: string }[] }).results.map((r) => r.doc_id)).not.toContain('docs/internal/salary-bands.md');
    const hidden = await client.callTool({ name: 'get_document', arguments: { id: 'docs/internal/salary-bands.md' } });
    const missing = await client.callTool({ name: 'get_document', arguments: { id: 'docs/internal/no-such.md' } });
    expect(hidden.isError).toBe(true);
    expect(missing.isError).toBe(true);
    const text = (r: typeof hidden) => (r.content as Text)[0]!.text;
    expect(text(hidden).replace('salary-bands', 'X')).toBe(text(missing).replace('no-such', 'X'));
  });

  it('reports bad arguments as tool errors the agent can fix', async () => {
    const { client } = await connect(['--as', 'group:hr']);
    const bad = await client.callTool({ name: 'search', arguments: { query: 'x', filter: 'page>>2' } });
    expect(bad.isError).toBe(true);
    expect((bad.content as Text)[0]!.text).toMatch(/invalid --filter/);
    const invalid = await client.callTool({ name: 'search', arguments: { query: 'x', k: 0 } });
    expect(invalid.isError).toBe(true);
  });

  it('picks up a new index version while running', async () => {
    const { client, stderr } = await connect(['--as', 'group:hr']);
    const find = async () =>
      ((await client.callTool({ name: 'search', arguments: { query: 'quokkaquill', mode: 'bm25' } })).structuredContent as { results: unknown[] }).results.length;
    expect(await find()).toBe(0);
    writeFileSync(path.join(dir, 'docs', 'quokka.md'), '# Quokka\n\nThe quokkaquill marker, written while rag mcp runs.\n');
    expect(cli(['ingest', 'docs']).code).toBe(0);
    expect(cli(['index']).code).toBe(0);
    await waitFor(async () => (await find()) > 0, 30_000, 'the new document to be found');
    expect(stderr()).toMatch(/now serving idx_default@\d+/);
  });
});
