// Display-window presets of the viewer: the CT windows of src/data/intensity and data-driven choices for MR.
import { PRESETS } from '../data/intensity.ts';

export interface WindowPreset {
  id: string;
  label: string;
  /** Fixed range, or undefined when the range comes from the volume's summary. */
  range?: { low: number; high: number };
}

export const WINDOW_PRESETS: WindowPreset[] = [
  { id: 'auto', label: 'Auto (0.5–99.5 %)' },
  { id: 'minmax', label: 'Full range' },
  ...Object.values(PRESETS).flatMap((p) => (p.kind === 'window' ? [{ id: p.id, label: p.title, range: { low: p.low, high: p.high } }] : [])),
];
