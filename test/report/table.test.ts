import { describe, expect, it } from 'vitest';
import { html, raw } from '../../src/render/html/page.js';
import { niceTicks } from '../../src/render/html/svg.js';
import { sparkline } from '../../src/render/runs.js';
import { displayWidth, makeTable, setColorMode, truncate, wrapText } from '../../src/render/table.js';

const lines = (s: string) => s.split('\n');
const widest = (s: string) => Math.max(...lines(s).map(displayWidth));

describe('fitted terminal tables', () => {
  const long = 'Breast cancer development is determined exclusively by genetic factors and nothing else, as the study claims';
  const build = (width: number) => {
    const t = makeTable(['query', 'A', 'B', 'Δ', 'text', 'documents'], { fit: { width, keep: [1, 2, 3], truncate: [4] } });
    t.push(['fx-1', '0.3010', '1.0000', '+0.6990', long, 'fixtures/docs/internal/incident-response.md @3 (A @24)\nfixtures/pdf/sla.pdf @5']);
    t.push(['日本語のクエリ', '0.5000', '0.2500', '−0.2500', '検索クエリの例です。長い文章。', '—']);
    return t.toString();
  };
  for (const width of [80, 120, 200]) {
    it(`never passes ${width} columns, keeps numbers whole, truncates with … and wraps the rest`, () => {
      const out = build(width);
      expect(widest(out)).toBeLessThanOrEqual(width);
      for (const n of ['0.3010', '1.0000', '+0.6990', '−0.2500']) expect(out).toContain(n);
      for (const l of lines(out)) expect(l).toMatch(/^[┌│├└].*[┐│┤┘]$/);
      if (width === 80) expect(out).toContain('…');
    });
  }

  it('leaves a table alone when there is no width to fit (piped output)', () => {
    const t = makeTable(['a', 'b'], { fit: { width: undefined } });
    t.push(['x'.repeat(300), 'y']);
    expect(t.toString()).toContain('x'.repeat(300));
  });

  it('drops the named columns, in order, rather than break a kept one, and says which', () => {
    const t = makeTable(['metric', 'A', 'B', 'p (t)', 'Δ%'], { fit: { width: 40, keep: [0, 1, 2, 3, 4], drop: [3, 4] } });
    t.push(['recall@100', '0.9149', '0.9717', '2.1e-5', '+6.2%']);
    expect(widest(t.toString())).toBeLessThanOrEqual(40);
    expect(t.droppedColumns()).toEqual(['p (t)']);
  });

  it('draws every line of a row the same width, closes colour at each line end and keeps tabs from skewing columns', () => {
    setColorMode('always');
    try {
      const t = makeTable(['#', 'snippet', 'narrow'], { colWidths: [0, 30, 3] });
      const passage = 'Résumé of the β-catenin study — naïve cells, 日本語 text and \x1b[1;33mhighlighted terms\x1b[0m across lines. '.repeat(8);
      t.push(['1', passage, '漢字'], ['2', 'a\tb', 'x']);
      const out = t.toString();
      const body = lines(out);
      expect(new Set(body.map(displayWidth)).size).toBe(1); // a straight right edge
      // Every line ends with its colour closed: the border after a highlighted word stays grey.
      for (const l of body.filter((x) => x.includes('\x1b[1;33m'))) expect(l.lastIndexOf('\x1b[0m')).toBeGreaterThan(l.lastIndexOf('\x1b[1;33m'));
      expect(out).toContain(' a b ');
      expect(out).not.toContain('\t');
      expect(out).toMatch(/│\x1b\[39m … \x1b\[90m│/); // a wide character in a one-cell column is cut
    } finally {
      setColorMode('auto');
    }
  });

  it('measures wide characters and colour codes as the terminal does', () => {
    expect(displayWidth('日本')).toBe(4);
    expect(displayWidth('\x1b[1;33mkey\x1b[0m')).toBe(3);
    expect(truncate('abcdefgh', 5)).toBe('abcd…');
    expect(displayWidth(truncate('日本語のクエリ', 7))).toBeLessThanOrEqual(7);
    expect(lines(wrapText('one two three four', 9))).toEqual(['one two', 'three', 'four']);
    expect(lines(wrapText('abcdefghijkl', 5))).toEqual(['abcde', 'fghij', 'kl']);
  });
});

describe('HTML building blocks', () => {
  it('escapes every interpolated value; only markup built by html`` passes through', () => {
    const evil = '<script>alert("x")</script> & \'q\'';
    expect(html`<p>${evil}</p>`.html).toBe('<p>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39;</p>');
    expect(html`<div>${html`<b>${evil}</b>`}${raw('<i>ok</i>')}${[1, '<', null]}</div>`.html).toBe('<div><b>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39;</b><i>ok</i>1&lt;</div>');
  });

  it('axis ticks are round numbers that cover the range', () => {
    expect(niceTicks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    const t = niceTicks(0.8671, 0.9748, 5);
    expect(t[0]).toBeLessThanOrEqual(0.8671);
    expect(t[t.length - 1]).toBeGreaterThanOrEqual(0.9748);
  });

  it('sparklines scale between the series min and max', () => {
    expect(sparkline([0, 0.5, 1])).toBe('▁▅█');
    expect(sparkline([0.7, 0.7])).toBe('▄▄');
  });
});
