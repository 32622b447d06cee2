/**
 * Redaction: what a report may show of a matched value. Secrets and PII keep a short prefix and
 * suffix plus their length, never enough to reuse; injection and hidden text is not secret, so it is
 * shown (shortened) with invisible characters made visible.
 */

const INVISIBLE = /[\u200B-\u200D\u2060\uFEFF\u00AD]/g;
const TAGS = /[\u{E0000}-\u{E007F}]+/gu;

/** Make zero-width and tag characters visible: `<U+200B>`, and tag runs as their decoded text. */
export function showInvisible(s: string): string {
  return s
    .replace(TAGS, (run) => `⟦tags:"${decodeTags(run)}"⟧`)
    .replace(INVISIBLE, (ch) => `<U+${ch.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}>`);
}

/** Unicode tag characters mirror ASCII at U+E0000 + code; U+E007F is the cancel tag. */
export function decodeTags(run: string): string {
  let out = '';
  for (const ch of run) {
    const cp = ch.codePointAt(0)! - 0xe0000;
    if (cp >= 0x20 && cp < 0x7f) out += String.fromCharCode(cp);
  }
  return out;
}

/** Keep at most about a quarter of the value: up to 4 leading and 2 trailing characters. */
export function maskMiddle(value: string, unit = 'chars'): string {
  const n = [...value].length;
  const chars = [...value];
  const pre = Math.min(4, Math.floor(n / 6));
  const suf = Math.min(2, Math.floor(n / 10));
  const head = chars.slice(0, pre).join('');
  const tail = suf > 0 ? chars.slice(n - suf).join('') : '';
  return `${head}…${tail} (${n} ${unit})`;
}

function redactEmail(v: string): string {
  const at = v.lastIndexOf('@');
  if (at <= 0) return maskMiddle(v);
  return `${v[0]}***${v.slice(at)}`;
}

function redactCard(v: string): string {
  const digits = v.replace(/\D/g, '');
  return `${digits.slice(0, 4)}…${digits.slice(-4)} (${digits.length} digits)`;
}

function redactConnection(v: string): string {
  return v.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:)([^@\s]+)(@.*)$/i, (_m, pre: string, pw: string, post: string) => {
    return `${pre}${'*'.repeat(Math.min(8, Math.max(4, pw.length)))}${post}`;
  });
}

function truncate(s: string, max: number): string {
  const chars = [...s];
  return chars.length <= max ? s : `${chars.slice(0, max - 1).join('')}…`;
}

/**
 * Redacted form of a matched value. With a ruleId the form suits the kind of value
 * (`j***@corp.com`, `***-**-1874`, `4111…1111 (16 digits)`); without one, the generic mask.
 */
export function redact(matched: string, ruleId?: string): string {
  switch (ruleId) {
    case 'email':
      return redactEmail(matched);
    case 'credit-card':
      return redactCard(matched);
    case 'iban': {
      const compact = matched.replace(/\s/g, '');
      return `${compact.slice(0, 4)}…${compact.slice(-2)} (${compact.length} chars)`;
    }
    case 'us-ssn':
      return `***-**-${matched.replace(/\D/g, '').slice(-4)}`;
    case 'phone': {
      const digits = matched.replace(/\D/g, '');
      return `${matched.startsWith('+') ? '+' : ''}${digits.slice(0, 2)}…${digits.slice(-2)} (${digits.length} digits)`;
    }
    case 'ipv4':
    case 'ipv4-private': {
      const parts = matched.split('.');
      return `${parts[0]}.${parts[1]}.x.x`;
    }
    case 'ipv6':
    case 'ipv6-private': {
      const parts = matched.split(':');
      return `${parts.slice(0, 2).join(':')}:…`;
    }
    case 'private-key': {
      const header = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----/.exec(matched)?.[0] ?? '-----BEGIN PRIVATE KEY-----';
      return `${header}… (${matched.length} chars)`;
    }
    case 'connection-string':
      return truncate(redactConnection(matched), 80);
    case 'ignore-instructions':
    case 'role-override':
    case 'chat-template':
    case 'prompt-leak':
    case 'exfiltration':
    case 'markdown-image-exfil':
    case 'agent-directive':
    case 'forced-output':
    case 'rot13-instruction':
    case 'homoglyph':
    case 'zero-width':
    case 'unicode-tags':
    case 'html-comment':
    case 'hidden-css':
    case 'base64-instruction':
      return truncate(showInvisible(matched).replace(/\s+/g, ' '), 100);
    default:
      return maskMiddle(matched);
  }
}
