import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { InputError, UsageError } from './errors.js';

const principal = z
  .string()
  .regex(/^(public|(user|group|role|service):[^\s,']+)$/, 'a principal such as "public", "user:alice" or "group:hr"');

const aclRule = z.strictObject({
  /** Glob (relative to the ingest root) the rule applies to. */
  match: z.string().min(1),
  acl: z.array(principal).min(1).optional(),
  tenant: z.string().min(1).optional(),
});

const jsonlMapping = z.strictObject({
  id: z.string().default('id'),
  title: z.string().optional(),
  body: z.array(z.string()).min(1).default(['body']),
  acl: z.string().optional(),
  tenant: z.string().optional(),
  metadata: z.array(z.string()).optional(),
});

const profile = z.strictObject({
  as: z.array(principal).min(1),
  tenant: z.string().min(1).optional(),
});

export const configSchema = z.strictObject({
  db: z.string().optional(),
  include: z.array(z.string()).default(['**/*']),
  exclude: z.array(z.string()).default([]),
  acl: z
    .strictObject({
      default: z.array(principal).min(1).default(['public']),
      rules: z.array(aclRule).default([]),
    })
    .prefault({}),
  tenant: z.strictObject({ default: z.string().min(1).default('default') }).prefault({}),
  jsonl: jsonlMapping.prefault({}),
  chunking: z
    .strictObject({
      maxTokens: z.number().int().min(16).max(8192).default(256),
      overlapTokens: z.number().int().min(0).max(1024).default(32),
      hardMaxTokens: z.number().int().min(16).max(65536).default(512),
    })
    .prefault({}),
  index: z
    .strictObject({
      name: z.string().regex(/^[A-Za-z0-9_-]+$/).default('default'),
      /** Embedding model id, or "none" for BM25 only; unset → the best model present. */
      model: z.string().optional(),
      /** Rows from which an ANN (IVF-HNSW-SQ) index is built; below it, exact search is fast enough. */
      annThreshold: z.number().int().min(256).default(4096),
      /** Rows per IVF partition of the ANN index (each partition holds one HNSW graph). */
      annPartitionRows: z.number().int().min(1000).default(250_000),
      /** How long a rebuilt index's previous table stays readable for searches that opened it. */
      graceSeconds: z.number().min(0).default(3600),
    })
    .prefault({}),
  retrieval: z
    .strictObject({
      mode: z.enum(['bm25', 'vector', 'hybrid']).optional(),
      k: z.number().int().min(1).max(10_000).default(10),
      rrfK: z.number().min(0).default(10),
      candidates: z.number().int().min(1).max(10_000).default(50),
      weights: z
        .strictObject({ bm25: z.number().min(0).default(1), vector: z.number().min(0).default(1) })
        .prefault({}),
      rerank: z.string().optional(),
      rerankTopN: z.number().int().min(1).max(1000).default(30),
      /** ANN search effort: IVF partitions probed, HNSW candidate list, exact re-ranking factor. */
      nprobes: z.number().int().min(1).default(8),
      ef: z.number().int().min(10).default(100),
      refineFactor: z.number().int().min(1).default(2),
    })
    .prefault({}),
  profiles: z.record(z.string(), profile).default({}),
  eval: z
    .strictObject({
      ks: z.array(z.number().int().min(1)).default([1, 3, 5, 10, 100]),
      gate: z.string().optional(),
    })
    .prefault({}),
});

export type RagConfig = z.infer<typeof configSchema>;
export const CONFIG_FILE = 'rag.config.json';

export function defaultConfig(): RagConfig {
  return configSchema.parse({});
}

/**
 * Loads and validates the config. An explicit path must exist; the default file is optional.
 * Errors name the file and the offending key so the fix is obvious.
 */
export function loadConfig(explicitPath?: string, cwd = process.cwd()): { config: RagConfig; path?: string } {
  const file = explicitPath ? path.resolve(cwd, explicitPath) : path.resolve(cwd, CONFIG_FILE);
  if (!existsSync(file)) {
    if (explicitPath) throw new UsageError(`config file not found: ${file}`, 'pass an existing file to --config');
    return { config: defaultConfig() };
  }
  const raw = readFileSync(file, 'utf8');
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch (err) {
    const m = /position (\d+)/.exec(String(err));
    const line = m ? raw.slice(0, Number(m[1])).split('\n').length : undefined;
    throw new InputError(file, line, `invalid JSON (${(err as Error).message})`, 'fix the JSON syntax');
  }
  const parsed = configSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = issue.path.join('.') || '(root)';
    const extra = issue.code === 'unrecognized_keys' ? ` ${(issue as { keys?: string[] }).keys?.join(', ')}` : '';
    throw new InputError(file, undefined, `config key "${key}": ${issue.message}${extra}`, 'see README "Configuration" for the schema');
  }
  return { config: parsed.data, path: file };
}
