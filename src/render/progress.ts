/** A single-line progress counter on stderr, only on a TTY; nothing otherwise. */
export class Progress {
  private started = performance.now();
  private last = 0;
  constructor(
    private readonly enabled: boolean,
    private readonly label: string,
  ) {}

  update(done: number, total?: number, unit = 'items'): void {
    if (!this.enabled) return;
    const now = performance.now();
    if (now - this.last < 100 && done !== total) return;
    this.last = now;
    const secs = (now - this.started) / 1000;
    const rate = done / Math.max(secs, 1e-6);
    let line = `${this.label}: ${done}${total ? `/${total}` : ''} ${unit}, ${rate.toFixed(rate < 10 ? 1 : 0)} ${unit}/s`;
    if (total && done > 0 && done < total) line += `, ETA ${formatSeconds((total - done) / rate)}`;
    process.stderr.write(`\r\x1b[2K${line}`);
  }

  done(): void {
    if (this.enabled) process.stderr.write('\r\x1b[2K');
  }
}

export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${s.toFixed(0)}s`;
  return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
}
