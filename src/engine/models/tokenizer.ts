/**
 * Loads a Hugging Face tokenizer straight from a model folder (tokenizer.json +
 * tokenizer_config.json) with tokenizers.js (@huggingface/tokenizers: the tokenizer half of
 * transformers.js, without its model runtime), so nothing can ever be fetched and a query does not
 * pay for importing a whole ML framework (~200 ms of a cold `rag query`). Truncation is done here,
 * on tokens, the way the Python `tokenizers` library does it: special tokens ([CLS] … [SEP])
 * survive truncation, and a pair is cut longest-first.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { StoreError } from '../errors.js';
import { UnigramSegmenter } from './unigram.js';

export interface Encoded {
  inputIds: number[];
  tokenTypeIds: number[];
}

interface PostProcessed {
  tokens: string[];
  token_type_ids?: number[];
}

/** The parts of tokenizers.js we rely on beyond its typed surface (the package is pinned exactly). */
interface TokenizerInternals {
  encode_text(text: string | null): string[] | null;
  post_processor: ((a: string[], b: string[] | null, addSpecialTokens: boolean) => PostProcessed) | null;
  model: { tokens_to_ids: Map<string, number>; unk_token_id?: number; encode(tokens: string[]): string[] };
  added_tokens_map: Map<string, { id: number }>;
}

export class ModelTokenizer {
  private readonly singleSpecials: number;
  private readonly pairSpecials: number;
  /** Id of the padding token (the config's pad_token), 0 when the tokenizer names none. */
  readonly padId: number;

  constructor(
    private readonly inner: Tokenizer,
    readonly config: Record<string, unknown>,
  ) {
    this.singleSpecials = this.postProcess([], null).tokens.length;
    this.pairSpecials = this.postProcess([], []).tokens.length;
    const pad = typeof config.pad_token === 'string' ? config.pad_token : undefined;
    this.padId = (pad !== undefined ? this.idOf(pad) : undefined) ?? 0;
  }

  private get internals(): TokenizerInternals {
    return this.inner as unknown as TokenizerInternals;
  }

  private idOf(token: string): number | undefined {
    return this.internals.added_tokens_map.get(token)?.id ?? this.internals.model.tokens_to_ids.get(token);
  }

  private toIds(tokens: string[]): number[] {
    const unk = this.unkTokenId;
    return tokens.map((t) => this.idOf(t) ?? unk!);
  }

  /** Tokens of a text without special tokens. */
  tokens(text: string): string[] {
    return this.internals.encode_text(text) ?? [];
  }

  /** Ids of a text without special tokens. */
  idsWithoutSpecials(text: string): number[] {
    return this.toIds(this.tokens(text));
  }

  /** Every piece of the vocabulary (added tokens included). */
  vocabulary(): IterableIterator<string> {
    return this.internals.model.tokens_to_ids.keys();
  }

  /** The vocabulary model's unknown token (Unigram's unk_id, WordPiece/BPE's unk_token), if any. */
  get unkTokenId(): number | undefined {
    return this.internals.model.unk_token_id;
  }

  get modelMaxLength(): number | undefined {
    const v = this.config.model_max_length;
    return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
  }

  private postProcess(a: string[], b: string[] | null): PostProcessed {
    const pp = this.internals.post_processor;
    if (!pp) return { tokens: b ? [...a, ...b] : a, token_type_ids: [...a.map(() => 0), ...(b ?? []).map(() => 1)] };
    return pp(a, b, true);
  }

  private toEncoded(p: PostProcessed): Encoded {
    const inputIds = this.toIds(p.tokens);
    return { inputIds, tokenTypeIds: p.token_type_ids ?? inputIds.map(() => 0) };
  }

  /** One text with special tokens, truncated to maxLength tokens in all. */
  encode(text: string, maxLength: number): Encoded {
    const toks = this.tokens(text);
    const room = Math.max(0, maxLength - this.singleSpecials);
    return this.toEncoded(this.postProcess(toks.length > room ? toks.slice(0, room) : toks, null));
  }

  /** A (query, passage) pair, truncated longest-first to maxLength tokens in all. */
  encodePair(a: string, b: string, maxLength: number): Encoded {
    let ta = this.tokens(a);
    let tb = this.tokens(b);
    const room = Math.max(2, maxLength - this.pairSpecials);
    if (ta.length + tb.length > room) {
      let la = ta.length;
      let lb = tb.length;
      while (la + lb > room) {
        if (lb >= la) lb--;
        else la--;
      }
      ta = ta.slice(0, la);
      tb = tb.slice(0, lb);
    }
    return this.toEncoded(this.postProcess(ta, tb));
  }
}

export async function loadTokenizer(dir: string): Promise<ModelTokenizer> {
  let tokenizerJson: unknown;
  try {
    tokenizerJson = JSON.parse(await readFile(join(dir, 'tokenizer.json'), 'utf8'));
  } catch (err) {
    throw new StoreError(`cannot read ${join(dir, 'tokenizer.json')}: ${(err as Error).message}`, 'the model folder needs a tokenizer.json (Hugging Face fast tokenizer)');
  }
  let config: Record<string, unknown> = {};
  try {
    config = JSON.parse(await readFile(join(dir, 'tokenizer_config.json'), 'utf8'));
  } catch {
    // tokenizer_config.json is optional (model2vec folders often lack it)
  }
  let inner: Tokenizer;
  try {
    inner = new Tokenizer(tokenizerJson as object, config);
  } catch (err) {
    throw new StoreError(`cannot use ${join(dir, 'tokenizer.json')}: ${(err as Error).message}`, 'the tokenizer must be a Hugging Face fast tokenizer (WordPiece, BPE or Unigram)');
  }
  installFastUnigram(inner, tokenizerJson);
  return new ModelTokenizer(inner, config);
}

/** Swaps tokenizers.js's quadratic Unigram segmentation for the linear one in unigram.ts. */
function installFastUnigram(inner: Tokenizer, json: unknown): void {
  const model = (json as { model?: { type?: string; vocab?: [string, number][]; unk_id?: number } }).model;
  if (model?.type !== 'Unigram' || !Array.isArray(model.vocab)) return;
  const segmenter = new UnigramSegmenter(model.vocab, model.unk_id ?? 0);
  const pieces = model.vocab.map(([p]) => p);
  const target = (inner as unknown as TokenizerInternals).model;
  target.encode = (tokens: string[]) => tokens.flatMap((t) => segmenter.encode(t).map((id) => pieces[id]!));
}
