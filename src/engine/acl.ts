import picomatch from 'picomatch';
import type { RagConfig } from './config.js';
import { InputError, UsageError } from './errors.js';
import { sqlString, sqlStringList } from './sql.js';
import type { Caller } from './types.js';

export const PUBLIC = 'public';
const PRINCIPAL_RE = /^(public|(user|group|role|service):[^\s,']+)$/;

export function validatePrincipal(p: string): string {
  if (!PRINCIPAL_RE.test(p)) {
    throw new UsageError(`invalid principal "${p}"`, 'use public, user:NAME, group:NAME, role:NAME or service:NAME');
  }
  return p;
}

/**
 * An ACL a source gave that cannot be used: empty, unparsable, or naming an invalid principal.
 * The document is not ingested and any stored version of it is withdrawn (see `ingest`), so a
 * broken ACL can never leave a document readable by more people than its author meant.
 */
export class AclInputError extends InputError {}

const ACL_FIX = 'list who may see it, e.g. `acl: [group:hr, user:alice]` or `acl: public`; remove the key to use the configured default';

/**
 * Reads an ACL value given by a source (front matter `acl:`, a JSONL record's ACL field). A
 * present-but-empty value (`[]`, `""`, null) is refused rather than treated as absent: falling
 * back to the default would silently make a document meant for nobody visible to everyone. A
 * single string holding several principals ("group:hr, user:x") is refused too, not guessed at.
 */
export function parseAclValue(v: unknown): { acl: string[] } | { error: string; fix: string } {
  const items = Array.isArray(v) ? v : [v];
  if (v === null || (typeof v === 'string' && v.trim() === '') || items.length === 0) {
    return { error: `empty ACL (${JSON.stringify(v)}): refused, an empty ACL never falls back to the default`, fix: ACL_FIX };
  }
  const acl: string[] = [];
  for (const item of items) {
    if (typeof item !== 'string') return { error: `ACL must be a principal string or a list of them, got ${JSON.stringify(v)}`, fix: ACL_FIX };
    const p = item.trim();
    if (PRINCIPAL_RE.test(p)) {
      acl.push(p);
      continue;
    }
    if (/[\s,]/.test(p) && p.split(/[\s,]+/).filter(Boolean).every((x) => PRINCIPAL_RE.test(x))) {
      return { error: `one string holds several principals (${JSON.stringify(p)})`, fix: `write them as a list: [${p.split(/[\s,]+/).filter(Boolean).join(', ')}]` };
    }
    return { error: `invalid principal ${JSON.stringify(p)}`, fix: 'use public, user:NAME, group:NAME, role:NAME or service:NAME' };
  }
  return { acl };
}

/**
 * Reads an ACL from a spreadsheet cell, where several principals share one cell ("group:hr,
 * user:alice" or space-separated). The same policy as `parseAclValue`: blank or an invalid
 * principal is refused, never the configured default.
 */
export function parseAclCell(text: string): { acl: string[] } | { error: string; fix: string } {
  const principals = text.split(/[\s,;]+/).filter(Boolean);
  if (principals.length === 0) {
    return { error: 'is empty: refused, an empty ACL never falls back to the default', fix: 'list who may see the row, e.g. "group:hr, user:alice" or "public"' };
  }
  const bad = principals.find((p) => !PRINCIPAL_RE.test(p));
  if (bad !== undefined) return { error: `holds "${bad}", which is not a principal`, fix: 'use public, user:NAME, group:NAME, role:NAME or service:NAME' };
  return { acl: principals };
}

/**
 * Builds the caller from flags or a config profile. Everyone holds `public`; the tenant defaults
 * to the configured default tenant, so a caller never sees another tenant by omission.
 */
export function resolveCaller(
  config: RagConfig,
  opts: { as?: string[]; tenant?: string; profile?: string },
): Caller {
  let principals: string[] = [];
  let tenant: string | undefined;
  if (opts.profile) {
    const prof = config.profiles[opts.profile];
    if (!prof) {
      const known = Object.keys(config.profiles);
      throw new UsageError(
        `unknown profile "${opts.profile}"`,
        known.length ? `use one of: ${known.join(', ')}` : 'define it under "profiles" in rag.config.json',
      );
    }
    principals.push(...prof.as);
    tenant = prof.tenant;
  }
  for (const p of opts.as ?? []) principals.push(validatePrincipal(p));
  if (opts.tenant) tenant = opts.tenant;
  principals = [...new Set([PUBLIC, ...principals])].sort();
  return { principals, tenant: tenant ?? config.tenant.default };
}

/**
 * The one ACL pre-filter. Every search path (BM25, vector, audit probes, eval, label) passes this
 * clause to LanceDB as a pre-filter, so invisible chunks are never scored, ranked or returned.
 */
export function aclWhere(caller: Caller): string {
  if (caller.principals.length === 0) return 'false';
  return `(array_has_any(acl, ${sqlStringList(caller.principals)}) AND tenant = ${sqlString(caller.tenant)})`;
}

/** Same rule in TypeScript, for defence in depth on results and for audit invariant checks. */
export function isVisible(chunk: { acl: readonly string[]; tenant: string }, caller: Caller): boolean {
  return chunk.tenant === caller.tenant && chunk.acl.some((p) => caller.principals.includes(p));
}

/** ACL and tenant of a file: its own (front matter / record field) first, then config rules, then defaults. */
export function aclForSource(
  config: RagConfig,
  relPath: string,
  own: { acl?: string[]; tenant?: string },
): { acl: string[]; tenant: string } {
  let acl = own.acl;
  let tenant = own.tenant;
  for (const rule of config.acl.rules) {
    if (acl && tenant) break;
    if (picomatch(rule.match, { dot: true })(relPath)) {
      if (!acl && rule.acl) acl = rule.acl;
      if (!tenant && rule.tenant) tenant = rule.tenant;
    }
  }
  // A source's own ACL is checked here too (connectors check it first, with a line number), so a
  // connector that forgets cannot widen access: only an absent ACL takes the default.
  const chosen = acl ?? config.acl.default;
  const parsed = parseAclValue(chosen);
  if ('error' in parsed) throw new AclInputError(relPath, undefined, `${parsed.error}; ${parsed.fix}`, parsed.fix);
  return { acl: [...new Set(parsed.acl)].sort(), tenant: tenant ?? config.tenant.default };
}
