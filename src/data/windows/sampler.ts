// Training/validation batches of slice windows: candidate slices per case, foreground-favouring seeded
// sampling, split by case (or by slab for a single case), resize + augmentation. Pure, typed arrays.
import type { Volume } from '../../nifti/types.ts';
import { suggestPreset, type IntensityPreset, type PresetId, type Range } from '../intensity.ts';
import { augment, DEFAULT_AUGMENT, type AugmentOptions } from './augment.ts';
import { resizeArea, resizeBilinear, resizeNearest } from './resize.ts';
import { makeRng, mixSeed, type Rng } from './rng.ts';
import { channelRanges, checkSameGrid, classCountsPerSlice, foregroundCounts, labelSlice, planeOf, sliceWindow, type SliceAxis } from './window.ts';

export interface SamplerCase {
  id: string;
  volume: Volume;
  label: Volume;
  split: 'train' | 'val';
  /** Intensity range per channel; computed once from `opts.preset` when absent. */
  ranges?: Range[];
}

export interface SamplerOptions {
  /** Voxel axis the windows run along (2 = axial on a RAS+ grid). */
  axis: SliceAxis;
  /** Slices per window (odd; 5 in the paper, 1 for the 2D baseline). */
  T: number;
  /** In-plane side after resizing. */
  size: number;
  /** Windows per training batch. */
  batch: number;
  seed: number;
  /** Share of training draws taken among slices with foreground (when any exist). */
  foregroundFraction?: number;
  /** Intensity preset for cases without `ranges`; default: `suggestPreset` of each volume. */
  preset?: IntensityPreset | PresetId;
  /** Training augmentations; false for none. Default: the reference settings. */
  augment?: AugmentOptions | false;
  /** Share of slices held out when a single case is split by slab (default 0.2). */
  valFraction?: number;
  /**
   * Slabs the held-out share of a single case is cut into, spread evenly over its labelled slices (default 3). One
   * slab holds out a contiguous block, which asks the model to extrapolate to anatomy it never saw near; spread slabs
   * ask it to segment unseen slices between training ones, which is what one labelled volume can show.
   */
  valSlabs?: number;
  /**
   * How images reach size×size (labels always by nearest): 'bilinear' (default) or 'area', the reference's choice,
   * which averages instead of aliasing when shrinking a lot (e.g. 512 → 128).
   */
  imageResize?: 'bilinear' | 'area';
}

export interface SliceRef { caseId: string; index: number }

/** A batch: x [B, T, S, S, C] (C fastest), y [B, S, S] labels of the centre slices, in-plane layout as `planeOf`. */
export interface Batch {
  x: Float32Array;
  y: Int32Array;
  ids: string[];
  refs: SliceRef[];
  shape: [B: number, T: number, S: number, S: number, C: number];
}

export interface Sampler {
  /** The next training batch (always `batch` windows, augmented): `batchAt` of a counter starting at 0. */
  next(): Batch;
  /**
   * Training batch number `step`, a pure function of (seed, step): a run resumed at step k draws exactly the batches
   * an uninterrupted run would have drawn. Moves the `next()` counter to step + 1.
   */
  batchAt(step: number): Batch;
  /** Validation windows in case/slice order, not augmented; the last batch may be smaller. */
  validation(batch?: number): Generator<Batch>;
  train: SliceRef[];
  val: SliceRef[];
  /** Foreground voxels per slice along the axis, per case id. */
  foreground: Map<string, Int32Array>;
  channels: number;
  /** What the sampler decided (split, ranges, foreground share), for the log. */
  notes: string[];
  /** Intensity preset id used for each case (recorded in checkpoints). */
  presets: Record<string, string>;
}

interface Prepared { c: SamplerCase; ranges: Range[]; H: number; W: number; depth: number }

const refId = (r: SliceRef) => `${r.caseId}:${r.index}`;
const range = (a: number, b: number) => Array.from({ length: Math.max(0, b - a) }, (_, i) => a + i);

export function makeSampler(cases: readonly SamplerCase[], opts: SamplerOptions): Sampler {
  const { axis, T, size, batch } = opts;
  const fgFrac = opts.foregroundFraction ?? 0.7;
  const aug = opts.augment === undefined ? DEFAULT_AUGMENT : opts.augment;
  if (cases.length === 0) throw new Error('makeSampler: no cases.');
  if (!(Number.isInteger(size) && size >= 1)) throw new Error(`makeSampler: size = ${size}, expected an integer ≥ 1.`);
  if (!(Number.isInteger(batch) && batch >= 1)) throw new Error(`makeSampler: batch = ${batch}, expected an integer ≥ 1.`);
  if (!(Number.isInteger(T) && T >= 1 && T % 2 === 1)) throw new Error(`makeSampler: T = ${T}, expected an odd integer ≥ 1.`);
  if (!(fgFrac >= 0 && fgFrac <= 1)) throw new Error(`makeSampler: foregroundFraction = ${fgFrac}, expected 0…1.`);
  const notes: string[] = [];
  const channels = cases[0].volume.channels;
  const ids = new Set<string>();
  const byId = new Map<string, Prepared>();
  const foreground = new Map<string, Int32Array>();
  const presets: Record<string, string> = {};
  for (const c of cases) {
    if (ids.has(c.id)) throw new Error(`makeSampler: case id '${c.id}' appears twice.`);
    ids.add(c.id);
    checkSameGrid(c.volume, c.label);
    if (c.volume.channels !== channels) {
      throw new Error(`makeSampler: ${c.volume.name} has ${c.volume.channels} channel(s), ${cases[0].volume.name} has ${channels}.`);
    }
    const preset = opts.preset ?? suggestPreset(c.volume).preset;
    const ranges = c.ranges ?? channelRanges(c.volume, preset);
    presets[c.id] = c.ranges ? 'given' : typeof preset === 'string' ? preset : preset.id;
    const p = planeOf(c.volume.dims, axis);
    byId.set(c.id, { c, ranges, H: p.H, W: p.W, depth: p.depth });
    foreground.set(c.id, foregroundCounts(c.label, axis));
    if (!c.ranges) notes.push(`${c.id}: intensities ${ranges.map((r) => `${fmt(r.low)}…${fmt(r.high)}`).join(', ')} → 0…1 (${typeof preset === 'string' ? preset : preset.id}).`);
  }

  // Split: by case; a single case with none for validation is split by slab along the axis.
  const train: SliceRef[] = [], val: SliceRef[] = [];
  const trainCases = cases.filter((c) => c.split === 'train');
  const valCases = cases.filter((c) => c.split === 'val');
  if (trainCases.length === 0) throw new Error('makeSampler: no training case (every case has split "val").');
  if (valCases.length === 0 && cases.length === 1) {
    const c = cases[0];
    const depth = byId.get(c.id)!.depth;
    const nVal = Math.max(1, Math.round((opts.valFraction ?? 0.2) * depth));
    const split = splitSingleCase(c.label, axis, nVal, T, opts.valSlabs ?? 3);
    if (!split) throw new Error(`makeSampler: ${c.id} has ${depth} slices along axis ${axis}, too few to hold out ${nVal} with a gap of ${T}.`);
    for (const i of range(0, depth)) {
      if (split.role[i] === 'val') val.push({ caseId: c.id, index: i });
      else if (split.role[i] === 'train') train.push({ caseId: c.id, index: i });
    }
    notes.push(`${c.id} is the only labelled case: ${split.describe} along axis ${axis} ` +
      `(${val.length} of ${depth}, holding ${split.classes} of the ${split.total} label values), ${split.gapNote}`);
  } else {
    for (const c of trainCases) for (const i of range(0, byId.get(c.id)!.depth)) train.push({ caseId: c.id, index: i });
    for (const c of valCases) for (const i of range(0, byId.get(c.id)!.depth)) val.push({ caseId: c.id, index: i });
    notes.push(valCases.length === 0
      ? `No validation case among ${cases.length}: nothing is held out.`
      : `Split by case: ${trainCases.length} training, ${valCases.length} validation.`);
  }
  const withFg = train.filter((r) => foreground.get(r.caseId)![r.index] > 0);
  notes.push(`${withFg.length} of ${train.length} training slices hold foreground; ${Math.round(fgFrac * 100)} % of draws come from them` +
    (withFg.length === 0 ? ' (none: draws are uniform).' : '.'));

  let counter = 0;
  const windowLen = T * size * size * channels;

  /** Window and label of one slice, resized to size×size (augmented with the sampler's stream when asked), into batch slot b. */
  const load = (ref: SliceRef, x: Float32Array, y: Int32Array, b: number, augmentWith: boolean, rng: Rng): void => {
    const p = byId.get(ref.caseId)!;
    const win = sliceWindow(p.c.volume, axis, ref.index, T, { ranges: p.ranges });
    let wx = (opts.imageResize === 'area' ? resizeArea : resizeBilinear)(win, [T, p.H, p.W, channels], size, size);
    let wy = resizeNearest(labelSlice(p.c.label, axis, ref.index), [1, p.H, p.W, 1], size, size);
    if (augmentWith && aug) ({ x: wx, y: wy } = augment(wx, wy, { T, size, C: channels }, rng, aug));
    x.set(wx, b * windowLen);
    y.set(wy, b * size * size);
  };

  const assemble = (refs: SliceRef[], augmentWith: boolean, rng: Rng): Batch => {
    const B = refs.length;
    const x = new Float32Array(B * windowLen), y = new Int32Array(B * size * size);
    refs.forEach((r, b) => load(r, x, y, b, augmentWith, rng));
    return { x, y, ids: refs.map(refId), refs, shape: [B, T, size, size, channels] };
  };

  const batchAt = (step: number): Batch => {
    if (!(Number.isInteger(step) && step >= 0)) throw new Error(`sampler.batchAt: step ${step}, expected an integer ≥ 0.`);
    // NOTE: one stream per step, seeded from (seed, step), so that resuming at any step needs no replay.
    const rng = makeRng(mixSeed(opts.seed) ^ mixSeed(step + 0x51ed27));
    const refs: SliceRef[] = [];
    for (let b = 0; b < batch; b++) {
      const pool = withFg.length > 0 && rng.chance(fgFrac) ? withFg : train;
      refs.push(pool[rng.int(pool.length)]);
    }
    counter = step + 1;
    return assemble(refs, true, rng);
  };

  return {
    next: () => batchAt(counter),
    batchAt,
    *validation(vb = batch) {
      const none = makeRng(0); // validation is not augmented: the stream is never read
      for (let i = 0; i < val.length; i += vb) yield assemble(val.slice(i, i + vb), false, none);
    },
    train, val, foreground, channels, notes, presets,
  };
}

type SliceRole = 'train' | 'val' | 'gap';

/**
 * The held-out slices of a single case. One slab (`k` = 1): the old contiguous block (`validationSlab`), with a gap of
 * T slices on each side. Several: `spreadSlabs`, with a gap of ⌊T/2⌋ on each side — exactly what keeps every training
 * window (centre ± ⌊T/2⌋) off the validation slices. Falls back to one slab when the spread does not fit.
 */
function splitSingleCase(label: Volume, axis: SliceAxis, n: number, T: number, k: number):
  { role: SliceRole[]; describe: string; gapNote: string; classes: number; total: number } | null {
  const depth = label.dims[axis];
  const spread = k > 1 ? spreadSlabs(label, axis, n, T, k) : null;
  if (spread) {
    const g = Math.floor(T / 2);
    const role = Array.from(spread.role, (r): SliceRole => (r === 2 ? 'val' : r === 1 ? 'gap' : 'train'));
    const slabs = spread.starts.map((s) => `${s}…${s + spread.width - 1}`).join(', ');
    return {
      role, classes: spread.classes, total: spread.total,
      describe: `validation is ${spread.starts.length} slabs spread through the labelled slices (${slabs})`,
      gapNote: `training the other slices but ${g} on each side of each slab, so no training window reads a validation slice. ` +
        'Held-out slices lie between training ones: this shows the model segmenting unseen slices of this volume; add a second labelled case for a validation of unseen anatomy.',
    };
  }
  const slab = validationSlab(label, axis, n, T);
  if (!slab) return null;
  const role: SliceRole[] = Array.from({ length: depth }, (_, i) =>
    i >= slab.start && i < slab.start + n ? 'val' : i < slab.start - T || i >= slab.start + n + T ? 'train' : 'gap');
  return {
    role, classes: slab.classes, total: slab.total,
    describe: `validation is the slab of slices ${slab.start}…${slab.start + n - 1}`,
    gapNote: `training the other slices but ${T} on each side of it, so no window spans both parts.`,
  };
}

/**
 * `k` slabs of ⌈n/k⌉ slices centred at evenly spaced points of the labelled extent (first to last slice with
 * foreground), each with ⌊T/2⌋ gap slices on both sides, and each slice's role (0 train, 1 gap, 2 validation). Null
 * when they do not fit apart, or when they would leave training less than half the slices or without a label value
 * the volume holds.
 */
export function spreadSlabs(label: Volume, axis: SliceAxis, n: number, T: number, k: number):
  { starts: number[]; width: number; role: Uint8Array; classes: number; total: number } | null {
  const { counts, K } = classCountsPerSlice(label, axis);
  const depth = counts.length / K;
  const g = Math.floor(T / 2);
  const width = Math.max(1, Math.ceil(n / k));
  let first = -1, last = -1;
  for (let s = 0; s < depth; s++) {
    let fg = 0;
    for (let c = 1; c < K; c++) fg += counts[s * K + c];
    if (fg > 0) { if (first < 0) first = s; last = s; }
  }
  if (first < 0) [first, last] = [0, depth - 1];
  const extent = last - first + 1;
  const starts: number[] = [];
  for (let j = 0; j < k; j++) {
    const centre = first + ((j + 0.5) * extent) / k;
    const start = Math.min(depth - width, Math.max(0, Math.round(centre - width / 2)));
    // NOTE: slabs and their gaps must not touch: otherwise the spread degenerates into one thick block.
    if (starts.length && start < starts[starts.length - 1] + width + 2 * g + 1) return null;
    starts.push(start);
  }
  const role = new Uint8Array(depth); // per slice: 0 train, 1 gap, 2 val
  for (const s of starts) {
    for (let i = Math.max(0, s - g); i < Math.min(depth, s + width + g); i++) role[i] = Math.max(role[i], 1);
    for (let i = s; i < s + width; i++) role[i] = 2;
  }
  let trainSlices = 0;
  const inTrain = new Uint8Array(K), inVal = new Uint8Array(K), inAll = new Uint8Array(K);
  for (let s = 0; s < depth; s++) {
    if (role[s] === 0) trainSlices++;
    for (let c = 0; c < K; c++) {
      if (counts[s * K + c] === 0) continue;
      inAll[c] = 1;
      if (role[s] === 0) inTrain[c] = 1;
      if (role[s] === 2) inVal[c] = 1;
    }
  }
  const sum = (a: Uint8Array) => a.reduce((x, y) => x + y, 0);
  if (trainSlices < depth / 2 || sum(inTrain) < sum(inAll)) return null;
  return { starts, width, role, classes: sum(inVal), total: sum(inAll) };
}

/**
 * Where to hold out `n` slices of a single case. Training keeps every slice more than T away from the slab, at least
 * n slices, and, where possible, every label value of the volume (a class seen only in validation cannot be learnt).
 * Among those slabs, the one holding the most distinct label values wins (a slab at the edge of a head is often all
 * air, and its Dice says nothing); ties go to the later slab, so the last slab wins when it is as varied as any.
 */
export function validationSlab(label: Volume, axis: SliceAxis, n: number, T: number): { start: number; classes: number; total: number } | null {
  const { counts, K } = classCountsPerSlice(label, axis);
  const depth = counts.length / K;
  // Running sums per class over slices: prefix[s·K + c] = voxels of c in slices 0…s−1.
  const prefix = new Float64Array((depth + 1) * K);
  for (let s = 0; s < depth; s++) for (let c = 0; c < K; c++) prefix[(s + 1) * K + c] = prefix[s * K + c] + counts[s * K + c];
  const sum = (c: number, a: number, b: number): number => (b > a ? prefix[b * K + c] - prefix[a * K + c] : 0); // slices a…b−1
  let total = 0;
  for (let c = 0; c < K; c++) if (sum(c, 0, depth) > 0) total++;
  let best: { start: number; classes: number; trainClasses: number } | null = null;
  for (let start = 0; start + n <= depth; start++) {
    const [a, b] = [Math.max(0, start - T), Math.min(depth, start + n + T)]; // training: 0…a−1 and b…depth−1
    if (a + (depth - b) < Math.max(1, n)) continue;
    let classes = 0, trainClasses = 0;
    for (let c = 0; c < K; c++) {
      if (sum(c, start, start + n) > 0) classes++;
      if (sum(c, 0, a) + sum(c, b, depth) > 0) trainClasses++;
    }
    if (!best || trainClasses > best.trainClasses || (trainClasses === best.trainClasses && classes >= best.classes)) best = { start, classes, trainClasses };
  }
  return best && { start: best.start, classes: best.classes, total };
}

function fmt(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toPrecision(4);
}
