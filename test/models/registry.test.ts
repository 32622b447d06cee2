import { createServer, type Server } from 'node:http';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreError, UsageError } from '../../src/engine/errors.js';
import { addModel, listModels, loadEmbedder, modelsDir, pullModel, resolveModel } from '../../src/engine/models/index.js';
import { writeTinyModel } from '../../scripts/make-tiny-onnx.js';

const SHARED_M2V = resolve(import.meta.dirname, '..', '..', '..', 'shared', 'models', 'm2v-bge-base-vq128');
const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

function tmp(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

describe('models dir', () => {
  it('defaults to ~/.cache/rag/models and honours RAG_MODELS_DIR', () => {
    const saved = process.env.RAG_MODELS_DIR;
    try {
      delete process.env.RAG_MODELS_DIR;
      expect(modelsDir()).toMatch(/\.cache\/rag\/models$/);
      process.env.RAG_MODELS_DIR = '/somewhere/models';
      expect(modelsDir()).toBe('/somewhere/models');
    } finally {
      if (saved === undefined) delete process.env.RAG_MODELS_DIR;
      else process.env.RAG_MODELS_DIR = saved;
    }
  });

  it('lists models with kind, dimension and the sha256 of the weight file actually used', async () => {
    const dir = tmp('rag-list-');
    writeTinyModel(join(dir, 'acme', 'tiny-embed'), 'embedder');
    writeTinyModel(join(dir, 'acme', 'tiny-rerank'), 'cross-encoder');
    // a quantized graph beside the full one: the full one is preferred
    cpSync(join(dir, 'acme', 'tiny-embed', 'onnx', 'model.onnx'), join(dir, 'acme', 'tiny-embed', 'onnx', 'model_int8.onnx'));
    writeFileSync(join(dir, 'acme', 'tiny-embed', 'onnx', 'model_int8.onnx'), Buffer.concat([readFileSync(join(dir, 'acme', 'tiny-embed', 'onnx', 'model.onnx')), Buffer.from([0])]));
    mkdirSync(join(dir, 'not-a-model', 'x'), { recursive: true });
    const list = await listModels(dir);
    expect(list.map((m) => [m.id, m.kind, m.dim])).toEqual([
      ['acme/tiny-embed', 'onnx-embedder', 8],
      ['acme/tiny-rerank', 'cross-encoder', undefined],
    ]);
    const emb = list[0];
    expect(emb.weight_files).toEqual(['onnx/model.onnx']);
    expect(emb.weights_sha256).toBe(sha(join(dir, 'acme', 'tiny-embed', 'onnx', 'model.onnx')));
    expect(emb.size_bytes).toBe(statSync(join(dir, 'acme', 'tiny-embed', 'onnx', 'model.onnx')).size);
    // the hash is cached beside the weights, keyed by size+mtime
    expect(existsSync(join(dir, 'acme', 'tiny-embed', '.rag-weights.json'))).toBe(true);
  });

  it('lets rag-model.json pick the ONNX file, kind and prefixes', async () => {
    const dir = tmp('rag-override-');
    const m = writeTinyModel(join(dir, 'acme', 'odd'), 'embedder');
    writeFileSync(join(m, 'onnx', 'model_int8.onnx'), readFileSync(join(m, 'onnx', 'model.onnx')));
    writeFileSync(join(m, 'rag-model.json'), JSON.stringify({ onnxFile: 'onnx/model_int8.onnx', pooling: 'cls', queryPrefix: 'q: ', passagePrefix: 'p: ', maxTokens: 64 }));
    const info = await resolveModel('acme/odd', dir);
    expect(info).toMatchObject({ weight_files: ['onnx/model_int8.onnx'], pooling: 'cls', query_prefix: 'q: ', passage_prefix: 'p: ', max_tokens: 64 });
  });

  it('knows the retrieval prefixes of bge and e5 models and that bge pools with CLS', async () => {
    const dir = tmp('rag-prefix-');
    writeTinyModel(join(dir, 'BAAI', 'bge-small-en-v1.5'), 'embedder', 'cls');
    writeTinyModel(join(dir, 'intfloat', 'e5-small-v2'), 'embedder', 'mean');
    const bge = await resolveModel('BAAI/bge-small-en-v1.5', dir);
    expect(bge.query_prefix).toBe('Represent this sentence for searching relevant passages: ');
    expect(bge.passage_prefix).toBeUndefined();
    expect(bge.pooling).toBe('cls');
    const e5 = await resolveModel('intfloat/e5-small-v2', dir);
    expect([e5.query_prefix, e5.passage_prefix]).toEqual(['query: ', 'passage: ']);
  });

  it('names the available models when an id is missing', async () => {
    const dir = tmp('rag-missing-');
    writeTinyModel(join(dir, 'acme', 'one'), 'embedder');
    const err = await resolveModel('acme/two', dir).catch((e) => e);
    expect(err).toBeInstanceOf(StoreError); // exit 3: the machine lacks the model, the command is fine
    expect(err.message).toContain('acme/one');
    expect(err.exitCode).toBe(3);
    await expect(resolveModel('../etc', dir)).rejects.toThrow(/invalid model id/);
  });
});

describe('addModel', () => {
  it('copies a folder under its id and refuses folders without a tokenizer', async () => {
    const src = writeTinyModel(join(tmp('rag-src-'), 'my-model'), 'embedder');
    const dir = tmp('rag-add-');
    const info = await addModel(src, { id: 'me/my-model' }, dir);
    expect(info.id).toBe('me/my-model');
    expect(info.dir).toBe(join(dir, 'me', 'my-model'));
    expect(readdirSync(dir).filter((f) => f.startsWith('.'))).toEqual([]); // no staging leftovers
    const e = await loadEmbedder('me/my-model', dir);
    expect((await e.embedPassages(['cat']))[0].length).toBe(8);

    const bare = tmp('rag-bare-');
    writeFileSync(join(bare, 'config.json'), '{}');
    await expect(addModel(bare, { id: 'me/bare' }, dir)).rejects.toThrow(/tokenizer\.json/);
  });

  it('defaults the id to local/<folder name>', async () => {
    const src = writeTinyModel(join(tmp('rag-src-'), 'Fancy Model'), 'embedder');
    const info = await addModel(src, {}, tmp('rag-add-'));
    expect(info.id).toBe('local/Fancy-Model');
  });
});

describe('pullModel against a local hub', () => {
  let server: Server;
  let endpoint: string;
  const served = new Map<string, string>(); // repo id → folder
  const requests: string[] = [];
  let truncate = false;

  function siblings(folder: string): { rfilename: string; size: number }[] {
    const out: { rfilename: string; size: number }[] = [];
    const walk = (d: string) => {
      for (const f of readdirSync(d)) {
        const p = join(d, f);
        if (statSync(p).isDirectory()) walk(p);
        else out.push({ rfilename: relative(folder, p), size: statSync(p).size });
      }
    };
    walk(folder);
    return out;
  }

  beforeAll(async () => {
    const hub = tmp('rag-hub-');
    served.set('minishlab/m2v-bge-base-vq128', SHARED_M2V);
    served.set('acme/tiny-embed', writeTinyModel(join(hub, 'tiny-embed'), 'embedder'));
    const extra = writeTinyModel(join(hub, 'tiny-extra'), 'embedder');
    writeFileSync(join(extra, 'onnx', 'model_q4.onnx'), 'not needed');
    writeFileSync(join(extra, 'pytorch_model.bin'), 'not needed either');
    served.set('acme/tiny-extra', extra);
    server = createServer((req, res) => {
      requests.push(req.url ?? '');
      const url = decodeURIComponent(req.url ?? '');
      const api = url.match(/^\/api\/models\/([^/]+\/[^/]+)$/);
      if (api) {
        const folder = served.get(api[1]);
        if (!folder) return res.writeHead(404).end();
        return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: api[1], siblings: siblings(folder) }));
      }
      const file = url.match(/^\/([^/]+\/[^/]+)\/resolve\/main\/(.+)$/);
      const folder = file && served.get(file[1]);
      if (!file || !folder || !existsSync(join(folder, file[2]))) return res.writeHead(404).end();
      const full = readFileSync(join(folder, file[2]));
      // a "truncated" file is served as a valid but short HTTP body: only the listed size can catch it
      const body = truncate && full.length > 1000 ? full.subarray(0, full.length - 10) : full;
      res.writeHead(200, { 'content-length': body.length }).end(body);
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((ok) => server.close(() => ok())));

  it('downloads a Model2Vec model and it embeds exactly like the source folder', async () => {
    const dir = tmp('rag-pull-');
    const info = await pullModel('minishlab/m2v-bge-base-vq128', { endpoint }, dir);
    expect(info.kind).toBe('static-embedder');
    expect(info.weights_sha256).toBe(sha(join(SHARED_M2V, 'model.safetensors')));
    for (const f of ['config.json', 'tokenizer.json', 'model.safetensors', 'modules.json']) {
      expect(sha(join(dir, 'minishlab', 'm2v-bge-base-vq128', f))).toBe(sha(join(SHARED_M2V, f)));
    }
    expect(readdirSync(dir).filter((f) => f.startsWith('.'))).toEqual([]);
  });

  it('fetches only the files rag needs: one ONNX graph plus tokenizer and config', async () => {
    const dir = tmp('rag-pull-');
    requests.length = 0;
    const info = await pullModel('acme/tiny-extra', { endpoint }, dir);
    expect(info.weight_files).toEqual(['onnx/model.onnx']);
    expect(requests.some((r) => r.includes('model_q4') || r.includes('pytorch_model'))).toBe(false);
    expect(existsSync(join(dir, 'acme', 'tiny-extra', 'tokenizer.json'))).toBe(true);
  });

  it('uses RAG_HUB_ENDPOINT when no endpoint is given', async () => {
    const saved = process.env.RAG_HUB_ENDPOINT;
    process.env.RAG_HUB_ENDPOINT = endpoint;
    try {
      const info = await pullModel('acme/tiny-embed', {}, tmp('rag-pull-'));
      expect(info.kind).toBe('onnx-embedder');
    } finally {
      if (saved === undefined) delete process.env.RAG_HUB_ENDPOINT;
      else process.env.RAG_HUB_ENDPOINT = saved;
    }
  });

  it('reports an unknown id as a usage error and leaves nothing behind', async () => {
    const dir = tmp('rag-pull-');
    const err = await pullModel('acme/nope', { endpoint }, dir).catch((e) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('rejects a short download and keeps the old copy in place', async () => {
    const dir = tmp('rag-pull-');
    await pullModel('minishlab/m2v-bge-base-vq128', { endpoint }, dir);
    truncate = true;
    try {
      await expect(pullModel('minishlab/m2v-bge-base-vq128', { endpoint }, dir)).rejects.toThrow(/got \d+ bytes, expected \d+/);
    } finally {
      truncate = false;
    }
    const info = await resolveModel('minishlab/m2v-bge-base-vq128', dir);
    expect(info.weights_sha256).toBe(sha(join(SHARED_M2V, 'model.safetensors')));
    expect(readdirSync(dir).filter((f) => f.startsWith('.'))).toEqual([]);
  });

  it('says how to work offline when the hub cannot be reached', async () => {
    const err = await pullModel('acme/tiny-embed', { endpoint: 'http://127.0.0.1:9' }, tmp('rag-pull-')).catch((e) => e);
    expect(err.message).toMatch(/cannot reach/);
    expect(err.fix).toMatch(/rag models add/);
  });
});
