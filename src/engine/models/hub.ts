/**
 * Getting models into the models dir: `addModel` copies a local folder, `pullModel` downloads from
 * a Hugging Face compatible hub. Both stage into a temp folder inside the models dir and rename it
 * into place, so a half-copied or half-downloaded model is never visible under its id.
 */
import { cp, mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { StoreError, UsageError, errorMessage } from '../errors.js';
import { detectModel, modelsDir, pickOnnxFile, resolveModel, validateModelId, RAG_MODEL_FILE, type ModelInfo } from './registry.js';

/** Small files a model folder may carry besides its weights. */
const METADATA_FILES = [
  'config.json',
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'vocab.txt',
  'modules.json',
  'sentence_bert_config.json',
  'config_sentence_transformers.json',
  '1_Pooling/config.json',
  RAG_MODEL_FILE,
  'README.md',
  'LICENSE',
];

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

/** Moves a fully staged folder to its final place, replacing an older copy only after staging succeeded. */
async function commitStaged(staged: string, target: string): Promise<void> {
  await mkdir(dirname(target), { recursive: true });
  if (await exists(target)) {
    const old = `${staged}.old`;
    await rename(target, old);
    await rename(staged, target);
    await rm(old, { recursive: true, force: true });
  } else {
    await rename(staged, target);
  }
}

async function defaultIdFor(srcDir: string): Promise<string> {
  try {
    const cfg = JSON.parse(await readFile(join(srcDir, 'config.json'), 'utf8')) as { _name_or_path?: string };
    const n = cfg._name_or_path;
    if (n && /^[A-Za-z0-9._-]+\/[A-Za-z0-9._-]+$/.test(n)) return n;
  } catch {
    // no usable config; fall back to the folder name
  }
  return `local/${basename(resolve(srcDir)).replace(/[^A-Za-z0-9._-]/g, '-')}`;
}

export async function addModel(srcDir: string, opts: { id?: string }, dir = modelsDir()): Promise<ModelInfo> {
  const src = resolve(srcDir);
  if (!(await exists(src)) || !(await stat(src)).isDirectory()) {
    throw new UsageError(`${srcDir}: not a folder`, 'pass the folder that holds config.json, tokenizer.json and onnx/ (or model.safetensors)');
  }
  const id = opts.id ?? (await defaultIdFor(src));
  validateModelId(id);
  if (!(await exists(join(src, 'tokenizer.json')))) {
    throw new UsageError(`${join(srcDir, 'tokenizer.json')}: missing`, 'rag needs the fast tokenizer file (tokenizer.json) beside the weights');
  }
  try {
    await detectModel(id, src); // refuse folders we could not load later
  } catch (err) {
    throw new UsageError(`${srcDir}: not a usable model (${errorMessage(err)})`, 'a model folder needs onnx/model*.onnx or a Model2Vec model.safetensors; see rag-model.json to override detection');
  }
  const target = join(dir, ...id.split('/'));
  if (resolve(target) === src) return resolveModel(id, dir);
  await mkdir(dir, { recursive: true });
  const staged = await mkdtemp(join(dir, '.add-'));
  try {
    await cp(src, staged, { recursive: true, filter: (p) => !basename(p).startsWith('.rag-weights') });
    await commitStaged(staged, target);
  } catch (err) {
    await rm(staged, { recursive: true, force: true });
    throw new StoreError(`could not copy ${srcDir} into ${target}: ${errorMessage(err)}`);
  }
  return resolveModel(id, dir);
}

interface Sibling {
  rfilename: string;
  size?: number;
  lfs?: { size?: number };
}

/** Which files of a hub repo rag needs: metadata, one ONNX graph (+ external data), or static weights. */
export function selectFiles(siblings: Sibling[]): string[] {
  const names = new Set(siblings.map((s) => s.rfilename));
  const wanted = METADATA_FILES.filter((f) => names.has(f));
  const onnx = pickOnnxFile([...names].filter((n) => n.endsWith('.onnx') && (n.startsWith('onnx/') || !n.includes('/'))));
  if (onnx) {
    wanted.push(onnx);
    for (const extra of [`${onnx}_data`, `${onnx}.data`]) if (names.has(extra)) wanted.push(extra);
  } else if (names.has('model.safetensors')) {
    wanted.push('model.safetensors');
  }
  return wanted;
}

function hubEndpoint(opt?: string): string {
  return (opt ?? process.env.RAG_HUB_ENDPOINT ?? 'https://huggingface.co').replace(/\/+$/, '');
}

async function fetchOrThrow(url: string, what: string): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(url, { redirect: 'follow' });
  } catch (err) {
    throw new StoreError(`cannot reach ${url}: ${errorMessage((err as { cause?: unknown }).cause ?? err)}`, 'offline? copy the model folder here and run `rag models add DIR`, or set RAG_HUB_ENDPOINT to a reachable mirror');
  }
  if (res.status === 404) throw new UsageError(`${what} not found at ${url}`, 'check the model id and --revision');
  if (!res.ok) throw new StoreError(`${what}: HTTP ${res.status} from ${url}`);
  return res;
}

export async function pullModel(id: string, opts: { endpoint?: string; revision?: string } = {}, dir = modelsDir()): Promise<ModelInfo> {
  validateModelId(id);
  if (!id.includes('/')) throw new UsageError(`model id "${id}" needs an owner`, 'use owner/name, e.g. sentence-transformers/all-MiniLM-L6-v2');
  const endpoint = hubEndpoint(opts.endpoint);
  const revision = opts.revision ?? 'main';
  const rev = encodeURIComponent(revision);
  const apiUrl = revision === 'main' ? `${endpoint}/api/models/${id}` : `${endpoint}/api/models/${id}/revision/${rev}`;
  const meta = (await (await fetchOrThrow(apiUrl, `model ${id}`)).json()) as { siblings?: Sibling[] };
  const siblings = meta.siblings ?? [];
  const files = selectFiles(siblings);
  if (!files.some((f) => f.endsWith('.onnx') || f === 'model.safetensors')) {
    throw new UsageError(`model ${id} has no ONNX graph or Model2Vec weights on ${endpoint}`, 'rag runs ONNX exports (onnx/model.onnx) and Model2Vec static models');
  }
  const expected = new Map(siblings.map((s) => [s.rfilename, s.lfs?.size ?? s.size]));
  await mkdir(dir, { recursive: true });
  const staged = await mkdtemp(join(dir, '.pull-'));
  try {
    for (const f of files) {
      const url = `${endpoint}/${id}/resolve/${rev}/${f.split('/').map(encodeURIComponent).join('/')}`;
      const res = await fetchOrThrow(url, `${id}/${f}`);
      const body = Buffer.from(await res.arrayBuffer());
      const header = res.headers.get('content-length');
      const want = expected.get(f) ?? (header !== null && !res.headers.get('content-encoding') ? Number(header) : undefined);
      if (want !== undefined && body.length !== want) throw new StoreError(`${id}/${f}: got ${body.length} bytes, expected ${want}`, 'the download was cut short; run the pull again');
      await mkdir(dirname(join(staged, f)), { recursive: true });
      await writeFile(join(staged, f), body);
    }
    await writeFile(join(staged, '.rag-source.json'), JSON.stringify({ endpoint, id, revision, files }, null, 2) + '\n');
    await detectModel(id, staged);
    await commitStaged(staged, join(dir, ...id.split('/')));
  } catch (err) {
    await rm(staged, { recursive: true, force: true });
    throw err;
  }
  return resolveModel(id, dir);
}
