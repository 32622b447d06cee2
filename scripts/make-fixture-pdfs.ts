/**
 * Writes the fixture PDFs in fixtures/pdf/ with a tiny hand-rolled PDF 1.4 writer (Helvetica,
 * WinAnsi, one content stream per page), so the corpus is reproducible and entirely our own text.
 * Run: npx tsx scripts/make-fixture-pdfs.ts
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

type Line = { text: string; size: number; bold?: boolean } | { gap: true };
export interface PdfSpec {
  file: string;
  title?: string;
  author?: string;
  pages: string[]; // page source: lines starting with "# " are headings, blank line = paragraph break
}

const PAGE_W = 612;
const PAGE_H = 792;
const MARGIN = 72;
const WRAP = 88;

function wrap(paragraph: string): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of paragraph.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > WRAP) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

function layout(page: string): Line[] {
  const out: Line[] = [];
  for (const para of page.trim().split(/\n\s*\n/)) {
    if (out.length) out.push({ gap: true });
    if (para.startsWith('# ')) out.push({ text: para.slice(2).trim(), size: 15, bold: true });
    else for (const l of wrap(para)) out.push({ text: l, size: 11 });
  }
  return out;
}

function escapePdfString(s: string): string {
  if (/[^\x20-\x7e]/.test(s)) throw new Error(`fixture text must be printable ASCII: ${JSON.stringify(s)}`);
  return s.replace(/[\\()]/g, (c) => `\\${c}`);
}

function contentStream(lines: Line[]): string {
  const ops: string[] = ['BT'];
  let y = PAGE_H - MARGIN;
  for (const l of lines) {
    if ('gap' in l) {
      y -= 10;
      continue;
    }
    y -= l.size + 4;
    ops.push(`/${l.bold ? 'F2' : 'F1'} ${l.size} Tf`);
    ops.push(`1 0 0 1 ${MARGIN} ${y} Tm`);
    ops.push(`(${escapePdfString(l.text)}) Tj`);
  }
  ops.push('ET');
  return ops.join('\n');
}

export function buildPdf(spec: PdfSpec): Buffer {
  const objects: string[] = [];
  const add = (body: string) => objects.push(body); // object number = index + 1
  const nPages = spec.pages.length;
  // 1 catalog, 2 pages, 3 F1, 4 F2, then (page, content) pairs, then info.
  const pageObj = (i: number) => 5 + i * 2;
  add('<< /Type /Catalog /Pages 2 0 R >>');
  add(`<< /Type /Pages /Kids [${spec.pages.map((_, i) => `${pageObj(i)} 0 R`).join(' ')}] /Count ${nPages} >>`);
  add('<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>');
  add('<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>');
  spec.pages.forEach((page, i) => {
    const stream = contentStream(layout(page));
    add(
      `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 ${PAGE_W} ${PAGE_H}] ` +
        `/Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents ${pageObj(i) + 1} 0 R >>`,
    );
    add(`<< /Length ${Buffer.byteLength(stream, 'latin1')} >>\nstream\n${stream}\nendstream`);
  });
  let infoRef = '';
  if (spec.title || spec.author) {
    const fields = [
      spec.title ? `/Title (${escapePdfString(spec.title)})` : '',
      spec.author ? `/Author (${escapePdfString(spec.author)})` : '',
      '/Producer (acme fixture writer)',
    ];
    add(`<< ${fields.filter(Boolean).join(' ')} >>`);
    infoRef = ` /Info ${objects.length} 0 R`;
  }

  let out = '%PDF-1.4\n%\xe2\xe3\xcf\xd3\n';
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(Buffer.byteLength(out, 'latin1'));
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = Buffer.byteLength(out, 'latin1');
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const off of offsets) out += `${String(off).padStart(10, '0')} 00000 n \n`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R${infoRef} >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

const SPECS: PdfSpec[] = [
  {
    file: 'security-whitepaper.pdf',
    title: 'Acme Cloud Security Whitepaper',
    author: 'Acme Cloud Security Team',
    pages: [
      `# Acme Cloud Security Whitepaper

This whitepaper describes how Acme Cloud protects customer data across the platform. It is written for security reviewers, procurement teams and auditors who need to understand our controls before signing a contract.

# Encryption

All customer data is encrypted at rest with AES-256-GCM. Each workspace has its own data encryption key, which is wrapped by a key encryption key held in a hardware security module. Keys are rotated every 90 days and on demand after an incident.

Data in transit is protected with TLS 1.3. Older protocol versions are refused at the load balancer, and HTTP Strict Transport Security is enabled with a one year max-age on every public endpoint.`,
      `# Access control

Acme Cloud staff have no standing access to customer workspaces. An engineer who needs access to debug a support case requests a break-glass session, which must be approved by a second engineer and expires after four hours. Every break-glass session is recorded in the customer-visible audit log.

Customer administrators control access with roles (Owner, Admin, Member, Viewer) and can enforce single sign-on with SAML 2.0 or OIDC. SCIM provisioning removes a user's access within one minute of deprovisioning in the identity provider.

# Compliance

Acme Cloud holds a SOC 2 Type II report covering security, availability and confidentiality, renewed every twelve months, and is certified against ISO/IEC 27001:2022. Reports are available under NDA from the trust portal.`,
      `# Data residency

Customers choose where their data lives when they create a workspace: the US region us-east-2 (Ohio) or the EU region fra-1 (Frankfurt). Data never leaves the chosen region, including backups, which are stored in a second availability zone of the same region.

# Vulnerability disclosure

We run a public bug bounty programme. Report vulnerabilities to security@acme.example; we acknowledge reports within two business days and pay rewards of up to 15,000 US dollars for critical findings. The programme mascot is the Quokka, and researchers who find a critical issue receive the Golden Quokka award in our hall of fame.`,
    ],
  },
  {
    file: 'sla.pdf',
    // No /Title on purpose: the connector must fall back to the first line of text.
    pages: [
      `# Acme Cloud Service Level Agreement

This Service Level Agreement applies to paid Acme Cloud subscriptions. It defines the monthly uptime commitment, how downtime is measured, and the service credits a customer can claim when we miss the commitment.

# Uptime commitment

Acme Cloud commits to a Monthly Uptime Percentage of 99.9 percent on the Team plan, 99.95 percent on the Business plan and 99.99 percent on the Enterprise plan. The Free plan has no uptime commitment.

Uptime is measured by synthetic probes that call the API from three regions every minute. A minute counts as downtime when more than five percent of probe requests fail with a server error or time out after 30 seconds.`,
      `# Service credits

If the Monthly Uptime Percentage falls below the commitment, the customer is entitled to a service credit: 10 percent of the monthly fee below the commitment, 25 percent below 99.0 percent, and 50 percent below 95.0 percent. Service credits are applied to the next invoice and are never paid out in cash.

# How to claim a credit

To claim a service credit, open a support ticket within 30 days of the end of the affected month, with the subject line "SLA credit request" and the workspace ID. Claims filed after 30 days are not eligible.`,
      `# Exclusions

The uptime commitment does not cover downtime caused by scheduled maintenance announced at least 72 hours in advance, by the customer's own integrations exceeding rate limits, by force majeure events, or by features labelled as beta or preview.

Scheduled maintenance windows are Sundays between 02:00 and 04:00 UTC and are announced on the status page at status.acme.example.`,
    ],
  },
  {
    file: 'release-notes-2024.pdf',
    title: 'Acme Cloud Release Notes 2024',
    author: 'Acme Cloud Product Team',
    pages: [
      `# Release 3.2 (March 2024)

Workspaces can now export audit logs continuously to an S3 bucket. Configure the destination under Settings, Audit log, Streaming.

The command line tool gains the acme keys rotate command, which creates a new API key, prints it once, and schedules the old key to expire after a grace period of 24 hours.`,
      `# Release 3.3 (June 2024)

Webhook deliveries are now signed with HMAC-SHA256 using a per-endpoint signing secret, sent in the Acme-Signature header. Unsigned webhooks are deprecated and will stop on 1 December 2024.

The per-workspace API rate limit for the Business plan increases from 600 to 1,200 requests per minute.`,
      `# Release 3.4 (October 2024)

Point-in-time restore is generally available for all paid plans: restore a workspace to any minute within the last 14 days. The Enterprise plan extends the window to 35 days.

Invoices can now be downloaded as PDF or CSV from the Billing page, and finance contacts can be added without granting them Admin access.`,
    ],
  },
];

// Only write files when run as a script, so other scripts can import buildPdf.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'pdf');
  mkdirSync(root, { recursive: true });
  for (const spec of SPECS) {
    writeFileSync(join(root, spec.file), buildPdf(spec));
    console.log(`wrote fixtures/pdf/${spec.file} (${spec.pages.length} pages)`);
  }
}
