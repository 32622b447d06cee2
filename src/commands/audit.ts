import { Command, InvalidArgumentError } from 'commander';
import path from 'node:path';
import { auditAcl } from '../engine/audit/acl-probe.js';
import { auditContent, parseContentGate } from '../engine/audit/content-audit.js';
import { checkGate, countGateNames, parseGate, type GateOutcome, type GateRule } from '../engine/evaluation/gate.js';
import { buildLineage } from '../engine/audit/lineage.js';
import { isSeverity, SEVERITIES, type Family, type Severity } from '../engine/audit/rules.js';
import { checkOutDir, writeOutDir } from '../engine/artifact.js';
import { EXIT } from '../engine/errors.js';
import type { RetrievalMode } from '../engine/types.js';
import { aclMarkdown, aclTables, contentMarkdown, contentTables, lineageMarkdown, lineageTables } from '../render/audit-report.js';
import { aclReportHtml, auditReportFiles, contentReportHtml, lineageReportHtml } from '../render/html/audit-report.js';
import { Progress } from '../render/progress.js';
import { collect, collectChoices, contextFrom, intOption, type Context } from './context.js';

const FAMILIES: Family[] = ['pii', 'secret', 'injection', 'hidden'];

function severityOption(flag: string) {
  return (value: string): Severity => {
    const v = value.toLowerCase();
    if (!isSeverity(v)) throw new InvalidArgumentError(`${flag} must be one of ${SEVERITIES.join(', ')}, got "${value}"`);
    return v;
  };
}

/** --out DIR: report.md, report.html and report.json, written atomically. */
/** Every audit report directory holds it: what makes it replaceable by the next audit. */
const AUDIT_MARKER = 'report.json';

function writeReport(ctx: Context, opts: { out?: string; overwrite?: boolean }, markdown: string, htmlText: string, report: unknown): void {
  if (!opts.out) return;
  const dir = writeOutDir(opts.out, auditReportFiles(markdown, htmlText, report), { overwrite: opts.overwrite, marker: AUDIT_MARKER });
  ctx.log(`report written to ${path.relative(process.cwd(), dir) || dir}/ (report.md, report.html, report.json)`);
}

const OUT_HELP = 'write report.md, report.html and report.json into this directory';

export function registerAudit(program: Command): void {
  const audit = program
    .command('audit')
    .description('lineage, permission (ACL leak) testing and content scanning of the store')
    // Usage errors must exit 2, not commander's default 1 (which means "audit failed" here).
    .exitOverride()
    .addHelpText(
      'after',
      `
Examples:
  $ rag audit lineage --out reports/lineage
  $ rag audit acl                       # exit 1 on any leak or invariant violation
  $ rag audit content --gate high --suppressions audit/suppressions.yaml
  $ rag audit content --gate "critical<=0,findings<=20"

Gates use the same grammar as eval and diff-eval (NAME OP NUMBER, comma-separated; README "Gates").
Exit codes: 0 ok · 1 audit failed (leak, invariant violation, or a finding at/above --gate) · 2 usage · 3 store`,
    );

  audit
    .command('lineage')
    .exitOverride()
    .description('inventory: what was ingested and indexed, when, from where, by which model and config, under which ACLs')
    .option('--index <name>', 'describe only this index (repeatable; default all)', collect, [])
    .option('--since <version|date>', 'list documents added, changed or deleted since a documents-table version or a date')
    .option('--include-deleted', 'list tombstoned documents too')
    .option('--out <dir>', OUT_HELP)
    .option('--overwrite', 'replace --out if it exists')
    .addHelpText(
      'after',
      `
Examples:
  $ rag audit lineage
  $ rag audit lineage --index default --json > lineage.json
  $ rag audit lineage --since 3                 # changes since documents table version 3
  $ rag audit lineage --since 2024-06-01 --out reports/lineage

For each document: connector, source, content sha256, ingested_at, ACL and tenant, chunk count, and
per index when it was indexed (or "stale"/"partial"/"missing" when the index lags the chunks table).
For each index: model id and weight sha256, chunker config and hash, table version (the manifest's,
and the table's now: a difference means something wrote to the index after it was built).`,
    )
    .action(async (opts: { index: string[]; since?: string; includeDeleted?: boolean; out?: string; overwrite?: boolean }, c: Command) => {
      const ctx = contextFrom(c);
      if (opts.out) checkOutDir(opts.out, { overwrite: opts.overwrite, marker: AUDIT_MARKER });
      const store = await ctx.openStore(false);
      const report = await buildLineage(store, { indexes: opts.index, since: opts.since, includeDeleted: opts.includeDeleted });
      writeReport(ctx, opts, lineageMarkdown(report), lineageReportHtml(report), report);
      if (ctx.json) ctx.emit(report);
      else ctx.print(lineageTables(report));
    });

  audit
    .command('acl')
    .exitOverride()
    .description('permission test: probe the retriever as every principal and tenant with queries built from restricted chunks; any returned chunk the caller may not see is a leak')
    .option('--index <name>', 'probe only this index (repeatable; default all)', collect, [])
    .option('--mode <mode>', 'probe only this mode (repeatable: bm25, vector, hybrid; default all three)', collectMode, undefined)
    .option('--max-probes <n>', 'restricted chunks probed per index, sampled with --seed (default 200)', intOption('--max-probes', 1))
    .option('--callers-per-probe <n>', 'unauthorised callers tried per probed chunk (default 8)', intOption('--callers-per-probe', 1))
    .option('--seed <n>', 'seed for sampling chunks and callers (default 1)', intOption('--seed', 0))
    .option('-k, --k <n>', 'results per probe query (default 10)', intOption('-k', 1, 1000))
    .option('--gate <expr>', `rules over leaks and violations (default "${ACL_GATE}")`, (v: string) => parseGate(v, ACL_GATE_NAMES))
    .option('--no-gate', 'report only: exit 0 even with leaks or violations')
    .option('--out <dir>', OUT_HELP)
    .option('--overwrite', 'replace --out if it exists')
    .addHelpText(
      'after',
      `
Examples:
  $ rag audit acl
  $ rag audit acl --index default --max-probes 1000 --seed 7 --out reports/acl
  $ rag audit acl --mode bm25 --json
  $ rag audit acl --gate "leaks<=0"             # gate on leaks only, report violations

Callers: each tenant with only "public", every principal found in any ACL (plus public) in every
tenant, and a caller with no principals at all. Each probed chunk gets two queries (its top tf-idf
terms, and its most distinctive sentence) run through the same retriever as \`rag query\` in every
mode. A hit is a leak when the caller may not see it by its document's ACL or by the row's own.
Invariants: every document, chunk and index row has an ACL and a tenant; chunk ACLs equal their
document's; index rows equal their chunk's (a stale ACL in an index is a leak waiting to happen).
Gates by default: exit 1 when leaks or violations > 0 ("${ACL_GATE}"; --gate to change, --no-gate
to report only).`,
    )
    .action(
      async (
        opts: { index: string[]; mode?: RetrievalMode[]; maxProbes?: number; callersPerProbe?: number; seed?: number; k?: number; gate?: GateRule[] | false; out?: string; overwrite?: boolean },
        c: Command,
      ) => {
        const ctx = contextFrom(c);
        if (opts.out) checkOutDir(opts.out, { overwrite: opts.overwrite, marker: AUDIT_MARKER });
        const store = await ctx.openStore(false);
        const progress = new Progress(ctx.isTTY, 'probing');
        const report = await auditAcl(store, ctx.config, {
          indexes: opts.index,
          modes: opts.mode,
          maxProbes: opts.maxProbes,
          callersPerProbe: opts.callersPerProbe,
          seed: opts.seed,
          k: opts.k,
          notice: ctx.notice,
          onProgress: (p) => progress.update(p.done, p.total, 'chunks'),
        });
        progress.done();
        const gate = opts.gate === false ? null : checkGate(opts.gate ?? parseGate(ACL_GATE, ACL_GATE_NAMES), { leaks: report.leaks.length, violations: report.violations.length });
        writeReport(ctx, opts, aclMarkdown(report), aclReportHtml(report), gate ? { ...report, gate } : report);
        if (ctx.json) ctx.emit(gate ? { ...report, gate } : report);
        else ctx.print(aclTables(report));
        if (gate) printVerdict(ctx, gate);
      },
    );

  audit
    .command('content')
    .exitOverride()
    .description('scan indexed chunks for personal data, secrets, prompt-injection and hidden text')
    .option('--index <name>', 'index to scan (default: the configured index)')
    .option('--all', 'scan every ingested chunk (the chunks table), indexed or not')
    .option('--family <family>', `only these families (repeatable: ${FAMILIES.join(', ')})`, collectFamily, undefined)
    .option('--min-severity <level>', `report findings at or above this level (${SEVERITIES.join(', ')}; default low)`, severityOption('--min-severity'))
    .option('--gate <expr>', 'exit 1 when a rule fails: a severity ("high": no finding at or above high) or rules over critical, high, medium, low, findings ("high<=0,findings<=20")', parseContentGate)
    .option('--suppressions <file>', 'YAML/JSON list of reviewed false positives, by finding hash')
    .option('--show-restricted', 'show excerpts of documents not readable by "public" (withheld by default)')
    .option('--out <dir>', OUT_HELP)
    .option('--overwrite', 'replace --out if it exists')
    .addHelpText(
      'after',
      `
Examples:
  $ rag audit content
  $ rag audit content --show-restricted --out private/content
  $ rag audit content --gate high --suppressions audit/suppressions.yaml
  $ rag audit content --all --family secret --family pii --json
  $ rag audit content --min-severity medium --out reports/content

Excerpts are redacted (secrets and personal data keep only a short prefix/suffix); excerpts of
documents not readable by "public" are withheld unless --show-restricted. Every report states its
highest ACL: what a reader must hold to be entitled to everything it names. Offsets are
characters in the document's normalised text. A suppression file lists reviewed findings:
  suppressions:
    - hash: 3f2a9c0d1b7e      # from the report (full sha256 or a unique prefix of >= 12 hex digits)
      rule: email
      reason: published support address
      reviewer: alice
      expires: 2026-01-31`,
    )
    .action(
      async (
        opts: { index?: string; all?: boolean; family?: Family[]; minSeverity?: Severity; gate?: GateRule[]; suppressions?: string; showRestricted?: boolean; out?: string; overwrite?: boolean },
        c: Command,
      ) => {
        const ctx = contextFrom(c);
        if (opts.out) checkOutDir(opts.out, { overwrite: opts.overwrite, marker: AUDIT_MARKER });
        const store = await ctx.openStore(false);
        const report = await auditContent(store, ctx.config, {
          index: opts.index,
          all: opts.all,
          families: opts.family,
          minSeverity: opts.minSeverity,
          gate: opts.gate,
          suppressionsFile: opts.suppressions,
          showRestricted: opts.showRestricted,
        });
        if (report.unused_suppressions.length) ctx.notice(`${report.unused_suppressions.length} suppressions matched nothing (expired or fixed): consider removing them`);
        writeReport(ctx, opts, contentMarkdown(report), contentReportHtml(report), report);
        if (ctx.json) ctx.emit(report);
        else ctx.print(contentTables(report));
        if (report.gate) printVerdict(ctx, report.gate);
      },
    );
}

const MODES: RetrievalMode[] = ['bm25', 'vector', 'hybrid'];
const ACL_GATE = 'leaks<=0,violations<=0';
const ACL_GATE_NAMES = countGateNames(['leaks', 'violations']);

/** The gate verdict lines every command prints (stdout; in the JSON with --json); exit 1 on failure. */
function printVerdict(ctx: Context, gate: GateOutcome): void {
  for (const l of gate.lines) ctx.print(l);
  if (!gate.passed) process.exitCode = EXIT.GATE;
}

const collectMode = collectChoices<RetrievalMode>('--mode', MODES);
const collectFamily = collectChoices<Family>('--family', FAMILIES);
