import picomatch from 'picomatch';
import type { RagConfig } from './config.js';
import { UsageError } from './errors.js';
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
  const finalAcl = [...new Set((acl && acl.length ? acl : config.acl.default).map(validatePrincipal))].sort();
  return { acl: finalAcl, tenant: tenant ?? config.tenant.default };
}
