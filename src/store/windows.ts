// Display-window presets of the viewer: CT windows in HU and data-driven choices for MR.
import { CT_WINDOWS } from '../data/intensity.ts';

export interface WindowPreset {
  id: string;
  label: string;
  /** Fixed range, or undefined when the range comes from the volume's summary. */
  range?: { low: number; high: number };
}

export const WINDOW_PRESETS: WindowPreset[] = [
  { id: 'auto', label: 'Auto (0.5–99.5 %)' },
  { id: 'minmax', label: 'Full range' },
  ...Object.entries(CT_WINDOWS).map(([id, w]) => ({ id: `ct-${id}`, label: `CT ${w.label} (${w.low}…${w.high} HU)`, range: { low: w.low, high: w.high } })),
];
