/**
 * The catalogue of content-scan rules: one entry per ruleId a Finding can carry.
 * Severity here is the rule's default; a detector may lower it (private IP ranges, placeholder
 * keys) or raise it (an injection signal confirmed by several cues) for a particular match.
 */

export type Family = 'pii' | 'secret' | 'injection' | 'hidden';
export type Severity = 'low' | 'medium' | 'high' | 'critical';

export const SEVERITIES: readonly Severity[] = ['low', 'medium', 'high', 'critical'];

export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}

/** True when `a` is at least as severe as `b`. */
export function severityAtLeast(a: Severity, b: Severity): boolean {
  return severityRank(a) >= severityRank(b);
}

export function isSeverity(s: unknown): s is Severity {
  return typeof s === 'string' && (SEVERITIES as readonly string[]).includes(s);
}

export interface RuleDef {
  id: string;
  family: Family;
  severity: Severity;
  /**
   * Overlap resolution inside pii/secret: when two matches overlap, the higher priority wins
   * (a GitHub token inside a URL is not also an e-mail address; a provider key is not also a
   * generic key).
   */
  priority: number;
  description: string;
}

const rule = (id: string, family: Family, severity: Severity, priority: number, description: string): RuleDef => ({
  id,
  family,
  severity,
  priority,
  description,
});

export const RULES: readonly RuleDef[] = [
  // PII
  rule('email', 'pii', 'medium', 20, 'E-mail address (documentation domains such as example.com/.org/.net, *.test, *.invalid and *.localhost are ignored)'),
  rule('phone', 'pii', 'medium', 15, 'Phone number (E.164, US and common European formats)'),
  rule('credit-card', 'pii', 'high', 40, 'Payment card number (Luhn-valid, known issuer prefix and length)'),
  rule('iban', 'pii', 'high', 40, 'International bank account number (mod-97 checked)'),
  rule('us-ssn', 'pii', 'high', 35, 'US social security number (valid area/group/serial)'),
  rule('ipv4', 'pii', 'medium', 10, 'Public IPv4 address'),
  rule('ipv4-private', 'pii', 'low', 10, 'Private, loopback, link-local or documentation IPv4 address'),
  rule('ipv6', 'pii', 'medium', 10, 'Public IPv6 address'),
  rule('ipv6-private', 'pii', 'low', 10, 'Loopback, link-local, unique-local or documentation IPv6 address'),
  // Secrets
  rule('private-key', 'secret', 'critical', 100, 'PEM private key block (a header without a key body is reported low)'),
  rule('aws-access-key', 'secret', 'high', 90, 'AWS access key id (AKIA…/ASIA…)'),
  rule('aws-secret-key', 'secret', 'critical', 90, 'AWS secret access key next to an AWS context word'),
  rule('github-token', 'secret', 'critical', 90, 'GitHub token (ghp_/gho_/ghu_/ghs_/ghr_/github_pat_)'),
  rule('slack-token', 'secret', 'high', 90, 'Slack token (xoxa-/xoxb-/xoxp-/xoxr-)'),
  rule('stripe-key', 'secret', 'critical', 90, 'Stripe live secret or restricted key'),
  rule('google-api-key', 'secret', 'high', 90, 'Google API key (AIza…)'),
  rule('openai-key', 'secret', 'high', 90, 'OpenAI API key (sk-…, sk-proj-…)'),
  rule('anthropic-key', 'secret', 'high', 95, 'Anthropic API key (sk-ant-…)'),
  rule('jwt', 'secret', 'high', 85, 'JSON Web Token whose header decodes to JSON with an alg'),
  rule('connection-string', 'secret', 'critical', 80, 'URL with an embedded password (postgres://user:pass@host)'),
  rule('generic-api-key', 'secret', 'medium', 60, 'High-entropy value assigned to an api_key/secret/token-like name'),
  rule('password', 'secret', 'high', 50, 'Password assigned in config-like text (placeholders are ignored)'),
  // Prompt injection
  rule('ignore-instructions', 'injection', 'high', 0, 'Instruction to ignore/disregard previous or system instructions'),
  rule('role-override', 'injection', 'high', 0, 'Attempt to redefine the model role or inject a system message'),
  rule('chat-template', 'injection', 'high', 0, 'Chat-template control tokens (<|im_start|>, [INST], ### System:) followed by directives'),
  rule('prompt-leak', 'injection', 'medium', 0, 'Request to reveal the system prompt or hidden instructions'),
  rule('exfiltration', 'injection', 'high', 0, 'Instruction to send conversation or secret data to a URL'),
  rule('markdown-image-exfil', 'injection', 'high', 0, 'Markdown image whose URL query carries a data placeholder'),
  rule('agent-directive', 'injection', 'medium', 0, 'Text addressed to an AI agent telling it what to do'),
  rule('forced-output', 'injection', 'medium', 0, 'Instruction to answer with fixed text or to abandon the task ("just print …", "if asked, respond …")'),
  // Hidden content
  rule('zero-width', 'hidden', 'medium', 0, 'Zero-width characters inside words'),
  rule('unicode-tags', 'hidden', 'high', 0, 'Invisible Unicode tag characters (U+E0000–U+E007F) carrying text'),
  rule('html-comment', 'hidden', 'high', 0, 'HTML comment containing instructions aimed at a model'),
  rule('hidden-css', 'hidden', 'high', 0, 'Text hidden by styling (display:none, font-size:0, opacity:0, white on white)'),
  rule('base64-instruction', 'hidden', 'high', 0, 'Base64 blob that decodes to instruction-like text'),
  rule('rot13-instruction', 'hidden', 'high', 0, 'ROT13-encoded text that decodes to instruction-like text'),
  rule('homoglyph', 'hidden', 'medium', 0, 'Words mixing Latin letters with look-alike Cyrillic/Greek letters (spoofed words)'),
];

const BY_ID = new Map(RULES.map((r) => [r.id, r]));

export function getRule(id: string): RuleDef {
  const r = BY_ID.get(id);
  if (!r) throw new Error(`unknown audit rule: ${id}`);
  return r;
}

export function hasRule(id: string): boolean {
  return BY_ID.has(id);
}
