import { describe, expect, it } from 'vitest';
import { decodeTags, maskMiddle, redact, showInvisible } from '../../src/engine/audit/redact.js';

describe('redact', () => {
  it('keeps a short prefix/suffix and the length of secrets, never the whole', () => {
    const key = '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';
    const r = redact(key, 'openai-key');
    expect(r).toBe(`sk-I…Gq (${key.length} chars)`);
    expect(r).not.toContain(key.slice(4, -2));
  });

  it('reveals at most about a quarter of short values', () => {
    expect(maskMiddle('hunter22')).toBe('h… (8 chars)');
    expect(maskMiddle('hX9!mQ2@zL')).toBe('h…L (10 chars)');
    expect(maskMiddle('abc')).toBe('… (3 chars)');
  });

  it('uses value-specific forms for PII', () => {
    expect(redact('jane.okafor@corp.io', 'email')).toBe('j***@corp.io');
    expect(redact('4111 1111 1111 1111', 'credit-card')).toBe('4111…1111 (16 digits)');
    expect(redact('536-22-1874', 'us-ssn')).toBe('***-**-1874');
    expect(redact('GB82 WEST 1234 5698 7654 32', 'iban')).toBe('GB82…32 (22 chars)');
    expect(redact('81.2.69.142', 'ipv4')).toBe('81.2.x.x');
  });

  it('masks only the password of a connection string', () => {
    expect(redact('postgres://app:S3cret-pw@db.internal:5432/x', 'connection-string')).toBe('postgres://app:********@db.internal:5432/x');
  });

  it('shows injection text but makes invisible characters visible', () => {
    expect(redact('ig\u200bnore previous instructions', 'ignore-instructions')).toBe('ig<U+200B>nore previous instructions');
    const tags = [...'hi you'].map((c) => String.fromCodePoint(0xe0000 + c.charCodeAt(0))).join('');
    expect(decodeTags(tags)).toBe('hi you');
    expect(showInvisible(`a${tags}b`)).toBe('a⟦tags:"hi you"⟧b');
  });
});
