/**
 * The label screen as an SME reads it, in real terminals (tmux) at 80×24 and 160×45, on the
 * bundled Markdown and PDF fixtures: a Markdown table drawn as aligned columns, a passage paged,
 * the whole document opened with the passage marked and closed again, resizes, guidelines, undo
 * after a resume, the review list, two labelers at once, and hand edits of the golden file.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, rag, tempDir } from './helpers/cli.js';
import { hasTmux, requireTmux, Tmux } from './helpers/tmux.js';

requireTmux('test/label-screen.pty.test.ts');

const term = new Tmux();
let dir: string;
const SMALL = { columns: 80, rows: 24 };
const LARGE = { columns: 160, rows: 45 };
const QUERIES = 'q1\trequests per minute for each plan\nq2\tBusiness plan rate limit release 3.3\n';

function labelArgs(golden: string, labeler: string): string[] {
  return ['--db', 'db', 'label', '--golden', golden, '--queries', 'queries.tsv', '--labeler', labeler, '--pool-depth', '3'];
}

interface Shown {
  qid: string;
  cand: number;
  title: string;
  graded: number;
}
function parse(s: string): Shown | null {
  const q = /Query \d+\/\d+ \[(\S+)\]/.exec(s);
  const c = /(?:Candidate (\d+)\/\d+|Revisiting)/.exec(s);
  const t = /^Title:\s+(.+?)\s*$/m.exec(s);
  const g = /(\d+) graded this session/.exec(s);
  if (!q || !c || !t || !g || !/^Keys: 0-3 grade/m.test(s)) return null;
  return { qid: q[1]!, cand: Number(c[1] ?? 0), title: t[1]!, graded: Number(g[1]) };
}
async function candidate(name: string, what: string, pred: (x: Shown, s: string) => boolean = () => true): Promise<{ s: string; x: Shown }> {
  const s = await term.waitFor(name, (t) => {
    const x = parse(t);
    return x !== null && pred(x, t);
  }, what);
  return { s, x: parse(s)! };
}
/** Presses a grade and waits for the screen after it (the next candidate, or the end). */
async function grade(name: string, x: Shown, g: number): Promise<void> {
  term.press(name, String(g));
  await term.waitFor(name, (s) => /EXIT=\d+/.test(s) || (parse(s) !== null && (parse(s)!.title !== x.title || parse(s)!.qid !== x.qid)), `grade ${g} of ${x.title}`);
}
async function quit(name: string): Promise<string> {
  term.press(name, 'q');
  const s = await term.waitFor(name, (t) => /EXIT=\d+/.test(t), 'the session to end');
  expect(s).toContain('EXIT=0');
  term.stop(name);
  return s;
}

/** Column positions of the box-drawing verticals of the first table on screen, one list per line. */
function tableColumns(s: string): number[][] {
  const lines = s.split('\n');
  const top = lines.findIndex((l) => /┌─*┬/.test(l));
  expect(top, `no table on screen:\n${s}`).toBeGreaterThanOrEqual(0);
  const out: number[][] = [];
  for (let i = top; i < lines.length; i++) {
    const l = lines[i]!;
    out.push([...l].flatMap((ch, j) => ('┌┬┐│├┼┤└┴┘'.includes(ch) ? [j] : [])));
    if (l.includes('└')) break;
  }
  return out;
}

/** The screen without the *term* highlight markers. */
const unmarked = (s: string) => s.replace(/\*([\p{L}\p{N}]+)\*/gu, '$1');
const docOf = (title: string) => ({ 'API rate limits': 'docs/rate-limits.md', 'Acme Cloud Release Notes 2024': 'docs/release-notes-2024.pdf', 'Billing and invoices': 'docs/billing-invoices.md' })[title];
const goldenOf = (file: string) =>
  Object.fromEntries(readFileSync(path.join(dir, file), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: string; judgments: Record<string, number> }).map((l) => [l.id, l.judgments]));
const journalOf = (file: string) =>
  readFileSync(path.join(dir, `${file}.labels.jsonl`), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);

describe.skipIf(!hasTmux)('the label screen in real terminals', () => {
  beforeAll(() => {
    dir = tempDir('rag-label-screen-');
    mkdirSync(path.join(dir, 'docs'));
    for (const f of readdirSync(path.join(FIXTURES, 'docs'))) if (f.endsWith('.md')) copyFileSync(path.join(FIXTURES, 'docs', f), path.join(dir, 'docs', f));
    copyFileSync(path.join(FIXTURES, 'pdf', 'release-notes-2024.pdf'), path.join(dir, 'docs', 'release-notes-2024.pdf'));
    writeFileSync(path.join(dir, 'queries.tsv'), QUERIES);
    writeFileSync(path.join(dir, 'a.guidelines.md'), '# Support golden set\n\n## Grading tables\n\nA table that lists the numbers asked for is a **3**.\n');
    expect(rag(['--db', 'db', 'ingest', 'docs'], { cwd: dir }).code).toBe(0);
    expect(rag(['--db', 'db', 'index', '--model', 'none'], { cwd: dir }).code).toBe(0);
  });
  afterAll(() => term.killServer());

  it('80×24: guidelines first, a Markdown table as aligned columns, paging, the whole document and back, resizes, no word cut', async () => {
    term.start('a', dir, labelArgs('a.jsonl', 'alice'), SMALL, { NO_COLOR: '1' });
    // The guidelines beside the golden file (a.guidelines.md) open the session.
    let s = await term.waitFor('a', (t) => t.includes('Before you start'), 'the guidelines at start');
    expect(s).toContain('Grading tables');
    expect(s).toContain('A table that lists the numbers asked for is a 3.');
    expect(s).toMatch(/Enter start labeling/);
    term.press('a', 'Enter');

    let { s: shown, x } = await candidate('a', 'the first candidate');
    const vocabulary = new Set((readFileSync(path.join(dir, 'docs/rate-limits.md'), 'utf8').toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []));
    const seen = new Set<string>();
    while (x.qid === 'q1') {
      seen.add(x.title);
      if (x.title === 'API rate limits') {
        s = shown;
        // A table: every line of it has its column borders at the same positions.
        const cols = tableColumns(s);
        expect(cols.length).toBeGreaterThanOrEqual(5);
        for (const c of cols) expect(c).toEqual(cols[0]);
        expect(cols[0]!.length).toBe(5); // 4 columns
        const text = unmarked(s);
        expect(text).toMatch(/│ Plan\s+│ Requests per minute\s+│ Burst\s+│ Concurrent exports\s+│/);
        expect(text).toMatch(/│ Enterprise\s+│ 6,000 \(negotiable\)\s+│ 1,000\s+│ 20\s+│/);
        expect(s).toMatch(/\*plan\*/i); // query terms highlighted (as *term* without colour)
        // Markup is rendered: no pipes of the Markdown source, the heading shown as a heading.
        expect(s).not.toMatch(/\| --- \|/);
        expect(text).toMatch(/^## Limits per plan$/m);
        // 80 columns: nothing wider, no word cut in two, the grade prompt and keys at the bottom.
        const lines = s.split('\n');
        for (const l of lines) expect([...l].length).toBeLessThanOrEqual(80);
        const bodyStart = lines.findIndex((l) => /^─{80}$/.test(l)) + 1;
        const bodyEnd = lines.findIndex((l, i) => i >= bodyStart && /^─/.test(l));
        for (const l of lines.slice(bodyStart, bodyEnd)) {
          for (const w of l.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) expect(vocabulary.has(w), `"${w}" in "${l}" is not a word of the document`).toBe(true);
        }
        expect(lines.slice(bodyEnd).join('\n')).toMatch(/Grade: 0 not relevant · 1 related · 2 relevant · 3 highly relevant/);
        expect(lines.filter((l) => l.trim()).at(-1)).toMatch(/q quit( · ↑↓ PgUp PgDn scroll)?$/);
        // The passage is longer than the screen: the pager says so and pages.
        expect(s).toMatch(/lines 1–\d+ of \d+ · ↓ more/);
        expect(s).toMatch(/↑↓ PgUp PgDn scroll/);
        term.press('a', 'NPage');
        s = await term.waitFor('a', (t) => /lines [2-9]\d*–\d+ of \d+/.test(t), 'the next page');
        expect(s).toMatch(/specific endpoints\./);
        term.press('a', 'Home');
        await term.waitFor('a', (t) => /lines 1–/.test(t), 'back at the top');

        // The whole document, the judged passage marked, then back to the same candidate.
        term.press('a', 'd');
        s = await term.waitFor('a', (t) => t.includes('Document: API rate limits'), 'the document view');
        expect(s).toMatch(/┃ marks the judged passage/);
        expect(unmarked(s)).toMatch(/^┃ ## Limits per plan$/m);
        expect(s).toMatch(/^┃ ┌─/m); // the table is part of the judged chunk
        expect(unmarked(s)).toMatch(/^ {2}## Rate limit headers$/m); // the rest of the document is not marked
        const opened = /lines (\d+)–/.exec(s)![1];
        expect(Number(opened)).toBeGreaterThan(1); // opened at the passage, not at the top
        term.press('a', 'g');
        s = await term.waitFor('a', (t) => /lines 1–/.test(t), 'the top of the document');
        expect(unmarked(s)).toMatch(/^ {2}# API rate limits$/m);
        term.press('a', 'c');
        await term.waitFor('a', (t) => t.includes(`lines ${opened}–`), 'back at the passage');
        term.press('a', 'Escape');
        ({ s, x } = await candidate('a', 'back from the document', (y) => y.title === 'API rate limits'));

        // Resize to 160×45 and back: each time the screen is redrawn whole, nothing left over.
        term.resize('a', LARGE.columns, LARGE.rows);
        s = await term.waitFor('a', (t) => t.includes('3 highly relevant — answers the whole query on its own'), 'the 160×45 layout');
        expect(s.split('\n').filter((l) => l.startsWith('Keys:'))).toHaveLength(1);
        expect(s.split('\n').filter((l) => /^Query 1\/2/.test(l))).toHaveLength(1);
        for (const c of tableColumns(s)) expect(c).toEqual(tableColumns(s)[0]);
        expect(s).toMatch(/specific endpoints\./); // the whole passage fits now
        expect(s).not.toMatch(/↓ more/);
        term.resize('a', SMALL.columns, SMALL.rows);
        s = await term.waitFor('a', (t) => /^Grade: 0 not relevant/m.test(t), 'the 80×24 layout again');
        expect(s.split('\n').filter((l) => l.startsWith('Keys:'))).toHaveLength(1);
        expect(s).not.toContain('answers the whole query on its own');

        // ? shows keys, scale and guidelines; Escape comes back.
        term.press('a', '?');
        s = await term.waitFor('a', (t) => t.includes('Help: keys, grade scale and guidelines'), 'help');
        expect(s).toMatch(/^u or b\s+undo your latest grade or skip/m);
        term.press('a', 'End');
        s = await term.waitFor('a', (t) => t.includes('Grading tables'), 'the guidelines in help');
        term.press('a', 'Escape');
        ({ x } = await candidate('a', 'back from help', (y) => y.title === 'API rate limits'));
      }
      await grade('a', x, x.title === 'API rate limits' ? 3 : 0);
      ({ s: shown, x } = await candidate('a', 'the next candidate'));
    }
    expect(seen).toContain('API rate limits');
    // q2: a PDF passage says which page it is on.
    while (x.title !== 'Acme Cloud Release Notes 2024') {
      await grade('a', x, 0);
      ({ s: shown, x } = await candidate('a', 'the next q2 candidate'));
    }
    expect(shown).toMatch(/^Source:\s+docs\/release-notes-2024\.pdf · page 2$/m);
    await quit('a');
    expect(goldenOf('a.jsonl').q1!['docs/rate-limits.md']).toBe(3);
  });

  it('160×45 in colour: undo after a resume changes the earlier grade; the review list changes any grade', async () => {
    term.start('b', dir, labelArgs('b.jsonl', 'bob'), LARGE);
    let { x } = await candidate('b', 'the first candidate');
    const raw = term.screen('b', true);
    expect(raw).toMatch(/\x1b\[(?:[0-9;]*;)?1(?:;[0-9;]*)?m/); // bold (title, headings)
    expect(raw).toMatch(/\x1b\[(?:[0-9;]*;)?33(?:;[0-9;]*)?m/); // highlighted query terms (yellow)
    expect(term.screen('b')).not.toMatch(/\*(requests|plan|minute)\*/i); // colour, not markers
    const t1 = x.title;
    await grade('b', x, 1);
    ({ x } = await candidate('b', 'the second candidate'));
    const t2 = x.title;
    await grade('b', x, 2);
    await candidate('b', 'the third candidate');
    await quit('b');
    expect(goldenOf('b.jsonl').q1).toEqual({ [docOf(t1)!]: 1, [docOf(t2)!]: 2 });

    // A new session: u goes back to the last grade of the previous one.
    term.start('b', dir, labelArgs('b.jsonl', 'bob'), LARGE);
    let s: string;
    ({ s, x } = await candidate('b', 'the resumed candidate'));
    expect(s).toContain('0 graded this session · 2 graded · 0 skipped in all');
    expect(s).toContain('this query: 2 graded · 0 skipped');
    term.press('b', 'u');
    ({ s, x } = await candidate('b', 'the undone candidate', (y, t) => t.includes('You had: grade 2 (undone)')));
    expect(x.title).toBe(t2);
    expect(s).toContain('this query: 1 graded · 0 skipped');
    await grade('b', x, 0);
    expect(goldenOf('b.jsonl').q1).toEqual({ [docOf(t1)!]: 1, [docOf(t2)!]: 0 });

    // r: the query list, then the query's passages with their grades; pick the first one and change it.
    await candidate('b', 'the candidate after the regrade');
    term.press('b', 'r');
    s = await term.waitFor('b', (t) => t.includes('Review: choose a query'), 'the review list');
    expect(s).toMatch(/\[q1\]\s+2 graded · 0 skipped · 1 to do · requests per minute for each plan/);
    term.press('b', 'Enter');
    s = await term.waitFor('b', (t) => t.includes('Review [q1]'), 'the passages of q1');
    const rows = s.split('\n').filter((l) => /^[› ] [0-3·s]/.test(l));
    const at = rows.findIndex((l) => l.includes(t1));
    expect(rows[at]).toMatch(/^[› ] 1 /);
    for (let i = 0; i < at; i++) term.press('b', 'Down');
    term.press('b', 'Enter');
    ({ s, x } = await candidate('b', 'the reviewed candidate', (y) => y.title === t1));
    expect(s).toContain('You gave: grade 1 — a new grade replaces it');
    await grade('b', x, 3);
    expect(goldenOf('b.jsonl').q1).toEqual({ [docOf(t1)!]: 3, [docOf(t2)!]: 0 });

    // A grade imported while the session is open, for a document outside this pool: the review list
    // has it, and it opens (read through the permission check) to be graded again.
    await candidate('b', 'the candidate after the review');
    writeFileSync(path.join(dir, 'b.csv'), 'qid,doc_id,grade,labeler\nq1,docs/webhooks.md,1,bob\n');
    const imp = rag(['--db', 'db', 'label', '--golden', 'b.jsonl', '--import', 'b.csv'], { cwd: dir });
    expect(imp.code, imp.stderr).toBe(0);
    term.press('b', 'r');
    await term.waitFor('b', (t) => t.includes('Review: choose a query'), 'the review list again');
    term.press('b', 'Enter');
    s = await term.waitFor('b', (t) => t.includes('docs/webhooks.md'), 'the imported grade in the list');
    const rows2 = s.split('\n').filter((l) => /^[› ] [0-3·s]/.test(l));
    const at2 = rows2.findIndex((l) => l.includes('docs/webhooks.md'));
    expect(rows2[at2]).toMatch(/^[› ] 1  docs\/webhooks\.md$/);
    for (let i = 0; i < at2; i++) term.press('b', 'Down');
    term.press('b', 'Enter');
    ({ s, x } = await candidate('b', 'the imported item', (y) => y.title === 'Webhooks'));
    expect(s).toMatch(/Revisiting \(not in this pool of 3\)/);
    expect(s).toContain('You gave: grade 1');
    await grade('b', x, 2);
    expect(goldenOf('b.jsonl').q1).toEqual({ [docOf(t1)!]: 3, [docOf(t2)!]: 0, 'docs/webhooks.md': 2 });
    await quit('b');
    expect(journalOf('b.jsonl').map((e) => e.type)).toEqual(['base', 'grade', 'grade', 'undo', 'grade', 'grade', 'grade', 'grade']);
  });

  it('two labelers at once on one golden file (80×24 and 160×45): both sessions run, no grade is lost', async () => {
    term.start('alice', dir, labelArgs('c.jsonl', 'alice'), SMALL, { NO_COLOR: '1' });
    term.start('bob', dir, labelArgs('c.jsonl', 'bob'), LARGE, { NO_COLOR: '1' });
    const given: Record<string, Record<string, number>> = { alice: {}, bob: {} };
    let a = (await candidate('alice', 'alice starts')).x;
    let b = (await candidate('bob', 'bob starts')).x;
    for (let i = 0; i < 3; i++) {
      const ga = (i + 1) % 4;
      const gb = (i + 2) % 4;
      given.alice![docOf(a.title)!] = ga;
      given.bob![docOf(b.title)!] = gb;
      // Both keys at once: the two sessions append and rewrite the golden file concurrently.
      term.press('alice', String(ga));
      term.press('bob', String(gb));
      await term.waitFor('alice', (s) => (parse(s)?.graded ?? -1) === i + 1, `alice's grade ${i + 1}`);
      await term.waitFor('bob', (s) => (parse(s)?.graded ?? -1) === i + 1, `bob's grade ${i + 1}`);
      a = (await candidate('alice', 'alice next')).x;
      b = (await candidate('bob', 'bob next')).x;
    }
    await quit('alice');
    await quit('bob');
    const grades = journalOf('c.jsonl').filter((e) => e.type === 'grade');
    expect(grades).toHaveLength(6);
    for (const l of ['alice', 'bob']) {
      expect(Object.fromEntries(grades.filter((e) => e.labeler === l).map((e) => [e.doc_id, e.grade]))).toEqual(given[l]);
    }
    // The golden grade of each document is the lower median of the two labelers' grades.
    const expected = Object.fromEntries(Object.keys(given.alice!).map((d) => [d, Math.min(given.alice![d]!, given.bob![d]!)]));
    expect(goldenOf('c.jsonl').q1).toEqual(expected);
    const stats = rag(['--db', 'db', '--json', 'label', 'stats', '--golden', 'c.jsonl'], { cwd: dir }).json();
    expect(stats.labelers.map((l: { labeler: string; graded: number }) => [l.labeler, l.graded])).toEqual([['alice', 3], ['bob', 3]]);
    expect(existsSync(path.join(dir, 'c.jsonl.lock'))).toBe(false);
  });

  it('a hand edit of the golden file while a session is open is kept, and a broken one is never overwritten', async () => {
    term.start('d', dir, labelArgs('d.jsonl', 'dora'), SMALL, { NO_COLOR: '1' });
    let { s, x } = await candidate('d', 'the first candidate');
    const first = docOf(x.title)!;
    await grade('d', x, 2);
    ({ x } = await candidate('d', 'the second candidate'));
    expect(goldenOf('d.jsonl').q1).toEqual({ [first]: 2 });

    // By hand: the grade dora gave is lowered, and a query is added.
    const golden = path.join(dir, 'd.jsonl');
    const edited = `${JSON.stringify({ id: 'q1', query: 'requests per minute for each plan', judgments: { [first]: 0 } })}\n${JSON.stringify({ id: 'q9', query: 'added by hand', judgments: { 'docs/sso-saml.md': 3 } })}\n`;
    writeFileSync(golden, edited);
    const second = docOf(x.title)!;
    await grade('d', x, 3);
    ({ s, x } = await candidate('d', 'the screen after the edit', (_y, t) => t.includes('edited while labeling')));
    expect(s).toMatch(/the edit is kept/);
    expect(goldenOf('d.jsonl')).toEqual({ q1: { [first]: 0, [second]: 3 }, q9: { 'docs/sso-saml.md': 3 } });

    // An edit that does not parse: the next grade leaves the file exactly as it is, and says so.
    const good = readFileSync(golden, 'utf8');
    const broken = `${good}{"id": "q10", "query": \n`;
    writeFileSync(golden, broken);
    const third = docOf(x.title)!;
    await grade('d', x, 1);
    ({ s, x } = await candidate('d', 'the screen after the broken edit', (_y, t) => t.includes('no longer parses')));
    expect(s).toMatch(/not\s+overwritten/);
    expect(readFileSync(golden, 'utf8')).toBe(broken);
    // Fixed by hand: the next grade brings the file up to date, with the grade given meanwhile.
    writeFileSync(golden, good);
    await grade('d', x, 0);
    await candidate('d', 'the screen after the fix');
    const g = goldenOf('d.jsonl');
    expect(g.q1).toEqual({ [first]: 0, [second]: 3, [third]: 1 });
    expect(g.q9).toEqual({ 'docs/sso-saml.md': 3 });
    await quit('d');
  });
});
