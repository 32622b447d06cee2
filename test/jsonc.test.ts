/**
 * A broken JSON file (rag.config.json, the API keys file, a model's rag-model.json) is reported as
 * one line naming the line of the file, whatever V8's message says.
 */
import { describe, expect, it } from 'vitest';
import { jsonSyntaxError, stripJsonComments } from '../src/engine/jsonc.js';

const located = (text: string) => {
  try {
    JSON.parse(text);
  } catch (err) {
    return jsonSyntaxError(text, err);
  }
  throw new Error(`valid JSON: ${text}`);
};

describe('jsonSyntaxError', () => {
  it('names the line where the text breaks, in one line of message', () => {
    const cases: [string, number][] = [
      ['{\n "db": ,\n}\n', 2],
      ['{\n  "a": 1\n  "b": 2\n}', 3],
      ['{\n  "a": [1, 2,\n', 3],
      ['{\n  "a": "no end\n}', 2],
      ['{\n  "a": tru\n}', 2],
      ['{"a": 1}\n\n{"b": 2}', 3],
      ['', 1],
      ['{\n  \'a\': 1\n}', 2],
      ['{\n  "a": 01\n}', 2],
    ];
    for (const [text, line] of cases) {
      const e = located(text);
      expect(e.line, JSON.stringify(text)).toBe(line);
      expect(e.message).not.toMatch(/\n/);
    }
  });

  it('finds an error exactly where JSON.parse does: none in valid texts, one in every text it rejects', () => {
    let seed = 7;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    const gen = (depth: number): unknown => {
      const k = rand(depth > 2 ? 4 : 6);
      if (k === 0) return rand(1000) - 500 + rand(100) / 8;
      if (k === 1) return ['a', 'é "q"', 'tab\there', '\\', ''][rand(5)];
      if (k === 2) return [true, false, null][rand(3)];
      if (k === 3) return -rand(10) * 1e21;
      if (k === 4) return Array.from({ length: rand(4) }, () => gen(depth + 1));
      return Object.fromEntries(Array.from({ length: rand(4) }, (_, i) => [`k${i}`, gen(depth + 1)]));
    };
    let rejected = 0;
    for (let n = 0; n < 400; n++) {
      const text = JSON.stringify(gen(0), null, rand(3));
      expect(jsonSyntaxError(text, new Error('x')).line, text).toBeUndefined();
      // One character dropped or doubled: the grammar decides, and both must agree.
      const at = rand(text.length + 1);
      const broken = rand(2) ? text.slice(0, at) + text.slice(at + 1) : text.slice(0, at) + text[at] + text.slice(at);
      let parses = true;
      try {
        JSON.parse(broken);
      } catch {
        parses = false;
      }
      expect(jsonSyntaxError(broken, new Error('x')).line === undefined, broken).toBe(parses);
      if (!parses) rejected++;
    }
    expect(rejected).toBeGreaterThan(100);
  });

  it('keeps the lines of a file with comments and trailing commas', () => {
    const raw = '{\n  // the store\n  "db": ".rag",\n  /* a\n  b */\n  "k": oops,\n}\n';
    expect(located(stripJsonComments(raw)).line).toBe(6);
  });
});
