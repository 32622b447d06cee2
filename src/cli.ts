import { Command, CommanderError, Option } from 'commander';
import { VERSION } from './version.js';
import { EXIT, InputError } from './engine/errors.js';
import { userFacingError } from './engine/store/store-errors.js';
import { releaseWriterLocks } from './engine/store/writer-lock.js';
import { setColorMode, type ColorMode } from './render/table.js';

export { VERSION };

type Register = (program: Command) => void;

/**
 * Each command's module, in help order. A run imports only the module of the command it names
 * (a cold `rag query` does not compile eval, audit or label code); help, unknown commands and
 * `rag completion` (which describes them all) load them all.
 */
const COMMANDS: Record<string, () => Promise<Register>> = {
  init: async () => (await import('./commands/init.js')).registerInit,
  ingest: async () => (await import('./commands/ingest.js')).registerIngest,
  index: async () => (await import('./commands/index.js')).registerIndex,
  query: async () => (await import('./commands/query.js')).registerQuery,
  models: async () => (await import('./commands/models.js')).registerModels,
  eval: async () => (await import('./commands/eval.js')).registerEval,
  'diff-eval': async () => (await import('./commands/diff-eval.js')).registerDiffEval,
  runs: async () => (await import('./commands/runs.js')).registerRuns,
  audit: async () => (await import('./commands/audit.js')).registerAudit,
  label: async () => (await import('./commands/label.js')).registerLabel,
  status: async () => (await import('./commands/status.js')).registerStatus,
  serve: async () => (await import('./commands/serve.js')).registerServe,
  mcp: async () => (await import('./commands/mcp.js')).registerMcp,
  keys: async () => (await import('./commands/keys.js')).registerKeys,
  completion: async () => (await import('./commands/completion.js')).registerCompletion,
};

/** Global options that take a value (so the word after them is not the command). */
const VALUE_OPTIONS = new Set(['--db', '--config', '--color']);

/** The command an argv names, if it is one of ours; undefined means load them all. */
export function commandIn(argv: string[]): string | undefined {
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i]!;
    if (VALUE_OPTIONS.has(a)) i++;
    else if (!a.startsWith('-')) return Object.hasOwn(COMMANDS, a) && a !== 'completion' ? a : undefined;
  }
  return undefined;
}

export async function buildProgram(only?: string): Promise<Command> {
  const program = new Command('rag')
    .description('Local-first retrieval engine and quality gate for RAG')
    .version(VERSION)
    .option('--db <dir>', 'store location (directory or s3://bucket/prefix)', undefined)
    .option('--config <file>', 'config file (default: rag.config.json when present)')
    .option('--json', 'machine-readable output on stdout; logs go to stderr')
    .option('-q, --quiet', 'no progress or notices on stderr')
    .addOption(new Option('--color <when>', 'colour in terminal output (NO_COLOR=1 also turns it off)').choices(['auto', 'always', 'never']).default('auto'))
    .option('--verbose', 'on failure, also print the underlying library error (LanceDB, Arrow, the object store) or stack')
    .showHelpAfterError(jsonErrors ? false : '(add --help for usage and examples)')
    // Subcommand help lists --db, --config, --json, --quiet too: they are accepted everywhere.
    .configureHelp({ showGlobalOptions: true })
    // With --json, a parse error is one JSON object on stderr like every other error.
    .configureOutput({ outputError: (text, write) => write(jsonErrors ? `${JSON.stringify({ error: text.replace(/^error: /, '').trim(), exit: EXIT.USAGE })}\n` : text) })
    // Set before the subcommands are added: they inherit it, so every parse error maps to exit 2.
    .exitOverride()
    .addHelpText(
      'after',
      `
Examples:
  $ rag ingest docs/ tickets.jsonl            # files and JSONL tickets → documents and chunks
  $ rag ingest --format beir datasets/scifact # a BEIR corpus
  $ rag index --model sentence-transformers/all-MiniLM-L6-v2   # embed + BM25 index
  $ rag query "how do I rotate the API key" --as group:support
  $ rag eval --golden goldens/fixtures.jsonl --gate "ndcg@10>=0.8"
  $ rag diff-eval runs/bm25 runs/hybrid --gate no-significant-regression
  $ rag serve --port 7700                     # HTTP API for applications (keys: rag keys add)

Exit codes: 0 ok · 1 gate failed · 2 usage or input error · 3 store or model error`,
    );
  program.hook('preAction', (_root, action) => setColorMode(action.optsWithGlobals<{ color: ColorMode }>().color));
  const names = only ? [only] : Object.keys(COMMANDS);
  for (const register of await Promise.all(names.map((n) => COMMANDS[n]!()))) register(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  // A reader that closes early (`rag query … | head`) is not an error.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw err;
    });
  }
  jsonErrors = argv.includes('--json');
  try {
    const program = await buildProgram(commandIn(argv));
    await program.parseAsync(argv);
    if (process.exitCode === undefined) process.exitCode = EXIT.OK;
  } catch (err) {
    process.exitCode = exitCodeFor(err, argv.includes('--verbose'));
  } finally {
    await releaseWriterLocks();
  }
}

let jsonErrors = false;

function exitCodeFor(err: unknown, verbose: boolean): number {
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0) return EXIT.OK;
    return EXIT.USAGE; // commander already printed the message
  }
  // Every failure is one line and a fix; the library's own words only when asked for.
  const e = userFacingError(err);
  const where = e instanceof InputError ? { file: e.file, line: e.line ?? null } : {};
  const detail = verbose && e.detail ? { detail: e.detail } : {};
  if (jsonErrors) {
    process.stderr.write(`${JSON.stringify({ error: e.message, fix: e.fix ?? null, ...where, exit: e.exitCode, ...detail })}\n`);
  } else {
    process.stderr.write(`error: ${e.message}\n${e.fix ? `fix: ${e.fix}\n` : ''}${detail.detail ? `detail: ${detail.detail}\n` : ''}`);
  }
  return e.exitCode;
}
