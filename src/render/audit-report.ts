/**
 * Rendering of the three audits: terminal tables and Markdown reports. The JSON form is the engine's
 * report object itself, so nothing here decides what an audit found.
 */
import type { AclAuditReport, Leak } from '../engine/audit/acl-probe.js';
import { callerKey, fmtAcl } from '../engine/audit/acl-probe.js';
import type { ContentAuditReport } from '../engine/audit/content-audit.js';
import type { LineageReport } from '../engine/audit/lineage.js';
import type { HighestAcl } from '../engine/audit/audience.js';
import { fitText, makeTable } from './table.js';

const short = (h: string | null | undefined, n = 12) => (h ? `${h.slice(0, n)}…` : '—');
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const md = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** Every report says what a reader must be allowed to see to read it. */
export function audienceLine(h: HighestAcl): string {
  return h.level === 'public' ? `Highest ACL in this report: ${h.text} (no restricted document named).` : `Highest ACL in this report: ${h.text} — share it only with readers who hold all of these.`;
}

// ---------- lineage ----------

export function lineageTables(r: LineageReport): string {
  const out: string[] = [];
  const idx = makeTable(['index', 'model', 'weights sha256', 'chunker', 'rows', 'table version', 'updated']);
  for (const i of r.indexes) {
    idx.push([
      i.name,
      i.model ? `${i.model.id} (${i.model.dim}d)` : 'none (BM25)',
      short(i.model?.weights_sha256),
      `${i.chunker.config.max_tokens}/${i.chunker.config.overlap_tokens} tok · ${short(i.chunker.hash, 8)}`,
      String(i.rows),
      versionCell(i.manifest_table_version, i.current_table_version),
      i.updated_at,
    ]);
  }
  out.push(r.indexes.length ? idx.toString() : 'no indexes (run `rag index`)');

  const docs = makeTable(['document', 'connector', 'content sha256', 'ingested', 'acl @ tenant', 'chunks', ...r.indexes.map((i) => `idx ${i.name}`)]);
  for (const d of r.documents) {
    docs.push([
      d.deleted ? `${d.doc_id} (deleted)` : d.doc_id,
      d.connector,
      short(d.content_hash),
      d.ingested_at,
      `${d.acl.join(', ')} @ ${d.tenant}`,
      String(d.chunks),
      ...d.indexes.map((s) => (s.state === 'current' ? (s.indexed_at ?? '—') : `${s.state}${s.indexed_at ? ` (${s.indexed_at})` : ''}`)),
    ]);
  }
  out.push(docs.toString());

  const totals = makeTable(['principal / tenant', 'documents', 'chunks']);
  for (const p of r.totals.by_principal) totals.push([p.key, String(p.documents), String(p.chunks)]);
  for (const t of r.totals.by_tenant) totals.push([`tenant ${t.key}`, String(t.documents), String(t.chunks)]);
  out.push(totals.toString());
  out.push(
    `${r.totals.documents} documents (${r.totals.deleted} deleted) · ${r.totals.chunks} chunks · ${r.sources.length} sources · ` +
      `documents table v${r.documents_table_version ?? '—'}, chunks table v${r.chunks_table_version ?? '—'}`,
  );
  if (r.since) out.push(sinceText(r.since));
  out.push(audienceLine(r.highest_acl));
  return fitText(out.join('\n'));
}

function versionCell(manifest: number, current: number | null): string {
  if (current === null) return `${manifest} (table missing)`;
  return current === manifest ? String(manifest) : `${manifest} → now ${current} (written after build)`;
}

function sinceText(s: NonNullable<LineageReport['since']>): string {
  const head =
    s.method === 'version'
      ? `Changes since ${s.base_version ? `documents table version ${s.base_version}` : 'the store was created'} (now version ${s.current_version}), --since ${s.since}:`
      : `Changes since ${s.since} (by ingested_at; older versions no longer stored):`;
  if (!s.changes.length) return `${head} none`;
  const t = makeTable(['change', 'document', 'source', 'when', 'what']);
  for (const c of s.changes) t.push([c.change, c.doc_id, c.source, c.ingested_at, c.detail ?? '']);
  return `${head}\n${t.toString()}`;
}

export function lineageMarkdown(r: LineageReport): string {
  const l: string[] = [];
  l.push('# rag audit — lineage', '');
  l.push(`Store \`${r.store}\`, generated ${r.generated_at}. Documents table version ${r.documents_table_version ?? '—'}, chunks table version ${r.chunks_table_version ?? '—'}.`, '');
  l.push(`**${r.totals.documents} documents** (${r.totals.deleted} deleted), **${r.totals.chunks} chunks**, ${r.sources.length} sources, ${r.indexes.length} indexes.`, '');
  l.push(`**${audienceLine(r.highest_acl)}**`, '');
  l.push('## Indexes', '');
  if (!r.indexes.length) l.push('No index has been built.', '');
  else {
    l.push('| index | model | weights sha256 | dim | chunker (max/overlap/hard) | chunker hash | ANN | rows | table version | created | updated |', '|---|---|---|---|---|---|---|---|---|---|---|');
    for (const i of r.indexes) {
      const c = i.chunker.config;
      l.push(
        `| ${i.name} | ${i.model ? `\`${i.model.id}\`` : 'none (BM25 only)'} | ${i.model ? `\`${i.model.weights_sha256}\`` : '—'} | ${i.model?.dim ?? '—'} | ` +
          `${c.max_tokens}/${c.overlap_tokens}/${c.hard_max_tokens} | \`${i.chunker.hash.slice(0, 16)}\` | ${i.ann ? i.ann.type : 'exact'} | ${i.rows} | ` +
          `${versionCell(i.manifest_table_version, i.current_table_version)} | ${i.created_at} | ${i.updated_at} |`,
      );
    }
    l.push('');
  }
  l.push('## Totals by principal and tenant', '', '| principal | documents | chunks |', '|---|---|---|');
  for (const p of r.totals.by_principal) l.push(`| \`${p.key}\` | ${p.documents} | ${p.chunks} |`);
  l.push('', '| tenant | documents | chunks |', '|---|---|---|');
  for (const t of r.totals.by_tenant) l.push(`| \`${t.key}\` | ${t.documents} | ${t.chunks} |`);
  l.push('');
  if (r.since) {
    l.push('## Changes', '');
    l.push(
      r.since.method === 'version'
        ? `Since ${r.since.base_version ? `documents table version ${r.since.base_version}` : 'the store was created'} (now version ${r.since.current_version}); \`--since ${r.since.since}\`.`
        : `Since ${r.since.since}, by \`ingested_at\` (older table versions are no longer stored).`,
      '',
    );
    if (!r.since.changes.length) l.push('No document changed.', '');
    else {
      l.push('| change | document | source | when | what |', '|---|---|---|---|---|');
      for (const c of r.since.changes) l.push(`| ${c.change} | \`${md(c.doc_id)}\` | ${md(c.source)} | ${c.ingested_at} | ${c.detail ?? ''} |`);
      l.push('');
    }
  }
  l.push('## Sources', '', '| source | connectors | documents | deleted | chunks | last ingested |', '|---|---|---|---|---|---|');
  for (const s of r.sources) l.push(`| ${md(s.origin)} | ${s.connectors.join(', ')} | ${s.documents} | ${s.deleted} | ${s.chunks} | ${s.last_ingested_at} |`);
  l.push('', '## Documents', '');
  l.push(`| document | connector | source | content sha256 | ingested | acl | tenant | chunks | ${r.indexes.map((i) => `index ${i.name}`).join(' | ')} |`);
  l.push(`|---|---|---|---|---|---|---|---|${r.indexes.map(() => '---|').join('')}`);
  for (const d of r.documents) {
    const idx = d.indexes.map((s) => (s.state === 'current' ? (s.indexed_at ?? '—') : `**${s.state}** ${s.indexed_at ?? ''}`.trim()));
    l.push(
      `| \`${md(d.doc_id)}\`${d.deleted ? ' (deleted)' : ''} | ${d.connector} | ${md(d.source)} | \`${d.content_hash.slice(0, 16)}\` | ${d.ingested_at} | ` +
        `${d.acl.map((p) => `\`${p}\``).join(', ')} | \`${d.tenant}\` | ${d.chunks} |${idx.map((x) => ` ${x} |`).join('')}`,
    );
  }
  l.push('');
  return l.join('\n');
}

// ---------- acl ----------

export function aclTables(r: AclAuditReport): string {
  const out: string[] = [];
  const idx = makeTable(['index', 'modes', 'rows', 'restricted', 'probed', 'coverage', 'probe reach', 'trials', 'leaks']);
  for (const i of r.indexes) {
    idx.push([
      i.index,
      i.modes.join(', ') + (i.skipped_modes.length ? ` (skipped: ${i.skipped_modes.map((s) => s.mode).join(', ')})` : ''),
      String(i.rows),
      String(i.restricted_chunks),
      String(i.probed_chunks),
      pct(i.coverage),
      i.probed_chunks ? pct(i.reach_rate) : '—',
      String(i.trials),
      String(i.leaks),
    ]);
  }
  out.push(r.indexes.length ? idx.toString() : 'no indexes to probe (run `rag index`)');
  if (r.leaks.length) {
    const t = makeTable(['index', 'mode', 'caller', 'leaked chunk', 'its acl (row → document)', 'query'], { colWidths: [10, 8, 24, 30, 36, 40] });
    for (const lk of r.leaks.slice(0, 50)) t.push([lk.index, lk.mode, callerKey(lk.caller), lk.chunk_id, leakAcl(lk), `${lk.query_kind}: ${lk.query}`]);
    out.push(`LEAKS (${r.leaks.length}${r.leaks.length > 50 ? ', first 50 shown' : ''}):\n${t.toString()}`);
  }
  if (r.violations.length) {
    const t = makeTable(['invariant', 'table', 'row', 'message'], { colWidths: [26, 16, 36, 60] });
    for (const v of r.violations.slice(0, 50)) t.push([v.kind, v.table, v.chunk_id ?? v.doc_id, v.message]);
    out.push(`INVARIANT VIOLATIONS (${r.violations.length}${r.violations.length > 50 ? ', first 50 shown' : ''}):\n${t.toString()}`);
  }
  out.push(aclVerdict(r));
  out.push(audienceLine(r.highest_acl));
  return out.join('\n');
}

export function aclVerdict(r: AclAuditReport): string {
  return (
    `${r.passed ? 'PASS' : 'FAIL'}: ${r.leaks.length} leaks in ${r.trials} trials (${r.callers.length} callers), ` +
    `${r.violations.length} invariant violations, coverage ${pct(r.coverage)} of ${r.restricted_chunks} restricted chunks (seed ${r.seed})`
  );
}

const leakAcl = (lk: Leak) => `${fmtAcl(lk.row_acl)} → ${fmtAcl(lk.true_acl)}`;

export function aclMarkdown(r: AclAuditReport): string {
  const l: string[] = [];
  l.push('# rag audit — ACL', '');
  l.push(`Store \`${r.store}\`, generated ${r.generated_at}, seed ${r.seed}, k ${r.k}.`, '');
  l.push(`**${aclVerdict(r)}**`, '', `**${audienceLine(r.highest_acl)}**`, '');
  l.push(
    'Every probe runs through the same retriever as `rag query`, with the caller\'s ACL pre-filter. A leak is a returned chunk that the caller may not see, ' +
      'judged by its document\'s ACL and by the row\'s own. Probe reach is the share of probed chunks that an authorised caller finds with the same queries: ' +
      'evidence that the probes would surface the chunk if the filter failed.',
    '',
  );
  l.push('## Indexes', '', '| index | modes | rows | restricted | probed | coverage | probe reach | trials | leaks |', '|---|---|---|---|---|---|---|---|---|');
  for (const i of r.indexes) {
    const modes = i.modes.join(', ') + (i.skipped_modes.length ? ` (skipped ${i.skipped_modes.map((s) => `${s.mode}: ${s.reason}`).join('; ')})` : '');
    l.push(`| ${i.index} | ${md(modes)} | ${i.rows} | ${i.restricted_chunks} | ${i.probed_chunks} | ${pct(i.coverage)} | ${i.probed_chunks ? pct(i.reach_rate) : '—'} | ${i.trials} | ${i.leaks} |`);
  }
  l.push('', '## Callers probed', '', r.callers.map((c) => `\`${callerKey(c)}\``).join(', '), '');
  l.push('## Leaks', '');
  if (!r.leaks.length) l.push('None.', '');
  else {
    l.push('| index | mode | caller | leaked chunk | row acl | document acl | detected by | query |', '|---|---|---|---|---|---|---|---|');
    for (const lk of r.leaks) {
      l.push(`| ${lk.index} | ${lk.mode} | \`${callerKey(lk.caller)}\` | \`${md(lk.chunk_id)}\` | ${fmtAcl(lk.row_acl)} | ${fmtAcl(lk.true_acl)} | ${lk.detected_by} | ${lk.query_kind}: ${md(lk.query)} |`);
    }
    l.push('');
  }
  l.push('## Invariant violations', '');
  if (!r.violations.length) l.push('None: every row has an ACL and a tenant, chunk ACLs equal their documents\', index ACLs equal their chunks\'.', '');
  else {
    l.push('| invariant | table | document | chunk | message |', '|---|---|---|---|---|');
    for (const v of r.violations) l.push(`| ${v.kind} | ${v.table} | \`${md(v.doc_id)}\` | ${v.chunk_id ? `\`${md(v.chunk_id)}\`` : '—'} | ${md(v.message)} |`);
    l.push('');
  }
  return l.join('\n');
}

// ---------- content ----------

export function contentTables(r: ContentAuditReport): string {
  const out: string[] = [];
  if (r.findings.length) {
    const t = makeTable(['severity', 'rule', 'document', 'chars', 'excerpt (redacted)'], { colWidths: [10, 22, 34, 12, 70] });
    for (const f of r.findings.slice(0, 200)) t.push([f.severity, f.rule_id, f.doc_id, `${f.doc_start}–${f.doc_end}`, f.excerpt]);
    out.push(t.toString());
    if (r.findings.length > 200) out.push(`… ${r.findings.length - 200} more (use --json or --out for all)`);
  }
  out.push(contentVerdict(r));
  out.push(`${audienceLine(r.highest_acl)}${r.restricted_excerpts === 'withheld' ? ' Excerpts of restricted documents are withheld (--show-restricted shows them).' : ' Excerpts of restricted documents are SHOWN (--show-restricted).'}`);
  return out.join('\n');
}

export function contentVerdict(r: ContentAuditReport): string {
  const sev = (['critical', 'high', 'medium', 'low'] as const).map((s) => `${r.counts.by_severity[s] ?? 0} ${s}`).join(', ');
  const rules = r.gate?.severity ? `≥ ${r.gate.severity}` : r.gate?.results.map((x) => x.rule.source).join(', ');
  const gate = r.gate ? ` · gate ${rules}: ${r.gate.passed ? 'PASS' : `FAIL${r.gate.failing !== undefined ? ` (${r.gate.failing} findings)` : ''}`}` : '';
  return `${r.findings.length} findings (${sev}) in ${r.scanned_chunks} chunks of ${r.scanned_documents} documents [${r.scope}] · ${r.suppressed} suppressed${gate}`;
}

export function contentMarkdown(r: ContentAuditReport): string {
  const l: string[] = [];
  l.push('# rag audit — content', '');
  l.push(`Store \`${r.store}\`, scope ${r.scope}, generated ${r.generated_at}.`, '');
  l.push(`**${contentVerdict(r)}**`, '');
  l.push(`**${audienceLine(r.highest_acl)}**`, '');
  l.push(
    'Excerpts are redacted: secrets and personal data keep at most a short prefix and suffix' +
      (r.restricted_excerpts === 'withheld' ? '; excerpts of documents not readable by `public` are withheld (`--show-restricted` shows them)' : '; excerpts of restricted documents are shown (`--show-restricted`)') +
      '. Offsets are characters in the document\'s normalised text.',
    '',
  );
  l.push('| severity | count |', '|---|---|');
  for (const s of ['critical', 'high', 'medium', 'low'] as const) l.push(`| ${s} | ${r.counts.by_severity[s] ?? 0} |`);
  l.push('', '| family | count |', '|---|---|');
  for (const [fam, n] of Object.entries(r.counts.by_family).sort()) l.push(`| ${fam} | ${n} |`);
  l.push('', '## Findings', '');
  if (!r.findings.length) l.push('None.', '');
  else {
    l.push('| severity | rule | document | chunk | chars | excerpt | hash |', '|---|---|---|---|---|---|---|');
    for (const f of r.findings) {
      l.push(`| ${f.severity} | ${f.rule_id} | \`${md(f.doc_id)}\` | \`${md(f.chunk_id)}\` | ${f.doc_start}–${f.doc_end} | ${md(f.excerpt)} | \`${f.hash.slice(0, 16)}\` |`);
    }
    l.push('');
  }
  if (r.suppressed_findings.length) {
    l.push('## Suppressed (reviewed)', '', '| rule | document | hash | reason |', '|---|---|---|---|');
    for (const s of r.suppressed_findings) l.push(`| ${s.rule_id} | \`${md(s.doc_id)}\` | \`${s.hash.slice(0, 16)}\` | ${md(s.reason ?? '')} |`);
    l.push('');
  }
  return l.join('\n');
}
