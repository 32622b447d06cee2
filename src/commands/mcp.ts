import { Command } from 'commander';
import { resolveCaller } from '../engine/acl.js';
import { resolveDb } from '../server/local-socket.js';
import { RetrieverPool, stampLabel } from '../server/pool.js';
import { callerOptions } from './query.js';
import { contextFrom, intOption } from './context.js';

interface McpOpts {
  index?: string;
  as?: string[];
  tenant?: string;
  profile?: string;
  refreshMs: number;
}

export function registerMcp(program: Command): void {
  const cmd = program
    .command('mcp')
    .description('Model Context Protocol server on stdio: tools `search` and `get_document` for coding agents')
    .option('--index <name>', 'index name')
    .option('--refresh-ms <n>', 'look for a new index version this often', intOption('--refresh-ms', 50), 2000);
  callerOptions(cmd)
    .addHelpText(
      'after',
      `
Examples:
  $ rag mcp --as group:support                 # what an agent's MCP config launches
  $ rag --db /srv/kb/.rag mcp --profile alice

The caller is fixed at launch: every tool call searches with these principals and tenant only.
stdout carries the protocol; notices go to stderr. An MCP client config (Claude Desktop, Cursor…):
  {"mcpServers": {"rag": {"command": "rag", "args": ["--db", "/srv/kb/.rag", "mcp", "--as", "group:support"]}}}`,
    )
    .action(async (opts: McpOpts, c: Command) => {
      const ctx = contextFrom(c);
      const caller = resolveCaller(ctx.config, { as: opts.as, tenant: opts.tenant, profile: opts.profile });
      const index = opts.index ?? ctx.config.index.name;
      const pool = new RetrieverPool({
        db: resolveDb(ctx.db),
        config: ctx.config,
        refreshMs: opts.refreshMs,
        notice: ctx.notice,
        onSwap: (_from, to) => ctx.notice(`index "${index}": now serving ${stampLabel(to)}`),
      });
      await pool.open(index);
      pool.start();
      ctx.log(`rag mcp: serving index "${index}" as ${caller.principals.join(', ')} @ ${caller.tenant}`);
      const { runMcpStdio } = await import('../server/mcp.js');
      await runMcpStdio({ pool, config: ctx.config, index, caller });
      await pool.close();
    });
}
