// Small number formatting for the UI.
import type { Vec3 } from '../core/types.ts';

export const formatDims = (d: Vec3) => d.join('×');
export const formatSpacing = (s: Vec3) => `${s.map((x) => trim(x)).join('×')} mm`;
export function trim(x: number, digits = 2): string {
  return Number.isInteger(x) ? String(x) : x.toFixed(digits).replace(/\.?0+$/, '');
}
export function formatValue(x: number): string {
  if (Number.isInteger(x)) return String(x);
  const a = Math.abs(x);
  return a >= 1000 || a < 0.01 ? x.toPrecision(4) : x.toFixed(2);
}
