import Table from 'cli-table3';

export type ColorMode = 'auto' | 'always' | 'never';
let colorMode: ColorMode = 'auto';

/** `--color`: set once per process, before a command renders anything. */
export function setColorMode(mode: ColorMode): void {
  colorMode = mode;
}

/** auto: colour only on a terminal, and never when NO_COLOR is set (https://no-color.org). */
export function useColor(stream: NodeJS.WriteStream = process.stdout): boolean {
  if (colorMode !== 'auto') return colorMode === 'always';
  return Boolean(stream.isTTY) && !process.env.NO_COLOR;
}

/** A cli-table3 table with the house style: plain when piped, coloured on a terminal. */
export function makeTable(head: string[], extra: ConstructorParameters<typeof Table>[0] = {}): InstanceType<typeof Table> {
  const color = useColor();
  return new Table({ head, style: { head: color ? ['cyan'] : [], border: color ? ['grey'] : [] }, ...extra });
}
