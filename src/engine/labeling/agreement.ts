/**
 * Inter-annotator agreement for `rag label stats`: how far two or more SMEs grading the same
 * query–document pairs agree, beyond chance, and which items need adjudication.
 *
 * Grades are numbers (the 0–3 relevance scale of the goldens); `null` marks "not graded by this
 * labeler". Weighted statistics use the numeric values themselves as positions on the scale.
 */

export type KappaWeights = 'none' | 'linear' | 'quadratic';
export type AlphaLevel = 'nominal' | 'ordinal' | 'interval' | 'ratio';

function distinctSorted(values: Iterable<number>): number[] {
  return [...new Set(values)].sort((a, b) => a - b);
}

function assertFiniteNumbers(values: Array<number | null>, what: string): void {
  for (const v of values) {
    if (v !== null && !Number.isFinite(v)) throw new RangeError(`${what}: labels must be finite numbers or null, got ${String(v)}`);
  }
}

/**
 * Cohen's kappa for two labelers over the same items: 1 − Σ w·observed / Σ w·expected, where w is
 * the disagreement weight (0/1 unweighted, |x−y| linear, (x−y)² quadratic; only ratios matter, so
 * no normalisation by the scale length is needed). NaN when chance disagreement is zero (both
 * labelers used one and the same grade throughout): agreement beyond chance is undefined there.
 */
export function cohensKappa(a: number[], b: number[], opts: { weights?: KappaWeights; categories?: number[] } = {}): number {
  if (a.length !== b.length) throw new RangeError(`cohensKappa: label lists differ in length (${a.length} vs ${b.length})`);
  if (a.length === 0) throw new RangeError('cohensKappa: no items');
  assertFiniteNumbers(a, 'cohensKappa');
  assertFiniteNumbers(b, 'cohensKappa');
  const weights = opts.weights ?? 'none';
  const cats = distinctSorted([...(opts.categories ?? []), ...a, ...b]);
  const index = new Map(cats.map((c, i) => [c, i]));
  const k = cats.length;
  const observed = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  const rowMarg = new Array<number>(k).fill(0);
  const colMarg = new Array<number>(k).fill(0);
  const n = a.length;
  for (let i = 0; i < n; i++) {
    const r = index.get(a[i])!;
    const c = index.get(b[i])!;
    observed[r][c] += 1 / n;
    rowMarg[r] += 1 / n;
    colMarg[c] += 1 / n;
  }
  const w = (x: number, y: number): number =>
    weights === 'none' ? (x === y ? 0 : 1) : weights === 'linear' ? Math.abs(x - y) : (x - y) ** 2;
  let obsDis = 0;
  let expDis = 0;
  for (let r = 0; r < k; r++) {
    for (let c = 0; c < k; c++) {
      const d = w(cats[r], cats[c]);
      obsDis += d * observed[r][c];
      expDis += d * rowMarg[r] * colMarg[c];
    }
  }
  return expDis === 0 ? NaN : 1 - obsDis / expDis;
}

export interface CoincidenceMatrix {
  /** Distinct values, ascending. */
  values: number[];
  /** o[c][k]: coincidences of values[c] and values[k] within units, each unit weighted 1/(m_u − 1). */
  o: number[][];
  /** n_c: row sums of o. */
  marginals: number[];
  /** Total number of pairable values. */
  n: number;
}

/** Krippendorff's coincidence matrix; `data` is labelers × items, null = missing. */
export function coincidenceMatrix(data: Array<Array<number | null>>): CoincidenceMatrix {
  const items = Math.max(0, ...data.map((row) => row.length));
  for (const row of data) assertFiniteNumbers(row, 'krippendorffAlpha');
  const values = distinctSorted(data.flat().filter((v): v is number => v !== null));
  const index = new Map(values.map((v, i) => [v, i]));
  const o = values.map(() => new Array<number>(values.length).fill(0));
  for (let u = 0; u < items; u++) {
    const unit = data.map((row) => row[u]).filter((v): v is number => v !== null && v !== undefined);
    const m = unit.length;
    if (m < 2) continue; // a value nobody else judged cannot agree or disagree with anything
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < m; j++) {
        if (i !== j) o[index.get(unit[i])!][index.get(unit[j])!] += 1 / (m - 1);
      }
    }
  }
  const marginals = o.map((row) => row.reduce((s, x) => s + x, 0));
  return { values, o, marginals, n: marginals.reduce((s, x) => s + x, 0) };
}

function deltaSquared(level: AlphaLevel, cm: CoincidenceMatrix): (c: number, k: number) => number {
  const v = cm.values;
  switch (level) {
    case 'nominal':
      return (c, k) => (c === k ? 0 : 1);
    case 'interval':
      return (c, k) => (v[c] - v[k]) ** 2;
    case 'ratio':
      return (c, k) => (v[c] + v[k] === 0 ? 0 : ((v[c] - v[k]) / (v[c] + v[k])) ** 2);
    case 'ordinal': {
      // Distance counts the values lying between c and k, halving the endpoints' own frequencies.
      const cum = [0];
      for (const nc of cm.marginals) cum.push(cum[cum.length - 1] + nc);
      return (c, k) => {
        const lo = Math.min(c, k);
        const hi = Math.max(c, k);
        const between = cum[hi + 1] - cum[lo];
        return (between - (cm.marginals[c] + cm.marginals[k]) / 2) ** 2;
      };
    }
  }
}

/**
 * Krippendorff's alpha, 1 − D_o/D_e, for any number of labelers with missing values
 * (Krippendorff 2011, "Computing Krippendorff's Alpha-Reliability"). NaN when there is no
 * variation to disagree about (fewer than two pairable values, or all pairable values equal).
 */
export function krippendorffAlpha(data: Array<Array<number | null>>, level: AlphaLevel = 'nominal'): number {
  const cm = coincidenceMatrix(data);
  if (cm.n < 2) return NaN;
  const d = deltaSquared(level, cm);
  let observed = 0;
  let expected = 0;
  const k = cm.values.length;
  for (let c = 0; c < k; c++) {
    for (let j = 0; j < k; j++) {
      const dd = d(c, j);
      observed += cm.o[c][j] * dd;
      expected += cm.marginals[c] * cm.marginals[j] * dd;
    }
  }
  if (expected === 0) return NaN;
  return 1 - ((cm.n - 1) * observed) / expected;
}

/**
 * Share of agreeing labeler pairs, averaged over items that at least two labelers graded.
 * With two labelers: the fraction of co-graded items with the same grade. `tolerance` counts
 * grades within that distance as agreeing (tolerance 1 = "adjacent agreement" on a graded scale).
 */
export function percentAgreement(data: Array<Array<number | null>>, opts: { tolerance?: number } = {}): number {
  const tol = opts.tolerance ?? 0;
  const items = Math.max(0, ...data.map((row) => row.length));
  let sum = 0;
  let counted = 0;
  for (let u = 0; u < items; u++) {
    const unit = data.map((row) => row[u]).filter((v): v is number => v !== null && v !== undefined);
    if (unit.length < 2) continue;
    let agree = 0;
    let pairs = 0;
    for (let i = 0; i < unit.length; i++) {
      for (let j = i + 1; j < unit.length; j++) {
        pairs++;
        if (Math.abs(unit[i] - unit[j]) <= tol) agree++;
      }
    }
    sum += agree / pairs;
    counted++;
  }
  return counted === 0 ? NaN : sum / counted;
}

export interface LabelledItem {
  id: string;
  /** One grade per labeler, null where that labeler did not grade the item. */
  labels: Array<number | null>;
}

export interface Disagreement {
  id: string;
  labels: Array<number | null>;
  /** max − min of the grades given. */
  spread: number;
}

/**
 * Items to adjudicate, widest disagreement first. Graded scales flag a spread ≥ 2 by default
 * (a 2-vs-3 call is a judgement difference, 0-vs-2 is a real conflict); nominal labels flag any
 * difference. `minSpread` overrides the threshold.
 */
export function disagreements(items: LabelledItem[], opts: { graded?: boolean; minSpread?: number } = {}): Disagreement[] {
  const threshold = opts.minSpread ?? (opts.graded ? 2 : 1);
  const out: Disagreement[] = [];
  for (const item of items) {
    const given = item.labels.filter((v): v is number => v !== null && v !== undefined);
    if (given.length < 2) continue;
    const spread = Math.max(...given) - Math.min(...given);
    const differs = opts.graded || opts.minSpread !== undefined ? spread >= threshold : new Set(given).size > 1;
    if (differs) out.push({ id: item.id, labels: item.labels, spread });
  }
  return out.sort((x, y) => y.spread - x.spread || x.id.localeCompare(y.id));
}
