import { Command, CommanderError, Option } from 'commander';
import { VERSION } from './version.js';
import { EXIT, InputError, RagError } from './engine/errors.js';
import { registerIngest } from './commands/ingest.js';
import { registerIndex } from './commands/index.js';
import { registerQuery } from './commands/query.js';
import { registerModels } from './commands/models.js';
import { registerEval } from './commands/eval.js';
import { registerDiffEval } from './commands/diff-eval.js';
import { registerAudit } from './commands/audit.js';
import { registerRuns } from './commands/runs.js';
import { registerLabel } from './commands/label.js';
import { registerInit } from './commands/init.js';
import { registerStatus } from './commands/status.js';
import { registerCompletion } from './commands/completion.js';
import { setColorMode, type ColorMode } from './render/table.js';
import { registerServe } from './commands/serve.js';
import { registerMcp } from './commands/mcp.js';
import { registerKeys } from './commands/keys.js';

export { VERSION };

export function buildProgram(): Command {
  const program = new Command('rag')
    .description('Local-first retrieval engine and quality gate for RAG')
    .version(VERSION)
    .option('--db <dir>', 'store location (directory or s3://bucket/prefix)', undefined)
    .option('--config <file>', 'config file (default: rag.config.json when present)')
    .option('--json', 'machine-readable output on stdout; logs go to stderr')
    .option('-q, --quiet', 'no progress or notices on stderr')
    .addOption(new Option('--color <when>', 'colour in terminal output (NO_COLOR=1 also turns it off)').choices(['auto', 'always', 'never']).default('auto'))
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
  registerInit(program);
  registerIngest(program);
  registerIndex(program);
  registerQuery(program);
  registerModels(program);
  registerEval(program);
  registerDiffEval(program);
  registerRuns(program);
  registerAudit(program);
  registerLabel(program);
  registerStatus(program);
  registerCompletion(program);
  registerServe(program);
  registerMcp(program);
  registerKeys(program);
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
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    if (process.exitCode === undefined) process.exitCode = EXIT.OK;
  } catch (err) {
    process.exitCode = exitCodeFor(err);
  }
}

let jsonErrors = false;

function exitCodeFor(err: unknown): number {
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0) return EXIT.OK;
    return EXIT.USAGE; // commander already printed the message
  }
  if (err instanceof RagError) {
    const where = err instanceof InputError ? { file: err.file, line: err.line ?? null } : {};
    return reportError({ error: err.message, fix: err.fix ?? null, ...where, exit: err.exitCode });
  }
  return reportError({ error: (err as Error)?.stack ?? String(err), fix: null, exit: EXIT.STORE });
}

/** One error: two lines (`error:`, `fix:`) for people, or one JSON object with --json; both on stderr. */
function reportError(e: { error: string; fix: string | null; file?: string; line?: number | null; exit: number }): number {
  if (jsonErrors) process.stderr.write(`${JSON.stringify(e)}\n`);
  else process.stderr.write(`error: ${e.error}\n${e.fix ? `fix: ${e.fix}\n` : ''}`);
  return e.exit;
}
