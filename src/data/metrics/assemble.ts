// Evaluation assembly: per-slice predictions on a size×size grid back to a label volume on the canonical grid
// (nearest for labels, bilinear + argmax for probabilities), and the per-case metrics (Dice, HD95) on it.
import type { Vec3, VoxelArray } from '../../core/types.ts';
import { planeOf, type Plane, type SliceAxis } from '../windows/window.ts';
import { linearTaps, nearestTaps } from '../windows/resize.ts';
import { diceCounts, diceFromCounts, type DiceCounts } from './dice.ts';
import { hausdorff, type HausdorffDefinition } from './hd95.ts';

function checkSlices(fn: string, count: number, p: Plane, size: number): void {
  if (!(Number.isInteger(size) && size >= 1)) throw new Error(`${fn}: size = ${size}, expected an integer ≥ 1.`);
  if (count !== p.depth) throw new Error(`${fn}: ${count} slices given, expected one per slice index along axis ${p.axis} (${p.depth}).`);
}

/** Linear voxel index of (slice s, row y, column x) for a plane of the given dims (layout as planeOf). */
function placer(dims: Vec3, p: Plane): { sAxis: number; sH: number; sW: number } {
  const st = [1, dims[0], dims[0] * dims[1]];
  return { sAxis: st[p.axis], sH: st[p.hAxis], sW: st[p.wAxis] };
}

/**
 * Stacks per-slice label predictions into a label volume on the canonical grid. slices[s] is the size×size
 * prediction (row-major [y, x]) for the window centred on slice s along `axis`, with the in-plane layout of
 * data/windows `planeOf` (x along the lower-numbered remaining axis, y along the higher). Each slice is
 * resized back to H×W of the canonical volume by nearest neighbour with half-pixel centres. Labels must be
 * integers in 0 … 255.
 */
export function assembleVolume(slices: ReadonlyArray<ArrayLike<number>>, canonicalDims: Vec3, axis: SliceAxis, size: number): Uint8Array {
  const p = planeOf(canonicalDims, axis);
  checkSlices('assembleVolume', slices.length, p, size);
  const out = new Uint8Array(canonicalDims[0] * canonicalDims[1] * canonicalDims[2]);
  const iy = nearestTaps(size, p.H), ix = nearestTaps(size, p.W);
  const { sAxis, sH, sW } = placer(canonicalDims, p);
  for (let s = 0; s < p.depth; s++) {
    const src = slices[s];
    if (src.length !== size * size) throw new Error(`assembleVolume: slice ${s} has ${src.length} values, expected size·size = ${size * size}.`);
    for (let y = 0; y < p.H; y++) {
      const row = iy[y] * size;
      const base = s * sAxis + y * sH;
      for (let x = 0; x < p.W; x++) {
        const v = src[row + ix[x]];
        if ((v & 255) !== v) throw new Error(`assembleVolume: slice ${s} pixel (${iy[y]}, ${ix[x]}) has label ${v}; expected an integer in 0…255.`);
        out[base + x * sW] = v;
      }
    }
  }
  return out;
}

/**
 * Like assembleVolume, from per-slice class scores: slices[s] is [size, size, numClasses] (classes fastest, the
 * channels-last layout of a tfjs model's output). Every class map is resized to H×W bilinearly (align_corners
 * =False), then each voxel takes the class with the highest value (the lowest class on ties, like argmax).
 * NOTE: works on probabilities or logits; the two can disagree where the resize blends neighbours.
 */
export function assembleFromProbs(
  slices: ReadonlyArray<ArrayLike<number>>, canonicalDims: Vec3, axis: SliceAxis, size: number, numClasses: number,
): Uint8Array {
  const p = planeOf(canonicalDims, axis);
  checkSlices('assembleFromProbs', slices.length, p, size);
  if (!(Number.isInteger(numClasses) && numClasses >= 1 && numClasses <= 256)) {
    throw new Error(`assembleFromProbs: numClasses = ${numClasses}, expected an integer in 1…256.`);
  }
  const K = numClasses;
  const out = new Uint8Array(canonicalDims[0] * canonicalDims[1] * canonicalDims[2]);
  const ty = linearTaps(size, p.H), tx = linearTaps(size, p.W);
  const { sAxis, sH, sW } = placer(canonicalDims, p);
  const rowLen = size * K;
  for (let s = 0; s < p.depth; s++) {
    const src = slices[s];
    if (src.length !== size * size * K) {
      throw new Error(`assembleFromProbs: slice ${s} has ${src.length} values, expected size·size·numClasses = ${size * size * K}.`);
    }
    for (let y = 0; y < p.H; y++) {
      const r0 = ty.i0[y] * rowLen, r1 = ty.i1[y] * rowLen, fy = ty.f[y];
      const base = s * sAxis + y * sH;
      for (let x = 0; x < p.W; x++) {
        const c0 = tx.i0[x] * K, c1 = tx.i1[x] * K, fx = tx.f[x];
        let best = 0;
        let bestVal = -Infinity;
        for (let k = 0; k < K; k++) {
          const top = src[r0 + c0 + k] + fx * (src[r0 + c1 + k] - src[r0 + c0 + k]);
          const bottom = src[r1 + c0 + k] + fx * (src[r1 + c1 + k] - src[r1 + c0 + k]);
          const v = top + fy * (bottom - top);
          if (v > bestVal) {
            bestVal = v;
            best = k;
          }
        }
        out[base + x * sW] = best;
      }
    }
  }
  return out;
}

/** A label volume on a grid: a Volume from the reader works, and so does an assembled prediction. */
export interface LabelGrid {
  dims: Vec3;
  data: VoxelArray | ArrayLike<number>;
  channels?: number;
  spacing?: Vec3;
  name?: string;
}

export interface CaseMetrics {
  /** Dice per class (index = class); NaN when the class is in neither volume ("absent"). */
  dice: number[];
  /** Mean Dice over foreground classes present in the ground truth; NaN when it has none. */
  meanDice: number;
  /**
   * HD95 in mm per class; index 0 (background) is NaN, not computed. NaN when the class is in neither volume,
   * Infinity when it is in exactly one of them (see hd95.ts).
   */
  hd95: number[];
  /** Mean HD95 over the same classes as meanDice; Infinity when one of them was never predicted. */
  meanHd95: number;
  /** Foreground classes averaged in meanDice and meanHd95 (present in the ground truth). */
  classes: number[];
  /** The Dice counts, for pooling over cases with DiceAccumulator.addCounts. */
  counts: DiceCounts;
}

export interface EvaluateOptions {
  /** HD95 definition, default 'medpy'. */
  hd95Definition?: HausdorffDefinition;
  /** Skip HD95 (every entry NaN); it is the slow part. */
  skipHd95?: boolean;
}

/**
 * Dice and HD95 of a prediction against its ground truth on the same (canonical) grid. `spacing` is the voxel
 * size in mm along i, j, k of that grid; by default the ground truth's (a canonical Volume's spacing is
 * already permuted to its axes).
 */
export function evaluateCase(pred: LabelGrid, gt: LabelGrid, numClasses: number, spacing?: Vec3, opts: EvaluateOptions = {}): CaseMetrics {
  const what = `evaluateCase(${pred.name ?? 'prediction'}, ${gt.name ?? 'ground truth'})`;
  if (pred.dims.some((d, a) => d !== gt.dims[a])) {
    throw new Error(`${what}: prediction grid ${pred.dims.join('×')} differs from ground truth grid ${gt.dims.join('×')}.`);
  }
  for (const v of [pred, gt]) {
    if ((v.channels ?? 1) !== 1) throw new Error(`${what}: ${v.name ?? 'a label map'} has ${v.channels} channels, expected 1.`);
  }
  const sp = spacing ?? gt.spacing;
  if (!sp) throw new Error(`${what}: no voxel spacing given and the ground truth has none.`);
  const counts = diceCounts(pred.data, gt.data, numClasses);
  const d = diceFromCounts(counts);
  const hd95: number[] = [NaN];
  for (let c = 1; c < numClasses; c++) {
    const present = counts.pred[c] > 0 || counts.gt[c] > 0;
    hd95.push(opts.skipHd95 || !present
      ? NaN
      : hausdorff(pred.data, gt.data, pred.dims, sp, { label: c, percentile: 95, definition: opts.hd95Definition }));
  }
  let sum = 0;
  for (const c of d.meanOver) sum += hd95[c];
  const meanHd95 = d.meanOver.length && !opts.skipHd95 ? sum / d.meanOver.length : NaN;
  return { dice: d.perClass, meanDice: d.mean, hd95, meanHd95, classes: d.meanOver, counts };
}
