// Training crops of the volume-based model (UNETR 3D): seeded random D×H×W crops whose centres are drawn on
// foreground or background voxels with equal odds (MONAI's RandCropByPosNegLabeld with pos = neg = 1; background:
// label 0 with the image above its intensity range's low end, as image_threshold 0 after scaling), shifted inside
// the volume where they would fall off it, zero-padded where the volume is smaller than the crop; the same intensity
// mapping as the window model (src/data/intensity.ts: a preset's range per channel → 0…1, clipped); the held-out
// split along the axial axis for a single case. Pure, typed arrays.
//
// Grid: the canonical (RAS+) voxel grid with no resampling. The model's [D, H, W] axes are the volume's (k, j, i):
// D runs along axis 2 (axial), W along i, so a crop is a sub-block of the canonical i-fastest layout, and the
// sliding-window output is a label volume on that grid. NOTE: MONAI's BTCV recipe first resamples to 1.5×1.5×2 mm;
// the window model keeps the native slices too (it only resizes a whole plane to its input size, which a crop-based
// model does not need).
import type { Vec3 } from '../../core/types.ts';
import type { Volume } from '../../nifti/types.ts';
import { suggestPreset, type IntensityPreset, type PresetId, type Range } from '../intensity.ts';
import { makeRng, mixSeed, type Rng } from '../windows/rng.ts';
import { channelRanges, checkSameGrid } from '../windows/window.ts';

export type Crop3 = [number, number, number];

/** A part of a case along axis 2 (slices k0 … k1−1): all of it, or what is left for training / held out. */
export interface VolumePiece { caseId: string; k0: number; k1: number }

export interface VolumeCase {
  id: string;
  volume: Volume;
  label: Volume;
  split: 'train' | 'val';
  /** Intensity range per channel; by default the suggested preset's (as the window sampler). */
  ranges?: Range[];
}

/** MONAI BTCV's training augmentations, or none, or the intensity shift alone (short runs). */
export type VolumeAugmentLevel = 'off' | 'light' | 'paper';

export interface VolumeAugment {
  /** Probability of a flip along each of D, H, W, drawn independently (MONAI BTCV: 0.1). */
  flipP: number;
  /** Probability of a quarter turn k·90° (k uniform in 1…3) in the H×W plane (MONAI BTCV: 0.1; only square crops). */
  rot90P: number;
  /** With probability p, one offset ~ U(−max, max) added to every image value (MONAI BTCV: p 0.5, 0.1). */
  shift: { p: number; max: number };
}

export const VOLUME_AUGMENT: Readonly<Record<VolumeAugmentLevel, VolumeAugment | null>> = {
  off: null,
  light: { flipP: 0, rot90P: 0, shift: { p: 0.5, max: 0.1 } },
  paper: { flipP: 0.1, rot90P: 0.1, shift: { p: 0.5, max: 0.1 } },
};

export interface VolumeSamplerOptions {
  /** Crop size [D, H, W]. */
  crop: Crop3;
  /** Crops per training batch. */
  batch: number;
  seed: number;
  /** Share of crops centred on foreground: pos / (pos + neg) (MONAI BTCV: 1 / (1 + 1)). */
  posFraction?: number;
  preset?: IntensityPreset | PresetId;
  augment?: VolumeAugment | null;
  /** Share of the slices of a single case held out for validation (default 0.2). */
  valFraction?: number;
}

/** A batch of crops: x [B, D, H, W, C] (C fastest), y [B, D, H, W] labels. */
export interface VolumeBatch {
  x: Float32Array;
  y: Int32Array;
  shape: [B: number, D: number, H: number, W: number, C: number];
  /** Where each crop starts, [k, j, i] on its case's grid (negative: padded before). */
  starts: Array<{ caseId: string; start: Vec3 }>;
}

export interface VolumeSampler {
  /** Training batch number `step`: a pure function of (seed, step), so a resumed run draws what it would have. */
  batchAt(step: number): VolumeBatch;
  train: VolumePiece[];
  val: VolumePiece[];
  channels: number;
  notes: string[];
  /** Intensity preset per case id (recorded in checkpoints). */
  presets: Record<string, string>;
  /** Image, label and ranges of a case id. */
  caseOf(id: string): { volume: Volume; label: Volume; ranges: Range[] };
}

/**
 * Where a crop of side `crop` starts along an axis of length `dim`, for a wanted centre `centre`: the crop's centre
 * voxel is start + ⌊crop/2⌋ (MONAI's convention), shifted so the crop stays inside [0, dim); when dim < crop the
 * crop is centred on the axis (symmetric zero padding, the smaller half before) and starts at −⌊(crop − dim)/2⌋.
 */
export function cropStart(centre: number, crop: number, dim: number): number {
  if (dim < crop) return -Math.floor((crop - dim) / 2);
  return Math.min(dim - crop, Math.max(0, centre - Math.floor(crop / 2)));
}

/**
 * Calls `row(src, dst, iLo, iHi)` for every row of a crop at `start` that lies inside the volume and inside slices
 * kRange: `src` is the voxel offset of the crop row's first column in one channel of the volume (i-fastest), `dst` the
 * crop's voxel offset of that row ([D, H, W] order), and columns iLo…iHi−1 of the row are inside the volume.
 */
function forEachCropRow(dims: Vec3, start: Vec3, crop: Crop3, kRange: [number, number], row: (src: number, dst: number, iLo: number, iHi: number) => void): void {
  const [X, Y] = dims;
  const [D, H, W] = crop;
  const [k0, j0, i0] = start;
  const iLo = Math.max(0, -i0), iHi = Math.min(W, X - i0);
  for (let d = 0; d < D; d++) {
    const k = k0 + d;
    if (k < kRange[0] || k >= kRange[1]) continue;
    for (let h = 0; h < H; h++) {
      const j = j0 + h;
      if (j < 0 || j >= Y) continue;
      row(k * X * Y + j * X + i0, (d * H + h) * W, iLo, iHi);
    }
  }
}

/**
 * The crop of `volume` starting at [k, j, i] = start (any of them may be negative or run past the end: zeros there),
 * as [D, H, W, C] channels-last, each channel mapped by its range to 0…1 (clipped), as the window model's input.
 * Restricted to slices k0…k1−1 of the volume when given (a training piece: the held-out slices read as padding).
 */
export function cropImage(volume: Volume, ranges: Range[], start: Vec3, crop: Crop3, kRange: [number, number] = [0, volume.dims[2]]): Float32Array {
  const C = volume.channels;
  if (ranges.length !== C) throw new Error(`cropImage: ${volume.name} has ${C} channel(s) but ${ranges.length} range(s) were given.`);
  const [D, H, W] = crop;
  const out = new Float32Array(D * H * W * C);
  const nvox = volume.dims[0] * volume.dims[1] * volume.dims[2];
  for (let c = 0; c < C; c++) {
    const { low, high } = ranges[c];
    const scale = high > low ? 1 / (high - low) : 0;
    const cBase = c * nvox;
    forEachCropRow(volume.dims, start, crop, kRange, (src, dst, iLo, iHi) => {
      for (let w = iLo; w < iHi; w++) {
        const v = volume.data[cBase + src + w];
        // The window model's normalize(): clip to the range, scale to 0…1; an empty range is a threshold at low.
        const t = scale === 0 ? (v > low ? 1 : 0) : (v - low) * scale;
        out[(dst + w) * C + c] = t <= 0 ? 0 : t >= 1 ? 1 : t;
      }
    });
  }
  return out;
}

/** The labels of a crop, [D, H, W] (0 outside the volume or outside slices kRange). */
export function cropLabel(label: Volume, start: Vec3, crop: Crop3, kRange: [number, number] = [0, label.dims[2]]): Int32Array {
  const [D, H, W] = crop;
  const out = new Int32Array(D * H * W);
  forEachCropRow(label.dims, start, crop, kRange, (src, dst, iLo, iHi) => {
    for (let w = iLo; w < iHi; w++) out[dst + w] = Math.round(label.data[src + w]);
  });
  return out;
}

/** Voxels per slice along axis 2 for which `is(q)` holds (to draw the n-th of them without a list). */
function countPerSlice(dims: Vec3, is: (q: number) => boolean): Int32Array {
  const [X, Y, Z] = dims;
  const out = new Int32Array(Z);
  for (let k = 0; k < Z; k++) {
    let n = 0;
    for (let q = k * X * Y, e = q + X * Y; q < e; q++) if (is(q)) n++;
    out[k] = n;
  }
  return out;
}

/**
 * The n-th (0-based) voxel of slices k0…k1−1, in i-fastest order, for which `is(q)` holds: its [k, j, i]. The slice
 * is found from the per-slice counts, then scanned.
 */
function nthVoxel(dims: Vec3, perSlice: Int32Array, k0: number, k1: number, is: (q: number) => boolean, n: number): Vec3 {
  const [X, Y] = dims;
  const plane = X * Y;
  for (let k = k0; k < k1; k++) {
    if (n >= perSlice[k]) { n -= perSlice[k]; continue; }
    for (let q = k * plane, e = q + plane; q < e; q++) {
      if (is(q) && n-- === 0) {
        const r = q - k * plane;
        return [k, Math.floor(r / X), r % X];
      }
    }
  }
  throw new Error('nthVoxel: index past the last voxel (internal error).');
}

/** Flips / quarter turns / intensity shift of one crop in place (x [D, H, W, C], y [D, H, W]). */
function augmentCrop(x: Float32Array, y: Int32Array, crop: Crop3, C: number, rng: Rng, aug: VolumeAugment): void {
  const [D, H, W] = crop;
  const flips = [rng.chance(aug.flipP), rng.chance(aug.flipP), rng.chance(aug.flipP)];
  const turns = H === W && rng.chance(aug.rot90P) ? 1 + rng.int(3) : 0;
  const shift = rng.chance(aug.shift.p) ? rng.uniform(-aug.shift.max, aug.shift.max) : 0;
  if (flips.some(Boolean) || turns) {
    const x0 = x.slice(), y0 = y.slice();
    for (let d = 0; d < D; d++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) {
      // Source voxel of output (d, h, w): undo the turns (counter-clockwise in the (h, w) plane), then the flips.
      let [sh, sw] = [h, w];
      for (let t = 0; t < turns; t++) [sh, sw] = [sw, H - 1 - sh];
      const sd = flips[0] ? D - 1 - d : d;
      if (flips[1]) sh = H - 1 - sh;
      if (flips[2]) sw = W - 1 - sw;
      const o = (d * H + h) * W + w, s = (sd * H + sh) * W + sw;
      y[o] = y0[s];
      for (let c = 0; c < C; c++) x[o * C + c] = x0[s * C + c];
    }
  }
  if (shift !== 0) for (let q = 0; q < x.length; q++) x[q] += shift;
}

/**
 * Which n axial slices of a single case's label to hold out: among the slabs that leave training every label value
 * and hold as many as any, the most representative one — the largest Σ_c min(v_c / V_c, n / Z), class c's share of
 * its voxels inside the slab capped at the slab's share of the slices; ties go to the later slab.
 * NOTE: counting classes alone (the window model's validationSlab) picks, on the ITK head, slices 93…118: 97 % air,
 * with 25 and 1 voxels of its two largest tissue classes, so their held-out Dice was 0 whatever the model learnt.
 */
export function heldOutSlab(label: Volume, n: number): { start: number; classes: number; total: number } | null {
  const [X, Y, Z] = label.dims;
  if (!(n >= 1 && n < Z)) return null;
  let K = 0;
  for (let q = 0; q < label.data.length; q++) K = Math.max(K, Math.round(label.data[q]) + 1);
  // prefix[k·K + c]: voxels of class c in slices 0…k−1.
  const prefix = new Float64Array((Z + 1) * K);
  for (let k = 0; k < Z; k++) {
    const row = prefix.subarray((k + 1) * K, (k + 2) * K);
    row.set(prefix.subarray(k * K, (k + 1) * K));
    for (let q = k * X * Y, e = q + X * Y; q < e; q++) { const c = Math.round(label.data[q]); if (c >= 0) row[c]++; }
  }
  const inSlices = (c: number, a: number, b: number) => prefix[b * K + c] - prefix[a * K + c];
  const all = Array.from({ length: K }, (_, c) => inSlices(c, 0, Z));
  const total = all.filter((v) => v > 0).length;
  let best: { start: number; classes: number; trainClasses: number; score: number } | null = null;
  for (let start = 0; start + n <= Z; start++) {
    let classes = 0, trainClasses = 0, score = 0;
    for (let c = 0; c < K; c++) {
      if (all[c] === 0) continue;
      const v = inSlices(c, start, start + n);
      if (v > 0) classes++;
      if (v < all[c]) trainClasses++;
      score += Math.min(v / all[c], n / Z);
    }
    const better = !best || trainClasses > best.trainClasses || (trainClasses === best.trainClasses && (classes > best.classes || (classes === best.classes && score >= best.score - 1e-12)));
    if (better) best = { start, classes, trainClasses, score };
  }
  return best && { start: best.start, classes: best.classes, total };
}

export function makeVolumeSampler(cases: readonly VolumeCase[], opts: VolumeSamplerOptions): VolumeSampler {
  const { crop, batch } = opts;
  const pos = opts.posFraction ?? 0.5;
  if (cases.length === 0) throw new Error('makeVolumeSampler: no cases.');
  if (!(crop.length === 3 && crop.every((n) => Number.isInteger(n) && n >= 1))) throw new Error(`makeVolumeSampler: crop ${crop.join('×')}, expected three integers ≥ 1.`);
  if (!(Number.isInteger(batch) && batch >= 1)) throw new Error(`makeVolumeSampler: batch = ${batch}, expected an integer ≥ 1.`);
  if (!(pos >= 0 && pos <= 1)) throw new Error(`makeVolumeSampler: posFraction = ${pos}, expected 0…1.`);
  const channels = cases[0].volume.channels;
  const notes: string[] = [];
  const presets: Record<string, string> = {};
  const byId = new Map<string, { volume: Volume; label: Volume; ranges: Range[]; fg: Int32Array; bg: Int32Array; isFg: (q: number) => boolean; isBg: (q: number) => boolean }>();
  for (const c of cases) {
    if (byId.has(c.id)) throw new Error(`makeVolumeSampler: case id '${c.id}' appears twice.`);
    checkSameGrid(c.volume, c.label);
    if (c.volume.channels !== channels) throw new Error(`makeVolumeSampler: ${c.volume.name} has ${c.volume.channels} channel(s), ${cases[0].volume.name} has ${channels}.`);
    const preset = opts.preset ?? suggestPreset(c.volume).preset;
    const ranges = c.ranges ?? channelRanges(c.volume, preset);
    presets[c.id] = c.ranges ? 'given' : typeof preset === 'string' ? preset : preset.id;
    // NOTE: as MONAI's recipe (image_key given, image_threshold 0): background centres are label-0 voxels whose first
    // channel is above the bottom of its range (mapped > 0), so crops are not centred in the air around the body.
    const isFg = (q: number) => c.label.data[q] > 0;
    const low = ranges[0].low;
    const isBg = (q: number) => !(c.label.data[q] > 0) && c.volume.data[q] > low;
    byId.set(c.id, { volume: c.volume, label: c.label, ranges, isFg, isBg, fg: countPerSlice(c.volume.dims, isFg), bg: countPerSlice(c.volume.dims, isBg) });
  }

  // --- split: by case; a single case without a validation case gives up one slab of axial slices -----------------
  const train: VolumePiece[] = [], val: VolumePiece[] = [];
  const trainCases = cases.filter((c) => c.split === 'train'), valCases = cases.filter((c) => c.split === 'val');
  if (trainCases.length === 0) throw new Error('makeVolumeSampler: no training case (every case has split "val").');
  if (valCases.length === 0 && cases.length === 1) {
    const c = cases[0];
    const Z = c.volume.dims[2];
    const n = Math.max(1, Math.round((opts.valFraction ?? 0.2) * Z));
    // NOTE: one contiguous slab with no gap: training crops read only the other slices (the slab reads as zero
    // padding in them) and validation predicts the slab alone, so no crop spans both. Spread thin slabs, as the
    // window model holds out, would leave no room for a whole crop between them.
    const slab = Z >= 2 ? heldOutSlab(c.label, n) : null;
    if (!slab) throw new Error(`makeVolumeSampler: ${c.id} has ${Z} axial slices, too few to hold ${n} out.`);
    const [a, b] = [slab.start, slab.start + n];
    if (a > 0) train.push({ caseId: c.id, k0: 0, k1: a });
    if (b < Z) train.push({ caseId: c.id, k0: b, k1: Z });
    val.push({ caseId: c.id, k0: a, k1: b });
    notes.push(`${c.id} is the only labelled case: validation is the slab of axial slices ${a}…${b - 1} (${n} of ${Z}, holding ${slab.classes} of the ${slab.total} label values); ` +
      'training crops read only the other slices, and validation predicts the slab alone by sliding window.');
  } else {
    for (const c of trainCases) train.push({ caseId: c.id, k0: 0, k1: c.volume.dims[2] });
    for (const c of valCases) val.push({ caseId: c.id, k0: 0, k1: c.volume.dims[2] });
    notes.push(valCases.length === 0 ? `No validation case among ${cases.length}: nothing is held out.` : `Split by case: ${trainCases.length} training, ${valCases.length} validation.`);
  }
  const sumIn = (p: VolumePiece, per: Int32Array) => { let n = 0; for (let k = p.k0; k < p.k1; k++) n += per[k]; return n; };
  const fgCounts = train.map((p) => sumIn(p, byId.get(p.caseId)!.fg));
  const bgCounts = train.map((p) => sumIn(p, byId.get(p.caseId)!.bg));
  const fgTotal = fgCounts.reduce((a, v) => a + v, 0), bgTotal = bgCounts.reduce((a, v) => a + v, 0);
  notes.push(`Crops of ${crop.join('×')} voxels (D×H×W, D axial), ${Math.round(pos * 100)} % centred on foreground voxels` +
    (fgCounts.every((n) => n === 0) ? ' (none in the training slices: all on background).' : ', the others on background voxels above the intensity range\'s low end.'));

  const [D, H, W] = crop;
  const cropLen = D * H * W;
  const batchAt = (step: number): VolumeBatch => {
    if (!(Number.isInteger(step) && step >= 0)) throw new Error(`volumeSampler.batchAt: step ${step}, expected an integer ≥ 0.`);
    const rng = makeRng(mixSeed(opts.seed) ^ mixSeed(step + 0x3d1ce));
    const x = new Float32Array(batch * cropLen * channels), y = new Int32Array(batch * cropLen);
    const starts: VolumeBatch['starts'] = [];
    for (let b = 0; b < batch; b++) {
      // Foreground or background first, then a centre drawn uniformly among ALL such voxels of the training pieces
      // (MONAI draws over the whole volume): a piece's odds are its share of them.
      // NOTE: drawing the piece first, uniformly, sent half the crops of the ITK head to its 9 training slices above
      // the held-out slab (all air, 23 of 32 slices padding), and the model learnt nothing but air (issue 16).
      const onFg = fgTotal > 0 && (bgTotal === 0 || rng.chance(pos));
      const counts = onFg ? fgCounts : bgCounts;
      let n = fgTotal + bgTotal === 0 ? 0 : rng.int(onFg ? fgTotal : bgTotal), pi = 0;
      while (pi < train.length - 1 && n >= counts[pi]) n -= counts[pi++];
      // No candidate anywhere (all air, no label): a piece drawn uniformly, centred on its middle voxel.
      if (fgTotal + bgTotal === 0) pi = rng.int(train.length);
      const piece = train[pi];
      const cs = byId.get(piece.caseId)!;
      const [X, Y] = cs.volume.dims;
      const centre: Vec3 = fgTotal + bgTotal === 0 ? [(piece.k0 + piece.k1) >> 1, Y >> 1, X >> 1]
        : onFg ? nthVoxel(cs.volume.dims, cs.fg, piece.k0, piece.k1, cs.isFg, n) : nthVoxel(cs.volume.dims, cs.bg, piece.k0, piece.k1, cs.isBg, n);
      // Shifted inside the piece (its slices) and the plane; padded where the piece is thinner than the crop.
      const start: Vec3 = [piece.k0 + cropStart(centre[0] - piece.k0, D, piece.k1 - piece.k0), cropStart(centre[1], H, Y), cropStart(centre[2], W, X)];
      const xi = cropImage(cs.volume, cs.ranges, start, crop, [piece.k0, piece.k1]);
      const yi = cropLabel(cs.label, start, crop, [piece.k0, piece.k1]);
      if (opts.augment) augmentCrop(xi, yi, crop, channels, rng, opts.augment);
      x.set(xi, b * cropLen * channels);
      y.set(yi, b * cropLen);
      starts.push({ caseId: piece.caseId, start });
    }
    return { x, y, shape: [batch, D, H, W, channels], starts };
  };

  return {
    batchAt, train, val, channels, notes, presets,
    caseOf: (id) => {
      const c = byId.get(id);
      if (!c) throw new Error(`volumeSampler: no case '${id}'.`);
      return c;
    },
  };
}
