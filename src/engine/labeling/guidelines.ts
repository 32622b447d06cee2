/**
 * Where a labeling project's guidelines come from, first found wins: `--guidelines FILE`, the
 * config's `label.guidelines` (relative to the config file), or `<golden>.guidelines.md` beside
 * the golden set (`goldens/support.jsonl` → `goldens/support.guidelines.md`), so a golden set can
 * carry its own instructions without any configuration.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { InputError } from '../errors.js';

export interface Guidelines {
  file: string;
  text: string;
}

export function guidelinesBeside(golden: string): string {
  return golden.replace(/\.jsonl?$/i, '') + '.guidelines.md';
}

export function resolveGuidelines(opts: { flag?: string; config?: string; configPath?: string; golden: string }): Guidelines | undefined {
  const named = opts.flag ?? (opts.config ? path.resolve(opts.configPath ? path.dirname(opts.configPath) : '.', opts.config) : undefined);
  if (named) {
    const where = opts.flag ? '--guidelines' : `label.guidelines in ${opts.configPath ?? 'the config'}`;
    if (!existsSync(named) || statSync(named).isDirectory()) {
      throw new InputError(named, undefined, `guidelines file not found (named by ${where})`, 'point it at a Markdown file, or remove the setting');
    }
    return { file: named, text: withoutFrontMatter(readFileSync(named, 'utf8')) };
  }
  const beside = guidelinesBeside(opts.golden);
  return existsSync(beside) && !statSync(beside).isDirectory() ? { file: beside, text: withoutFrontMatter(readFileSync(beside, 'utf8')) } : undefined;
}

/** YAML front matter is metadata for other tools, not guidance for the labeler. */
function withoutFrontMatter(text: string): string {
  return text.replace(/^---[ \t]*\r?\n[\s\S]*?\r?\n---[ \t]*(?:\r?\n|$)/, '');
}
