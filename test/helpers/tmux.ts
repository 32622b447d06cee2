/**
 * Drives programs in real terminals: a private tmux server, one session per terminal, keys sent
 * as a person would type them and screens captured as they are drawn.
 */
import { spawnSync } from 'node:child_process';
import { BIN } from './cli.js';

export const hasTmux = spawnSync('tmux', ['-V']).status === 0;

export function requireTmux(file: string): void {
  if (!hasTmux && process.env.CI) throw new Error(`tmux is required for ${file} (apt-get install -y tmux); it must not be skipped in CI`);
}

export class Tmux {
  readonly socket = `rag-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  private kept = false;

  run(...args: string[]): string {
    const r = spawnSync('tmux', ['-L', this.socket, ...args], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`tmux ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  }

  /** Starts `rag ARGS` in a new terminal of the given size; the shell then prints EXIT=<code> and waits. */
  start(name: string, cwd: string, args: string[], size: { columns: number; rows: number }, env: Record<string, string> = {}): void {
    const vars = Object.entries({ LANCEDB_LOG: 'error', ...env }).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ');
    // tmux exits with its last session; a session started while it shuts down fails with "server
    // exited unexpectedly" (seen in CI after a test ended one session and began the next). An idle
    // session keeps the server up until killServer().
    if (!this.kept) {
      this.run('new-session', '-d', '-s', 'keep-server', 'sleep 3600');
      this.kept = true;
    }
    const cmd = `cd ${JSON.stringify(cwd)} && env ${vars} ${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} ${args.map((a) => JSON.stringify(a)).join(' ')}; echo "EXIT=$?"; sleep 600`;
    this.run('new-session', '-d', '-s', name, '-x', String(size.columns), '-y', String(size.rows), cmd);
  }

  screen(name: string, escapes = false): string {
    return this.run('capture-pane', '-p', ...(escapes ? ['-e'] : []), '-t', name);
  }

  press(name: string, ...keys: string[]): void {
    for (const k of keys) this.run('send-keys', '-t', name, k);
  }

  type(name: string, text: string): void {
    this.run('send-keys', '-t', name, '-l', text);
  }

  resize(name: string, columns: number, rows: number): void {
    this.run('resize-window', '-t', name, '-x', String(columns), '-y', String(rows));
  }

  stop(name: string): void {
    spawnSync('tmux', ['-L', this.socket, 'kill-session', '-t', name]);
  }

  killServer(): void {
    spawnSync('tmux', ['-L', this.socket, 'kill-server']);
    this.kept = false;
  }

  async waitFor(name: string, pred: (s: string) => boolean, what: string, ms = 30_000): Promise<string> {
    const end = Date.now() + ms;
    let s = '';
    while (Date.now() < end) {
      try {
        s = this.screen(name);
      } catch {
        s = '';
      }
      if (pred(s)) return s;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`timed out waiting for ${what}; screen of ${name}:\n${s}`);
  }
}
