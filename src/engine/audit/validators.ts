/** Checksums and value heuristics shared by the PII and secret detectors. */

export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return digits.length > 0 && sum % 10 === 0;
}

/** Issuer prefix + length table; 13-digit legacy Visa is left out (EAN-13 barcodes collide). */
export function cardBrand(digits: string): string | undefined {
  const n = digits.length;
  const p2 = Number(digits.slice(0, 2));
  const p3 = Number(digits.slice(0, 3));
  const p4 = Number(digits.slice(0, 4));
  if (digits[0] === '4' && (n === 16 || n === 19)) return 'visa';
  if (((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720)) && n === 16) return 'mastercard';
  if ((p2 === 34 || p2 === 37) && n === 15) return 'amex';
  if ((p4 === 6011 || p2 === 65 || (p3 >= 644 && p3 <= 649)) && n >= 16 && n <= 19) return 'discover';
  if (p4 >= 3528 && p4 <= 3589 && n >= 16 && n <= 19) return 'jcb';
  if (((p3 >= 300 && p3 <= 305) || p2 === 36 || p2 === 38 || p2 === 39) && n >= 14 && n <= 19) return 'diners';
  if (p2 === 62 && n >= 16 && n <= 19) return 'unionpay';
  return undefined;
}

/** IBAN lengths by country for the countries most likely to appear; others accept 15–34. */
export const IBAN_LENGTHS: Record<string, number> = {
  AD: 24, AT: 20, BE: 16, BG: 22, CH: 21, CY: 28, CZ: 24, DE: 22, DK: 18, EE: 20, ES: 24, FI: 18,
  FR: 27, GB: 22, GR: 27, HR: 21, HU: 28, IE: 22, IS: 26, IT: 27, LI: 21, LT: 20, LU: 20, LV: 21,
  MC: 27, MT: 31, NL: 18, NO: 15, PL: 28, PT: 25, RO: 24, SE: 24, SI: 19, SK: 24, SM: 27, TR: 26,
};

export function ibanValid(compact: string): boolean {
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/.test(compact)) return false;
  const expected = IBAN_LENGTHS[compact.slice(0, 2)];
  if (expected !== undefined && compact.length !== expected) return false;
  const rearranged = compact.slice(4) + compact.slice(0, 4);
  let rem = 0;
  for (const ch of rearranged) {
    const v = ch >= 'A' ? String(ch.charCodeAt(0) - 55) : ch;
    for (const d of v) rem = (rem * 10 + (d.charCodeAt(0) - 48)) % 97;
  }
  return rem === 1;
}

export function ssnValid(area: string, group: string, serial: string): boolean {
  const a = Number(area);
  return a !== 0 && a !== 666 && a < 900 && group !== '00' && serial !== '0000';
}

/** Shannon entropy in bits per character. */
export function shannonEntropy(s: string): number {
  if (!s) return 0;
  const counts = new Map<string, number>();
  for (const ch of s) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let h = 0;
  for (const c of counts.values()) {
    const p = c / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}

const PLACEHOLDER_WORDS = new Set([
  'changeme', 'change_me', 'change-me', 'password', 'passw0rd', 'secret', 'example', 'sample', 'dummy',
  'test', 'testing', 'placeholder', 'redacted', 'none', 'null', 'nil', 'undefined', 'true', 'false',
  'yes', 'no', 'empty', 'todo', 'tbd', 'foo', 'bar', 'foobar', 'pass', 'mypassword', 'yourpassword',
  'your_password', 'your-password', 'secretpassword', 'hunter2', 'string', 'str', 'number', 'int',
  'bool', 'boolean', 'any', 'optional', 'required', 'value', 'xxx', '...', '…',
]);

/**
 * Values that stand in for a secret rather than being one: templating (`${VAR}`, `{{ x }}`,
 * `<API_KEY>`, `%(pw)s`), masks (`****`, `xxxx`), well-known stand-ins (`changeme`, `your-key-here`).
 * `changeme` counts as a placeholder: the scan looks for leaked secrets, and a documented default is
 * not one (weak defaults are a configuration review item, not a content leak).
 */
export function isPlaceholder(value: string): boolean {
  const v = value.trim();
  if (!v) return true;
  const lower = v.toLowerCase();
  if (PLACEHOLDER_WORDS.has(lower)) return true;
  if (/^<[^>]*>$/.test(v) || /^\[[^\]]*\]$/.test(v) || /^\{[^}]*\}?$/.test(v)) return true;
  if (/^\$\{?[A-Za-z_]/.test(v) || /^\{\{/.test(v) || /^%\(?[\w]*\)?s$/.test(v) || /^%[A-Z_]+%$/.test(v)) return true;
  if (/^[*•·.x#?-]+$/i.test(v)) return true;
  const xs = (lower.match(/x/g) ?? []).length;
  if (v.length >= 8 && xs / v.length > 0.5) return true;
  if (/(^|[-_])(your|my)[-_]|[-_]here$|example|placeholder|redacted|changeme|dummy|<|>/.test(lower)) return true;
  return false;
}

/** Few distinct characters means a mask or a made-up filler, not a random secret. */
export function looksRandom(token: string, minEntropy = 3): boolean {
  return new Set(token).size >= 8 && shannonEntropy(token) >= minEntropy;
}
