/**
 * Query-time flagging: the content scan's injection and hidden-text rules run over each returned
 * chunk, so an application can quarantine a flagged chunk before it reaches a model. The rules
 * cost about a millisecond per chunk (`npm run bench -- --only audit`), so every hit is scanned
 * when it is returned rather than flagged once at index time, where a verdict would go stale
 * whenever the rules improve. PII and secrets are not reported here:
 * a caller allowed to see a chunk may see its contents; injected instructions are the danger.
 */
import { scanText } from './content-scan.js';
import { severityAtLeast, type Family, type Severity } from './rules.js';

/** One finding on a search hit, in the shape of the JSON answer (snake_case). */
export interface HitFinding {
  rule_id: string;
  family: Family;
  severity: Severity;
  score: number;
  /** [char_start, char_end) in the chunk's text. */
  char_start: number;
  char_end: number;
}

const FAMILIES: Family[] = ['injection', 'hidden'];

/** Findings at or above `minSeverity` (default medium, the level `rag audit content --gate medium` fails on). */
export function hitFindings(text: string, minSeverity: Severity = 'medium'): HitFinding[] {
  return scanText(text, { families: FAMILIES, minSeverity, excerpts: false })
    .filter((f) => severityAtLeast(f.severity, minSeverity))
    .map((f) => ({ rule_id: f.rule_id, family: f.family, severity: f.severity, score: f.score, char_start: f.start, char_end: f.end }));
}

/** Verdicts by chunk text hash: a long-lived process (rag serve) scans each passage once. */
const verdicts = new Map<string, HitFinding[]>();
const VERDICT_CACHE_MAX = 20_000;

/** Findings for each hit (by chunk id) and the time the scan took. */
export function flagHits(hits: ReadonlyArray<{ chunk: { chunk_id: string; text: string; content_hash?: string } }>): { findings: Map<string, HitFinding[]>; ms: number } {
  const t0 = performance.now();
  const findings = new Map<string, HitFinding[]>();
  for (const h of hits) {
    const key = h.chunk.content_hash;
    let found = key ? verdicts.get(key) : undefined;
    if (!found) {
      found = hitFindings(h.chunk.text);
      if (key) {
        if (verdicts.size >= VERDICT_CACHE_MAX) verdicts.delete(verdicts.keys().next().value!);
        verdicts.set(key, found);
      }
    }
    findings.set(h.chunk.chunk_id, found);
  }
  return { findings, ms: performance.now() - t0 };
}
