/**
 * Suppressions: reviewed false positives, listed by finding hash in a JSON or YAML file, so a
 * re-run of the audit stays quiet about them while anything new still surfaces.
 *
 *   suppressions:
 *     - hash: 9c0f…            # full sha256 from the report, or a unique prefix of ≥ 12 hex digits
 *       rule: email            # optional; when given it must equal the finding's rule
 *       reason: test fixture address
 *       reviewer: alice
 *       expires: 2026-01-31    # optional; the suppression stops applying after this date
 *
 * A bare top-level list is accepted too, and JSON with the same shape.
 */
import { readFileSync } from 'node:fs';
import { isMap, isSeq, LineCounter, parseDocument } from 'yaml';
import { InputError, errorMessage } from '../errors.js';
import type { Finding } from './content-scan.js';
import { hasRule } from './rules.js';

export interface Suppression {
  /** Lower-case hex: a full sha256 or a prefix of at least 12 digits. */
  hash: string;
  rule?: string;
  reason?: string;
  reviewer?: string;
  /** ISO date (YYYY-MM-DD); the suppression applies up to and including this day. */
  expires?: string;
  /** Where it was declared, for reports. */
  source?: { file: string; line?: number };
}

export interface SuppressionResult {
  kept: Finding[];
  suppressed: Array<{ finding: Finding; suppression: Suppression }>;
  /** Entries that matched nothing in this run (candidates for cleanup) — expired ones included. */
  unused: Suppression[];
}

const KNOWN_KEYS = new Set(['hash', 'rule', 'reason', 'reviewer', 'expires']);
const FIX = 'each entry needs `hash:` (the finding hash from the audit report); optional rule, reason, reviewer, expires (YYYY-MM-DD)';

/** Parse suppression file content; `file` names the source in errors. */
export function parseSuppressions(content: string, file: string): Suppression[] {
  const lc = new LineCounter();
  const doc = parseDocument(content, { lineCounter: lc });
  if (doc.errors.length) {
    const err = doc.errors[0];
    const line = err.linePos?.[0]?.line;
    throw new InputError(file, line, `not valid YAML/JSON: ${err.message.split('\n')[0]}`, FIX);
  }
  const lineOf = (node: unknown): number | undefined => {
    const range = (node as { range?: [number, number, number] } | null)?.range;
    return range ? lc.linePos(range[0]).line : undefined;
  };
  const root = doc.contents;
  if (root === null || root === undefined) return [];
  let list: unknown = root;
  if (isMap(root)) {
    for (const pair of root.items) {
      const key = String((pair.key as { value?: unknown })?.value ?? pair.key);
      if (key !== 'suppressions') throw new InputError(file, lineOf(pair.key), `unknown top-level key "${key}"`, 'the file holds a `suppressions:` list');
    }
    list = root.get('suppressions', true);
    if (list === undefined || list === null) return [];
  }
  if (!isSeq(list)) throw new InputError(file, lineOf(list), 'expected a list of suppressions', FIX);

  const out: Suppression[] = [];
  const seen = new Map<string, number | undefined>();
  for (const item of list.items) {
    const line = lineOf(item);
    if (!isMap(item)) throw new InputError(file, line, 'each suppression must be a mapping with a `hash:`', FIX);
    const entry: Record<string, unknown> = {};
    for (const pair of item.items) {
      const key = String((pair.key as { value?: unknown })?.value ?? pair.key);
      if (!KNOWN_KEYS.has(key)) throw new InputError(file, lineOf(pair.key) ?? line, `unknown key "${key}" in suppression`, FIX);
      entry[key] = (pair.value as { toJSON?: () => unknown } | null)?.toJSON?.() ?? (pair.value as { value?: unknown } | null)?.value ?? pair.value;
    }
    const hash = typeof entry.hash === 'string' ? entry.hash.trim().toLowerCase() : '';
    if (!/^[0-9a-f]{12,64}$/.test(hash)) {
      throw new InputError(file, line, `suppression hash ${JSON.stringify(entry.hash ?? null)} is not 12–64 hex digits`, FIX);
    }
    if (seen.has(hash)) throw new InputError(file, line, `duplicate suppression for hash ${hash} (first at line ${seen.get(hash)})`, 'keep one entry per hash');
    seen.set(hash, line);
    for (const key of ['rule', 'reason', 'reviewer'] as const) {
      if (entry[key] !== undefined && typeof entry[key] !== 'string') throw new InputError(file, line, `"${key}" must be a string`, FIX);
    }
    if (entry.rule !== undefined && !hasRule(entry.rule as string)) {
      throw new InputError(file, line, `unknown rule "${entry.rule as string}"`, 'use a ruleId from the audit report (e.g. email, aws-access-key, ignore-instructions)');
    }
    let expires: string | undefined;
    if (entry.expires !== undefined) {
      const raw = entry.expires instanceof Date ? entry.expires.toISOString().slice(0, 10) : String(entry.expires);
      if (!/^\d{4}-\d{2}-\d{2}$/.test(raw) || Number.isNaN(Date.parse(`${raw}T00:00:00Z`))) {
        throw new InputError(file, line, `"expires" must be a date YYYY-MM-DD, got ${JSON.stringify(raw)}`, FIX);
      }
      expires = raw;
    }
    out.push({
      hash,
      rule: entry.rule as string | undefined,
      reason: entry.reason as string | undefined,
      reviewer: entry.reviewer as string | undefined,
      expires,
      source: { file, line },
    });
  }
  return out;
}

export function loadSuppressions(path: string): Suppression[] {
  let content: string;
  try {
    content = readFileSync(path, 'utf8');
  } catch (err) {
    throw new InputError(path, undefined, `cannot read suppressions file: ${errorMessage(err)}`, 'check the --suppressions path');
  }
  return parseSuppressions(content, path);
}

function isExpired(s: Suppression, now: Date): boolean {
  return s.expires !== undefined && now.toISOString().slice(0, 10) > s.expires;
}

/** Split findings into kept and suppressed; a suppression matches by hash (or unique prefix) and rule. */
export function applySuppressions(findings: Finding[], suppressions: Suppression[], opts: { now?: Date } = {}): SuppressionResult {
  const now = opts.now ?? new Date();
  const active = suppressions.filter((s) => !isExpired(s, now));
  const used = new Set<Suppression>();
  const kept: Finding[] = [];
  const suppressed: SuppressionResult['suppressed'] = [];
  for (const f of findings) {
    const s = active.find((x) => f.hash.startsWith(x.hash) && (x.rule === undefined || x.rule === f.rule_id));
    if (s) {
      used.add(s);
      suppressed.push({ finding: f, suppression: s });
    } else {
      kept.push(f);
    }
  }
  return { kept, suppressed, unused: suppressions.filter((s) => !used.has(s)) };
}

