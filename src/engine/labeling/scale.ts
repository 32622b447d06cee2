/** The grade scale, one text for the label screen, `rag label --help` and goldens/README.md. */
export const GRADE_SCALE: readonly string[] = [
  'not relevant',
  'related / marginal',
  'relevant',
  'highly relevant: answers it',
];
