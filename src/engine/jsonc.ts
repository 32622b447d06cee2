/**
 * JSON with comments (`//`, `/* *\/`) and trailing commas, as `rag init` writes rag.config.json.
 * Comments and dropped commas become spaces and newlines stay where they were, so JSON.parse
 * positions still point at the right line of the file.
 */
export function stripJsonComments(text: string): string {
  let out = '';
  let i = 0;
  const n = text.length;
  /** Index of the next character that is neither whitespace nor inside a comment. */
  const nextSignificant = (from: number): number => {
    let j = from;
    while (j < n) {
      if (/\s/.test(text[j]!)) j++;
      else if (text.startsWith('//', j)) j = text.indexOf('\n', j) < 0 ? n : text.indexOf('\n', j);
      else if (text.startsWith('/*', j)) j = text.indexOf('*/', j + 2) < 0 ? n : text.indexOf('*/', j + 2) + 2;
      else return j;
    }
    return n;
  };
  while (i < n) {
    const c = text[i]!;
    if (c === '"') {
      const start = i++;
      while (i < n && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
      out += text.slice(start, ++i);
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < n && text[i] !== '\n') {
        out += ' ';
        i++;
      }
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      const stop = end < 0 ? n : end + 2;
      out += text.slice(i, stop).replace(/[^\n]/g, ' ');
      i = stop;
    } else if (c === ',' && (text[nextSignificant(i + 1)] === '}' || text[nextSignificant(i + 1)] === ']')) {
      out += ' ';
      i++;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}
