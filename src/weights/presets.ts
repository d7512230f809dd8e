// The encoder presets of models/presets.json, typed: the real Hugging Face checkpoints the app offers by name.
import raw from '../../models/presets.json';
import type { Family } from './types.ts';

export interface Preset {
  id: string;
  /** Hugging Face repo id. */
  repo: string;
  family: Family;
  title: string;
  file: string;
  params: number;
  approxBytes: number;
  licence: string;
  description: string;
}

/** Hub presets (the test-only 'micro' entry, which points at a repo file, is left out). */
export const PRESETS: Preset[] = (raw.presets as Preset[]).filter((p) => /^[\w.-]+\/[\w.-]+$/.test(p.repo) && !p.repo.startsWith('test/'));
