/** SQL literal quoting for LanceDB (DataFusion) filters: the only place strings enter a where clause. */
export function sqlString(value: string): string {
  if (value.includes('\0')) throw new Error('NUL byte in SQL literal');
  return `'${value.replace(/'/g, "''")}'`;
}

export function sqlStringList(values: readonly string[]): string {
  return `[${values.map(sqlString).join(', ')}]`;
}

/** `col IN (...)` over many ids, split so that no single statement grows unbounded. */
export function inListChunks(column: string, values: readonly string[], size = 500): string[] {
  const out: string[] = [];
  for (let i = 0; i < values.length; i += size) {
    out.push(`${column} IN (${values.slice(i, i + size).map(sqlString).join(', ')})`);
  }
  return out;
}
