/**
 * Detection quality of the content scan on the labelled corpus (fixtures/audit/labelled.jsonl).
 *   node --import tsx bench/audit-detection.ts [--json]
 * Recall per family: an expected `family` or `family/ruleId` counts as detected when a finding of
 * that family (and rule) is reported at severity ≥ medium — or at any severity for rules whose
 * catalogue severity is itself low (private IP ranges).
 * False-positive rate: share of clean samples (expect: []) with any finding ≥ medium.
 *
 * Two corpora: labelled.jsonl (written first; the rules were developed against it) and
 * holdout.jsonl (32 samples written after the rules, as a check on overfitting). Its first run
 * scored recall 85.0% (17/20: a multi-line HTML comment, a `Language model:` address in a hidden
 * cell and an "override the earlier guidelines: … you must" were missed), FPR 0/13; the three
 * generic gaps were then fixed, so the holdout is no longer blind — write fresh samples to re-check.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { scanText, severityAtLeast, type Finding } from '../src/engine/audit/content-scan.js';
import { getRule } from '../src/engine/audit/rules.js';

export interface LabelledSample {
  id: string;
  text: string;
  expect: string[];
  note?: string;
}

export interface FamilyStats {
  expected: number;
  detected: number;
  recall: number;
}

export interface CorpusReport {
  samples: number;
  positives: number;
  clean: number;
  detection: number;
  falsePositiveRate: number;
  perFamily: Record<string, FamilyStats>;
  misses: Array<{ id: string; expected: string; got: string[] }>;
  falsePositives: Array<{ id: string; findings: string[] }>;
}

export const CORPUS_PATH = fileURLToPath(new URL('../fixtures/audit/labelled.jsonl', import.meta.url));
export const HOLDOUT_PATH = fileURLToPath(new URL('../fixtures/audit/holdout.jsonl', import.meta.url));

export function loadCorpus(path = CORPUS_PATH): LabelledSample[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as LabelledSample);
}

function counts(f: Finding): boolean {
  return severityAtLeast(f.severity, 'medium') || getRule(f.rule_id).severity === 'low';
}

function satisfies(f: Finding, expectation: string): boolean {
  const [family, ruleId] = expectation.split('/');
  return f.family === family && (ruleId === undefined || f.rule_id === ruleId) && counts(f);
}

export function evaluateCorpus(samples: LabelledSample[]): CorpusReport {
  const perFamily: Record<string, FamilyStats> = {};
  const misses: CorpusReport['misses'] = [];
  const falsePositives: CorpusReport['falsePositives'] = [];
  let expectedTotal = 0;
  let detectedTotal = 0;
  let clean = 0;
  for (const s of samples) {
    const findings = scanText(s.text);
    const label = (f: Finding) => `${f.family}/${f.rule_id}:${f.severity}:${f.score}`;
    if (s.expect.length === 0) {
      clean++;
      const bad = findings.filter((f) => severityAtLeast(f.severity, 'medium'));
      if (bad.length) falsePositives.push({ id: s.id, findings: bad.map(label) });
      continue;
    }
    for (const e of s.expect) {
      const family = e.split('/')[0];
      const stats = (perFamily[family] ??= { expected: 0, detected: 0, recall: 0 });
      stats.expected++;
      expectedTotal++;
      if (findings.some((f) => satisfies(f, e))) {
        stats.detected++;
        detectedTotal++;
      } else {
        misses.push({ id: s.id, expected: e, got: findings.map(label) });
      }
    }
  }
  for (const st of Object.values(perFamily)) st.recall = st.expected ? st.detected / st.expected : 1;
  return {
    samples: samples.length,
    positives: samples.length - clean,
    clean,
    detection: expectedTotal ? detectedTotal / expectedTotal : 1,
    falsePositiveRate: clean ? falsePositives.length / clean : 0,
    perFamily,
    misses,
    falsePositives,
  };
}

export function formatReport(r: CorpusReport): string {
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const lines = [
    `audit content scan — labelled corpus: ${r.samples} samples (${r.positives} with findings expected, ${r.clean} clean)`,
    `detection (recall): ${pct(r.detection)}   false-positive rate: ${pct(r.falsePositiveRate)} (${r.falsePositives.length}/${r.clean} clean samples with a finding ≥ medium)`,
    ...Object.entries(r.perFamily).map(([fam, s]) => `  ${fam.padEnd(10)} ${String(s.detected).padStart(3)}/${String(s.expected).padEnd(3)} ${pct(s.recall)}`),
  ];
  if (r.misses.length) lines.push('misses:', ...r.misses.map((m) => `  ${m.id}: expected ${m.expected}; got [${m.got.join(', ')}]`));
  if (r.falsePositives.length) lines.push('false positives:', ...r.falsePositives.map((f) => `  ${f.id}: ${f.findings.join(', ')}`));
  return lines.join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const reports = { labelled: evaluateCorpus(loadCorpus()), holdout: evaluateCorpus(loadCorpus(HOLDOUT_PATH)) };
  if (process.argv.includes('--json')) console.log(JSON.stringify(reports, null, 2));
  else console.log(`[labelled.jsonl]\n${formatReport(reports.labelled)}\n\n[holdout.jsonl]\n${formatReport(reports.holdout)}`);
}
