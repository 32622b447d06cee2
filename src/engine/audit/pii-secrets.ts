/**
 * Pattern detectors for personal data and credentials. Each pattern finds candidates; validators
 * (Luhn, mod-97, SSN ranges, entropy, placeholder checks, JWT header decoding) decide.
 */
import { isIPv4, isIPv6 } from 'node:net';
import type { RawMatch } from './raw-match.js';
import { matchAll } from './raw-match.js';
import { cardBrand, IBAN_LENGTHS, ibanValid, isPlaceholder, looksRandom, luhnValid, shannonEntropy, ssnValid } from './validators.js';

type Detector = (text: string) => RawMatch[];


// ---------- PII ----------

/** RFC 2606 / 6761 names reserved for documentation and testing: not anybody's address. */
function isDocumentationDomain(domain: string): boolean {
  const d = domain.toLowerCase();
  return /(^|\.)example\.(com|org|net)$/.test(d) || /\.(example|test|invalid|localhost)$/.test(d) || d === 'localhost';
}

const FILE_TLDS = new Set(['png', 'jpg', 'jpeg', 'gif', 'svg', 'webp', 'js', 'ts', 'css', 'map', 'json', 'md']);

const detectEmail: Detector = (text) => {
  const out: RawMatch[] = [];
  const re = /(?<![\w.%+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@([A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*\.([A-Za-z]{2,24}))(?![\w-])/g;
  for (const m of matchAll(re, text)) {
    const domain = m[1];
    const tld = m[2].toLowerCase();
    const local = m[0].slice(0, m[0].indexOf('@'));
    if (isDocumentationDomain(domain) || FILE_TLDS.has(tld)) continue;
    // scp-style git remotes (git@github.com:org/repo) and URL userinfo are not mail addresses
    if (text[m.index + m[0].length] === ':' || local.toLowerCase() === 'git') continue;
    if (/:\/\/[^\s]*$/.test(text.slice(Math.max(0, m.index - 200), m.index))) continue;
    out.push({ ruleId: 'email', start: m.index, end: m.index + m[0].length, score: 0.9 });
  }
  return out;
};

const DATE_LIKE = /\b(19|20)\d{2}[-./](0?[1-9]|1[0-2])[-./](0?[1-9]|[12]\d|3[01])\b|\b(0?[1-9]|[12]\d|3[01])[-./](0?[1-9]|1[0-2])[-./](19|20)\d{2}\b/;

const detectPhone: Detector = (text) => {
  const out: RawMatch[] = [];
  const push = (start: number, raw: string, score: number, minDigits: number, maxDigits: number) => {
    const trimmed = raw.replace(/[\s.\-/()]+$/, '');
    const digits = trimmed.replace(/\D/g, '');
    if (digits.length < minDigits || digits.length > maxDigits) return;
    if (DATE_LIKE.test(trimmed) || /\.\./.test(trimmed)) return;
    out.push({ ruleId: 'phone', start, end: start + trimmed.length, score });
  };
  // International: +CC followed by digit groups
  for (const m of matchAll(/(?<![\w+]|\d[ .\-])\+\d(?:[ .\-]?\(?\d{1,5}\)?){2,7}(?![\w]|[ .\-]\d)/g, text)) {
    push(m.index, m[0], 0.9, 8, 15);
  }
  // North American: (415) 555-0132, 415-555-0132, 415.555.0132, optional leading 1
  for (const m of matchAll(/(?<![\w.+\-/]|\d[ .\-])(?:1[ .\-])?(?:\(([2-9]\d{2})\)\s?|([2-9]\d{2})([ .\-]))[2-9]\d{2}([ .\-])\d{4}(?![\w\-]|[ .]\d)/g, text)) {
    if (m[3] !== undefined && m[3] !== m[4]) continue; // mixed separators: not a phone number
    if (text[m.index - 1] === '+') continue;
    push(m.index, m[0], 0.75, 10, 11);
  }
  // European national format with trunk 0: 020 7946 0958, 030 1234567, 06 12 34 56 78
  for (const m of matchAll(/(?<![\w.+\-/:]|\d[ .\-])0[1-9]\d{0,3}(?:[ /\-]\d{2,8}){1,4}(?![\w\-]|[ .]\d)/g, text)) {
    push(m.index, m[0], 0.6, 9, 12);
  }
  return out;
};

const detectCard: Detector = (text) => {
  const out: RawMatch[] = [];
  for (const m of matchAll(/(?<![\d\-.])\d(?:[ \-]?\d){12,18}(?![\d\-]|\.\d)/g, text)) {
    const digits = m[0].replace(/\D/g, '');
    if (!cardBrand(digits) || !luhnValid(digits)) continue;
    out.push({ ruleId: 'credit-card', start: m.index, end: m.index + m[0].length, score: 0.95 });
  }
  return out;
};

const detectIban: Detector = (text) => {
  const out: RawMatch[] = [];
  for (const m of matchAll(/\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b/g, text)) {
    const candidate = m[0];
    const want = IBAN_LENGTHS[candidate.slice(0, 2)];
    // The pattern may run into a following upper-case word; cut at the country's length.
    let len = 0;
    let cut = candidate.length;
    if (want !== undefined) {
      for (let i = 0; i < candidate.length; i++) {
        if (candidate[i] !== ' ') len++;
        if (len === want) {
          cut = i + 1;
          break;
        }
      }
    }
    const span = candidate.slice(0, cut);
    if (!ibanValid(span.replace(/ /g, ''))) continue;
    out.push({ ruleId: 'iban', start: m.index, end: m.index + span.length, score: 0.95 });
  }
  return out;
};

const SSN_CONTEXT = /\b(ssn|social security|soc\.? sec|sozialversicherung)\b/i;

const detectSsn: Detector = (text) => {
  const out: RawMatch[] = [];
  for (const m of matchAll(/(?<![\d\-.])(\d{3})([- ]?)(\d{2})\2(\d{4})(?![\d\-]|\.\d)/g, text)) {
    if (!ssnValid(m[1], m[3], m[4])) continue;
    const context = SSN_CONTEXT.test(text.slice(Math.max(0, m.index - 40), m.index));
    // Dashes are the SSN's own shape; spaced or bare nine digits need the word nearby.
    if (m[2] !== '-' && !context) continue;
    out.push({ ruleId: 'us-ssn', start: m.index, end: m.index + m[0].length, score: context ? 0.95 : 0.8 });
  }
  return out;
};

function ipv4Reserved(o: number[]): boolean {
  const [a, b, c] = o;
  return (
    a === 10 || a === 127 || a === 0 || a >= 224 ||
    (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254) ||
    (a === 100 && b >= 64 && b <= 127) ||
    (a === 192 && b === 0 && c === 2) || (a === 198 && b === 51 && c === 100) || (a === 203 && b === 0 && c === 113) ||
    (a === 198 && (b === 18 || b === 19))
  );
}

/** Public resolvers are infrastructure everyone types into configs, not data about a person. */
const WELL_KNOWN_PUBLIC = new Set(['8.8.8.8', '8.8.4.4', '1.1.1.1', '1.0.0.1', '9.9.9.9', '149.112.112.112', '208.67.222.222', '208.67.220.220']);
const VERSION_CONTEXT = /(?:\b(?:version|release|build|ver\.?|rev\.?|v)|§)\s*$/i;

const detectIp: Detector = (text) => {
  const out: RawMatch[] = [];
  for (const m of matchAll(/(?<![\w.\-])(?:\d{1,3}\.){3}\d{1,3}(?![\w\-]|\.\d)/g, text)) {
    const ip = m[0];
    if (!isIPv4(ip) || /(^|\.)0\d/.test(ip)) continue;
    if (VERSION_CONTEXT.test(text.slice(Math.max(0, m.index - 20), m.index))) continue;
    // 1.2.3.4 / 3.2.5.1: four single digits are section or version numbers far more often than hosts.
    if (/^\d\.\d\.\d\.\d$/.test(ip)) continue;
    if (WELL_KNOWN_PUBLIC.has(ip)) continue;
    const reserved = ipv4Reserved(ip.split('.').map(Number));
    out.push({ ruleId: reserved ? 'ipv4-private' : 'ipv4', start: m.index, end: m.index + ip.length, score: 0.8 });
  }
  for (const m of matchAll(/(?<![\w:.])(?:[0-9A-Fa-f]{1,4}:|:)(?::|[0-9A-Fa-f]{1,4}:){1,7}(?:[0-9A-Fa-f]{1,4}|:)?(?![\w:])/g, text)) {
    const ip = m[0];
    if (!isIPv6(ip)) continue;
    const groups = ip.split(':').filter(Boolean);
    if (groups.length < 3 && ip !== '::1') continue;
    const lower = ip.toLowerCase();
    const reserved = lower === '::1' || lower === '::' || /^fe[89ab]/.test(lower) || /^f[cd]/.test(lower) || lower.startsWith('2001:db8:') || lower.startsWith('::ffff:');
    out.push({ ruleId: reserved ? 'ipv6-private' : 'ipv6', start: m.index, end: m.index + ip.length, score: 0.8 });
  }
  return out;
};

// ---------- Secrets ----------

const detectPrivateKey: Detector = (text) => {
  const out: RawMatch[] = [];
  for (const m of matchAll(/-----BEGIN ((?:RSA|EC|DSA|OPENSSH|ENCRYPTED|PGP|SSH2 ENCRYPTED) )?PRIVATE KEY( BLOCK)?-----/g, text)) {
    const after = text.slice(m.index + m[0].length, m.index + m[0].length + 20000);
    const endMatch = /-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----/.exec(after);
    const body = endMatch ? after.slice(0, endMatch.index) : after.slice(0, 200);
    const base64Chars = (body.match(/[A-Za-z0-9+/=]/g) ?? []).length;
    const hasBody = endMatch !== null && base64Chars >= 40;
    const end = hasBody ? m.index + m[0].length + endMatch!.index + endMatch![0].length : m.index + m[0].length;
    // A header without a body is documentation ("the file begins with -----BEGIN …"), not a key.
    out.push({ ruleId: 'private-key', start: m.index, end, score: hasBody ? 0.99 : 0.3, severity: hasBody ? undefined : 'low' });
  }
  return out;
};

function tokenDetector(ruleId: string, re: RegExp, minEntropy = 3, score = 0.95): Detector {
  return (text) => {
    const out: RawMatch[] = [];
    for (const m of matchAll(re, text)) {
      const token = m[0];
      if (!looksRandom(token, minEntropy) || isPlaceholderToken(token)) continue;
      out.push({ ruleId, start: m.index, end: m.index + token.length, score });
    }
    return out;
  };
}

/** Provider tokens with an obvious mask in the random part (sk-XXXX…, ghp_xxxx…). */
function isPlaceholderToken(token: string): boolean {
  return /(x{6,}|X{6,}|\*{4,}|0{10,}|\.\.\.)/.test(token);
}

const detectAwsAccessKey = tokenDetector('aws-access-key', /\b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|AROA|APKA)[A-Z0-9]{16}\b/g, 2.5, 0.95);

const AWS_CONTEXT = /aws[\s_-]*secret|secret[\s_-]*access[\s_-]*key|aws.{0,30}secret|secret.{0,30}aws/i;

const detectAwsSecret: Detector = (text) => {
  const out: RawMatch[] = [];
  for (const m of matchAll(/(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])/g, text)) {
    const token = m[0];
    if (!/[a-z]/.test(token) || !/[A-Z]/.test(token) || !/\d/.test(token) || !looksRandom(token, 3.5)) continue;
    const before = text.slice(Math.max(0, m.index - 80), m.index);
    const nearbyKeyId = /\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/.test(text.slice(Math.max(0, m.index - 300), m.index + 340));
    if (!AWS_CONTEXT.test(before) && !nearbyKeyId) continue;
    out.push({ ruleId: 'aws-secret-key', start: m.index, end: m.index + 40, score: AWS_CONTEXT.test(before) ? 0.95 : 0.8 });
  }
  return out;
};

const detectGithub = tokenDetector('github-token', /\b(?:gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_[A-Za-z0-9_]{50,251})\b/g);
const detectSlack = tokenDetector('slack-token', /\bxox[abpr]-[A-Za-z0-9-]{10,250}\b/g);
const detectStripe = tokenDetector('stripe-key', /\b[sr]k_live_[A-Za-z0-9]{16,247}\b/g);
const detectGoogle = tokenDetector('google-api-key', /\bAIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])/g);
const detectOpenAi = tokenDetector('openai-key', /\bsk-(?!ant-)(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,200}(?![A-Za-z0-9_-])/g, 3.5);
const detectAnthropic = tokenDetector('anthropic-key', /\bsk-ant-[A-Za-z0-9_-]{32,200}(?![A-Za-z0-9_-])/g, 3.5);

function base64UrlJson(part: string): unknown {
  try {
    return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
}

const detectJwt: Detector = (text) => {
  const out: RawMatch[] = [];
  for (const m of matchAll(/\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}(?![A-Za-z0-9_-])/g, text)) {
    const header = base64UrlJson(m[0].split('.')[0]);
    if (!header || typeof header !== 'object' || typeof (header as { alg?: unknown }).alg !== 'string') continue;
    out.push({ ruleId: 'jwt', start: m.index, end: m.index + m[0].length, score: 0.95 });
  }
  return out;
};

const detectConnectionString: Detector = (text) => {
  const out: RawMatch[] = [];
  for (const m of matchAll(/\b[a-z][a-z0-9+.-]{1,20}:\/\/([^\s:/@<>]*):([^\s@/<>]+)@[^\s/?#"'<>]+[^\s"'<>]*/gi, text)) {
    const password = m[2];
    if (isPlaceholder(password) || /^\$/.test(password)) continue;
    out.push({ ruleId: 'connection-string', start: m.index, end: m.index + m[0].length, score: 0.9 });
  }
  return out;
};

const GENERIC_KEY = /(?<![A-Za-z0-9])(["']?)([A-Za-z0-9_.-]*?(?:api[_-]?key|apikey|api[_-]?secret|secret[_-]?key|client[_-]?secret|access[_-]?token|auth[_-]?token|private[_-]?token|secret|token))\1[ \t]*(?:[:=]|=>)[ \t]*(["']?)([A-Za-z0-9_\-./+=~]{16,})\3/gi;

const detectGenericKey: Detector = (text) => {
  const out: RawMatch[] = [];
  for (const m of matchAll(GENERIC_KEY, text)) {
    const value = m[4];
    if (isPlaceholder(value) || /^(https?:|\/|\.\/)/.test(value)) continue;
    if (!/\d/.test(value) || !/[A-Za-z]/.test(value) || !looksRandom(value, 3.2)) continue;
    const start = m.index + m[0].lastIndexOf(value);
    const entropy = shannonEntropy(value);
    out.push({ ruleId: 'generic-api-key', start, end: start + value.length, score: Math.min(0.95, 0.5 + (entropy - 3) * 0.25) });
  }
  return out;
};

const PASSWORD_KEY = /(?<![A-Za-z0-9])(["']?)((?:[A-Za-z0-9_.-]*[._-])?(?:password|passwd|passwort|passphrase|pwd)(?=["'\s:=])|[A-Za-z0-9_.-]*password[A-Za-z0-9_]*)\1[ \t]*(?:[:=]|=>)[ \t]*(?:(["'])([^"'\n]*)\3|([^\s,;'"}\])]+))([^\n]*)/gi;
const TYPE_NAMES = /^(string|str|int|integer|number|bool|boolean|bytes|secretstr|any|optional|none|null|char|text|varchar)\b/i;

const detectPassword: Detector = (text) => {
  const out: RawMatch[] = [];
  for (const m of matchAll(PASSWORD_KEY, text)) {
    if (/^[._-]*pwd$/i.test(m[2])) continue; // $PWD is the working directory
    const quoted = m[4] !== undefined;
    const value = quoted ? m[4] : m[5];
    const rest = m[6] ?? '';
    if (!value || value.length < 5 || isPlaceholder(value) || TYPE_NAMES.test(value)) continue;
    // Prose ("Password: must be at least 12 characters") continues with words after the value;
    // config lines end, start a comment, or carry on with another key=value.
    if (!quoted && rest.trim() && !/^\s*(#|\/\/|;|,|\}|&|\s[A-Za-z_][\w.-]*\s*[=:])/.test(rest)) continue;
    if (/[()[\]]/.test(value) || /^(process\.env|os\.environ|env\.|getenv|secrets\.|vault:)/i.test(value) || /^\//.test(value)) continue;
    const start = m.index + m[0].indexOf(value, m[0].search(/[:=]/));
    out.push({ ruleId: 'password', start, end: start + value.length, score: 0.8 });
  }
  return out;
};

export const PII_SECRET_DETECTORS: Detector[] = [
  detectEmail, detectPhone, detectCard, detectIban, detectSsn, detectIp,
  detectPrivateKey, detectAwsAccessKey, detectAwsSecret, detectGithub, detectSlack, detectStripe,
  detectGoogle, detectOpenAi, detectAnthropic, detectJwt, detectConnectionString, detectGenericKey, detectPassword,
];

export function detectPiiAndSecrets(text: string): RawMatch[] {
  return PII_SECRET_DETECTORS.flatMap((d) => d(text));
}
