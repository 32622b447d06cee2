/**
 * A fast Unigram (SentencePiece) segmenter: Viterbi over a character trie, walking the text in
 * place. transformers.js slices the remaining text at every position, which is quadratic on
 * pre-tokenizers that keep a whole document as one piece (Metaspace with split=false, as Model2Vec
 * models use) — 80 ms per SciFact abstract against well under 1 ms here. Semantics follow the
 * Hugging Face `tokenizers` Unigram model: maximise the summed piece scores; a position where no
 * single-character piece exists gets an unknown node scored min_score − 10.
 */
const UNK_PENALTY = 10;

interface TrieNode {
  children: Map<number, TrieNode>;
  id: number; // -1: not the end of a piece
}

export class UnigramSegmenter {
  private readonly root: TrieNode = { children: new Map(), id: -1 };
  private readonly scores: Float64Array;
  private readonly unkScore: number;

  constructor(
    vocab: readonly [string, number][],
    readonly unkId: number,
  ) {
    this.scores = new Float64Array(vocab.length);
    let min = Infinity;
    vocab.forEach(([piece, score], id) => {
      this.scores[id] = score;
      if (score < min) min = score;
      let node = this.root;
      for (let i = 0; i < piece.length; i++) {
        const c = piece.charCodeAt(i);
        let next = node.children.get(c);
        if (!next) node.children.set(c, (next = { children: new Map(), id: -1 }));
        node = next;
      }
      // The first of duplicate pieces wins, as in `tokenizers`.
      if (node.id < 0) node.id = id;
    });
    this.unkScore = min - UNK_PENALTY;
  }

  /** Token ids of one pre-tokenized piece, best segmentation first to last. */
  encode(text: string): number[] {
    const n = text.length;
    if (n === 0) return [];
    const best = new Float64Array(n + 1).fill(-Infinity);
    const prevPos = new Int32Array(n + 1).fill(-1);
    const prevId = new Int32Array(n + 1).fill(-1);
    best[0] = 0;
    for (let i = 0; i < n; i++) {
      if (best[i] === -Infinity) continue;
      const code = text.charCodeAt(i);
      const charLen = code >= 0xd800 && code <= 0xdbff && i + 1 < n ? 2 : 1;
      let hasSingle = false;
      let node: TrieNode | undefined = this.root;
      for (let j = i; j < n; j++) {
        node = node.children.get(text.charCodeAt(j));
        if (!node) break;
        if (node.id >= 0) {
          const end = j + 1;
          if (end - i === charLen) hasSingle = true;
          const s = best[i] + this.scores[node.id]!;
          if (s > best[end]!) {
            best[end] = s;
            prevPos[end] = i;
            prevId[end] = node.id;
          }
        }
      }
      if (!hasSingle) {
        const end = i + charLen;
        const s = best[i] + this.unkScore;
        if (s > best[end]!) {
          best[end] = s;
          prevPos[end] = i;
          prevId[end] = this.unkId;
        }
      }
    }
    const ids: number[] = [];
    for (let pos = n; pos > 0; pos = prevPos[pos]!) ids.push(prevId[pos]!);
    ids.reverse();
    // Consecutive unknowns fuse into one, as `tokenizers` does by default for Unigram.
    return ids.filter((id, k) => !(id === this.unkId && k > 0 && ids[k - 1] === this.unkId));
  }
}
