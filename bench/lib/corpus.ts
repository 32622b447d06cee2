/** A generated Markdown corpus for the incremental-update benchmark (deterministic for a seed). */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { rng } from './ann.js';

const WORDS = (
  'account admin alert archive backup billing branch cache certificate cluster config cost credential dashboard ' +
  'database deploy disk domain export failover firewall gateway incident invoice key latency ledger limit log ' +
  'metric migration mirror monitor network node notify owner partition password payment permission pipeline ' +
  'policy quota queue region release replica report restore retention role rotate schedule schema secret ' +
  'service session shard snapshot storage subscription tenant ticket token trace upgrade user vault webhook'
).split(' ');

function sentence(r: () => number): string {
  const n = 8 + Math.floor(r() * 10);
  const words = Array.from({ length: n }, () => WORDS[Math.floor(r() * WORDS.length)]!);
  words[0] = words[0]!.charAt(0).toUpperCase() + words[0]!.slice(1);
  return `${words.join(' ')}.`;
}

function paragraph(r: () => number, sentences = 6): string {
  return Array.from({ length: sentences }, () => sentence(r)).join(' ');
}

export const docPath = (i: number) => `team-${i % 50}/doc-${String(i).padStart(5, '0')}.md`;

/** n documents of three sections each (about three chunks at the default chunk size). */
export function generateCorpus(dir: string, n: number, seed: number): void {
  const r = rng(seed);
  for (let i = 0; i < n; i++) {
    const file = path.join(dir, docPath(i));
    mkdirSync(path.dirname(file), { recursive: true });
    const body = [`# Runbook ${i}`, '', paragraph(r), '', '## Procedure', '', paragraph(r), '', paragraph(r), '', '## Rollback', '', paragraph(r), ''];
    writeFileSync(file, body.join('\n'));
  }
}

/** Rewrites the "Procedure" section of document i; returns its doc id (its path relative to the ingest root's parent). */
export function editOne(dir: string, i: number): string {
  const rel = docPath(i);
  const file = path.join(dir, rel);
  const text = readFileSync(file, 'utf8');
  const r = rng(999);
  const edited = text.replace(/## Procedure\n\n[^\n]+/, `## Procedure\n\n${paragraph(r)}`);
  if (edited === text) throw new Error(`could not edit ${file}`);
  writeFileSync(file, edited);
  return `${path.basename(dir)}/${rel}`;
}
