import { Command, CommanderError } from 'commander';
import { VERSION } from './version.js';
import { EXIT } from './engine/errors.js';
import { userFacingError } from './engine/store/store-errors.js';
import { releaseWriterLocks } from './engine/store/writer-lock.js';
import { registerIngest } from './commands/ingest.js';
import { registerIndex } from './commands/index.js';
import { registerQuery } from './commands/query.js';
import { registerModels } from './commands/models.js';
import { registerEval } from './commands/eval.js';
import { registerDiffEval } from './commands/diff-eval.js';
import { registerAudit } from './commands/audit.js';
import { registerLabel } from './commands/label.js';

export { VERSION };

export function buildProgram(): Command {
  const program = new Command('rag')
    .description('Local-first retrieval engine and quality gate for RAG')
    .version(VERSION)
    .option('--db <dir>', 'store location (directory or s3://bucket/prefix)', undefined)
    .option('--config <file>', 'config file (default: rag.config.json when present)')
    .option('--json', 'machine-readable output on stdout; logs go to stderr')
    .option('-q, --quiet', 'no progress or notices on stderr')
    .option('--verbose', 'on failure, also print the underlying library error (LanceDB, Arrow, the object store) or stack')
    .showHelpAfterError('(add --help for usage and examples)')
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

Exit codes: 0 ok · 1 gate failed · 2 usage or input error · 3 store or model error`,
    );
  registerIngest(program);
  registerIndex(program);
  registerQuery(program);
  registerModels(program);
  registerEval(program);
  registerDiffEval(program);
  registerAudit(program);
  registerLabel(program);
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
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    if (process.exitCode === undefined) process.exitCode = EXIT.OK;
  } catch (err) {
    const verbose = Boolean(program.opts().verbose) || argv.includes('--verbose');
    process.exitCode = exitCodeFor(err, verbose);
  } finally {
    await releaseWriterLocks();
  }
}

function exitCodeFor(err: unknown, verbose: boolean): number {
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0) return EXIT.OK;
    return EXIT.USAGE; // commander already printed the message
  }
  // Every failure is one line and a fix; the library's own words only when asked for.
  const e = userFacingError(err);
  process.stderr.write(`error: ${e.message}\n`);
  if (e.fix) process.stderr.write(`fix: ${e.fix}\n`);
  if (verbose && e.detail) process.stderr.write(`detail: ${e.detail}\n`);
  return e.exitCode;
}
