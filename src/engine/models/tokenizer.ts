/**
 * Loads a Hugging Face tokenizer straight from a model folder (tokenizer.json +
 * tokenizer_config.json) with transformers.js classes, bypassing its hub/cache loader so
 * nothing can ever be fetched. Truncation is done here, on tokens, the way the Python
 * `tokenizers` library does it: special tokens ([CLS] … [SEP]) survive truncation, and a pair
 * is cut longest-first. (transformers.js's own truncation slices the finished sequence and
 * drops the final [SEP], which shifts embeddings away from the reference implementations.)
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AutoTokenizer, PreTrainedTokenizer } from '@huggingface/transformers';
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

/** The parts of transformers.js's tokenizer we rely on (internal but stable across 3.x). */
interface TokenizerInternals {
  _encode_text(text: string | null): string[] | null;
  post_processor: { post_process(a: string[], b: string[] | null, o: { add_special_tokens: boolean }): PostProcessed } | null;
  model: { convert_tokens_to_ids(tokens: string[]): number[]; tokens_to_ids: Map<string, number>; unk_token_id?: number };
  unk_token_id?: number;
  model_max_length?: number;
}

export class ModelTokenizer {
  private readonly singleSpecials: number;
  private readonly pairSpecials: number;

  constructor(
    readonly inner: PreTrainedTokenizer,
    readonly config: Record<string, unknown>,
  ) {
    this.singleSpecials = this.postProcess([], null).tokens.length;
    this.pairSpecials = this.postProcess([], []).tokens.length;
  }

  private get internals(): TokenizerInternals {
    return this.inner as unknown as TokenizerInternals;
  }

  /** Tokens of a text without special tokens. */
  tokens(text: string): string[] {
    return this.internals._encode_text(text) ?? [];
  }

  /** Ids of a text without special tokens. */
  idsWithoutSpecials(text: string): number[] {
    return this.internals.model.convert_tokens_to_ids(this.tokens(text));
  }

  /** The vocabulary model's unknown token (Unigram's unk_id, WordPiece/BPE's unk_token), if any. */
  get unkTokenId(): number | undefined {
    return this.internals.model.unk_token_id ?? this.internals.unk_token_id;
  }

  get modelMaxLength(): number | undefined {
    const v = this.internals.model_max_length;
    return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
  }

  private postProcess(a: string[], b: string[] | null): PostProcessed {
    const pp = this.internals.post_processor;
    if (!pp) return { tokens: b ? [...a, ...b] : a, token_type_ids: [...a.map(() => 0), ...(b ?? []).map(() => 1)] };
    return pp.post_process(a, b, { add_special_tokens: true });
  }

  private toEncoded(p: PostProcessed): Encoded {
    const inputIds = this.internals.model.convert_tokens_to_ids(p.tokens);
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
  const name = typeof config.tokenizer_class === 'string' ? config.tokenizer_class.replace(/Fast$/, '') : 'PreTrainedTokenizer';
  const mapping = (AutoTokenizer as unknown as { TOKENIZER_CLASS_MAPPING: Record<string, typeof PreTrainedTokenizer> }).TOKENIZER_CLASS_MAPPING;
  const Cls = mapping[name] ?? PreTrainedTokenizer;
  const inner = new Cls(tokenizerJson as object, config);
  installFastUnigram(inner, tokenizerJson);
  return new ModelTokenizer(inner, config);
}

/** Swaps transformers.js's quadratic Unigram segmentation for the linear one in unigram.ts. */
function installFastUnigram(inner: PreTrainedTokenizer, json: unknown): void {
  const model = (json as { model?: { type?: string; vocab?: [string, number][]; unk_id?: number } }).model;
  if (model?.type !== 'Unigram' || !Array.isArray(model.vocab)) return;
  const segmenter = new UnigramSegmenter(model.vocab, model.unk_id ?? 0);
  const pieces = model.vocab.map(([p]) => p);
  const target = (inner as unknown as { model: { encode(tokens: string[]): string[] } }).model;
  target.encode = (tokens: string[]) => tokens.flatMap((t) => segmenter.encode(t).map((id) => pieces[id]!));
}
