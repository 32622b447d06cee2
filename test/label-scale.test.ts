/**
 * One grade scale: the words on the label screen, in `rag label --help`, in README.md and in
 * goldens/README.md all come from src/engine/labeling/scale.ts. A README edited on its own, or a
 * scale changed without its READMEs, fails here.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { GRADES, scaleLines, scaleMarkdown } from '../src/engine/labeling/scale.js';
import { candidateFrame, KEY_HELP, type CandidateView } from '../src/tui/label-screen.js';
import { rag, ROOT } from './helpers/cli.js';

describe('the grade scale is one text', () => {
  it('goldens/README.md and README.md carry the scale table word for word', () => {
    for (const file of ['goldens/README.md', 'README.md']) {
      const text = readFileSync(path.join(ROOT, file), 'utf8');
      expect(text, `${file} must contain the table printed by scaleMarkdown() (src/engine/labeling/scale.ts)`).toContain(scaleMarkdown());
    }
  });

  it('rag label --help prints every grade with its definition, and every key', () => {
    const r = rag(['label', '--help']);
    expect(r.code).toBe(0);
    for (const line of scaleLines()) expect(r.stdout).toContain(line);
    for (const [key, what] of KEY_HELP) expect(r.stdout).toMatch(new RegExp(`${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s+${what.slice(0, 30).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  });

  it('the screen shows the grade names on a small terminal and the definitions on a tall one', () => {
    const view: CandidateView = {
      labeler: 'al', caller: { principals: ['public'], tenant: 'default' }, showCaller: false, queryIndex: 1, queryCount: 1,
      query: { id: 'q1', text: 'rotate a key' }, candidateIndex: 1, candidateCount: 1, queryTally: { graded: 0, skipped: 0 },
      totalTally: { graded: 0, skipped: 0 }, sessionGraded: 0, flash: '',
      cand: { key: 'd', docId: 'd', chunkId: 'd#0', title: 'T', source: 'd.md', headingPath: [], page: 0, text: 'x', connector: 'markdown', charStart: 0, charEnd: 1, foundBy: [] },
    };
    const small = candidateFrame(view, [], 0, { columns: 80, rows: 24 }, false).lines.join('\n');
    expect(small).toContain(`Grade: ${GRADES.map((g) => `${g.grade} ${g.label}`).join(' · ')}`);
    const tall = candidateFrame(view, [], 0, { columns: 160, rows: 45 }, false).lines.join('\n');
    for (const line of scaleLines()) expect(tall).toContain(line);
  });
});
