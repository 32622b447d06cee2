import Table from 'cli-table3';

/** Colour only for a terminal that wants it (NO_COLOR respected). */
export function useColor(stream: NodeJS.WriteStream = process.stdout): boolean {
  return Boolean(stream.isTTY) && !process.env.NO_COLOR;
}

/** A cli-table3 table with the house style: plain when piped, coloured on a terminal. */
export function makeTable(head: string[], extra: ConstructorParameters<typeof Table>[0] = {}): InstanceType<typeof Table> {
  const color = useColor();
  return new Table({ head, style: { head: color ? ['cyan'] : [], border: color ? ['grey'] : [] }, ...extra });
}
