/**
 * Key spelling of the JSON rag writes. Every key rag chooses is snake_case; files and store rows
 * written by older versions used camelCase (`tableVersion`, `weightsSha256`, `rerankTopN`…).
 * Readers of such files bring them up to today's names here, so the rest of the code knows one
 * spelling. Only objects whose keys are rag's own field names go through these: maps keyed by
 * data (query ids, metric names, metadata) keep their keys.
 */

const CAMEL = /[a-z0-9][A-Z]/;

/** camelCase → snake_case (`tableVersion` → `table_version`, `pTTest` → `p_t_test`); other keys as they are. */
export function snakeCase(key: string): string {
  if (!CAMEL.test(key)) return key;
  return key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/([A-Z])([A-Z][a-z])/g, '$1_$2').toLowerCase();
}

export const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Every key of `value` in snake_case, at any depth (arrays included); a key already spelt the new
 * way wins over its old spelling. Keys in `keep` hold data-keyed maps: their values are copied as
 * they are.
 */
export function snakeKeysDeep(value: unknown, keep: ReadonlySet<string> = new Set()): unknown {
  if (Array.isArray(value)) return value.map((v) => snakeKeysDeep(v, keep));
  if (!isRecord(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const key = snakeCase(k);
    if (key !== k && key in value) continue;
    out[key] = keep.has(key) ? v : snakeKeysDeep(v, keep);
  }
  return out;
}
