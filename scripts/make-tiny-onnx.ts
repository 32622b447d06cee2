/**
 * Builds tiny ONNX models (random weights, a 40-word WordPiece vocabulary) in the Hugging Face
 * layout, to test the ONNX plumbing — tokenization, padding, batching, pooling, pair encoding —
 * without real weights. Never use them for quality claims.
 *
 *   npx tsx scripts/make-tiny-onnx.ts OUT_DIR [embedder|cross-encoder]
 *
 * The ONNX file is written with a small protobuf encoder below (no onnx package needed), so
 * tests can build the models on the fly.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// ---- protobuf wire format -------------------------------------------------------------------
function varint(n: number | bigint): number[] {
  let v = BigInt(n);
  if (v < 0n) v += 1n << 64n;
  const out: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return out;
}
const key = (field: number, wire: number) => varint((field << 3) | wire);
const fInt = (field: number, n: number | bigint) => Buffer.from([...key(field, 0), ...varint(n)]);
const fBytes = (field: number, b: Buffer) => Buffer.concat([Buffer.from([...key(field, 2), ...varint(b.length)]), b]);
const fStr = (field: number, s: string) => fBytes(field, Buffer.from(s, 'utf8'));
const msg = (...parts: Buffer[]) => Buffer.concat(parts);

export const FLOAT = 1;
export const INT64 = 7;

export function tensor(name: string, dims: number[], values: ArrayLike<number>, type = FLOAT): Buffer {
  const raw = Buffer.alloc(values.length * (type === FLOAT ? 4 : 8));
  for (let i = 0; i < values.length; i++) {
    if (type === FLOAT) raw.writeFloatLE(values[i], i * 4);
    else raw.writeBigInt64LE(BigInt(values[i]), i * 8);
  }
  return msg(...dims.map((d) => fInt(1, d)), fInt(2, type), fStr(8, name), fBytes(9, raw));
}

type Attr = { name: string; i?: number; ints?: number[]; f?: number };
function attribute(a: Attr): Buffer {
  if (a.ints) return msg(fStr(1, a.name), ...a.ints.map((v) => fInt(8, v)), fInt(20, 7));
  if (a.f !== undefined) {
    const b = Buffer.alloc(4);
    b.writeFloatLE(a.f);
    return msg(fStr(1, a.name), Buffer.concat([Buffer.from(key(2, 5)), b]), fInt(20, 1));
  }
  return msg(fStr(1, a.name), fInt(3, a.i ?? 0), fInt(20, 2));
}

export function node(op: string, inputs: string[], outputs: string[], attrs: Attr[] = [], name = `${op}_${outputs[0]}`): Buffer {
  return msg(...inputs.map((i) => fStr(1, i)), ...outputs.map((o) => fStr(2, o)), fStr(3, name), fStr(4, op), ...attrs.map((a) => fBytes(5, attribute(a))));
}

export function valueInfo(name: string, elemType: number, dims: (number | string)[]): Buffer {
  const shape = msg(...dims.map((d) => fBytes(1, typeof d === 'number' ? fInt(1, d) : fStr(2, d))));
  const tensorType = msg(fInt(1, elemType), fBytes(2, shape));
  return msg(fStr(1, name), fBytes(2, fBytes(1, tensorType)));
}

export function model(nodes: Buffer[], initializers: Buffer[], inputs: Buffer[], outputs: Buffer[], opset = 17): Buffer {
  const graph = msg(...nodes.map((n) => fBytes(1, n)), fStr(2, 'rag-tiny'), ...initializers.map((t) => fBytes(5, t)), ...inputs.map((v) => fBytes(11, v)), ...outputs.map((v) => fBytes(12, v)));
  return msg(fInt(1, 8), fStr(2, 'rag make-tiny-onnx'), fBytes(7, graph), fBytes(8, msg(fStr(1, ''), fInt(2, opset))));
}

// ---- the tiny models ------------------------------------------------------------------------
export const TINY_VOCAB = [
  '[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]',
  'alpha', 'beta', 'gamma', 'delta', 'epsilon', 'the', 'cat', 'dog', 'sat', 'on', 'mat', 'rug', 'a', 'is', 'sitting',
  'revenue', 'grew', 'by', 'percent', 'quarter', 'search', 'engine', 'index', 'query', 'vector',
  '##s', '##ing', '##ed', '.', ',', '!', '?', 'rag', 'model', 'test',
];
export const TINY_HIDDEN = 8;

/** Deterministic pseudo-random weights (so the expected values in tests are reproducible). */
export function tinyWeights(seed: number, n: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 32 - 0.5;
  }
  return out;
}

export function tokenizerJson(): object {
  const vocab: Record<string, number> = {};
  TINY_VOCAB.forEach((t, i) => (vocab[t] = i));
  const special = (id: number) => ({ id, content: TINY_VOCAB[id], single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [0, 1, 2, 3, 4].map(special),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      pair: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } }, { SpecialToken: { id: '[SEP]', type_id: 1 } },
      ],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [2], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [3], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab },
  };
}

/**
 * Embedder graph: last_hidden_state = word[input_ids] + type[token_type_ids]  ([batch, seq, 8]).
 * Cross-encoder graph: logits = Σ_t mask_t · (word[input_ids_t] + type[token_type_ids_t]) · w  ([batch, 1]).
 */
export function tinyGraph(kind: 'embedder' | 'cross-encoder'): Buffer {
  const V = TINY_VOCAB.length;
  const H = TINY_HIDDEN;
  const inputs = ['input_ids', 'attention_mask', 'token_type_ids'].map((n) => valueInfo(n, INT64, ['batch', 'seq']));
  const inits = [tensor('word', [V, H], tinyWeights(1, V * H)), tensor('type', [2, H], tinyWeights(2, 2 * H))];
  const nodes = [node('Gather', ['word', 'input_ids'], ['w_emb']), node('Gather', ['type', 'token_type_ids'], ['t_emb']), node('Add', ['w_emb', 't_emb'], kind === 'embedder' ? ['last_hidden_state'] : ['h'])];
  if (kind === 'embedder') return model(nodes, inits, inputs, [valueInfo('last_hidden_state', FLOAT, ['batch', 'seq', H])]);
  inits.push(tensor('head', [H, 1], tinyWeights(3, H)), tensor('axis_last', [1], [-1], INT64), tensor('axis_seq', [1], [1], INT64));
  nodes.push(
    node('Cast', ['attention_mask'], ['mask_f'], [{ name: 'to', i: FLOAT }]),
    node('Unsqueeze', ['mask_f', 'axis_last'], ['mask_3d']),
    node('Mul', ['h', 'mask_3d'], ['h_masked']),
    node('ReduceSum', ['h_masked', 'axis_seq'], ['summed'], [{ name: 'keepdims', i: 0 }]),
    node('MatMul', ['summed', 'head'], ['logits']),
  );
  return model(nodes, inits, inputs, [valueInfo('logits', FLOAT, ['batch', 1])]);
}

/** Writes a complete tiny model folder (HF layout) and returns its path. */
export function writeTinyModel(dir: string, kind: 'embedder' | 'cross-encoder', pooling: 'mean' | 'cls' = 'mean'): string {
  mkdirSync(join(dir, 'onnx'), { recursive: true });
  writeFileSync(join(dir, 'onnx', 'model.onnx'), tinyGraph(kind));
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tokenizerJson()));
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ tokenizer_class: 'BertTokenizer', do_lower_case: true, model_max_length: 512, cls_token: '[CLS]', sep_token: '[SEP]', pad_token: '[PAD]', unk_token: '[UNK]', mask_token: '[MASK]' }));
  const arch = kind === 'embedder' ? 'BertModel' : 'BertForSequenceClassification';
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ architectures: [arch], model_type: 'bert', hidden_size: TINY_HIDDEN, max_position_embeddings: 512, vocab_size: TINY_VOCAB.length }));
  if (kind === 'embedder') {
    mkdirSync(join(dir, '1_Pooling'), { recursive: true });
    writeFileSync(join(dir, '1_Pooling', 'config.json'), JSON.stringify({ word_embedding_dimension: TINY_HIDDEN, pooling_mode_cls_token: pooling === 'cls', pooling_mode_mean_tokens: pooling === 'mean' }));
  }
  return dir;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const out = process.argv[2];
  const kind = (process.argv[3] ?? 'embedder') as 'embedder' | 'cross-encoder';
  if (!out) {
    console.error('usage: make-tiny-onnx.ts OUT_DIR [embedder|cross-encoder]');
    process.exit(2);
  }
  writeTinyModel(out, kind);
  console.log(`wrote tiny ${kind} to ${out}`);
}
