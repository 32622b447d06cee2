/**
 * examples/ci/rag-eval.yml, run for real: its shell steps execute in order in a copy of a project
 * (the fixture docs and a golden set), with `npx rag` resolving to this build. GitHub itself is not
 * reachable here, so `gh` is a small script that keeps artifacts and comments in folders; the
 * `uses:` steps are played by the test (checkout = the copy, upload-artifact = a folder copy).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { BIN, FIXTURES, MODELS_DIR, ROOT, tempDir } from './helpers/cli.js';

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  env?: Record<string, string>;
  with?: Record<string, string>;
}

const workflow = parse(readFileSync(path.join(ROOT, 'examples/ci/rag-eval.yml'), 'utf8')) as {
  env: Record<string, string>;
  jobs: { eval: { steps: Step[] } };
};

/** The expressions the workflow uses, and nothing else: an unknown one fails the test. */
function expr(text: string, ctx: Record<string, string>): string {
  return text.replace(/\$\{\{\s*([^}]+?)\s*\}\}/g, (_m, e: string) => {
    if (!(e in ctx)) throw new Error(`the test does not know the expression ${e}`);
    return ctx[e]!;
  });
}

function condition(cond: string | undefined, event: string): boolean {
  if (cond === undefined || cond === 'always()') return true;
  const m = /^github\.event_name == '(\w+)'$/.exec(cond.trim());
  if (!m) throw new Error(`the test does not know the condition ${cond}`);
  return m[1] === event;
}

interface JobResult {
  failedStep?: string;
  exit: number;
  log: string;
}

function setupWorld(): { bin: string; world: string } {
  const world = tempDir('rag-ci-world-');
  const bin = path.join(world, 'bin');
  mkdirSync(bin);
  writeFileSync(path.join(bin, 'npx'), `#!/bin/sh\n[ "$1" = rag ] && shift && exec "${process.execPath}" "${BIN}" "$@"\necho "npx: only rag here" >&2; exit 127\n`, { mode: 0o755 });
  writeFileSync(path.join(bin, 'npm'), `#!/bin/sh\n[ "$1" = ci ] && exit 0\necho "npm: only ci here" >&2; exit 127\n`, { mode: 0o755 });
  // gh: artifacts under $WORLD/artifacts/<run id>/<name>/, comments under $WORLD/comments/<pr>.md.
  writeFileSync(
    path.join(bin, 'gh'),
    `#!/bin/bash
echo "gh $*" >> "$WORLD/gh.log"
case "$1 $2" in
  "run list") ls "$WORLD/artifacts" 2>/dev/null | sort -n | tail -1 ;;
  "run download") id="$3"; shift 3
    while [ $# -gt 0 ]; do case "$1" in --name) name="$2"; shift 2;; --dir) dir="$2"; shift 2;; *) shift;; esac; done
    mkdir -p "$dir" && cp -r "$WORLD/artifacts/$id/$name/." "$dir/" ;;
  "pr comment") pr="$3"; shift 3
    while [ $# -gt 0 ]; do case "$1" in --body-file) body="$2"; shift 2;; *) shift;; esac; done
    mkdir -p "$WORLD/comments" && cp "$body" "$WORLD/comments/$pr.md" ;;
  *) echo "gh: unexpected $*" >&2; exit 1 ;;
esac
`,
    { mode: 0o755 },
  );
  return { bin, world };
}

/** A checkout of the project: the fixture docs, and a golden set judged on them. */
function checkout(world: string, name: string, edit?: (dir: string) => void): string {
  const dir = path.join(world, name);
  cpSync(path.join(FIXTURES, 'docs'), path.join(dir, 'docs'), { recursive: true });
  mkdirSync(path.join(dir, 'goldens'));
  const lines = readFileSync(path.join(ROOT, 'goldens/fixtures.jsonl'), 'utf8').trim().split('\n');
  const golden: string[] = [];
  for (const l of lines) {
    const q = JSON.parse(l) as { judgments: Record<string, number>; tenant?: string };
    if (q.tenant) continue; // the project has one tenant
    const j = Object.fromEntries(Object.entries(q.judgments).filter(([k]) => k.startsWith('fixtures/docs/')).map(([k, v]) => [k.slice('fixtures/'.length), v]));
    if (Object.keys(j).length) golden.push(JSON.stringify({ ...q, judgments: j }));
  }
  writeFileSync(path.join(dir, 'goldens/support.jsonl'), `${golden.join('\n')}\n`);
  edit?.(dir);
  return dir;
}

function runJob(world: string, bin: string, dir: string, event: 'push' | 'pull_request', runId: string): JobResult {
  const ctx = { 'github.workspace': dir, 'github.token': 'test-token', 'github.event.pull_request.number': '42' };
  const env: NodeJS.ProcessEnv = { ...process.env, WORLD: world, PATH: `${bin}:${process.env.PATH}`, GITHUB_EVENT_NAME: event, GITHUB_BASE_REF: event === 'pull_request' ? 'main' : '', NO_COLOR: '1' };
  for (const [k, v] of Object.entries(workflow.env)) env[k] = expr(String(v), ctx);
  env.RAG_MODELS_DIR = MODELS_DIR; // the models this machine has (the workflow caches its own)
  let log = '';
  for (const step of workflow.jobs.eval.steps) {
    if (!condition(step.if, event)) continue;
    if (step.uses) {
      if (step.uses.startsWith('actions/upload-artifact')) {
        const src = path.join(dir, step.with!.path!);
        if (existsSync(src)) cpSync(src, path.join(world, 'artifacts', runId, step.with!.name!), { recursive: true });
      }
      continue; // checkout, setup-node, cache: the test's copy and this Node already are that
    }
    const stepEnv = { ...env, ...Object.fromEntries(Object.entries(step.env ?? {}).map(([k, v]) => [k, expr(String(v), ctx)])) };
    const r = spawnSync('bash', ['-e', '-c', step.run!], { cwd: dir, env: stepEnv, encoding: 'utf8', timeout: 600_000 });
    log += `--- ${step.name}\n${r.stdout}${r.stderr}`;
    if (r.status !== 0) return { failedStep: step.name, exit: r.status ?? -1, log };
  }
  return { exit: 0, log };
}

describe('examples/ci/rag-eval.yml', () => {
  it('main keeps an artifact; a PR is gated against it and gets a comment; a regressing PR fails', () => {
    const { bin, world } = setupWorld();
    try {
      const main = runJob(world, bin, checkout(world, 'main'), 'push', '100');
      expect(main.failedStep, main.log).toBeUndefined();
      expect(existsSync(path.join(world, 'artifacts/100/rag-eval/metrics.json'))).toBe(true);
      expect(existsSync(path.join(world, 'comments'))).toBe(false); // pushes do not comment

      const pr = runJob(world, bin, checkout(world, 'pr-same'), 'pull_request', '101');
      expect(pr.failedStep, pr.log).toBeUndefined();
      expect(readFileSync(path.join(world, 'gh.log'), 'utf8')).toMatch(/gh run list --branch main --workflow rag-eval.yml --status success/);
      const comment = readFileSync(path.join(world, 'comments/42.md'), 'utf8');
      expect(comment).toMatch(/ndcg@10/);
      rmSync(path.join(world, 'comments'), { recursive: true });

      // The PR rewrites the page that answers a golden query into something else: the eval gate
      // still passes, the comparison with main fails the job, and the comment is posted anyway.
      const rewrite = (d: string) => writeFileSync(path.join(d, 'docs/data-export.md'), '# Office plants\n\nWater the ficus on Mondays and keep it out of direct sun.\n');
      const worse = runJob(world, bin, checkout(world, 'pr-worse', rewrite), 'pull_request', '102');
      expect(worse.failedStep, worse.log).toBe('Compare with the base branch (gate) and comment');
      expect(worse.exit).toBe(1);
      expect(readFileSync(path.join(world, 'comments/42.md'), 'utf8')).toMatch(/ndcg@10/);
    } finally {
      rmSync(world, { recursive: true, force: true });
    }
  });
});
