import type { Severity } from './rules.js';

/** A detector's output before excerpts, hashes and suppressions are added. */
export interface RawMatch {
  ruleId: string;
  start: number;
  end: number;
  /** Confidence 0–1. */
  score: number;
  /** Overrides the rule's default severity for this match. */
  severity?: Severity;
  /** Text to show instead of the raw span (decoded tag characters or base64). */
  display?: string;
}
