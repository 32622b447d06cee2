import { readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures');

export function fixture(rel: string): string {
  return join(FIXTURES, rel);
}

/** Every file under a fixtures subfolder, as [absolute, relative-to-fixtures] pairs. */
export function fixtureFiles(sub: string): [string, string][] {
  const out: [string, string][] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push([p, relative(FIXTURES, p).split('\\').join('/')]);
    }
  };
  walk(join(FIXTURES, sub));
  return out;
}

/** Runs fn and returns what it threw (sync or async), failing if it did not throw. */
export async function thrown(fn: () => unknown): Promise<Error & { fix?: string; line?: number; file?: string }> {
  try {
    await fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected an error, but none was thrown');
}
