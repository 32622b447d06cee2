import ignore, { type Ignore } from 'ignore';
import picomatch from 'picomatch';
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import path from 'node:path';

export interface WalkOptions {
  include: string[];
  exclude: string[];
}

export interface WalkedFile {
  abs: string;
  /** Path relative to the id root (the project root), with forward slashes: the stable document id. */
  rel: string;
}

const ALWAYS_SKIPPED = new Set(['.git', 'node_modules', '.rag', '.hg', '.svn']);
const IGNORE_FILES = ['.gitignore', '.ragignore'];

/** A file's id: its path from `root` with forward slashes; a file outside the root keeps its absolute path. */
export function relativeId(abs: string, root = process.cwd()): string {
  const rel = path.relative(root, abs);
  const id = rel.startsWith('..') || path.isAbsolute(rel) ? abs : rel;
  return id.split(path.sep).join('/');
}

/**
 * Walks a folder in sorted order (deterministic ids and batches), honouring .gitignore-style files
 * found along the way and the include/exclude globs from the config. `root` is resolved against
 * `cwd`; ids are relative to `idRoot`.
 */
export function walk(root: string, opts: WalkOptions, cwd = process.cwd(), idRoot = cwd): WalkedFile[] {
  const absRoot = path.resolve(cwd, root);
  const st = statSync(absRoot);
  if (st.isFile()) return [{ abs: absRoot, rel: relativeId(absRoot, idRoot) }];
  const include = picomatch(opts.include.length ? opts.include : ['**/*'], { dot: false });
  const exclude = opts.exclude.length ? picomatch(opts.exclude, { dot: true }) : () => false;
  const out: WalkedFile[] = [];
  const visit = (dir: string, rules: { base: string; ig: Ignore }[]) => {
    const local = [...rules];
    for (const name of IGNORE_FILES) {
      const f = path.join(dir, name);
      if (existsSync(f)) local.push({ base: dir, ig: ignore().add(readFileSync(f, 'utf8')) });
    }
    const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (ALWAYS_SKIPPED.has(e.name) || IGNORE_FILES.includes(e.name)) continue;
      const abs = path.join(dir, e.name);
      const ignored = local.some(({ base, ig }) => {
        const rel = path.relative(base, abs).split(path.sep).join('/');
        return ig.ignores(e.isDirectory() ? `${rel}/` : rel);
      });
      if (ignored) continue;
      const relToRoot = path.relative(absRoot, abs).split(path.sep).join('/');
      if (e.isDirectory()) {
        if (exclude(relToRoot) || exclude(`${relToRoot}/`)) continue;
        visit(abs, local);
      } else if (e.isFile()) {
        if (!include(relToRoot) || exclude(relToRoot)) continue;
        out.push({ abs, rel: relativeId(abs, idRoot) });
      }
    }
  };
  visit(absRoot, []);
  return out;
}
