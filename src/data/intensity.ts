// Intensity presets (CT windows, MRI percentile clipping, min–max) that map voxel values to [0, 1],
// and exact percentiles by histogram refinement (numpy's default 'linear' definition). Pure.
import type { VoxelArray } from '../core/types.ts';
import type { Volume } from '../nifti/types.ts';

export type PresetId = 'ct-abdomen' | 'ct-brain' | 'ct-bone' | 'ct-lung' | 'ct-soft-tissue' | 'mri-percentile' | 'minmax';

/** A fixed CT window in Hounsfield units: `low` → 0, `high` → 1. */
export interface WindowPreset { kind: 'window'; id: PresetId; title: string; low: number; high: number }
/** Clip at the given percentiles (0–100) of the volume, then scale. */
export interface PercentilePreset { kind: 'percentile'; id: PresetId; title: string; lowPct: number; highPct: number }
/** Scale the volume's minimum to 0 and maximum to 1. */
export interface MinMaxPreset { kind: 'minmax'; id: PresetId; title: string }
export type IntensityPreset = WindowPreset | PercentilePreset | MinMaxPreset;

export const PRESETS: Readonly<Record<PresetId, IntensityPreset>> = {
  // The paper's abdominal window (−175…250 HU).
  'ct-abdomen': { kind: 'window', id: 'ct-abdomen', title: 'CT abdomen (−175…250 HU)', low: -175, high: 250 },
  'ct-brain': { kind: 'window', id: 'ct-brain', title: 'CT brain (0…80 HU)', low: 0, high: 80 },
  'ct-bone': { kind: 'window', id: 'ct-bone', title: 'CT bone (−450…1050 HU)', low: -450, high: 1050 },
  'ct-lung': { kind: 'window', id: 'ct-lung', title: 'CT lung (−1350…150 HU)', low: -1350, high: 150 },
  'ct-soft-tissue': { kind: 'window', id: 'ct-soft-tissue', title: 'CT soft tissue (−160…240 HU)', low: -160, high: 240 },
  'mri-percentile': { kind: 'percentile', id: 'mri-percentile', title: 'MRI percentiles (0.5…99.5 %)', lowPct: 0.5, highPct: 99.5 },
  minmax: { kind: 'minmax', id: 'minmax', title: 'Min…max' },
};

export interface Range { low: number; high: number }

/** Window centre / width (radiology convention) of a range: centre = (low+high)/2, width = high−low. */
export function toCentreWidth(r: Range): { centre: number; width: number } {
  return { centre: (r.low + r.high) / 2, width: r.high - r.low };
}

export function fromCentreWidth(centre: number, width: number): Range {
  return { low: centre - width / 2, high: centre + width / 2 };
}

export interface RangeOptions {
  /** Use only this channel (0-based) of `data`; needs `channels`. */
  channel?: number;
  /** Number of channels stored one after another in `data` (NIfTI 4th axis). */
  channels?: number;
}

/** The voxels of one channel of a volume (a view, not a copy). */
export function channelData(volume: Volume, channel: number): VoxelArray {
  return selectChannel(volume.data, { channel, channels: volume.channels }, volume.name);
}

function selectChannel(data: VoxelArray, opts: RangeOptions | undefined, what = 'data'): VoxelArray {
  if (opts?.channel === undefined) return data;
  const channels = opts.channels ?? 1;
  const { channel } = opts;
  if (!Number.isInteger(channel) || channel < 0 || channel >= channels || data.length % channels !== 0) {
    throw new Error(`${what}: channel ${channel} requested but the data (${data.length} values) holds ${channels} channel(s).`);
  }
  const n = data.length / channels;
  return data.subarray(channel * n, (channel + 1) * n);
}

/** The (low, high) range a preset maps to [0, 1] for this data. Non-finite values are ignored. */
export function computeRange(preset: IntensityPreset | PresetId, data: VoxelArray, opts?: RangeOptions): Range {
  const p = typeof preset === 'string' ? PRESETS[preset] : preset;
  if (!p) throw new Error(`computeRange: unknown preset '${String(preset)}'; expected one of ${Object.keys(PRESETS).join(', ')}.`);
  if (p.kind === 'window') return { low: p.low, high: p.high };
  const d = selectChannel(data, opts);
  if (p.kind === 'minmax') {
    const s = scan(d);
    if (s.finite === 0) throw new Error('computeRange: no finite values to take min…max of.');
    return { low: s.min, high: s.max };
  }
  const [low, high] = percentiles(d, [p.lowPct, p.highPct]);
  return { low, high };
}

/** Clips to `range` and scales to [0, 1]. An empty range (high ≤ low) maps values ≤ low to 0 and others to 1. */
export function normalize(data: VoxelArray, range: Range, out = new Float32Array(data.length)): Float32Array {
  if (out.length !== data.length) throw new Error(`normalize: out has ${out.length} values, expected ${data.length}.`);
  const { low, high } = range;
  if (!(high > low)) {
    for (let i = 0; i < data.length; i++) out[i] = data[i] > low ? 1 : 0;
    return out;
  }
  const scale = 1 / (high - low);
  for (let i = 0; i < data.length; i++) {
    const t = (data[i] - low) * scale;
    out[i] = t <= 0 ? 0 : t >= 1 ? 1 : t; // NaN falls to the last branch; callers pass finite data
  }
  return out;
}

/**
 * Percentiles (0–100) of the finite values, exactly as numpy's default `np.percentile(x, p)`
 * ('linear' method): sort x (n values), h = (n−1)·p/100, result = x[⌊h⌋] + (h−⌊h⌋)·(x[⌊h⌋+1] − x[⌊h⌋]).
 */
export function percentiles(data: VoxelArray, ps: readonly number[]): number[] {
  for (const p of ps) {
    if (!(p >= 0 && p <= 100)) throw new Error(`percentiles: ${p} is not a percentile; expected 0…100.`);
  }
  const s = scan(data);
  if (s.finite === 0) throw new Error(`percentiles: no finite values among ${data.length}.`);
  const n = s.finite;
  const ranks = new Set<number>();
  const plan = ps.map((p) => {
    const h = ((n - 1) * p) / 100;
    const lo = Math.floor(h);
    const hi = Math.min(lo + 1, n - 1);
    ranks.add(lo);
    ranks.add(hi);
    return { lo, hi, frac: h - lo };
  });
  const values = orderStatistics(data, [...ranks], s);
  return plan.map(({ lo, hi, frac }) => {
    const a = values.get(lo)!, b = values.get(hi)!;
    return frac === 0 ? a : a + frac * (b - a);
  });
}

interface Scan { min: number; max: number; finite: number }

function scan(data: VoxelArray): Scan {
  let min = Infinity, max = -Infinity, finite = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v - v !== 0) continue; // NaN or ±Inf
    finite++;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { min, max, finite };
}

const BINS = 4096;
const COLLECT_LIMIT = 1 << 16;

interface Task { lo: number; hi: number; below: number; count: number; ranks: number[] }

/**
 * The k-th smallest finite values (0-based ranks), exact. Integer data spanning ≤ 65536 values is counted
 * directly; otherwise a 4096-bin histogram (with per-bin min/max) narrows each rank to a value interval,
 * refined until it holds few values, which are then sorted.
 */
function orderStatistics(data: VoxelArray, ranks: number[], s: Scan): Map<number, number> {
  const out = new Map<number, number>();
  const integer = !(data instanceof Float32Array || data instanceof Float64Array);
  if (integer && s.max - s.min < 65536) {
    const hist = new Uint32Array(s.max - s.min + 1); // a typed array holds < 2³² values
    for (let i = 0; i < data.length; i++) hist[data[i] - s.min]++;
    const sorted = [...ranks].sort((a, b) => a - b);
    let cum = 0, r = 0;
    for (let b = 0; b < hist.length && r < sorted.length; b++) {
      cum += hist[b];
      while (r < sorted.length && sorted[r] < cum) out.set(sorted[r++], s.min + b);
    }
    return out;
  }
  let tasks: Task[] = [{ lo: s.min, hi: s.max, below: 0, count: s.finite, ranks }];
  while (tasks.length > 0) {
    const next: Task[] = [];
    const collect: Task[] = [];
    const refine: Task[] = [];
    for (const t of tasks) {
      if (t.lo === t.hi) for (const k of t.ranks) out.set(k, t.lo);
      else (t.count <= COLLECT_LIMIT ? collect : refine).push(t);
    }
    // One tight pass per task: faster than one pass testing every task (there are only a few).
    for (const t of collect) {
      const buf = new Float64Array(t.count);
      const { lo, hi } = t;
      let fill = 0;
      for (let i = 0; i < data.length; i++) {
        const v = data[i];
        if (v >= lo && v <= hi) buf[fill++] = v;
      }
      buf.sort();
      for (const k of t.ranks) out.set(k, buf[k - t.below]);
    }
    for (const t of refine) {
      const count = new Float64Array(BINS);
      const bmin = new Float64Array(BINS).fill(Infinity);
      const bmax = new Float64Array(BINS).fill(-Infinity);
      const { lo, hi } = t;
      const scale = BINS / (hi - lo);
      for (let i = 0; i < data.length; i++) {
        const v = data[i];
        if (v >= lo && v <= hi) {
          // NOTE: bin = ⌊(v−lo)·scale⌋ is monotone in v, so each bin is a contiguous run of the sorted
          // values and [binMin, binMax] selects exactly that run at the next level.
          let b = ((v - lo) * scale) | 0; // v ≥ lo, so truncation is ⌊·⌋
          if (b >= BINS) b = BINS - 1;
          count[b]++;
          if (v < bmin[b]) bmin[b] = v;
          if (v > bmax[b]) bmax[b] = v;
        }
      }
      const sorted = [...t.ranks].sort((a, b) => a - b);
      let cum = t.below, r = 0;
      for (let b = 0; b < BINS && r < sorted.length; b++) {
        const start = cum;
        cum += count[b];
        const inBin: number[] = [];
        while (r < sorted.length && sorted[r] < cum) inBin.push(sorted[r++]);
        if (inBin.length > 0) next.push({ lo: bmin[b], hi: bmax[b], below: start, count: count[b], ranks: inBin });
      }
    }
    tasks = next;
  }
  return out;
}

/** Suggests a preset: a CT window when the values look like Hounsfield units, else MRI percentile clipping. */
export function suggestPreset(volume: Volume): { preset: PresetId; reason: string } {
  const s = scan(volume.data);
  if (s.finite === 0) return { preset: 'minmax', reason: `${volume.name} has no finite values.` };
  // NOTE: HU data reaches air at about −1000 (padding down to −3024 on some scanners) and stays below
  // ~4000 except for metal; a real CT has a visible share of air/lung voxels (≤ −500), not one outlier.
  // MRI is rarely negative at all, and z-scored MRI stays within a few units of 0.
  const looksHu = s.min <= -500 && s.min >= -4000 && s.max <= 32767 && shareAtMost(volume.data, -500) >= 0.005;
  if (looksHu) {
    return { preset: 'ct-abdomen', reason: `${volume.name}: values ${s.min}…${s.max} look like CT Hounsfield units.` };
  }
  return { preset: 'mri-percentile', reason: `${volume.name}: values ${s.min}…${s.max} do not look like CT Hounsfield units.` };
}

/** Fraction of (up to ~10000 sampled) values that are ≤ t. */
function shareAtMost(data: VoxelArray, t: number): number {
  const step = Math.max(1, Math.floor(data.length / 10000));
  let hits = 0, seen = 0;
  for (let i = 0; i < data.length; i += step, seen++) if (data[i] <= t) hits++;
  return hits / seen;
}
