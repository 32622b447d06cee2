import { Option, type Command } from 'commander';
import { UsageError } from '../engine/errors.js';
import { loadGoldenSet } from '../engine/evaluation/goldens.js';
import { writeFileAtomic } from '../engine/labeling/journal.js';
import { EXPORT_FORMATS, exportGolden, type ExportFormat } from '../render/golden-export.js';
import { contextFrom } from './context.js';

/** `rag label export`: the golden set as TREC qrels, CSV or JSONL for other tools. */
export function registerLabelExport(label: Command): void {
  label
    .command('export')
    .description('write the golden set\'s judgments as TREC qrels (trec_eval, ranx), CSV (spreadsheets) or JSONL')
    .option('--golden <file>', 'golden set to export (rag JSONL, or a BEIR directory)')
    .addOption(new Option('--format <format>', 'output format').choices([...EXPORT_FORMATS]).default('trec'))
    .option('--out <file>', 'write to this file (atomically) instead of stdout')
    .addHelpText('after', `
Formats:
  trec   qid 0 doc_id grade        one judgment per line, as trec_eval and ranx read qrels
  csv    qid,query,doc_id,chunk_id,grade   with a header; \`rag label --import\` reads it back
  jsonl  {"qid","query","doc_id"|"chunk_id","grade"} per line; also importable

Queries keep the golden set's order, judgments are sorted by id: the same golden set always gives
the same file. Chunk-level judgments keep their chunk id (in the chunk_id column for CSV).

Examples:
  $ rag label export --golden goldens/support.jsonl --format trec > support.qrels
  $ trec_eval -m ndcg_cut.10 support.qrels run.trec
  $ rag label export --golden goldens/support.jsonl --format csv --out support.csv`)
    .action(async (_opts: unknown, c: Command) => {
      const ctx = contextFrom(c);
      // `--golden` may be taken by the parent `label` command's own option: read both levels.
      const opts = c.optsWithGlobals<{ golden?: string; format: ExportFormat; out?: string }>();
      if (!opts.golden) throw new UsageError('--golden is required', 'e.g. rag label export --golden goldens/mine.jsonl --format trec');
      const set = await loadGoldenSet(opts.golden);
      for (const w of set.warnings) ctx.notice(w);
      const text = exportGolden(set.queries, set.qrels, opts.format, opts.golden);
      if (!opts.out) {
        process.stdout.write(text);
        return;
      }
      writeFileAtomic(opts.out, text);
      let judgments = 0;
      for (const m of set.qrels.values()) judgments += m.size;
      ctx.notice(`wrote ${judgments} judgment(s) for ${set.qrels.size} queries to ${opts.out} (${opts.format})`);
    });
}
