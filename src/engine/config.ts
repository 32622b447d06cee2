import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { InputError, UsageError } from './errors.js';
import { jsonSyntaxError, stripJsonComments } from './jsonc.js';

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

/** A spreadsheet rule: rows of matching files become documents (see connectors/tables.ts TableRule). */
const tableRule = z.strictObject({
  match: z.string().min(1),
  id: z.string().min(1).optional(),
  title: z.string().min(1).optional(),
  body: z.array(z.string().min(1)).min(1).optional(),
  acl: z.string().min(1).optional(),
  tenant: z.string().min(1).optional(),
  metadata: z.array(z.string().min(1)).optional(),
});

/**
 * Full-text languages: a stemming language (LanceDB's tokenizer with that language's stemmer and
 * stop words), "simple" (words, lowercased, no stemming) or "cjk" (character n-grams, for
 * Chinese, Japanese and Korean, which have no spaces between words).
 */
export const FTS_LANGUAGES = [
  'english', 'arabic', 'danish', 'dutch', 'finnish', 'french', 'german', 'greek', 'hungarian', 'italian',
  'norwegian', 'portuguese', 'romanian', 'russian', 'spanish', 'swedish', 'tamil', 'turkish', 'simple', 'cjk',
] as const;
export type FtsLanguage = (typeof FTS_LANGUAGES)[number];
const ftsLanguage = z.enum(FTS_LANGUAGES);

const profile = z.strictObject({
  as: z.array(principal).min(1),
  tenant: z.string().min(1).optional(),
});

export const configSchema = z.strictObject({
  db: z.string().optional(),
  /**
   * The directory file ids are relative to (`docs/x.md`), relative to the config file; loadConfig
   * makes it absolute. Unset: the root the store recorded at its first ingest (README "Ingest").
   */
  root: z.string().min(1).optional(),
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
  tables: z.array(tableRule).default([]),
  ocr: z
    .strictObject({
      /** Tesseract language packs, e.g. "eng", "eng+deu", "chi_sim". */
      languages: z.string().regex(/^[A-Za-z_]+(\+[A-Za-z_]+)*$/, 'tesseract language codes joined by "+", e.g. "eng+deu"').default('eng'),
      dpi: z.number().int().min(72).max(600).default(300),
    })
    .prefault({}),
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
      /** Full-text language of every index, unless `languages` names one for that index. */
      language: ftsLanguage.default('english'),
      languages: z.record(z.string().regex(/^[A-Za-z0-9_-]+$/), ftsLanguage).default({}),
      /** How long a rebuilt index's previous table stays readable for searches that opened it. */
      graceSeconds: z.number().min(0).default(3600),
    })
    .prefault({}),
  retrieval: z
    .strictObject({
      mode: z.enum(['bm25', 'vector', 'hybrid']).optional(),
      k: z.number().int().min(1).max(10_000).default(10),
      /** The literature's RRF constant (Cormack et al. 2009); not tuned on any collection rag reports. */
      rrfK: z.number().min(0).default(60),
      /** Candidates per system in the first (fused) pass: the depth every ranking's head is fused at. */
      candidates: z.number().int().min(1).max(10_000).default(100),
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
  label: z
    .strictObject({
      /** Markdown file of labeling guidelines shown by `rag label` (relative to this config file). */
      guidelines: z.string().min(1).optional(),
    })
    .prefault({}),
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
  const text = stripJsonComments(raw);
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    const { line, message } = jsonSyntaxError(text, err);
    throw new InputError(file, line, `invalid JSON (${message})`, 'fix the JSON syntax');
  }
  const parsed = configSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = issue.path.join('.') || '(root)';
    const extra = issue.code === 'unrecognized_keys' ? ` ${(issue as { keys?: string[] }).keys?.join(', ')}` : '';
    throw new InputError(file, undefined, `config key "${key}": ${issue.message}${extra}`, 'see README "Configuration" for the schema');
  }
  const config = parsed.data;
  if (config.root !== undefined) {
    const root = path.resolve(path.dirname(file), config.root);
    if (!existsSync(root) || !statSync(root).isDirectory()) {
      throw new InputError(file, undefined, `config key "root": ${root} is not a directory`, 'set "root" to the project folder, relative to the config file');
    }
    config.root = root;
  }
  return { config, path: file };
}

export const DEFAULT_RERANKER = 'cross-encoder/ms-marco-MiniLM-L-6-v2';

/** The reranker a search uses: an id, true (configured or default), false (none), else the config. */
export function resolveRerank(opt: string | boolean | undefined | null, config: RagConfig): string | null {
  if (opt === false) return null;
  if (opt === true) return config.retrieval.rerank ?? DEFAULT_RERANKER;
  return opt ?? config.retrieval.rerank ?? null;
}
