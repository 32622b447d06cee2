import { Command } from 'commander';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { SUPPORTED_EXTENSIONS } from '../connectors/detect.js';
import { CONFIG_FILE, loadConfig } from '../engine/config.js';
import { UsageError } from '../engine/errors.js';
import { initConfigText, RAGIGNORE_TEXT } from '../render/init-files.js';
import type { GlobalOptions } from './context.js';

export function registerInit(program: Command): void {
  program
    .command('init')
    .description('start a project here: a commented rag.config.json and a .ragignore')
    .option('--tenant <name>', 'default tenant of this project', 'default')
    .option('--force', 'replace existing files')
    .addHelpText(
      'after',
      `
Examples:
  $ rag init
  $ rag init --tenant acme && rag ingest . && rag index && rag query "onboarding"

Writes rag.config.json (JSON with comments: every setting with its default) and .ragignore
(secrets and build output). Refuses to replace either without --force.`,
    )
    .action((opts: { tenant: string; force?: boolean }, cmd: Command) => {
      // Not contextFrom: an unreadable config here is exactly what --force is for.
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const targets = [CONFIG_FILE, '.ragignore'].map((f) => path.resolve(f));
      const existing = targets.filter((f) => existsSync(f));
      if (existing.length && !opts.force) {
        throw new UsageError(`${existing.map((f) => path.basename(f)).join(' and ')} already exist${existing.length === 1 ? 's' : ''} here`, 'keep it, or pass --force to replace it');
      }
      const sources = topLevelSources(process.cwd());
      writeFileSync(targets[0]!, initConfigText({ tenant: opts.tenant }));
      writeFileSync(targets[1]!, RAGIGNORE_TEXT);
      // What was written must load: a template that drifted from the schema fails here, not later.
      loadConfig(targets[0]!);
      if (g.json) {
        process.stdout.write(`${JSON.stringify({ written: targets, sources }, null, 2)}\n`);
        return;
      }
      process.stdout.write(`wrote ${CONFIG_FILE} and .ragignore\nnext: rag ingest ${sources.length ? sources.join(' ') : '.'} && rag index && rag query "…"\n`);
    });
}

/** Folders (and files) here that hold something rag can ingest: the suggested first ingest. */
function topLevelSources(dir: string): string[] {
  const skip = new Set(['node_modules', '.git', '.rag', 'dist', 'build']);
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (e.name.startsWith('.') || skip.has(e.name)) continue;
    if (e.isDirectory() && hasSupported(path.join(dir, e.name), 3)) out.push(`${e.name}/`);
    else if (e.isFile() && SUPPORTED_EXTENSIONS.includes(path.extname(e.name).toLowerCase())) out.push(e.name);
  }
  return out;
}

function hasSupported(dir: string, depth: number): boolean {
  if (depth < 0) return false;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isFile() && SUPPORTED_EXTENSIONS.includes(path.extname(e.name).toLowerCase())) return true;
    if (e.isDirectory() && !e.name.startsWith('.') && e.name !== 'node_modules' && hasSupported(path.join(dir, e.name), depth - 1)) return true;
  }
  return false;
}
