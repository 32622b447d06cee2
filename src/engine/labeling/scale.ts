/**
 * The grade scale: the one text shown by the label screen, `rag label --help`, README.md and
 * goldens/README.md (test/label-scale.test.ts checks that both READMEs carry it word for word).
 *
 * The line between 2 and 3 is "complete on its own": a 3 answers the whole query by itself, a 2
 * holds part of the answer or needs another passage to be usable. Labelers disagree most there,
 * so that is the distinction each definition spells out.
 */
export interface GradeDefinition {
  grade: number;
  /** A short name that fits the bottom line of an 80-column screen with the other three. */
  label: string;
  /** One line that decides borderline cases. */
  definition: string;
}

export const GRADES: readonly GradeDefinition[] = [
  { grade: 0, label: 'not relevant', definition: 'off topic, or shares words with the query but says nothing that helps answer it' },
  { grade: 1, label: 'related', definition: 'on the topic of the query, but the answer is not in it; the reader must look elsewhere' },
  { grade: 2, label: 'relevant', definition: 'holds part of the answer, or an answer that needs another passage (a missing step, condition or value) to be complete' },
  { grade: 3, label: 'highly relevant', definition: 'answers the whole query on its own: the reader could stop here' },
];

/** Short names by grade, e.g. for one-line legends. */
export const GRADE_SCALE: readonly string[] = GRADES.map((g) => g.label);

/** "0 not relevant — off topic, …": one line per grade. */
export function scaleLines(): string[] {
  return GRADES.map((g) => `${g.grade} ${g.label} — ${g.definition}`);
}

/** The scale as the Markdown table both READMEs contain verbatim. */
export function scaleMarkdown(): string {
  return ['| grade | name | when to give it |', '|---|---|---|', ...GRADES.map((g) => `| ${g.grade} | ${g.label} | ${g.definition} |`)].join('\n');
}
