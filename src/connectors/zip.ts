import { InputError } from '../engine/errors.js';

/** What the Office connectors need of a zip archive and its XML parts. */
export interface OfficePackage {
  has(name: string): boolean;
  text(name: string): Promise<string | null>;
  bytes(name: string): Promise<Uint8Array | null>;
  /** Parsed XML of a part, or null when the part is absent. */
  xml(name: string): Promise<XmlElement | null>;
  names(): string[];
}

/** A parsed XML element: its local name, attributes (by local and by qualified name), children in order. */
export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlNode[];
}
export type XmlNode = XmlElement | string;

const OLE_MAGIC = [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1];

export function isOleContainer(bytes: Uint8Array): boolean {
  return OLE_MAGIC.every((b, i) => bytes[i] === b);
}

/** True when an OLE container holds an encrypted Office package (what a password-protected DOCX/XLSX/PPTX is). */
function isEncryptedOffice(bytes: Uint8Array): boolean {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).includes(Buffer.from('EncryptedPackage', 'utf16le'));
}

/**
 * Opens an Office/OpenDocument package. Password-protected Office files are not zips at all but
 * OLE containers holding an encrypted package: they get their own message, as do truncated zips.
 */
export async function openPackage(bytes: Uint8Array, relPath: string, format: string): Promise<OfficePackage> {
  if (isOleContainer(bytes)) {
    if (isEncryptedOffice(bytes)) {
      throw new InputError(relPath, undefined, `is a password-protected (encrypted) ${format} file; its text cannot be read`, 'Remove the password (save a copy without protection) or exclude the file.');
    }
    throw new InputError(relPath, undefined, `is a legacy binary Office file (OLE container), not ${format}`, `Save it as ${format} (File › Save As) or exclude it.`);
  }
  const { default: JSZip } = await import('jszip');
  let zip: import('jszip');
  try {
    zip = await JSZip.loadAsync(bytes, { checkCRC32: true });
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    throw new InputError(relPath, undefined, `is not a readable ${format} file: the zip archive is truncated or corrupt (${detail})`, 'Re-save or re-download the file.');
  }
  const read = async (name: string): Promise<Uint8Array | null> => {
    const entry = zip.file(name);
    if (!entry) return null;
    try {
      return await entry.async('uint8array');
    } catch (err) {
      const detail = err instanceof Error ? err.message : String(err);
      throw new InputError(relPath, undefined, `is not a readable ${format} file: part ${name} is corrupt (${detail})`, 'Re-save or re-download the file.');
    }
  };
  return {
    has: (name) => zip.file(name) !== null,
    names: () => Object.keys(zip.files).filter((n) => !zip.files[n]!.dir),
    bytes: read,
    text: async (name) => {
      const b = await read(name);
      return b ? new TextDecoder('utf-8').decode(b) : null;
    },
    xml: async (name) => {
      const b = await read(name);
      return b ? await parseXml(new TextDecoder('utf-8').decode(b), relPath, name) : null;
    },
  };
}

/** Parses XML into plain elements (namespace prefixes dropped: the parts use fixed vocabularies). */
export async function parseXml(source: string, relPath: string, part: string): Promise<XmlElement> {
  const { DOMParser } = await import('@xmldom/xmldom');
  const errors: string[] = [];
  const doc = new DOMParser({
    errorHandler: { warning: () => {}, error: (m: string) => errors.push(m), fatalError: (m: string) => errors.push(m) },
  }).parseFromString(source, 'application/xml');
  const root = doc.documentElement;
  if (!root || errors.length) {
    throw new InputError(relPath, undefined, `has malformed XML in ${part} (${(errors[0] ?? 'no root element').split('\n')[0]})`, 'Re-save the file with its application.');
  }
  return convert(root as unknown as DomNode) as XmlElement;
}

interface DomNode {
  nodeType: number;
  localName?: string;
  nodeName: string;
  nodeValue: string | null;
  attributes?: { length: number; item(i: number): { localName?: string; name: string; value: string } | null };
  childNodes: { length: number; item(i: number): DomNode | null };
}

function convert(node: DomNode): XmlNode | null {
  if (node.nodeType === 3 || node.nodeType === 4) return node.nodeValue ?? '';
  if (node.nodeType !== 1) return null;
  const attrs: Record<string, string> = {};
  for (let i = 0; i < (node.attributes?.length ?? 0); i++) {
    const a = node.attributes!.item(i)!;
    // By local name (an unprefixed attribute wins) and by qualified name, for r:id beside id.
    const local = a.localName ?? a.name.replace(/^.*:/, '');
    if (a.name === local || !(local in attrs)) attrs[local] = a.value;
    attrs[a.name] = a.value;
  }
  const children: XmlNode[] = [];
  for (let i = 0; i < node.childNodes.length; i++) {
    const c = convert(node.childNodes.item(i)!);
    if (c !== null) children.push(c);
  }
  return { name: node.localName ?? node.nodeName.replace(/^.*:/, ''), attrs, children };
}

export function elements(el: XmlElement): XmlElement[] {
  return el.children.filter((c): c is XmlElement => typeof c !== 'string');
}

/** Every descendant element with this local name, in document order (not below a match). */
export function findAll(el: XmlElement, name: string): XmlElement[] {
  const out: XmlElement[] = [];
  const visit = (e: XmlElement) => {
    for (const c of elements(e)) {
      if (c.name === name) out.push(c);
      else visit(c);
    }
  };
  visit(el);
  return out;
}

export function findFirst(el: XmlElement, name: string): XmlElement | undefined {
  for (const c of elements(el)) {
    if (c.name === name) return c;
    const deeper = findFirst(c, name);
    if (deeper) return deeper;
  }
  return undefined;
}

/** All text below an element, concatenated. */
export function textContent(el: XmlNode): string {
  return typeof el === 'string' ? el : el.children.map(textContent).join('');
}

/** Title and author from a package's metadata (docProps/core.xml or meta.xml). */
export async function packageMetadata(pkg: OfficePackage): Promise<{ title?: string; author?: string }> {
  const core = (await pkg.xml('docProps/core.xml')) ?? (await pkg.xml('meta.xml'));
  if (!core) return {};
  const pick = (...names: string[]) => {
    for (const n of names) {
      const e = findFirst(core, n);
      const t = e ? textContent(e).trim() : '';
      if (t) return t;
    }
    return undefined;
  };
  return { title: pick('title'), author: pick('creator', 'initial-creator') };
}
