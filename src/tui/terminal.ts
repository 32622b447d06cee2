/**
 * A full-screen terminal for the label session: the alternate screen, raw keys, and a redraw of
 * the whole frame on every key and every resize. Each view renders exactly the lines that fit the
 * current size, so nothing ever scrolls off and a resize simply draws the frame again.
 */
import { emitKeypressEvents } from 'node:readline';

export interface Size {
  columns: number;
  rows: number;
}

export interface Key {
  /** `up`, `pagedown`, `return`, `escape`, `backspace`, `space`, or the character typed. */
  name: string;
  /** The printable text of the key, if any. */
  ch?: string;
  ctrl?: boolean;
}

/** What is on screen: its lines for a size, and what a key does (undefined → stay and redraw). */
export interface View<T> {
  render(size: Size): string[];
  onKey(key: Key): T | undefined;
}

/** The terminal went away (closed window, EOF on stdin, hang-up) while a view waited for a key. */
export class TerminalClosed extends Error {
  constructor() {
    super('terminal closed');
    this.name = 'TerminalClosed';
  }
}

export class Terminal {
  private onKey?: (key: Key) => void;
  private onResize?: () => void;
  private onClose?: () => void;
  private active = false;
  private closed = false;

  constructor(
    private readonly input: NodeJS.ReadStream = process.stdin,
    private readonly output: NodeJS.WriteStream = process.stdout,
  ) {}

  start(): void {
    emitKeypressEvents(this.input);
    this.input.setRawMode?.(true);
    this.input.resume();
    this.input.on('keypress', this.keypress);
    this.input.on('end', this.close);
    this.output.on('resize', this.resize);
    this.write('\x1b[?1049h\x1b[?25l\x1b[H\x1b[2J');
    this.active = true;
  }

  /** Leaves the alternate screen and gives the terminal back as it was. Safe to call twice. */
  stop(): void {
    if (!this.active) return;
    this.active = false;
    this.input.off('keypress', this.keypress);
    this.input.off('end', this.close);
    this.output.off('resize', this.resize);
    this.write('\x1b[?25h\x1b[?1049l');
    try {
      this.input.setRawMode?.(false);
    } catch {
      // the terminal is already gone
    }
    this.input.pause();
  }

  size(): Size {
    return { columns: Math.max(20, this.output.columns || 80), rows: Math.max(6, this.output.rows || 24) };
  }

  /** Draws a frame: every line cleared to its end, nothing below the last line left over. */
  draw(lines: readonly string[]): void {
    this.write(`\x1b[H${lines.map((l) => `${l}\x1b[0m\x1b[K`).join('\r\n')}\x1b[J`);
  }

  /** Shows a view until a key gives a result; redraws after every other key and on resize. */
  next<T>(view: View<T>): Promise<T> {
    if (this.closed) return Promise.reject(new TerminalClosed());
    return new Promise<T>((resolve, reject) => {
      const redraw = () => this.draw(view.render(this.size()));
      const done = () => {
        this.onKey = undefined;
        this.onResize = undefined;
        this.onClose = undefined;
      };
      this.onKey = (key) => {
        let result: T | undefined;
        try {
          result = view.onKey(key);
        } catch (err) {
          done();
          reject(err as Error);
          return;
        }
        if (result === undefined) redraw();
        else {
          done();
          resolve(result);
        }
      };
      this.onResize = redraw;
      this.onClose = () => {
        done();
        reject(new TerminalClosed());
      };
      redraw();
    });
  }

  /** Ends a waiting view as if the terminal closed (a hang-up signal). */
  hangUp(): void {
    this.close();
  }

  private write(s: string): void {
    try {
      this.output.write(s);
    } catch {
      // writing to a terminal that has gone away
    }
  }

  private readonly keypress = (str: string | undefined, key: { name?: string; ctrl?: boolean; meta?: boolean; sequence?: string } | undefined) => {
    const name = key?.name ?? str ?? '';
    const printable = str !== undefined && str.length > 0 && !key?.ctrl && !key?.meta && !/[\x00-\x1f\x7f]/.test(str) ? str : undefined;
    this.onKey?.({ name: name === 'space' ? 'space' : printable && name.length <= 1 ? printable : name, ch: printable, ctrl: key?.ctrl });
  };

  private readonly resize = () => this.onResize?.();

  private readonly close = () => {
    this.closed = true;
    this.onClose?.();
  };
}
