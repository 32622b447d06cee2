import { createReadStream } from 'node:fs';
import type { ParsedDocument } from '../engine/types.js';
import { errorMessage, InputError } from '../engine/errors.js';
import { normaliseText, paragraphBlocks } from './normalise.js';
import type { RecordBatch } from './jsonl.js';

type MailParser = typeof import('mailparser');
let mailparserPromise: Promise<MailParser> | undefined;
/** Loaded on first use: only mail sources need it. */
function mailparser(): Promise<MailParser> {
  mailparserPromise ??= import('mailparser').then((m) => (m as unknown as { default?: MailParser }).default ?? m);
  return mailparserPromise;
}

/** Parses an attachment by its file name into a document, or null for types no connector reads. */
export type AttachmentParser = (bytes: Uint8Array, docId: string, filename: string) => Promise<ParsedDocument | null>;

export interface MailOptions {
  /** Document id of the message; attachments get `<id>/<file name>`. */
  docId: string;
  /** Shown as the source of the message and its attachments (a file, or `file:line` in an mbox). */
  source: string;
  connector: 'eml' | 'mbox';
  parseAttachment: AttachmentParser;
}

const stripAngles = (id: string) => id.trim().replace(/^<|>$/g, '');

/**
 * One message → its document plus one document per readable attachment, linked both ways through
 * metadata (`attachments` on the message, `attached_to` on each attachment). The thread id is the
 * first Message-ID in References (the thread's root), else In-Reply-To, else the message's own id,
 * so every message of a thread carries the same one. A body that does not decode in its declared
 * charset is an input error rather than indexed mojibake.
 */
export async function parseMessage(bytes: Uint8Array, opts: MailOptions): Promise<RecordBatch> {
  const { simpleParser } = await mailparser();
  let mail: Awaited<ReturnType<typeof simpleParser>>;
  try {
    mail = await simpleParser(Buffer.from(bytes), { skipImageLinks: true, skipTextToHtml: true, skipTextLinks: true });
  } catch (err) {
    throw new InputError(opts.source, undefined, `is not a readable e-mail message (${errorMessage(err).split('\n')[0]})`, 'Export the message again as .eml (RFC 5322).');
  }
  const body = mail.text ?? '';
  if (body.includes('\ufffd') || (mail.subject ?? '').includes('\ufffd')) {
    const ct = mail.headers.get('content-type') as { params?: { charset?: string } } | undefined;
    const charset = ct?.params?.charset;
    throw new InputError(
      opts.source,
      undefined,
      `has text that is not valid ${charset ? `in its declared charset (${charset})` : 'in its declared encoding'}: bytes could not be decoded`,
      'The sending program mislabelled the encoding; re-export the message, or fix its Content-Type charset.',
    );
  }
  const messageId = mail.messageId ? stripAngles(mail.messageId) : undefined;
  const refs = (Array.isArray(mail.references) ? mail.references : mail.references ? mail.references.split(/\s+/) : []).map(stripAngles).filter(Boolean);
  const threadId = refs[0] ?? (mail.inReplyTo ? stripAngles(mail.inReplyTo) : undefined) ?? messageId;
  const addresses = (a: typeof mail.to) => (a ? (Array.isArray(a) ? a : [a]).flatMap((x) => x.value.map((v) => (v.name ? `${v.name} <${v.address}>` : v.address ?? ''))).filter(Boolean) : []);
  const from = addresses(mail.from)[0];
  const to = addresses(mail.to);
  const cc = addresses(mail.cc);
  const date = mail.date && !Number.isNaN(mail.date.getTime()) ? mail.date.toISOString() : undefined;
  const subject = (mail.subject ?? '').trim();

  const batch: RecordBatch = { documents: [], failures: [] };
  const attachmentIds: string[] = [];
  const used = new Set<string>();
  for (const att of mail.attachments ?? []) {
    if (att.related) continue; // inline images of an HTML body
    const name = (att.filename ?? '').replace(/[\\/]/g, '_').trim();
    if (!name) continue;
    let id = `${opts.docId}/${name}`;
    for (let n = 2; used.has(id); n++) id = `${opts.docId}/${n}-${name}`;
    used.add(id);
    try {
      const doc = await opts.parseAttachment(att.content, id, name);
      if (!doc) continue;
      doc.source = opts.source;
      doc.metadata = { ...doc.metadata, attached_to: opts.docId, filename: name, ...(messageId ? { message_id: messageId } : {}), ...(threadId ? { thread_id: threadId } : {}) };
      batch.documents.push(doc);
      attachmentIds.push(id);
    } catch (err) {
      batch.failures.push({ source: opts.source, line: 0, error: `attachment "${name}": ${errorMessage(err).replace(`${id}: `, '')}` });
    }
  }

  const header = [from && `From: ${from}`, to.length && `To: ${to.join(', ')}`, cc.length && `Cc: ${cc.join(', ')}`, date && `Date: ${date.slice(0, 10)}`, subject && `Subject: ${subject}`]
    .filter(Boolean)
    .join('\n');
  const text = normaliseText(`${header}\n\n${body}`);
  const metadata: Record<string, unknown> = {};
  if (from) metadata.from = from;
  if (to.length) metadata.to = to;
  if (cc.length) metadata.cc = cc;
  if (date) metadata.date = date;
  if (messageId) metadata.message_id = messageId;
  if (threadId) metadata.thread_id = threadId;
  if (attachmentIds.length) metadata.attachments = attachmentIds;
  batch.documents.unshift({
    docId: opts.docId,
    source: opts.source,
    connector: opts.connector,
    title: subject || '(no subject)',
    text,
    blocks: paragraphBlocks(text),
    metadata,
  });
  return batch;
}

/** A message of an mbox: its raw bytes and the line its "From " separator is on. */
export interface MboxMessage {
  line: number;
  bytes: Buffer;
}

/**
 * Streams the messages of an mbox file: each starts at a line beginning with "From " after a
 * blank line (or at the top). ">From " quoting (mboxrd) is undone inside messages.
 */
export async function* readMbox(path: string): AsyncGenerator<MboxMessage> {
  let lineNo = 0;
  let current: Buffer[] = [];
  let start = 0;
  let prevBlank = true;
  let rest: Buffer = Buffer.alloc(0);
  const finish = (): MboxMessage | null => {
    const msg = current.length ? { line: start, bytes: Buffer.concat(current) } : null;
    current = [];
    return msg;
  };
  const take = function* (line: Buffer): Generator<MboxMessage> {
    lineNo++;
    const isSeparator = prevBlank && line.subarray(0, 5).toString('latin1') === 'From ';
    const trimmed = line.length && line[line.length - 1] === 13 ? line.subarray(0, line.length - 1) : line;
    prevBlank = trimmed.length === 0;
    if (isSeparator) {
      const msg = finish();
      if (msg) yield msg;
      start = lineNo;
      return;
    }
    if (lineNo === 1) start = 1; // an mbox without a leading separator: one bare message
    const unquoted = /^>+From /.test(trimmed.subarray(0, 64).toString('latin1')) ? line.subarray(1) : line;
    current.push(unquoted, Buffer.from('\n'));
  };
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    const data = rest.length ? Buffer.concat([rest, chunk]) : chunk;
    let from = 0;
    for (let nl = data.indexOf(10, from); nl !== -1; nl = data.indexOf(10, from)) {
      yield* take(data.subarray(from, nl));
      from = nl + 1;
    }
    rest = Buffer.from(data.subarray(from));
  }
  if (rest.length) yield* take(rest);
  const last = finish();
  if (last) yield last;
}
