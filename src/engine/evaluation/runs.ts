/**
 * The run history: every `rag eval` artifact under a folder, summarised from its own files
 * (manifest.json, metrics.json, timings.json, gate.json or junit.xml). A folder that is not a
 * readable artifact is reported and skipped; the listing goes on.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { errorMessage } from '../errors.js';
import { normaliseArtifactFile } from './artifact-keys.js';

export interface RunSummary {
  /** Absolute path of the artifact directory. */
  dir: string;
  created_at: string | null;
  golden_hash: string;
  golden_source: string;
  queries: number;
  index: string;
  mode: string;
  rerank: string | null;
  model: string | null;
  mean: Record<string, number>;
  /** Per-query latency percentiles (ms), when timings.json is there. */
  latency: { p50_ms: number; p95_ms: number; p99_ms: number } | null;
  /** null: run without a gate. */
  gate: { passed: boolean; rules: string[] } | null;
}

export interface RunListing {
  root: string;
  runs: RunSummary[];
  skipped: Array<{ dir: string; reason: string }>;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

function readJson(file: string): Obj {
  const v = normaliseArtifactFile(path.basename(file), JSON.parse(readFileSync(file, 'utf8')));
  if (!isObj(v)) throw new Error(`${path.basename(file)} is not a JSON object`);
  return v;
}

function gateOf(dir: string): RunSummary['gate'] {
  const gateFile = path.join(dir, 'gate.json');
  if (existsSync(gateFile)) {
    const g = readJson(gateFile);
    const rules = Array.isArray(g.rules) ? g.rules.map((r) => (isObj(r) ? String(r.rule) : String(r))) : [];
    return { passed: g.passed === true, rules };
  }
  // Artifacts written before gate.json existed: the JUnit file says how many rules failed.
  const junit = path.join(dir, 'junit.xml');
  if (existsSync(junit)) {
    const failures = /failures="(\d+)"/.exec(readFileSync(junit, 'utf8'))?.[1];
    return { passed: failures === '0', rules: [] };
  }
  return null;
}

function summarise(dir: string): RunSummary {
  const metrics = readJson(path.join(dir, 'metrics.json'));
  const manifestFile = path.join(dir, 'manifest.json');
  const manifest = existsSync(manifestFile) ? readJson(manifestFile) : {};
  const golden = isObj(manifest.golden) ? manifest.golden : isObj(metrics.golden) ? metrics.golden : {};
  if (typeof golden.hash !== 'string') throw new Error('metrics.json names no golden set hash');
  const retrieval = isObj(metrics.retrieval) ? metrics.retrieval : {};
  const index = isObj(metrics.index) ? metrics.index : {};
  const model = isObj(index.model) ? index.model : null;
  const mean: Record<string, number> = {};
  if (isObj(metrics.mean)) for (const [k, v] of Object.entries(metrics.mean)) if (typeof v === 'number') mean[k] = v;
  let latency: RunSummary['latency'] = null;
  const timingsFile = path.join(dir, 'timings.json');
  if (existsSync(timingsFile)) {
    const stages = readJson(timingsFile).per_stage_ms;
    const total = isObj(stages) && isObj(stages.total_ms) ? stages.total_ms : null;
    if (total && typeof total.p95 === 'number') latency = { p50_ms: Number(total.p50), p95_ms: total.p95, p99_ms: Number(total.p99) };
  }
  return {
    dir,
    created_at: typeof manifest.created_at === 'string' ? manifest.created_at : null,
    golden_hash: golden.hash,
    golden_source: typeof golden.source === 'string' ? golden.source : '—',
    queries: typeof metrics.queries === 'number' ? metrics.queries : Number(golden.queries ?? 0),
    index: typeof index.name === 'string' ? index.name : '—',
    mode: typeof retrieval.mode === 'string' ? retrieval.mode : '—',
    rerank: typeof retrieval.rerank === 'string' ? retrieval.rerank : null,
    model: model && typeof model.id === 'string' ? model.id : null,
    mean,
    latency,
    gate: gateOf(dir),
  };
}

const TEMP = /\.(tmp|old)-\d+/;

/** Every artifact under `root` (it may be one itself), oldest first. */
export function listRuns(root: string, maxDepth = 4): RunListing {
  const runs: RunSummary[] = [];
  const skipped: RunListing['skipped'] = [];
  const walk = (dir: string, depth: number) => {
    if (existsSync(path.join(dir, 'metrics.json'))) {
      try {
        runs.push(summarise(dir));
      } catch (err) {
        skipped.push({ dir, reason: errorMessage(err) });
      }
      return;
    }
    if (depth >= maxDepth) return;
    let entries: string[];
    try {
      entries = readdirSync(dir).sort();
    } catch {
      return;
    }
    for (const name of entries) {
      // Temp and replaced directories of an atomic write in progress, LanceDB tables and hidden folders.
      if (TEMP.test(name) || name.endsWith('.lance') || name.startsWith('.')) continue;
      const sub = path.join(dir, name);
      if (statSync(sub, { throwIfNoEntry: false })?.isDirectory()) walk(sub, depth + 1);
    }
  };
  const abs = path.resolve(root);
  walk(abs, 0);
  runs.sort((a, b) => (a.created_at ?? '').localeCompare(b.created_at ?? '') || a.dir.localeCompare(b.dir));
  return { root: abs, runs, skipped };
}

/** A metric of a run: a mean metric, or a latency key (p50_ms, p95_ms, p99_ms). */
export function runValue(run: RunSummary, metric: string): number | undefined {
  if (run.mean[metric] !== undefined) return run.mean[metric];
  if (run.latency && metric in run.latency) return run.latency[metric as keyof NonNullable<RunSummary['latency']>];
  return undefined;
}
