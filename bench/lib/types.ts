/** What every bench section receives and returns (in its own file, so sections.ts and embedding.ts need not import each other). */
export interface SectionContext {
  quick: boolean;
  log: (m: string) => void;
}

export type SectionResult = Record<string, unknown>;
