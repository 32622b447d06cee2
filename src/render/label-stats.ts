import type { LabelStats } from '../engine/labeling/stats.js';
import { makeTable } from './table.js';

/** `rag label stats` as terminal text: progress per labeler, agreement, the disagreements. */
export function labelStatsText(s: LabelStats, show: number): string {
  const out: string[] = [];
  out.push(`journal: ${s.journal}`);
  out.push(`${s.items} judged items (query × document or chunk) across ${s.queries} queries; ${s.labelers.length} labeler(s)`);
  const t = makeTable(['labeler', 'graded', 'skipped', 'notes', 'queries', 'coverage', 'last activity']);
  for (const l of s.labelers) {
    t.push([l.labeler, String(l.graded), String(l.skipped), String(l.notes), String(l.queries), `${(l.coverage * 100).toFixed(0)}%`, l.last_at ?? '—']);
  }
  out.push(t.toString());
  const a = s.agreement;
  if (!a) {
    out.push('agreement: needs at least two labelers grading the same items');
    return out.join('\n');
  }
  out.push(`agreement on ${a.items} item(s) graded by ${a.method === 'cohen-kappa' ? 'both labelers' : 'two or more labelers'}:`);
  out.push(`  percent agreement ${fmt(a.percent_agreement)}`);
  if (a.kappa !== undefined) out.push(`  Cohen's kappa ${fmt(a.kappa)} · weighted (quadratic) kappa ${fmt(a.weighted_kappa)}`);
  if (a.alpha !== undefined) out.push(`  Krippendorff's alpha (ordinal) ${fmt(a.alpha)}`);
  if (a.alpha_interval !== undefined) out.push(`  Krippendorff's alpha (interval) ${fmt(a.alpha_interval)}`);
  if (s.disagreements.length === 0) {
    out.push('no disagreements');
    return out.join('\n');
  }
  out.push(`${s.disagreements.length} disagreement(s) to adjudicate${s.disagreements.length > show ? ` (first ${show}; --show N for more, --json for all)` : ''}:`);
  if (show === 0) return out.join('\n');
  const d = makeTable(['qid', 'judged', 'grades', 'golden now', 'query']);
  for (const x of s.disagreements.slice(0, show)) {
    d.push([x.qid, x.key, Object.entries(x.grades).map(([l, g]) => `${l}=${g}`).join(' '), String(x.golden), x.query.slice(0, 50)]);
  }
  out.push(d.toString());
  return out.join('\n');
}

function fmt(x: number | null | undefined): string {
  return x === null || x === undefined || Number.isNaN(x) ? 'n/a' : x.toFixed(3);
}
