import { Command } from 'commander';
import { UsageError } from '../engine/errors.js';
import { makeTable } from '../render/table.js';
import { addKey, DEFAULT_KEYS_FILE, readKeys, revokeKey } from '../server/keys.js';
import { collect, contextFrom } from './context.js';

const keysFile = (opts: { keys?: string }) => opts.keys ?? process.env.RAG_KEYS ?? DEFAULT_KEYS_FILE;
const fileOption = (cmd: Command) => cmd.option('--keys <file>', `keys file (default: RAG_KEYS or ./${DEFAULT_KEYS_FILE})`);

export function registerKeys(program: Command): void {
  const keys = program
    .command('keys')
    .description('API keys for `rag serve`: each bound to principals and one tenant; only hashes are stored')
    .addHelpText(
      'after',
      `
Examples:
  $ rag keys add --as group:hr --tenant acme --name hr-portal
  $ rag keys list
  $ rag keys revoke 3f9c0a1b2c4d

A running \`rag serve\` re-reads the file within a second: new keys work and revoked keys stop
working without a restart.`,
    );
  fileOption(
    keys
      .command('add')
      .description('create a key and print it once (it cannot be shown again)')
      .option('--as <principal>', 'principal the key searches as (repeatable: user:alice, group:hr); public is implied', collect, [])
      .option('--tenant <tenant>', 'the one tenant the key may search (default: the configured default tenant)')
      .option('--name <label>', 'a label for `rag keys list`')
      .addHelpText('after', `
Examples:
  $ rag keys add --as group:hr --tenant acme --name hr-portal
  $ rag keys add --name public-site                      # public documents of the default tenant only
  $ rag keys add --as group:support --keys /etc/rag/keys.json --json`),
  ).action((opts: { as: string[]; tenant?: string; name?: string; keys?: string }, cmd: Command) => {
    const ctx = contextFrom(cmd);
    const file = keysFile(opts);
    const { key, record } = addKey(file, { principals: opts.as, tenant: opts.tenant ?? ctx.config.tenant.default, name: opts.name });
    if (ctx.json) return ctx.emit({ key, ...record, file });
    ctx.print(key);
    ctx.log(`added key ${record.id} (${['public', ...record.principals].join(', ')} @ ${record.tenant}) to ${file}; it is shown only now`);
  });
  fileOption(
    keys
      .command('list')
      .description('the keys in the file (ids, principals, tenant; never the keys)')
      .addHelpText('after', `
Examples:
  $ rag keys list
  $ RAG_KEYS=/etc/rag/keys.json rag keys list --json`),
  ).action((opts: { keys?: string }, cmd: Command) => {
    const ctx = contextFrom(cmd);
    const list = readKeys(keysFile(opts)).map(({ hash: _hash, ...rest }) => rest);
    if (ctx.json) return ctx.emit({ file: keysFile(opts), keys: list });
    if (list.length === 0) return ctx.print(`no keys in ${keysFile(opts)} — add one with \`rag keys add --as PRINCIPAL\``);
    const t = makeTable(['id', 'name', 'principals', 'tenant', 'created']);
    for (const k of list) t.push([k.id, k.name, k.principals.join(', ') || '(public only)', k.tenant, k.created_at.slice(0, 19).replace('T', ' ')]);
    ctx.print(t.toString());
  });
  fileOption(
    keys
      .command('revoke')
      .description('delete a key by id')
      .argument('<id>', 'the id shown by `rag keys list`')
      .addHelpText('after', `
Examples:
  $ rag keys revoke 3f9c0a1b2c4d
  $ rag keys revoke 3f9c0a1b2c4d --keys /etc/rag/keys.json`),
  ).action(
    (id: string, opts: { keys?: string }, cmd: Command) => {
      const ctx = contextFrom(cmd);
      if (!/^[0-9a-f]{12}$/.test(id)) throw new UsageError(`"${id}" is not a key id`, 'pass the 12-character id from `rag keys list`, not the key itself');
      const gone = revokeKey(keysFile(opts), id);
      if (ctx.json) return ctx.emit({ revoked: gone.id });
      ctx.print(`revoked ${gone.id}${gone.name ? ` (${gone.name})` : ''}`);
    },
  );
}
