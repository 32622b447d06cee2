/**
 * JUnit XML for gates, so CI systems (GitHub Actions, GitLab, Jenkins) show each gate rule as a
 * test case: one <testcase> per rule, a <failure> stating threshold, actual value and gap.
 */
import type { VerdictItem } from '../engine/evaluation/gate.js';

export type JUnitGateResult = VerdictItem;

export function escapeXml(text: string): string {
  return text
    // XML 1.0 forbids most control characters even when escaped.
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

export function junitXml(suiteName: string, results: readonly JUnitGateResult[]): string {
  const failures = results.filter((r) => !r.passed).length;
  const suite = escapeXml(suiteName);
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${suite}" tests="${results.length}" failures="${failures}" errors="0">`,
    `  <testsuite name="${suite}" tests="${results.length}" failures="${failures}" errors="0" skipped="0">`,
  ];
  for (const r of results) {
    const name = escapeXml(r.rule.source);
    const message = escapeXml(r.message);
    if (r.passed) {
      lines.push(`    <testcase classname="${suite}" name="${name}">`);
      lines.push(`      <system-out>${message}</system-out>`);
      lines.push('    </testcase>');
    } else {
      lines.push(`    <testcase classname="${suite}" name="${name}">`);
      lines.push(`      <failure message="${message}" type="GateFailure">${message}</failure>`);
      lines.push('    </testcase>');
    }
  }
  lines.push('  </testsuite>', '</testsuites>');
  return lines.join('\n') + '\n';
}
