import { Command } from 'commander';
import { storeStatus } from '../engine/audit/status.js';
import { modelsDir } from '../engine/models/index.js';
import { statusText } from '../render/status.js';
import { contextFrom } from './context.js';

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('what the store holds: documents and chunks per tenant, indexes with model, version and lag behind the chunks')
    .addHelpText(
      'after',
      `
Examples:
  $ rag status
  $ rag --db s3://team-bucket/rag status --json

The first thing to run when results look wrong: an index that is behind the chunks (stale,
partial or missing documents) answers from old content until \`rag index\` runs.`,
    )
    .action(async (_opts: unknown, cmd: Command) => {
      const ctx = contextFrom(cmd);
      const status = await storeStatus(await ctx.openStore(false));
      if (ctx.json) return ctx.emit({ ...status, config: ctx.configPath ?? null, models_dir: modelsDir() });
      ctx.print(statusText(status, { config: ctx.configPath ?? null, modelsDir: modelsDir() }));
    });
}
