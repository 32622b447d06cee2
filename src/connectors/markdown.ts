import { unified } from 'unified';
import remarkParse from 'remark-parse';
import remarkGfm from 'remark-gfm';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { Root, RootContent, Nodes } from 'mdast';
import type { Block, BlockKind, ParsedDocument } from '../engine/types.js';
import { InputError } from '../engine/errors.js';
import { AclInputError, parseAclValue } from '../engine/acl.js';
import { baseTitle, decodeUtf8Strict, normaliseText } from './normalise.js';

const FRONT_MATTER = /^---[ \t]*\n([\s\S]*?\n)?---[ \t]*(?:\n|$)/;

/** Keys with a meaning of their own; every other front-matter key is kept as metadata. */
const RESERVED_KEYS = new Set(['title', 'acl', 'tenant']);

const processor = unified().use(remarkParse).use(remarkGfm);

interface FrontMatter {
  data: Record<string, unknown>;
  /** 1-based line of each top-level key, for error messages. */
  keyLines: Map<string, number>;
}

/**
 * Markdown with optional YAML front matter. `text` is the normalised Markdown source of the
 * body (not rendered), so a chunk shown to a user reads like the file they wrote.
 */
export function parseMarkdown(bytes: Uint8Array, relPath: string): ParsedDocument {
  const raw = decodeUtf8Strict(bytes, relPath).replace(/\r\n?/g, '\n');
  const fm = FRONT_MATTER.exec(raw);
  const front = fm ? readFrontMatter(fm[1] ?? '', relPath) : { data: {}, keyLines: new Map<string, number>() };
  const text = normaliseText(fm ? raw.slice(fm[0].length) : raw);

  const tree = processor.parse(text) as Root;
  const blocks = blocksOf(tree, text);

  const acl = readAcl(front, relPath);
  const tenant = readString(front, 'tenant', relPath);
  const title = readString(front, 'title', relPath) ?? firstH1(tree) ?? baseTitle(relPath);
  const metadata: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(front.data)) if (!RESERVED_KEYS.has(k)) metadata[k] = v;

  const doc: ParsedDocument = {
    docId: relPath,
    source: relPath,
    connector: 'markdown',
    title,
    text,
    blocks,
    metadata,
  };
  if (acl) doc.acl = acl;
  if (tenant !== undefined) doc.tenant = tenant;
  return doc;
}

function readFrontMatter(yamlText: string, file: string): FrontMatter {
  let data: unknown;
  try {
    data = parseYaml(yamlText, { prettyErrors: true });
  } catch (err) {
    if (err instanceof YAMLParseError) {
      // +1: the YAML starts on the line after the opening `---`.
      const pos = err.linePos?.[0];
      const line = pos?.line;
      // yaml's own "at line N" counts from the front matter, not the file: drop it.
      const problem = err.message.split('\n')[0].replace(/\s*at line \d+, column \d+:?\s*$/, '') + (pos ? ` (column ${pos.col})` : '');
      throw new InputError(
        file,
        line !== undefined ? line + 1 : undefined,
        `front matter is not valid YAML: ${problem}`,
        'Fix the YAML between the two `---` lines (quote values that contain ": " or start with special characters).',
      );
    }
    throw err;
  }
  if (data === null || data === undefined) return { data: {}, keyLines: new Map() };
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw new InputError(file, 2, 'front matter must be a YAML mapping (key: value lines)', 'Write front matter as `key: value` lines.');
  }
  const keyLines = new Map<string, number>();
  yamlText.split('\n').forEach((line, i) => {
    const m = /^([A-Za-z_][\w-]*)\s*:/.exec(line);
    if (m && !keyLines.has(m[1])) keyLines.set(m[1], i + 2);
  });
  return { data: data as Record<string, unknown>, keyLines };
}

function readAcl(front: FrontMatter, file: string): string[] | undefined {
  // `acl:` with no value is an explicitly empty ACL, not an absent one.
  if (!Object.hasOwn(front.data, 'acl')) return undefined;
  const parsed = parseAclValue(front.data.acl);
  if ('error' in parsed) throw new AclInputError(file, front.keyLines.get('acl'), `front matter "acl": ${parsed.error}; ${parsed.fix}`, parsed.fix);
  return parsed.acl;
}

function readString(front: FrontMatter, key: string, file: string): string | undefined {
  const v = front.data[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string' || typeof v === 'number') return String(v).trim();
  throw new InputError(file, front.keyLines.get(key), `front matter "${key}" must be a string, got ${JSON.stringify(v)}`, `Write \`${key}: some text\`.`);
}

/** Plain text of an mdast subtree (headings are mostly text, emphasis and inline code). */
export function nodeText(node: Nodes): string {
  if ('value' in node && typeof node.value === 'string' && node.type !== 'html') return node.value;
  if ('children' in node) return (node.children as Nodes[]).map(nodeText).join('');
  if (node.type === 'image') return node.alt ?? '';
  return '';
}

function firstH1(tree: Root): string | undefined {
  for (const n of tree.children) if (n.type === 'heading' && n.depth === 1) return nodeText(n).trim() || undefined;
  return undefined;
}

const KIND: Partial<Record<RootContent['type'], BlockKind>> = {
  heading: 'heading',
  paragraph: 'paragraph',
  code: 'code',
  table: 'table',
  list: 'list',
  blockquote: 'quote',
};

function blocksOf(tree: Root, text: string): Block[] {
  const blocks: Block[] = [];
  const stack: { depth: number; text: string }[] = [];
  const path = () => stack.map((h) => h.text);
  const push = (start: number | undefined, end: number | undefined, kind: BlockKind, atomic = false) => {
    if (start === undefined || end === undefined || end <= start) return;
    while (start < end && /\s/.test(text[start])) start++;
    while (end > start && /\s/.test(text[end - 1])) end--;
    if (end <= start) return;
    const b: Block = { start, end, kind, headingPath: path() };
    if (atomic) b.atomic = true;
    blocks.push(b);
  };
  for (const node of tree.children) {
    const start = node.position?.start.offset;
    const end = node.position?.end.offset;
    if (node.type === 'heading') {
      while (stack.length && stack[stack.length - 1].depth >= node.depth) stack.pop();
      stack.push({ depth: node.depth, text: nodeText(node).trim() });
      push(start, end, 'heading');
    } else if (node.type === 'list') {
      // One block per item gives the chunker natural places to cut a long list.
      for (const item of node.children) push(item.position?.start.offset, item.position?.end.offset, 'list');
    } else if (node.type === 'code' || node.type === 'table') {
      push(start, end, KIND[node.type]!, true);
    } else if (node.type === 'thematicBreak' || node.type === 'definition') {
      continue; // no searchable content
    } else {
      push(start, end, KIND[node.type] ?? 'other');
    }
  }
  return blocks;
}
