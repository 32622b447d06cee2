import { mkdtempSync, mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { addModel, loadEmbedder, type Embedder } from '../../src/engine/models/index.js';
import { StaticEmbedder } from '../../src/engine/models/static-embedder.js';
import { encodeSafetensors, halfToFloat, floatToHalf, parseSafetensors } from '../../src/engine/models/safetensors.js';
import { tokenizerJson, TINY_VOCAB } from '../../scripts/make-tiny-onnx.js';

const SHARED_M2V = resolve(import.meta.dirname, '..', '..', '..', 'shared', 'models', 'm2v-bge-base-vq128');

/**
 * Reference vectors computed once, independently of this code base, with the Rust `tokenizers`
 * library (Python binding 0.23.3) and numpy 2.4.6 on the shared model files:
 *   raw = open('model.safetensors','rb').read(); n = struct.unpack('<Q', raw[:8])[0]; header = json.loads(raw[8:8+n])
 *   E, W, M = embeddings (F32 [128,64]), weights (F64 [29524]), mapping (I32 [29524]) via np.frombuffer
 *   ids = [i for i in Tokenizer.from_file('tokenizer.json').encode(text, add_special_tokens=False).ids if i != 1]  # 1 = [UNK]
 *   v = (E[M[ids]].astype(np.float64) * W[ids][:, None]).mean(0); v /= np.linalg.norm(v)   (rounded to 6 places)
 * "Snowmen ☃ melt in spring." tokenizes to ▁snow men ▁☃(=[UNK]) ▁melt ▁in ▁spring ▁. — the [UNK] is dropped, as model2vec does.
 */
const REF_STATIC = [0.021007, 0.308106, 0.281924, -0.199323, -0.06562, 0.07916, 0.210731, -0.097907, -0.013253, 0.112911, 0.067079, -0.136729, -0.10507, -0.029571, -0.096838, 0.006068, -0.078404, 0.044194, 0.056584, -0.177628, 0.132037, 0.099064, -0.090389, -0.138591, -0.148835, 0.206748, -0.015845, 0.051638, -0.210048, 0.190609, -0.052321, 0.025509, 0.044263, -0.106015, 0.116169, 0.277762, 0.110062, 0.03845, 0.164851, 0.007604, -0.08038, 0.103804, -0.071575, -0.092245, 0.1896, -0.230547, 0.027837, -0.014352, 0.016556, -0.160787, 0.008006, -0.191465, -0.039709, 0.032122, 0.010977, -0.052072, -0.148755, -0.186628, 0.081762, 0.110602, 0.043154, -0.037331, 0.021526, -0.027718];
const REF_SNOWMEN = [0.066172, 0.085957, 0.119753, 0.076453, 0.093936, 0.128373, -0.109077, -0.134382, -0.093598, -0.159599, -0.180823, 0.072683, -0.039376, 0.17918, 0.084362, -0.037986, -0.042384, 0.047594, 0.253579, -0.10965, 0.121462, 0.142349, 0.067555, -0.228196, 0.120671, -0.064868, -0.088669, -0.144572, -0.224378, -0.332123, 0.062227, 0.245151, 0.041307, 0.127442, -0.078354, 0.069257, 0.019981, -0.155376, 0.210289, -0.113677, 0.10558, -0.063057, 0.173821, -0.097297, 0.04033, 0.01646, -0.0461, -0.071334, -0.066623, -0.027281, 0.091165, -0.181492, -0.027769, -0.062929, -0.227667, -0.061649, 0.029547, 0.029903, -0.20514, -0.091136, 0.027242, 0.13018, 0.023588, 0.049815];

const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, v, i) => s + v * b[i], 0);
const norm = (a: Float32Array) => Math.sqrt(dot(a, a));

describe('safetensors reader', () => {
  it('round-trips F32, F64, F16, I32 and I64 tensors', () => {
    const buf = encodeSafetensors([
      { name: 'a', dtype: 'F32', shape: [2, 2], values: [1.5, -2, 0.25, 3] },
      { name: 'b', dtype: 'F64', shape: [3], values: [Math.PI, -1e-9, 7] },
      { name: 'c', dtype: 'F16', shape: [3], values: [0.5, -2, 1024] },
      { name: 'd', dtype: 'I32', shape: [2], values: [-5, 123456] },
      { name: 'e', dtype: 'I64', shape: [2], values: [9007199254740991, -3] },
    ]);
    const t = parseSafetensors(buf);
    expect([...t.get('a')!.data]).toEqual([1.5, -2, 0.25, 3]);
    expect(t.get('a')!.shape).toEqual([2, 2]);
    expect([...t.get('b')!.data]).toEqual([Math.PI, -1e-9, 7]);
    expect([...t.get('c')!.data]).toEqual([0.5, -2, 1024]);
    expect([...t.get('d')!.data]).toEqual([-5, 123456]);
    expect([...t.get('e')!.data]).toEqual([9007199254740991, -3]);
  });
  it('decodes IEEE half precision bit patterns', () => {
    expect(halfToFloat(0x3c00)).toBe(1);
    expect(halfToFloat(0xc000)).toBe(-2);
    expect(halfToFloat(0x7bff)).toBe(65504);
    expect(halfToFloat(0x0001)).toBeCloseTo(5.96e-8, 10);
    expect(halfToFloat(floatToHalf(0.1))).toBeCloseTo(0.1, 3);
  });
  it('rejects a truncated file and bad offsets', () => {
    const buf = encodeSafetensors([{ name: 'a', dtype: 'F32', shape: [4], values: [1, 2, 3, 4] }]);
    expect(() => parseSafetensors(buf.subarray(0, buf.length - 4))).toThrow(/offsets/);
    expect(() => parseSafetensors(Buffer.alloc(4))).toThrow(/too short/);
  });
});

describe('static embedder on a synthetic vocabulary-quantized model', () => {
  // F16 embeddings, I64 mapping, F64 weights: every dtype path of the loader at once.
  let dir: string;
  beforeAll(() => {
    dir = join(mkdtempSync(join(tmpdir(), 'rag-static-')), 'syn', 'static');
    mkdirSync(dir, { recursive: true });
    const V = TINY_VOCAB.length;
    const rows = [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0]];
    const mapping = Array.from({ length: V }, (_, i) => i % 4);
    const weights = Array.from({ length: V }, (_, i) => 1 + i / 10);
    writeFileSync(join(dir, 'model.safetensors'), encodeSafetensors([
      { name: 'embeddings', dtype: 'F16', shape: [4, 3], values: rows.flat() },
      { name: 'mapping', dtype: 'I64', shape: [V], values: mapping },
      { name: 'weights', dtype: 'F64', shape: [V], values: weights },
    ]));
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tokenizerJson()));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'model2vec', normalize: true }));
  });

  it('averages embeddings[mapping[id]] * weights[id] over real tokens, skipping [UNK] and specials', async () => {
    const e = await loadEmbedder('syn/static', join(dir, '..', '..'));
    expect(e.info.kind).toBe('static-embedder');
    expect(e.dim).toBe(3);
    // "cat dog zzz": cat=11 → row 3 [1,1,0] w 2.1; dog=12 → row 0 [1,0,0] w 2.2; zzz → [UNK] dropped.
    const [v] = await e.embedQueries(['Cat DOG zzz']);
    const mean = [(2.1 + 2.2) / 2, 2.1 / 2, 0];
    const n = Math.hypot(...mean);
    expect([...v].map((x) => +x.toFixed(6))).toEqual(mean.map((x) => +(x / n).toFixed(6)));
    expect((e as StaticEmbedder).tokenIds('Cat DOG zzz')).toEqual([11, 12]);
  });

  it('returns a zero vector for text with no known tokens', async () => {
    const e = await loadEmbedder('syn/static', join(dir, '..', '..'));
    const [v] = await e.embedPassages(['zzz qqq']);
    expect([...v]).toEqual([0, 0, 0]);
  });
});

describe('static embedder on the real m2v-bge-base-vq128 model', () => {
  let e: Embedder;
  beforeAll(async () => {
    if (!existsSync(SHARED_M2V)) throw new Error(`shared model missing at ${SHARED_M2V}`);
    const dir = mkdtempSync(join(tmpdir(), 'rag-m2v-'));
    await addModel(SHARED_M2V, { id: 'minishlab/m2v-bge-base-vq128' }, dir);
    e = await loadEmbedder('minishlab/m2v-bge-base-vq128', dir);
  });

  it('matches the independently computed reference vectors', async () => {
    const [a, b] = await e.embedPassages(['Static embeddings are fast.', 'Snowmen ☃ melt in spring.']);
    expect(a.length).toBe(64);
    a.forEach((x, i) => expect(x).toBeCloseTo(REF_STATIC[i], 5));
    b.forEach((x, i) => expect(x).toBeCloseTo(REF_SNOWMEN[i], 5));
  });

  it('gives unit-length, deterministic vectors; similar texts are closer than unrelated ones', async () => {
    const texts = ['The cat sat on the mat.', 'A cat was sitting on the rug.', 'Quarterly revenue grew by five percent.'];
    const [cat1, cat2, money] = await e.embedPassages(texts);
    for (const v of [cat1, cat2, money]) expect(norm(v)).toBeCloseTo(1, 5);
    const again = await e.embedQueries(texts);
    expect([...again[0]]).toEqual([...cat1]);
    expect(dot(cat1, cat2)).toBeGreaterThan(dot(cat1, money));
    expect(dot(cat1, cat2)).toBeGreaterThan(dot(cat2, money));
  });

  it('is loaded once per process', async () => {
    const again = await loadEmbedder('minishlab/m2v-bge-base-vq128', e.info.dir.replace(/\/minishlab\/m2v-bge-base-vq128$/, ''));
    expect(again).toBe(e);
  });

  it('reports progress while embedding passages', async () => {
    const seen: number[] = [];
    await e.embedPassages(Array.from({ length: 300 }, (_, i) => `text number ${i}`), (d) => seen.push(d));
    expect(seen.at(-1)).toBe(300);
  });
});
