import ignore, { type Ignore } from 'ignore';
import picomatch from 'picomatch';
import { readFileSync, readdirSync, readlinkSync, statSync, existsSync, type Dirent } from 'node:fs';
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

/** Something the walk did not go into, and why. */
export interface WalkSkip {
  /** Path relative to the id root (as document sources are), forward slashes. */
  rel: string;
  /** unreadable: a folder (or its ignore file) that could not be read, skipped with all below it; link: a symbolic link. */
  kind: 'unreadable' | 'link';
  reason: string;
}

const ALWAYS_SKIPPED = new Set(['.git', 'node_modules', '.rag', '.hg', '.svn']);
const IGNORE_FILES = ['.gitignore', '.ragignore'];

/** A file's id: its path from `root` with forward slashes; a file outside the root keeps its absolute path. */
export function relativeId(abs: string, root = process.cwd()): string {
  const rel = path.relative(root, abs);
  const id = rel.startsWith('..') || path.isAbsolute(rel) ? abs : rel;
  return id.split(path.sep).join('/');
}

function errCode(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  return code ?? (err instanceof Error ? err.message : String(err));
}

/**
 * Symbolic links inside a walked folder are not followed. ACL rules match paths, and a link
 * makes a file reachable under a path whose rules it was never meant to have (a link in public/
 * to hr/salaries.md); links can also loop. Each is reported instead; a path named on the command
 * line is followed (the user chose it).
 */
function describeLink(abs: string): string {
  let target = '?';
  try {
    target = readlinkSync(abs);
  } catch {
    // unreadable link: described by stat below
  }
  try {
    const st = statSync(abs);
    return `symbolic link to a ${st.isDirectory() ? 'folder' : 'file'} (${target}), not followed: ingest the target path itself if it belongs in the store`;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') return `symbolic link loop (${target}), not followed`;
    if (code === 'ENOENT') return `dangling symbolic link (${target} does not exist), not followed`;
    return `symbolic link (${target}) whose target cannot be read (${errCode(err)}), not followed`;
  }
}

/**
 * Walks a folder in sorted order (deterministic ids and batches), honouring .gitignore-style files
 * found along the way and the include/exclude globs from the config. `root` is resolved against
 * `cwd`; ids are relative to `idRoot`. A folder that cannot be read and every symbolic link are
 * passed to `onSkip`; the walk goes on.
 */
export function walk(root: string, opts: WalkOptions, cwd = process.cwd(), idRoot = cwd, onSkip: (s: WalkSkip) => void = () => {}): WalkedFile[] {
  const absRoot = path.resolve(cwd, root);
  const st = statSync(absRoot);
  if (st.isFile()) return [{ abs: absRoot, rel: relativeId(absRoot, idRoot) }];
  const include = picomatch(opts.include.length ? opts.include : ['**/*'], { dot: false });
  const exclude = opts.exclude.length ? picomatch(opts.exclude, { dot: true }) : () => false;
  const out: WalkedFile[] = [];
  const visit = (dir: string, rules: { base: string; ig: Ignore }[]) => {
    const local = [...rules];
    let entries: Dirent[];
    try {
      // An ignore file that cannot be read might exclude secrets: the folder is skipped, not walked without it.
      for (const name of IGNORE_FILES) {
        const f = path.join(dir, name);
        if (existsSync(f)) local.push({ base: dir, ig: ignore().add(readFileSync(f, 'utf8')) });
      }
      entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    } catch (err) {
      onSkip({ rel: relativeId(dir, idRoot), kind: 'unreadable', reason: `cannot read this folder (${errCode(err)}): skipped with everything under it; fix its permissions and ingest again` });
      return;
    }
    for (const e of entries) {
      if (ALWAYS_SKIPPED.has(e.name) || IGNORE_FILES.includes(e.name)) continue;
      const abs = path.join(dir, e.name);
      const ignored = local.some(({ base, ig }) => {
        const rel = path.relative(base, abs).split(path.sep).join('/');
        return ig.ignores(e.isDirectory() ? `${rel}/` : rel);
      });
      if (ignored) continue;
      const relToRoot = path.relative(absRoot, abs).split(path.sep).join('/');
      if (e.isSymbolicLink()) {
        if (exclude(relToRoot) || exclude(`${relToRoot}/`)) continue;
        let toFolder = false;
        try {
          toFolder = statSync(abs).isDirectory();
        } catch {
          // dangling or looping: described below
        }
        // A link to a file the globs would not take anyway is not worth a line.
        if (toFolder || include(relToRoot)) onSkip({ rel: relativeId(abs, idRoot), kind: 'link', reason: describeLink(abs) });
      } else if (e.isDirectory()) {
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
