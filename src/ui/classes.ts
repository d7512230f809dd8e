// Class names and colours for a case: the loaded lookup table, else defaults; palette buffers for the renderer.
import { classColor, defaultClassName } from '../data/labels.ts';
import type { ClassTable } from '../store/store.ts';

export function className(table: ClassTable, value: number): string {
  return table.names[value] ?? defaultClassName(value);
}

export function colorOf(table: ClassTable, value: number): [number, number, number] {
  return table.colors?.[value] ?? classColor(value);
}

/** RGB triplets indexed by label value, for every value up to `maxValue`. */
export function paletteFor(table: ClassTable, maxValue: number): Uint8Array {
  const p = new Uint8Array((maxValue + 1) * 3);
  for (let v = 1; v <= maxValue; v++) p.set(colorOf(table, v), v * 3);
  return p;
}
