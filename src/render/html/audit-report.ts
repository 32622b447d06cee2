/**
 * report.html of the three audits, rendered from the report object that report.json holds (the
 * same object `--json` prints). Excerpts are already redacted by the engine; here every string is
 * escaped, since audited passages are exactly where `<script>` and hidden instructions live.
 */
import type { AclAuditReport } from '../../engine/audit/acl-probe.js';
import { callerKey, fmtAcl } from '../../engine/audit/acl-probe.js';
import type { ContentAuditReport } from '../../engine/audit/content-audit.js';
import type { LineageReport } from '../../engine/audit/lineage.js';
import { VERSION } from '../../version.js';
import { aclVerdict, contentVerdict } from '../audit-report.js';
import { badge, banner, dataCell, html, meter, page, pct, short, table, type Tone } from './page.js';
import { stackedBars } from './svg.js';

const SEVERITY_ORDER = ['critical', 'high', 'medium', 'low'] as const;
const SEVERITY_COLOR: Record<string, string> = { critical: '#7f1d1d', high: '#c8372d', medium: '#d98b1f', low: '#9aa3b2' };
const SEVERITY_TONE: Record<string, Tone> = { critical: 'bad', high: 'bad', medium: 'warn', low: 'neutral' };
const FAMILIES = ['pii', 'secret', 'injection', 'hidden'];
const generator = `rag ${VERSION}`;
/** ISO timestamps to the second, readable in a narrow column (the JSON keeps the full value). */
const when = (iso: string | null | undefined) => (iso ? iso.slice(0, 19).replace('T', ' ') : '—');

export function contentReportHtml(r: ContentAuditReport): string {
  const families = [...new Set([...FAMILIES, ...r.findings.map((f) => f.family)])];
  const count = (family: string, severity: string) => r.findings.filter((f) => f.family === family && f.severity === severity).length;
  const matrix = families.map((fam) => [
    fam,
    ...SEVERITY_ORDER.map((s) => dataCell(String(count(fam, s)), { family: fam, severity: s, value: count(fam, s) })),
    dataCell(String(r.counts.by_family[fam as keyof typeof r.counts.by_family] ?? 0), { family: fam, severity: 'all', value: r.counts.by_family[fam as keyof typeof r.counts.by_family] ?? 0 }),
  ]);
  const totals = ['all', ...SEVERITY_ORDER.map((s) => dataCell(String(r.counts.by_severity[s] ?? 0), { family: 'all', severity: s, value: r.counts.by_severity[s] ?? 0 })), dataCell(String(r.findings.length), { family: 'all', severity: 'all', value: r.findings.length })];
  const chart = stackedBars({
    id: 'by-family',
    title: 'Findings by family and severity',
    rows: families.map((fam) => ({ label: fam, parts: SEVERITY_ORDER.map((s) => ({ key: s, value: count(fam, s), color: SEVERITY_COLOR[s]! })) })),
    xLabel: 'findings (critical · high · medium · low)',
  });
  const tone: Tone = r.gate ? (r.gate.passed ? 'good' : 'bad') : r.findings.some((f) => f.severity === 'critical' || f.severity === 'high') ? 'warn' : 'good';
  const findings = r.findings.map((f) => [
    html`<td data-severity="${f.severity}">${badge(f.severity, SEVERITY_TONE[f.severity] ?? 'neutral')}</td>`,
    html`<span class="mono">${f.rule_id}</span>`,
    html`<td class="wrap"><span class="mono">${f.doc_id}</span><br><span class="muted">${f.title}</span></td>`,
    html`<td class="num">${f.doc_start}–${f.doc_end}</td>`,
    html`<td class="wrap mono">${f.excerpt}</td>`,
    html`<span class="mono">${short(f.hash, 12)}</span>`,
  ]);
  const body = html`${banner(r.gate ? (r.gate.passed ? 'Gate passed.' : 'Gate failed.') : 'Content scan.', contentVerdict(r), tone)}
<h2>By family and severity</h2>
<div class="grid">${table(['family', ...SEVERITY_ORDER.map((s) => ({ head: s, num: true })), { head: 'total', num: true }], [...matrix, totals], { id: 'matrix' })}${chart}</div>
<h2>Findings</h2>
<p class="muted">Excerpts are redacted: secrets and personal data keep at most a short prefix and suffix. Offsets are characters in the document's normalised text. The hash is what a suppression file names.</p>
${r.findings.length ? table(['severity', 'rule', 'document', { head: 'chars', num: true }, 'excerpt (redacted)', 'hash'], findings, { id: 'findings' }) : html`<p>None.</p>`}
${r.suppressed_findings.length ? html`<h2>Suppressed (reviewed)</h2>${table(['rule', 'document', 'hash', 'reason', 'reviewer'], r.suppressed_findings.map((s) => [s.rule_id, html`<span class="mono">${s.doc_id}</span>`, html`<span class="mono">${short(s.hash, 16)}</span>`, s.reason ?? '', s.reviewer ?? '']), { id: 'suppressed' })}` : ''}`;
  return page({ title: 'rag audit — content', subtitle: `Store ${r.store} · ${r.scope} · ${r.scanned_chunks} chunks of ${r.scanned_documents} documents · ${r.generated_at}`, body, sources: ['report.json'], generator });
}

export function aclReportHtml(r: AclAuditReport): string {
  const rows = r.indexes.map((i) => [
    html`<span class="mono">${i.index}</span>`,
    html`${i.modes.join(', ')}${i.skipped_modes.length ? html`<br><span class="muted">skipped ${i.skipped_modes.map((s) => `${s.mode} (${s.reason})`).join(', ')}</span>` : ''}`,
    dataCell(String(i.rows), { index: i.index, stat: 'rows', value: i.rows }),
    dataCell(String(i.restricted_chunks), { index: i.index, stat: 'restricted', value: i.restricted_chunks }),
    dataCell(String(i.probed_chunks), { index: i.index, stat: 'probed', value: i.probed_chunks }),
    html`<td class="num" data-index="${i.index}" data-stat="coverage" data-value="${i.coverage}">${meter(i.coverage, i.coverage >= 1 ? 'good' : 'warn')}${pct(i.coverage)}</td>`,
    html`<td class="num" data-index="${i.index}" data-stat="reach" data-value="${i.reach_rate}">${i.probed_chunks ? html`${meter(i.reach_rate, i.reach_rate >= 0.9 ? 'good' : 'warn')}${pct(i.reach_rate)}` : '—'}</td>`,
    dataCell(String(i.trials), { index: i.index, stat: 'trials', value: i.trials }),
    html`<td class="num" data-index="${i.index}" data-stat="leaks" data-value="${i.leaks}">${i.leaks ? badge(String(i.leaks), 'bad') : '0'}</td>`,
  ]);
  const leaks = r.leaks.map((lk) => [lk.index, lk.mode, html`<span class="mono">${callerKey(lk.caller)}</span>`, html`<span class="mono">${lk.chunk_id}</span>`, `${fmtAcl(lk.row_acl)} → ${fmtAcl(lk.true_acl)}`, lk.detected_by, html`<td class="wrap">${lk.query_kind}: ${lk.query}</td>`]);
  const violations = r.violations.map((v) => [v.kind, v.table, html`<span class="mono">${v.chunk_id ?? v.doc_id}</span>`, html`<td class="wrap">${v.message}</td>`]);
  const body = html`${banner(r.passed ? 'ACL audit passed.' : 'ACL audit failed.', aclVerdict(r), r.passed ? 'good' : 'bad')}
<h2>Coverage and reach</h2>
${table(['index', 'modes', { head: 'rows', num: true }, { head: 'restricted', num: true }, { head: 'probed', num: true }, { head: 'coverage', num: true }, { head: 'probe reach', num: true }, { head: 'trials', num: true }, { head: 'leaks', num: true }], rows, { id: 'indexes' })}
<p class="muted">Every probe runs through the same retriever as <span class="mono">rag query</span>, with the caller's ACL pre-filter. Coverage: restricted chunks probed ÷ restricted chunks. Probe reach: the share of probed chunks an authorised caller finds in the top ${r.k} with the same queries — evidence the probes would surface the chunk if the filter failed. Seed ${r.seed}.</p>
<h2>Leaks</h2>
${leaks.length ? table(['index', 'mode', 'caller', 'leaked chunk', 'acl (row → document)', 'detected by', 'query'], leaks, { id: 'leaks' }) : html`<p id="leaks">None in ${r.trials} trials.</p>`}
<h2>Invariant violations</h2>
${violations.length ? table(['invariant', 'table', 'row', 'message'], violations, { id: 'violations' }) : html`<p id="violations">None: every row has an ACL and a tenant, chunk ACLs equal their documents', index ACLs equal their chunks'.</p>`}
<h2>Callers probed (${r.callers.length})</h2>
<p>${r.callers.map((c) => html`<span class="badge neutral mono">${callerKey(c)}</span> `)}</p>`;
  return page({ title: 'rag audit — ACL', subtitle: `Store ${r.store} · ${r.trials} trials · ${r.generated_at}`, body, sources: ['report.json'], generator });
}

export function lineageReportHtml(r: LineageReport): string {
  const indexes = r.indexes.map((i) => [
    html`<span class="mono">${i.name}</span>`,
    i.model ? html`<span class="mono">${i.model.id}</span> (${i.model.dim}d)<br><span class="muted mono">${short(i.model.weights_sha256, 16)}</span>` : 'none (BM25 only)',
    html`${i.chunker.config.max_tokens}/${i.chunker.config.overlap_tokens} tok · <span class="mono">${short(i.chunker.hash, 8)}</span>`,
    dataCell(String(i.rows), { index: i.name, stat: 'rows', value: i.rows }),
    i.current_table_version === null ? `${i.manifest_table_version} (table missing)` : i.current_table_version === i.manifest_table_version ? String(i.manifest_table_version) : html`${i.manifest_table_version} → now ${i.current_table_version} ${badge('written after build', 'warn')}`,
    i.updated_at,
  ]);
  const state = (s: { state: string; indexedAt?: string | null }) => (s.state === 'current' ? html`<span class="muted">${when(s.indexedAt)}</span>` : badge(s.state, 'warn'));
  const docs = r.documents.map((d) => [
    html`<td class="wrap"><span class="mono">${d.doc_id}</span>${d.deleted ? html` ${badge('deleted', 'neutral')}` : ''}</td>`,
    d.connector,
    html`<span class="mono">${short(d.content_hash, 12)}</span>`,
    when(d.ingested_at),
    html`<span class="mono">${d.acl.join(', ')}</span> @ <span class="mono">${d.tenant}</span>`,
    dataCell(String(d.chunks), { doc: d.doc_id, value: d.chunks }),
    ...d.indexes.map(state),
  ]);
  const totals = [...r.totals.by_principal.map((p) => [html`<span class="mono">${p.key}</span>`, dataCell(String(p.documents), { key: p.key, stat: 'documents', value: p.documents }), dataCell(String(p.chunks), { key: p.key, stat: 'chunks', value: p.chunks })]), ...r.totals.by_tenant.map((t) => [html`tenant <span class="mono">${t.key}</span>`, dataCell(String(t.documents), { key: `tenant ${t.key}`, stat: 'documents', value: t.documents }), dataCell(String(t.chunks), { key: `tenant ${t.key}`, stat: 'chunks', value: t.chunks })])];
  const lagging = r.documents.filter((d) => d.indexes.some((s) => s.state !== 'current')).length;
  const body = html`${banner(lagging ? `${lagging} documents lag an index.` : 'Every index is current.', `${r.totals.documents} documents (${r.totals.deleted} deleted) · ${r.totals.chunks} chunks · ${r.sources.length} sources · ${r.indexes.length} indexes`, lagging ? 'warn' : 'good')}
<h2>Indexes</h2>
${r.indexes.length ? table(['index', 'model', 'chunker', { head: 'rows', num: true }, 'table version', 'updated'], indexes, { id: 'indexes' }) : html`<p>No index has been built.</p>`}
<h2>Totals by principal and tenant</h2>
${table(['principal / tenant', { head: 'documents', num: true }, { head: 'chunks', num: true }], totals, { id: 'totals' })}
${r.since ? html`<h2>Changes since ${r.since.since}</h2>${r.since.changes.length ? table(['change', 'document', 'source', 'when', 'what'], r.since.changes.map((c) => [c.change, html`<span class="mono">${c.doc_id}</span>`, c.source, c.ingested_at, c.detail ?? '']), { id: 'changes' }) : html`<p>No document changed.</p>`}` : ''}
<h2>Documents</h2>
${table(['document', 'connector', 'content sha256', 'ingested', 'acl @ tenant', { head: 'chunks', num: true }, ...r.indexes.map((i) => `index ${i.name}`)], docs, { id: 'documents' })}`;
  return page({ title: 'rag audit — lineage', subtitle: `Store ${r.store} · documents table v${r.documents_table_version ?? '—'}, chunks table v${r.chunks_table_version ?? '—'} · ${r.generated_at}`, body, sources: ['report.json'], generator });
}

/** The three files of `rag audit … --out DIR`. */
export function auditReportFiles(markdown: string, htmlText: string, report: unknown): Record<string, string> {
  return {
    'report.md': markdown.endsWith('\n') ? markdown : `${markdown}\n`,
    'report.html': htmlText,
    'report.json': `${JSON.stringify(report, null, 2)}\n`,
  };
}
