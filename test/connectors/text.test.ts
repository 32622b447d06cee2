import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseText } from '../../src/connectors/text.js';
import { fixture, thrown } from './helpers.js';

describe('parseText', () => {
  it('splits paragraphs on blank lines with exact offsets', () => {
    const d = parseText(Buffer.from('Release checklist\r\n\r\nStep one: tag.\r\nStep two: push.\r\n\r\n\r\nDone.   \r\n'), 'notes/check.txt');
    expect(d.connector).toBe('text');
    expect(d.title).toBe('Release checklist');
    expect(d.text).toBe('Release checklist\n\nStep one: tag.\nStep two: push.\n\n\nDone.');
    expect(d.blocks.map((b) => d.text.slice(b.start, b.end))).toEqual(['Release checklist', 'Step one: tag.\nStep two: push.', 'Done.']);
  });

  it('rejects Latin-1 text naming file and line', async () => {
    const err = await thrown(() => parseText(readFileSync(fixture('broken/latin1.txt')), 'broken/latin1.txt'));
    expect(err.message).toMatch(/^broken\/latin1\.txt:3: is not valid UTF-8/);
  });
});
