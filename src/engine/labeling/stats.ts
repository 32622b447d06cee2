/**
 * `rag label stats`: how far each labeler got, how well labelers agree, and which judgments
 * need adjudication. Everything is computed from the journal alone (no store needed).
 *
 * An item is one (query, document-or-chunk) pair that somebody currently grades; skips and
 * undone grades do not count. Agreement uses only the items two or more labelers graded:
 * Cohen's kappa (unweighted, and quadratic-weighted for the ordinal 0–3 scale) with exactly two
 * labelers, Krippendorff's alpha (ordinal, plus interval) with three or more. Adjudicated grades
 * are decisions, not opinions: they are left out of agreement and close their disagreement.
 */
import { existsSync } from 'node:fs';
import { InputError } from '../errors.js';
import { cohensKappa, disagreements as findDisagreements, krippendorffAlpha, percentAgreement } from './agreement.js';
import { compareQids } from '../evaluation/qrels.js';
import { decideGolden, readJournal, replay, type LabelState } from './journal.js';

export interface LabelerProgress {
  labeler: string;
  graded: number;
  skipped: number;
  notes: number;
  /** Queries in which this labeler graded or skipped something. */
  queries: number;
  /** Share of all items (graded by anyone) this labeler graded. */
  coverage: number;
  last_at: string | null;
}

export interface AgreementReport {
  method: 'cohen-kappa' | 'krippendorff-alpha';
  labelers: string[];
  /** Items graded by at least two of them. */
  items: number;
  percent_agreement: number | null;
  kappa?: number | null;
  weighted_kappa?: number | null;
  alpha?: number | null;
  alpha_interval?: number | null;
}

export interface DisagreementRow {
  qid: string;
  query: string;
  key: string;
  grades: Record<string, number>;
  spread: number;
  /** The grade the golden file holds now (lower median until adjudicated). */
  golden: number | null;
}

export interface LabelStats {
  journal: string;
  queries: number;
  items: number;
  labelers: LabelerProgress[];
  agreement: AgreementReport | null;
  disagreements: DisagreementRow[];
}

export function labelStats(journalPath: string, opts: { minSpread?: number } = {}): LabelStats {
  if (!existsSync(journalPath)) {
    throw new InputError(journalPath, undefined, 'no labeling journal here', 'run `rag label --golden FILE` first, or pass the journal with --journal');
  }
  const { events } = readJournal(journalPath);
  return computeStats(replay(events), journalPath, opts);
}

const nanToNull = (x: number) => (Number.isNaN(x) ? null : x);

export function computeStats(state: LabelState, journal: string, opts: { minSpread?: number } = {}): LabelStats {
  const labelers = state.labelers;
  // qid\0key → labeler → grade (current, non-adjudicated); adjudicated items tracked apart.
  const items = new Map<string, { qid: string; key: string; grades: Map<string, number> }>();
  const adjudicated = new Set<string>();
  const progress = new Map<string, LabelerProgress>();
  for (const l of labelers) progress.set(l, { labeler: l, graded: 0, skipped: 0, notes: 0, queries: 0, coverage: 0, last_at: null });
  for (const [labeler, byQuery] of state.verdicts) {
    const p = progress.get(labeler)!;
    for (const [qid, byKey] of byQuery) {
      if (byKey.size > 0) p.queries++;
      for (const [key, v] of byKey) {
        if (!p.last_at || v.at > p.last_at) p.last_at = v.at;
        if (v.grade === null) {
          p.skipped++;
          continue;
        }
        p.graded++;
        const id = `${qid}\u0000${key}`;
        const item = items.get(id) ?? { qid, key, grades: new Map<string, number>() };
        items.set(id, item);
        if (v.adjudicated) adjudicated.add(id);
        else item.grades.set(labeler, v.grade);
      }
    }
  }
  for (const n of state.notes) {
    const p = progress.get(n.labeler)!;
    p.notes++;
    if (!p.last_at || n.at > p.last_at) p.last_at = n.at;
  }
  for (const p of progress.values()) p.coverage = items.size ? p.graded / items.size : 0;

  // Agreement is among the labelers who give opinions (not only adjudications).
  const raters = labelers.filter((l) => [...items.values()].some((it) => it.grades.has(l)));
  const ids = [...items.keys()].sort();
  const matrix = raters.map((l) => ids.map((id) => items.get(id)!.grades.get(l) ?? null));
  const shared = ids.filter((_, u) => matrix.filter((row) => row[u] !== null).length >= 2).length;
  let agreement: AgreementReport | null = null;
  if (raters.length >= 2 && shared > 0) {
    agreement = { method: raters.length === 2 ? 'cohen-kappa' : 'krippendorff-alpha', labelers: raters, items: shared, percent_agreement: nanToNull(percentAgreement(matrix)) };
    if (raters.length === 2) {
      const both = ids.map((_, u) => u).filter((u) => matrix[0]![u] !== null && matrix[1]![u] !== null);
      const a = both.map((u) => matrix[0]![u]!);
      const b = both.map((u) => matrix[1]![u]!);
      const categories = [0, 1, 2, 3];
      agreement.kappa = nanToNull(cohensKappa(a, b, { categories }));
      agreement.weighted_kappa = nanToNull(cohensKappa(a, b, { categories, weights: 'quadratic' }));
    } else {
      agreement.alpha = nanToNull(krippendorffAlpha(matrix, 'ordinal'));
      agreement.alpha_interval = nanToNull(krippendorffAlpha(matrix, 'interval'));
    }
  }

  const golden = decideGolden(state).qrels;
  const open = findDisagreements(
    ids.filter((id) => !adjudicated.has(id)).map((id) => ({ id, labels: raters.map((l) => items.get(id)!.grades.get(l) ?? null) })),
    { minSpread: opts.minSpread ?? 1 },
  );
  const rows: DisagreementRow[] = open.map((d) => {
    const it = items.get(d.id)!;
    return {
      qid: it.qid,
      query: state.queries.get(it.qid)?.text ?? '',
      key: it.key,
      grades: Object.fromEntries(raters.flatMap((l) => (it.grades.has(l) ? [[l, it.grades.get(l)!]] : []))),
      spread: d.spread,
      golden: golden.get(it.qid)?.get(it.key) ?? null,
    };
  });
  rows.sort((x, y) => y.spread - x.spread || compareQids(x.qid, y.qid) || (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
  return {
    journal,
    queries: new Set([...items.values()].map((it) => it.qid)).size,
    items: items.size,
    labelers: [...progress.values()],
    agreement,
    disagreements: rows,
  };
}
