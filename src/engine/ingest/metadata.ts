/**
 * Metadata as the `meta_kv` column stores it: flattened scalar `key=value` strings, so a
 * `--filter` on metadata is an exact array lookup (search/filter.ts writes the same encoding).
 */
/** Arrays give one entry per element; nested objects give dotted keys. */
export function metadataKeyValues(metadata: Record<string, unknown>, prefix = ''): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(metadata)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v === null || v === undefined) continue;
    if (Array.isArray(v)) {
      for (const item of v) if (item !== null && typeof item !== 'object') out.push(`${key}=${String(item)}`);
    } else if (typeof v === 'object') {
      if (v instanceof Date) out.push(`${key}=${v.toISOString().slice(0, 10)}`);
      else out.push(...metadataKeyValues(v as Record<string, unknown>, key));
    } else {
      out.push(`${key}=${String(v)}`);
    }
  }
  return [...new Set(out)].sort();
}
