/**
 * The semantic injection detector (in the manner of Vigil and Rebuff's vector layer): each
 * sentence of a text is embedded with the local MiniLM model and compared with two banks of our
 * own writing (semantic-banks.ts): sentences that plant instructions, and benign sentences that
 * talk about instructions, security and models. A sentence's score is its cosine similarity to
 * the nearest injection sentence minus that to the nearest benign one; a text's score is its best
 * sentence. The threshold was chosen on the dev split of the benchmark (see README, Audit) and is
 * reported on the test split, never the same samples.
 */
import { loadEmbedder, type Embedder } from '../models/index.js';
import { stripInvisible, skeleton } from './hidden.js';
import { BENIGN_BANK, INJECTION_BANK } from './semantic-banks.js';

export const SEMANTIC_MODEL = 'sentence-transformers/all-MiniLM-L6-v2';
/** Score at or above which a sentence is a finding (medium); chosen on the dev split. */
export const SEMANTIC_THRESHOLD = 0.3;
/** Score at or above which the finding is high. */
export const SEMANTIC_HIGH = 0.4;

export interface SentenceSpan {
  start: number;
  end: number;
  text: string;
}

export interface SemanticMatch {
  /** Best-scoring sentence of the text. */
  start: number;
  end: number;
  score: number;
  /** Nearest sentence of the injection bank (for the report: why it was flagged). */
  nearest: string;
}

/** Sentences worth embedding: at least three words, at most 400 characters (longer ones are cut). */
export function sentencesOf(text: string): SentenceSpan[] {
  const out: SentenceSpan[] = [];
  for (const m of text.matchAll(/[^\n.!?。！？]+[.!?。！？]*/g)) {
    const raw = m[0];
    const lead = raw.length - raw.trimStart().length;
    const t = raw.trim();
    if (t.split(/\s+/).length < 3 && !/[\u3040-\u30ff\u4e00-\u9fff]/.test(t)) continue;
    const start = m.index! + lead;
    out.push({ start, end: start + Math.min(t.length, 400), text: t.slice(0, 400) });
  }
  return out;
}

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

export class SemanticDetector {
  private constructor(
    private readonly embedder: Embedder,
    private readonly injection: Float32Array[],
    private readonly benign: Float32Array[],
  ) {}

  /** Loads the embedder from RAG_MODELS_DIR (or `dir`) and embeds both banks. */
  static async open(dir?: string): Promise<SemanticDetector> {
    const embedder = await loadEmbedder(SEMANTIC_MODEL, dir);
    const [injection, benign] = [await embedder.embedPassages([...INJECTION_BANK]), await embedder.embedPassages([...BENIGN_BANK])];
    return new SemanticDetector(embedder, injection, benign);
  }

  /** Score of one embedded sentence: nearest injection minus nearest benign similarity. */
  private scoreVector(v: Float32Array): { score: number; nearest: number } {
    let inj = -1;
    let nearest = 0;
    for (let i = 0; i < this.injection.length; i++) {
      const s = dot(v, this.injection[i]!);
      if (s > inj) [inj, nearest] = [s, i];
    }
    let ben = -1;
    for (const b of this.benign) ben = Math.max(ben, dot(v, b));
    return { score: inj - ben, nearest };
  }

  /** The best sentence of each text (null when a text has no sentence to judge). */
  async scoreTexts(texts: string[], onProgress?: (done: number, total: number) => void): Promise<(SemanticMatch | null)[]> {
    // Invisible and look-alike characters are read the way the rules read them.
    const spans = texts.map((t) => {
      const stripped = stripInvisible(t);
      return sentencesOf(skeleton(stripped.text)).map((s) => ({ ...s, start: stripped.map[s.start]!, end: stripped.map[s.end]! }));
    });
    // Overlapping chunks (and boilerplate) repeat sentences: each distinct sentence is embedded once.
    const unique = [...new Set(spans.flat().map((s) => s.text))];
    const vectors = unique.length ? await this.embedder.embedPassages(unique, onProgress) : [];
    const scores = new Map(unique.map((t, i) => [t, this.scoreVector(vectors[i]!)]));
    return spans.map((list) => {
      let best: SemanticMatch | null = null;
      for (const s of list) {
        const { score, nearest } = scores.get(s.text)!;
        if (!best || score > best.score) best = { start: s.start, end: s.end, score, nearest: INJECTION_BANK[nearest]! };
      }
      return best;
    });
  }
}
