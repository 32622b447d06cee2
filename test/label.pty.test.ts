/**
 * `rag label` used as a person would: in a real terminal (tmux), one key per grade, an undo, a
 * note, a quit mid-way, a terminal closed under a waiting prompt, two resumes; then `rag eval`
 * reads the golden file and its metrics match what we compute by hand from the grades we gave.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rag, tempDir } from './helpers/cli.js';
import { hasTmux, requireTmux, Tmux } from './helpers/tmux.js';

requireTmux('test/label.pty.test.ts');

// Our own tiny corpus: four public bakery notes and one for bakers only.
const DOCS: Record<string, string> = {
  'starter.md': `---\ntitle: Feeding a sourdough starter\n---\n# Feeding a sourdough starter\n\nFeed the sourdough starter twice a day with equal weights of flour and water. A starter that doubles within six hours is ready to bake bread with. Keep the starter jar loosely covered.\n`,
  'proofing.md': `---\ntitle: Proofing dough\n---\n# Proofing dough\n\nDough made with a sourdough starter proofs slowly. Let it rise at room temperature until it has grown by half, then shape it. Cold proofing overnight in the fridge deepens the flavour.\n`,
  'oven.md': `---\ntitle: Oven temperature for bread\n---\n# Oven temperature for bread\n\nPreheat the oven to 250 degrees with the baking stone inside for an hour. Bake the bread with steam for twenty minutes, then lower the oven temperature to 220 degrees.\n`,
  'mixer.md': `---\ntitle: Cleaning the mixer\n---\n# Cleaning the mixer\n\nWipe the dough hook and the bowl after every batch of bread. Dried sourdough starter is hard to remove, so rinse the hook at once. Never put the motor housing in water.\n`,
  'secret-rye.md': `---\ntitle: Secret rye starter\nacl: [group:bakers]\n---\n# Secret rye starter\n\nOur rye sourdough starter is fed with dark rye flour and a spoon of honey. This starter recipe is confidential.\n`,
};
const QUERIES = 'q1\tfeed the sourdough starter\nq2\toven temperature for bread\n';
/** The grades a careful baker gives, by the title shown on screen. */
const GRADES: Record<string, Record<string, number>> = {
  q1: { 'Feeding a sourdough starter': 3, 'Proofing dough': 1, 'Cleaning the mixer': 0, 'Oven temperature for bread': 0 },
  q2: { 'Oven temperature for bread': 3, 'Proofing dough': 1, 'Feeding a sourdough starter': 0, 'Cleaning the mixer': 0 },
};
const DOC_OF_TITLE: Record<string, string> = {
  'Feeding a sourdough starter': 'docs/starter.md',
  'Proofing dough': 'docs/proofing.md',
  'Oven temperature for bread': 'docs/oven.md',
  'Cleaning the mixer': 'docs/mixer.md',
};

const SESSION = 'label';
const term = new Tmux();
let dir: string;
let golden: string;
let journal: string;

const screen = () => term.screen(SESSION);
const press = (key: string) => term.press(SESSION, key);
const type = (text: string) => term.type(SESSION, text);
const waitFor = (pred: (s: string) => boolean, what: string) => term.waitFor(SESSION, pred, what);

interface Shown {
  qid: string;
  queryNo: number;
  cand: number;
  of: number;
  title: string;
  graded: number;
}
function parse(s: string): Shown | null {
  const q = /Query (\d+)\/\d+ \[(\S+)\]/.exec(s);
  const c = /Candidate (\d+)\/(\d+)/.exec(s);
  const t = /^Title:\s+(.+?)\s*$/m.exec(s);
  const g = /(\d+) graded this session/.exec(s);
  if (!q || !c || !t || !g || !/Keys: 0-3 grade/.test(s)) return null;
  return { qid: q[2]!, queryNo: Number(q[1]), cand: Number(c[1]), of: Number(c[2]), title: t[1]!, graded: Number(g[1]) };
}
const waitCandidate = (what: string, pred: (x: Shown) => boolean = () => true) =>
  waitFor((s) => {
    const x = parse(s);
    return x !== null && pred(x);
  }, what).then((s) => ({ s, x: parse(s)! }));

function startLabel(): void {
  term.start(SESSION, dir, ['--db', 'db', 'label', '--golden', 'golden.jsonl', '--queries', 'queries.tsv', '--labeler', 'alice', '--pool-depth', '3'], { columns: 200, rows: 50 }, { NO_COLOR: '1' });
}
function stopSession(): void {
  term.stop(SESSION);
}
const journalEvents = () =>
  readFileSync(journal, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
const goldenLines = () =>
  readFileSync(golden, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: string; judgments: Record<string, number>; notes?: string });

/** Grades the candidate on screen by its title, and waits until the next screen (or the end) shows. */
async function gradeShown(x: Shown): Promise<void> {
  const g = GRADES[x.qid]![x.title];
  expect(g, `unexpected candidate "${x.title}" for ${x.qid}`).toBeDefined();
  press(String(g));
  await waitFor((s) => /EXIT=\d+/.test(s) || (parse(s)?.graded ?? -1) === x.graded + 1, `grade of ${x.qid}/${x.title} to register`);
}

describe.skipIf(!hasTmux)('rag label in a real terminal', () => {
  const seenTitles: string[] = [];

  beforeAll(() => {
    dir = tempDir('rag-label-');
    mkdirSync(path.join(dir, 'docs'));
    for (const [name, text] of Object.entries(DOCS)) writeFileSync(path.join(dir, 'docs', name), text);
    writeFileSync(path.join(dir, 'queries.tsv'), QUERIES);
    golden = path.join(dir, 'golden.jsonl');
    journal = `${golden}.labels.jsonl`;
    const ing = rag(['--db', 'db', 'ingest', 'docs'], { cwd: dir });
    expect(ing.code, ing.stderr).toBe(0);
    const idx = rag(['--db', 'db', 'index', '--model', 'none'], { cwd: dir });
    expect(idx.code, idx.stderr).toBe(0);
  });

  afterAll(() => {
    term.killServer();
  });

  it('refuses to run without a terminal (exit 2) unless importing', () => {
    const r = rag(['--db', 'db', 'label', '--golden', 'golden.jsonl', '--labeler', 'alice'], { cwd: dir, input: '' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/needs a terminal/);
    expect(r.stderr).toMatch(/--import/);
  });

  it('grades, undoes, notes, quits, survives a closed terminal, resumes and finishes', async () => {
    // ── session 1: grade wrongly, undo, grade right, grade one more, quit ──
    startLabel();
    let { s, x } = await waitCandidate('first candidate');
    seenTitles.push(x.title);
    expect(x).toMatchObject({ qid: 'q1', queryNo: 1, cand: 1, graded: 0 });
    // 50 rows: the scale with its definitions, one line per grade.
    expect(s).toMatch(/^0 not relevant — off topic/m);
    expect(s).toMatch(/^3 highly relevant — answers the whole query on its own/m);
    expect(s).toMatch(/^Source:\s+docs\/\S+\.md · \S/m); // the path, then the heading path
    expect(s).toMatch(/\*(sourdough|starter)\*/); // query terms highlighted
    const first = x;
    const wrong = (GRADES.q1![first.title]! + 1) % 4;
    press(String(wrong));
    ({ x } = await waitCandidate('second candidate', (y) => y.cand === 2));
    press('u');
    ({ s, x } = await waitCandidate('the undone candidate again', (y) => y.cand === 1));
    expect(x.title).toBe(first.title);
    expect(s).toContain(`You had: grade ${wrong} (undone)`);
    expect(s).toContain('this query: 0 graded · 0 skipped');
    await gradeShown(x);
    ({ x } = await waitCandidate('candidate 2', (y) => y.cand === 2));
    seenTitles.push(x.title);
    await gradeShown(x);
    ({ x } = await waitCandidate('candidate 3', (y) => y.cand === 3));
    seenTitles.push(x.title);
    press('q');
    s = await waitFor((t) => /EXIT=\d+/.test(t), 'the session to end');
    expect(s).toMatch(/stopped: 2 grade\(s\) this session by alice/);
    expect(s).toContain('EXIT=0');
    stopSession();

    let events = journalEvents();
    expect(events.map((e) => e.type)).toEqual(['base', 'grade', 'undo', 'grade', 'grade']);
    expect(events[1]).toMatchObject({ qid: 'q1', grade: wrong, labeler: 'alice' });
    for (const e of events.slice(1)) {
      expect(e.index_manifest_hash).toMatch(/^[0-9a-f]{64}$/);
      expect(Date.parse(e.at as string)).not.toBeNaN();
    }
    let g = goldenLines();
    expect(g).toHaveLength(1);
    expect(g[0]!.judgments).toEqual({
      [DOC_OF_TITLE[seenTitles[0]!]!]: GRADES.q1![seenTitles[0]!],
      [DOC_OF_TITLE[seenTitles[1]!]!]: GRADES.q1![seenTitles[1]!],
    });

    // ── session 2: resumes at candidate 3, finishes q1, notes + grades on q2, then the terminal dies ──
    startLabel();
    ({ s, x } = await waitCandidate('resumed candidate'));
    expect(x).toMatchObject({ qid: 'q1', cand: 3, title: seenTitles[2] });
    expect(s).toContain('this query: 2 graded · 0 skipped');
    expect(s).toContain('2 graded · 0 skipped in all');
    await gradeShown(x);
    ({ x } = await waitCandidate('q2 first candidate', (y) => y.qid === 'q2'));
    expect(x.cand).toBe(1);
    const q2first = x.title;
    press('n');
    await waitFor((t) => /Note on docs\//.test(t), 'the note prompt');
    type('exactly the steps we use');
    press('Enter');
    ({ s, x } = await waitCandidate('back on the candidate after the note', (y) => y.qid === 'q2' && y.cand === 1));
    expect(s).toContain('note saved');
    await gradeShown(x);
    ({ x } = await waitCandidate('q2 candidate 2', (y) => y.qid === 'q2' && y.cand === 2));
    const inFlight = x.title;
    stopSession(); // the terminal is closed while the prompt waits for a key

    events = journalEvents();
    expect(events.filter((e) => e.type === 'grade')).toHaveLength(5);
    expect(events.filter((e) => e.type === 'note')).toEqual([
      expect.objectContaining({ qid: 'q2', doc_id: DOC_OF_TITLE[q2first], note: 'exactly the steps we use' }),
    ]);
    g = goldenLines();
    expect(g.map((l) => l.id)).toEqual(['q1', 'q2']);
    expect(Object.keys(g[1]!.judgments)).toEqual([DOC_OF_TITLE[q2first]]);
    expect(g[1]!.notes).toContain('exactly the steps we use');

    // ── session 3: resumes at the candidate that was on screen and finishes ──
    startLabel();
    ({ x } = await waitCandidate('resume after the closed terminal'));
    expect(x).toMatchObject({ qid: 'q2', cand: 2, title: inFlight });
    for (;;) {
      await gradeShown(x);
      s = screen();
      if (/EXIT=\d+/.test(s)) break;
      ({ x } = await waitCandidate('next candidate'));
    }
    expect(s).toMatch(/done: \d+ grade\(s\) this session/);
    expect(s).toContain('EXIT=0');
    stopSession();
  });

  it('never shows a passage the labeler may not see', () => {
    const events = journalEvents().filter((e) => e.type === 'grade');
    expect(events.some((e) => e.doc_id === 'docs/secret-rye.md')).toBe(false);
    // …although a search as a baker would have pooled it for q1.
    const asBaker = rag(['--db', 'db', '--json', 'query', 'feed the sourdough starter', '--mode', 'bm25', '--as', 'group:bakers', '-k', '3'], { cwd: dir });
    expect(asBaker.json().results.map((r: { doc_id: string }) => r.doc_id)).toContain('docs/secret-rye.md');
  });

  it('writes a golden file rag eval reads, with the metrics computed by hand', () => {
    const g = goldenLines();
    // Every pooled candidate (top 3 by BM25, the only system of a vector-less index) got the grade we meant.
    const expected: Record<string, Record<string, number>> = {};
    for (const qid of ['q1', 'q2']) {
      const top = rag(['--db', 'db', '--json', 'query', qid === 'q1' ? 'feed the sourdough starter' : 'oven temperature for bread', '--mode', 'bm25', '-k', '20'], { cwd: dir });
      const docs = [...new Set(top.json().results.map((r: { doc_id: string }) => r.doc_id as string))].slice(0, 3) as string[];
      expected[qid] = Object.fromEntries(docs.map((d) => [d, GRADES[qid]![Object.keys(DOC_OF_TITLE).find((t) => DOC_OF_TITLE[t] === d)!]!]));
    }
    expect(Object.fromEntries(g.map((l) => [l.id, l.judgments]))).toEqual(expected);

    const ev = rag(['--db', 'db', '--json', 'eval', '--golden', 'golden.jsonl', '--mode', 'bm25', '--out', 'run1', '--cutoffs', '3,10'], { cwd: dir });
    expect(ev.code, ev.stderr).toBe(0);
    const mean = ev.json().mean as Record<string, number>;

    // By hand: the ranking is BM25's document order; gain = grade, discount log2(rank + 1).
    const perQuery = ['q1', 'q2'].map((qid) => {
      const top = rag(['--db', 'db', '--json', 'query', qid === 'q1' ? 'feed the sourdough starter' : 'oven temperature for bread', '--mode', 'bm25', '-k', '50'], { cwd: dir });
      const ranking = [...new Set(top.json().results.map((r: { doc_id: string }) => r.doc_id as string))] as string[];
      const rel = expected[qid]!;
      const gains = ranking.slice(0, 10).map((d) => rel[d] ?? 0);
      const dcg = gains.reduce((s, x, i) => s + x / Math.log2(i + 2), 0);
      const ideal = Object.values(rel).sort((a, b) => b - a).slice(0, 10).reduce((s, x, i) => s + x / Math.log2(i + 2), 0);
      const relevant = ranking.slice(0, 3).filter((d) => (rel[d] ?? 0) >= 1).length;
      const firstRel = ranking.findIndex((d) => (rel[d] ?? 0) >= 1);
      return { ndcg10: dcg / ideal, p3: relevant / 3, rr: firstRel < 0 ? 0 : 1 / (firstRel + 1) };
    });
    const avg = (f: (x: (typeof perQuery)[number]) => number) => perQuery.reduce((s, x) => s + f(x), 0) / perQuery.length;
    expect(mean['ndcg@10']).toBeCloseTo(avg((x) => x.ndcg10), 6);
    expect(mean['precision@3']).toBeCloseTo(avg((x) => x.p3), 6);
    expect(mean.mrr).toBeCloseTo(avg((x) => x.rr), 6);
    // With our grades the best document ranks first for both queries only if BM25 agrees with us.
    expect(mean['ndcg@10']).toBeGreaterThan(0);
  });
});
