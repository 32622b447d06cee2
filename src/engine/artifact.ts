/**
 * Output directories (`--out DIR`) for every command that writes a report or a run artifact, and
 * where run artifacts go by default. One rule everywhere: `--out` is a directory; an existing one is
 * replaced only with `--overwrite`; the check happens before any work starts, so a long eval or
 * audit never ends in "already exists".
 */
import { accessSync, constants, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UsageError } from './errors.js';

const FILE_LIKE = /\.(md|html?|json|xml|txt)$/i;

/**
 * Refuses an --out that cannot be written without losing something. Call before any work.
 * `marker` names the file an earlier output of the same kind holds (metrics.json for an eval,
 * comparison.json for a diff, report.json for an audit): a non-empty directory without it is
 * somebody's folder, never replaced, even with --overwrite (`--out . --overwrite` must not wipe a
 * project).
 */
export function checkOutDir(dir: string, opts: { overwrite?: boolean; flag?: string; marker?: string } = {}): string {
  const flag = opts.flag ?? '--out';
  const target = path.resolve(dir);
  if (existsSync(target)) {
    if (!statSync(target).isDirectory()) {
      throw new UsageError(`${flag} ${dir} is a file, but ${flag} takes a directory (the report files are written inside it)`, `pass a directory, e.g. ${flag} ${FILE_LIKE.test(dir) ? dir.replace(FILE_LIKE, '') : `${dir}.d`}`);
    }
    const entries = readdirSync(target);
    if (opts.marker && entries.length > 0 && !entries.includes(opts.marker)) {
      throw new UsageError(`output directory ${dir} already exists and holds no ${opts.marker}`, `pass another ${flag}: a directory that is not an earlier rag output is never replaced`);
    }
    if (!opts.overwrite) throw new UsageError(`output directory ${dir} already exists`, `pass another ${flag}, or --overwrite to replace it`);
  } else if (FILE_LIKE.test(dir)) {
    // `--out report.md` was a file name for `rag audit` once: say so instead of making a folder called report.md.
    throw new UsageError(`${flag} ${dir} looks like a file name, but ${flag} takes a directory (report.md, report.html and report.json are written inside it)`, `pass a directory, e.g. ${flag} ${dir.replace(FILE_LIKE, '')}`);
  }
  let parent = path.dirname(target);
  while (!existsSync(parent)) parent = path.dirname(parent);
  try {
    accessSync(parent, constants.W_OK);
  } catch {
    throw new UsageError(`${flag} ${dir} cannot be created: ${parent} is not writable`, `pass a ${flag} in a writable directory`);
  }
  return target;
}

/**
 * Writes files to a temp sibling, then renames it into place: readers see all of it or none.
 * `unique` (a name rag chose, not the user): when the name is taken — another run finished in the
 * same second — the next free `NAME-2`, `NAME-3`… is used instead of failing at the very end.
 */
export function writeOutDir(
  dir: string,
  files: Record<string, string | undefined>,
  opts: { overwrite?: boolean; marker?: string; unique?: boolean } = {},
): string {
  const target = opts.unique ? path.resolve(dir) : checkOutDir(dir, opts);
  mkdirSync(path.dirname(target), { recursive: true });
  const tmp = `${target}.tmp-${process.pid}-${Date.now()}`;
  mkdirSync(tmp, { recursive: true });
  try {
    for (const [name, content] of Object.entries(files)) if (content !== undefined) writeFileSync(path.join(tmp, name), content);
    if (opts.unique) return renameToFree(tmp, target);
    if (existsSync(target)) {
      const old = `${target}.old-${process.pid}-${Date.now()}`;
      renameSync(target, old);
      renameSync(tmp, target);
      rmSync(old, { recursive: true, force: true });
    } else {
      renameSync(tmp, target);
    }
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  return target;
}

/** rename(2) onto a non-empty directory fails: that failure, not a prior check, decides, so two racing writers never collide. */
function renameToFree(tmp: string, target: string): string {
  for (let n = 1; ; n++) {
    const name = n === 1 ? target : `${target}-${n}`;
    if (existsSync(name)) continue;
    try {
      renameSync(tmp, name);
      return name;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
    }
  }
}

/**
 * Where `rag eval` puts artifacts when --out is not given, and where `rag runs` looks: beside the
 * data they measure. A local store keeps them in `<db>/runs/`; an s3:// store cannot hold plain
 * files for us, so its runs live in the user's state directory, one folder per bucket and prefix.
 */
export function defaultRunsDir(db: string): string {
  const remote = /^s3:\/\/([^/]+)\/?(.*)$/.exec(db);
  if (!remote) return path.join(db, 'runs');
  const state = process.env.XDG_STATE_HOME || path.join(os.homedir(), '.local', 'state');
  const prefix = remote[2].replace(/\/+$/, '').split('/').filter((s) => s && s !== '.' && s !== '..');
  return path.join(state, 'rag', 'runs', 's3', remote[1], ...prefix);
}
