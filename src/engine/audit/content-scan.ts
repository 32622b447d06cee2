/**
 * `scanText`: the content scan behind `rag audit content`. Pure: text in, findings out.
 * PII and secrets come from validated patterns; injection and hidden text from scored heuristics
 * (see injection.ts, hidden.ts). Every finding carries a redacted excerpt — never the raw secret —
 * and a stable hash of rule + matched text, which suppression files refer to.
 */
import { createHash } from 'node:crypto';
import { detectHidden, skeleton, stripInvisible } from './hidden.js';
import { detectInjection } from './injection.js';
import { detectPiiAndSecrets } from './pii-secrets.js';
import type { RawMatch } from './raw-match.js';
import { maskMiddle, redact, showInvisible } from './redact.js';
import { getRule, severityAtLeast, type Family, type Severity } from './rules.js';
import { looksRandom } from './validators.js';

export { severityAtLeast } from './rules.js';
export type { Family, Severity } from './rules.js';

export interface Finding {
  rule_id: string;
  family: Family;
  severity: Severity;
  /** [start, end) in the scanned text (UTF-16 offsets, like String.prototype.slice). */
  start: number;
  end: number;
  /** Confidence 0–1. */
  score: number;
  /** Redacted match with a little context; never the full secret. */
  excerpt: string;
  /** sha256 hex of `${ruleId}:${matched text}`: stable across files and runs, used by suppressions. */
  hash: string;
}

export interface ScanOptions {
  /** Only these families (default: all). */
  families?: Family[];
  /** Drop findings below this severity (default 'low': keep everything reported). */
  minSeverity?: Severity;
  /** Injection/hidden signals scoring below this are not findings at all (default 0.3). */
  minScore?: number;
  /** Characters of context on each side of the match in the excerpt (default 30). */
  contextChars?: number;
  /**
   * false: no excerpts (empty strings), and no PII/secret detection unless those families are asked
   * for, since it only serves to redact excerpts then. Query-time flagging uses this.
   */
  excerpts?: boolean;
}

export const DEFAULT_MIN_SCORE = 0.3;

/** Score bands for heuristic findings: 0.5 is the line between "worth a look" and "report". */
export function scoreToSeverity(score: number): Severity {
  if (score >= 0.85) return 'critical';
  if (score >= 0.7) return 'high';
  if (score >= 0.5) return 'medium';
  return 'low';
}

export function findingHash(ruleId: string, matched: string): string {
  return createHash('sha256').update(`${ruleId}:${matched}`).digest('hex');
}

/** Among overlapping PII/secret matches keep the most specific (highest-priority) rule. */
function resolveOverlaps(matches: RawMatch[]): RawMatch[] {
  const ordered = [...matches].sort(
    (a, b) => getRule(b.ruleId).priority - getRule(a.ruleId).priority || b.end - b.start - (a.end - a.start) || a.start - b.start,
  );
  const kept: RawMatch[] = [];
  for (const m of ordered) {
    if (kept.some((k) => k.start < m.end && m.start < k.end)) continue;
    kept.push(m);
  }
  return kept;
}

function mapBack(m: RawMatch, map: number[]): RawMatch {
  return { ...m, start: map[m.start], end: map[m.end - 1] + 1 };
}

interface Located extends RawMatch {
  family: Family;
  severity: Severity;
}

/**
 * Context around a match is shown as is, except random-looking tokens: a secret no rule
 * recognised must not leak through a neighbour's excerpt.
 */
function showContext(s: string): string {
  return showInvisible(s).replace(/[A-Za-z0-9+/_=-]{16,}/g, (tok) => (looksRandom(tok, 3.5) && /\d/.test(tok) ? maskMiddle(tok) : tok));
}

function buildExcerpt(text: string, f: Located, sensitive: Located[], ctx: number): string {
  let ws = Math.max(0, f.start - ctx);
  let we = Math.min(text.length, f.end + ctx);
  // Other secrets cut by the window edges are widened to whole, so they can be redacted too.
  for (const s of sensitive) {
    if (s.start < ws && s.end > ws) ws = s.start;
    if (s.start < we && s.end > we) we = s.end;
  }
  const inside = sensitive
    .filter((s) => s !== f && s.start >= ws && s.end <= we && !(s.start < f.end && f.start < s.end))
    .concat([f])
    .sort((a, b) => a.start - b.start);
  let out = '';
  let pos = ws;
  for (const s of inside) {
    if (s.start < pos) continue;
    out += showContext(text.slice(pos, s.start));
    const shown = s.display ?? redact(text.slice(s.start, s.end), s.ruleId);
    out += s === f ? `[${shown}]` : shown;
    pos = s.end;
  }
  out += showContext(text.slice(pos, we));
  const prefix = ws > 0 ? '…' : '';
  const suffix = we < text.length ? '…' : '';
  return `${prefix}${out.replace(/\s+/g, ' ').trim()}${suffix}`;
}

export function scanText(text: string, opts: ScanOptions = {}): Finding[] {
  const minScore = opts.minScore ?? DEFAULT_MIN_SCORE;
  const ctx = opts.contextChars ?? 30;
  const families = opts.families ? new Set(opts.families) : undefined;

  const located: Located[] = [];
  const locate = (m: RawMatch, heuristic: boolean) => {
    const rule = getRule(m.ruleId);
    if (heuristic && m.score < minScore) return;
    const severity = m.severity ?? (heuristic ? scoreToSeverity(m.score) : rule.severity);
    located.push({ ...m, family: rule.family, severity });
  };

  const wantsSensitive = !families || families.has('pii') || families.has('secret');
  if (opts.excerpts !== false || wantsSensitive) for (const m of resolveOverlaps(detectPiiAndSecrets(text))) locate(m, false);

  // Injection phrases are matched with invisible characters removed, so "ig\u200Bnore" still reads "ignore".
  const stripped = stripInvisible(text);
  // …and look-alike letters read as the Latin ones they imitate ("іgnоrе" is "ignore").
  const injections = detectInjection(skeleton(stripped.text)).map((m) => mapBack(m, stripped.map));
  for (const m of injections) locate(m, true);
  const strongInjections = injections.filter((m) => m.score >= 0.5).map((m): [number, number] => [m.start, m.end]);
  for (const m of detectHidden(text, strongInjections)) locate(m, true);

  const sensitive = located.filter((f) => f.family === 'pii' || f.family === 'secret');
  const findings: Finding[] = [];
  for (const f of located) {
    if (families && !families.has(f.family)) continue;
    if (opts.minSeverity && !severityAtLeast(f.severity, opts.minSeverity)) continue;
    findings.push({
      rule_id: f.ruleId,
      family: f.family,
      severity: f.severity,
      start: f.start,
      end: f.end,
      score: Math.round(f.score * 1000) / 1000,
      excerpt: opts.excerpts === false ? '' : buildExcerpt(text, f, sensitive, ctx),
      hash: findingHash(f.ruleId, text.slice(f.start, f.end)),
    });
  }
  return findings.sort((a, b) => a.start - b.start || a.rule_id.localeCompare(b.rule_id));
}
