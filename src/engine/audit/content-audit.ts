/**
 * The content audit: `scanText` over every chunk a model could be shown (an index table, or the
 * whole chunks table), with findings placed in their documents, reviewed false positives
 * suppressed, and a severity gate for CI.
 */
import type { RagConfig } from '../config.js';
import { readIndexManifest } from '../store/manifest.js';
import { CHUNKS, type Store } from '../store/store.js';
import { scanText, type Family, type Finding, type Severity } from './content-scan.js';
import { isSeverity, SEVERITIES, severityAtLeast } from './rules.js';
import { checkGate, countGateNames, parseGate, type GateOutcome, type GateRule } from '../evaluation/gate.js';
import { applySuppressions, loadSuppressions, type Suppression } from './suppressions.js';
import { highestAcl, isRestricted, type HighestAcl } from './audience.js';

export interface ContentAuditOptions {
  /** Index to scan (default: the configured index); ignored with `all`. */
  index?: string;
  /** Scan the chunks table instead of an index: everything ingested, indexed or not. */
  all?: boolean;
  families?: Family[];
  /** Findings below this severity are not reported (default low). */
  minSeverity?: Severity;
  /** Gate rules over the counts of unsuppressed findings (see parseContentGate). */
  gate?: GateRule[];
  suppressionsFile?: string;
  suppressions?: Suppression[];
  now?: Date;
  /** Show excerpts of documents not readable by `public` (default: withheld). */
  showRestricted?: boolean;
}

export interface ContentFinding extends Finding {
  doc_id: string;
  chunk_id: string;
  source: string;
  title: string;
  heading_path: string[];
  page: number;
  acl: string[];
  tenant: string;
  /** [docStart, docEnd) in the document's normalised text: chunk char_start + offset in the chunk. */
  doc_start: number;
  doc_end: number;
}

export interface SuppressedFinding {
  rule_id: string;
  severity: Severity;
  doc_id: string;
  chunk_id: string;
  doc_start: number;
  hash: string;
  reason?: string;
  reviewer?: string;
  declared_at?: string;
}

export interface ContentAuditReport {
  store: string;
  generated_at: string;
  /** `index NAME` or `chunks table`. */
  scope: string;
  scanned_chunks: number;
  scanned_documents: number;
  min_severity: Severity;
  findings: ContentFinding[];
  suppressed: number;
  suppressed_findings: SuppressedFinding[];
  /** Suppression entries that matched nothing this run: candidates for cleanup. */
  unused_suppressions: { hash: string; rule?: string; declared_at?: string }[];
  counts: {
    by_severity: Partial<Record<Severity, number>>;
    by_family: Partial<Record<Family, number>>;
    by_rule: Record<string, number>;
  };
  /** `severity` and `failing` when the gate was given as a bare severity (`--gate high`). */
  gate?: GateOutcome & { severity?: Severity; failing?: number };
  /** What a reader must be allowed to see to read this report (every document it names). */
  highest_acl: HighestAcl;
  /** Excerpts of restricted documents: `withheld` unless --show-restricted. */
  restricted_excerpts: 'withheld' | 'shown';
}

const GATE_NAMES = countGateNames([...[...SEVERITIES].reverse(), 'findings']);

/**
 * Content gates in the one gate grammar: `high<=0`, `findings<=10,critical<=0`; a bare severity
 * (`high`) is short for `high<=0`, "no finding at or above high".
 */
export function parseContentGate(expr: string): GateRule[] {
  const bare = expr.trim().toLowerCase();
  if (isSeverity(bare)) return parseGate(`${bare}<=0`, GATE_NAMES);
  return parseGate(expr, GATE_NAMES);
}

/** The counts a content gate reads: findings at or above each severity, and all findings. */
export function contentGateValues(findings: readonly { severity: Severity }[]): Record<string, number> {
  const v: Record<string, number> = { findings: findings.length };
  for (const s of SEVERITIES) v[s] = findings.filter((f) => severityAtLeast(f.severity, s)).length;
  return v;
}

type ScanRow = {
  chunk_id: string;
  doc_id: string;
  text: string;
  title: string;
  source: string;
  heading_path: string[];
  page: number;
  char_start: number;
  acl: string[];
  tenant: string;
};

const SCAN_COLUMNS = ['chunk_id', 'doc_id', 'text', 'title', 'source', 'heading_path', 'page', 'char_start', 'acl', 'tenant'];

export async function auditContent(store: Store, config: RagConfig, opts: ContentAuditOptions = {}): Promise<ContentAuditReport> {
  let table = CHUNKS;
  let scope = 'chunks table';
  if (!opts.all) {
    const manifest = await readIndexManifest(store, opts.index ?? config.index.name);
    table = manifest.table;
    scope = `index ${manifest.name}`;
  }
  const rows = await store.readAll<ScanRow>(table, SCAN_COLUMNS);
  const suppressions = [...(opts.suppressions ?? []), ...(opts.suppressionsFile ? loadSuppressions(opts.suppressionsFile) : [])];
  const minSeverity = opts.minSeverity ?? 'low';

  const all = scanRows(rows, { families: opts.families, minSeverity });
  const { kept, suppressed, unused } = applySuppressions(all, suppressions, { now: opts.now });
  const findings = kept as ContentFinding[];
  // Whoever runs the audit can read the store, but the report travels further (CI logs, tickets):
  // the text of a document not everyone may read stays out of it unless asked for.
  if (!opts.showRestricted) {
    for (const f of findings) if (isRestricted(f.acl)) f.excerpt = `⟦excerpt withheld: document restricted to ${f.acl.join(', ')} (--show-restricted shows it)⟧`;
  }

  const counts: ContentAuditReport['counts'] = { by_severity: {}, by_family: {}, by_rule: {} };
  for (const f of findings) {
    counts.by_severity[f.severity] = (counts.by_severity[f.severity] ?? 0) + 1;
    counts.by_family[f.family] = (counts.by_family[f.family] ?? 0) + 1;
    counts.by_rule[f.rule_id] = (counts.by_rule[f.rule_id] ?? 0) + 1;
  }
  const report: ContentAuditReport = {
    store: store.uri,
    generated_at: (opts.now ?? new Date()).toISOString(),
    scope,
    scanned_chunks: rows.length,
    scanned_documents: new Set(rows.map((r) => r.doc_id)).size,
    min_severity: minSeverity,
    findings,
    suppressed: suppressed.length,
    suppressed_findings: suppressed.map(({ finding, suppression }) => {
      const f = finding as ContentFinding;
      return {
        rule_id: f.rule_id,
        severity: f.severity,
        doc_id: f.doc_id,
        chunk_id: f.chunk_id,
        doc_start: f.doc_start,
        hash: f.hash,
        reason: suppression.reason,
        reviewer: suppression.reviewer,
        declared_at: declaredAt(suppression),
      };
    }),
    unused_suppressions: unused.map((s) => ({ hash: s.hash, rule: s.rule, declared_at: declaredAt(s) })),
    counts,
    highest_acl: highestAcl([...findings, ...suppressed.map((x) => x.finding as ContentFinding)]),
    restricted_excerpts: opts.showRestricted ? 'shown' : 'withheld',
  };
  if (opts.gate) {
    const values = contentGateValues(findings);
    const outcome = checkGate(opts.gate, values);
    const only = opts.gate.length === 1 && opts.gate[0]!.op === '<=' && opts.gate[0]!.threshold === 0 && isSeverity(opts.gate[0]!.metric) ? opts.gate[0]!.metric : null;
    report.gate = only ? { severity: only, failing: values[only]!, ...outcome } : outcome;
  }
  return report;
}

/**
 * Scans chunk rows and places findings in their documents. Consecutive chunks overlap, so the same
 * match can be seen twice: it is reported once, at its document offset.
 */
export function scanRows(rows: ScanRow[], opts: { families?: Family[]; minSeverity?: Severity } = {}): ContentFinding[] {
  const seen = new Set<string>();
  const out: ContentFinding[] = [];
  for (const r of rows) {
    for (const f of scanText(r.text, { families: opts.families, minSeverity: opts.minSeverity })) {
      const docStart = r.char_start + f.start;
      const docEnd = r.char_start + f.end;
      const key = `${r.doc_id}\0${f.rule_id}\0${docStart}\0${docEnd}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({
        ...f,
        doc_id: r.doc_id,
        chunk_id: r.chunk_id,
        source: r.source,
        title: r.title,
        heading_path: r.heading_path,
        page: r.page,
        acl: r.acl,
        tenant: r.tenant,
        doc_start: docStart,
        doc_end: docEnd,
      });
    }
  }
  const rank = (s: Severity) => SEVERITIES.indexOf(s);
  return out.sort(
    (a, b) => rank(b.severity) - rank(a.severity) || (a.doc_id < b.doc_id ? -1 : a.doc_id > b.doc_id ? 1 : 0) || a.doc_start - b.doc_start || a.rule_id.localeCompare(b.rule_id),
  );
}

const declaredAt = (s: Suppression) => (s.source ? `${s.source.file}${s.source.line !== undefined ? `:${s.source.line}` : ''}` : undefined);
