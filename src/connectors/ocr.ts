import { spawn } from 'node:child_process';

/**
 * OCR through the tesseract command (Debian: tesseract-ocr + tesseract-ocr-eng), run as a
 * process: no native module to build, and the system's language packs are used as installed.
 */
export const TESSERACT_FIX = 'install it (Debian/Ubuntu: `apt-get install tesseract-ocr tesseract-ocr-eng`) and ingest again, or OCR the file first (e.g. `ocrmypdf in.pdf out.pdf`)';

let available: Promise<boolean> | undefined;

/** Whether `tesseract` can be run; asked once per process. */
export function tesseractAvailable(): Promise<boolean> {
  available ??= new Promise((resolve) => {
    const p = spawn('tesseract', ['--version'], { stdio: 'ignore' });
    p.on('error', () => resolve(false));
    p.on('close', (code) => resolve(code === 0));
  });
  return available;
}

export interface OcrOptions {
  /** Tesseract language packs, e.g. "eng" or "eng+deu". */
  languages: string;
  /** Resolution the page image was rendered at. */
  dpi: number;
}

export const DEFAULT_OCR: OcrOptions = { languages: 'eng', dpi: 300 };

/** Text of one page image (PNG bytes), as tesseract reads it. */
export function recognise(png: Uint8Array, opts: OcrOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    // One thread per tesseract: its OpenMP threads fight each other on a busy machine.
    const p = spawn('tesseract', ['stdin', 'stdout', '-l', opts.languages, '--dpi', String(opts.dpi)], {
      env: { ...process.env, OMP_THREAD_LIMIT: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    let err = '';
    p.stdout.on('data', (d: Buffer) => out.push(d));
    p.stderr.on('data', (d: Buffer) => (err += d.toString('utf8')));
    p.on('error', reject);
    p.on('close', (code) => {
      if (code === 0) resolve(Buffer.concat(out).toString('utf8'));
      else reject(new Error(`tesseract exited ${code}: ${err.split('\n').find((l) => /error|fail|cannot|could not/i.test(l)) ?? err.split('\n')[0]}`));
    });
    p.stdin.on('error', () => {}); // a tesseract that dies early closes its stdin: the exit code says why
    p.stdin.end(Buffer.from(png));
  });
}
