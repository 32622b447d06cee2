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

/** Every match of a global regex, safe against empty matches (which would loop forever). */
export function* matchAll(re: RegExp, text: string): Generator<RegExpExecArray> {
  re.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    yield m;
    if (m[0].length === 0) re.lastIndex++;
  }
}
