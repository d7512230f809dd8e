// Sliding-window inference of the volume-based model, the pure parts: where the windows go (MONAI's
// sliding_window_inference scan: step ⌊roi·(1 − overlap)⌋, the last window flush with the far edge, a volume smaller
// than the window padded symmetrically), and the assembly of the windows' logits into one label volume by averaging
// overlapping windows with constant weights (MONAI's default mode 'constant'; not 'gaussian').
import type { Vec3 } from '../../core/types.ts';
import type { Crop3 } from './crops.ts';
import { cropStart } from './crops.ts';

/**
 * Window starts along one axis of length `dim` for windows of `roi` voxels overlapping by `overlap` (0 ≤ overlap < 1):
 * 0, s, 2s, … with s = max(1, ⌊roi·(1 − overlap)⌋), ⌈(dim − roi)/s⌉ + 1 of them, the last moved back to dim − roi.
 * A dim ≤ roi gives one window, at −⌊(roi − dim)/2⌋ (padded, as a training crop is).
 */
export function windowStarts(dim: number, roi: number, overlap: number): number[] {
  if (!(Number.isInteger(dim) && dim >= 1 && Number.isInteger(roi) && roi >= 1)) throw new Error(`windowStarts: dim ${dim}, roi ${roi}: expected integers ≥ 1.`);
  if (!(overlap >= 0 && overlap < 1)) throw new Error(`windowStarts: overlap ${overlap}, expected 0 ≤ overlap < 1.`);
  if (dim <= roi) return [cropStart(0, roi, dim)];
  const step = Math.max(1, Math.floor(roi * (1 - overlap)));
  const n = Math.ceil((dim - roi) / step) + 1;
  return Array.from({ length: n }, (_, i) => Math.min(i * step, dim - roi));
}

/**
 * Every window's start [k, j, i] over a volume of dims [X, Y, Z] (i, j, k) for windows of roi [D, H, W] (D along k),
 * k slowest, then j, then i. `kRange`: predict only slices k0…k1−1 (a held-out slab), as if they were the volume.
 */
export function planWindows(dims: Vec3, roi: Crop3, overlap = 0.25, kRange: [number, number] = [0, dims[2]]): Vec3[] {
  const [k0, k1] = kRange;
  const ks = windowStarts(k1 - k0, roi[0], overlap).map((k) => k + k0);
  const js = windowStarts(dims[1], roi[1], overlap), is = windowStarts(dims[0], roi[2], overlap);
  const out: Vec3[] = [];
  for (const k of ks) for (const j of js) for (const i of is) out.push([k, j, i]);
  return out;
}

/**
 * Averages the logits of overlapping windows over slices k0…k1−1 of a volume of dims [X, Y, Z], then takes the arg
 * max per voxel (the lowest class on ties). Each window adds its logits [D, H, W, K] (classes fastest) with weight 1
 * to the voxels it covers inside the volume; padded parts are dropped.
 * NOTE: it holds numClasses float32 sums per voxel of the slices it assembles: 28 MB for the ITK head (128×62×128,
 * 7 classes), but 4.4 GB for a 512×512×300 CT with 14 classes, more than a browser tab has. Such volumes need a
 * coarser model grid first (MONAI's recipe resamples to 1.5×1.5×2 mm); this app does not resample them yet.
 */
export class WindowAssembler {
  private readonly sum: Float32Array;
  private readonly count: Uint16Array;
  private readonly nk: number;

  constructor(readonly dims: Vec3, readonly roi: Crop3, readonly numClasses: number, readonly kRange: [number, number] = [0, dims[2]]) {
    this.nk = kRange[1] - kRange[0];
    const n = dims[0] * dims[1] * this.nk;
    this.sum = new Float32Array(n * numClasses);
    this.count = new Uint16Array(n);
  }

  add(start: Vec3, logits: ArrayLike<number>): void {
    const [X, Y] = this.dims;
    const [D, H, W] = this.roi;
    const K = this.numClasses;
    if (logits.length !== D * H * W * K) throw new Error(`WindowAssembler.add: ${logits.length} logits, expected D·H·W·K = ${D * H * W * K}.`);
    const [k0, j0, i0] = start;
    const [kLo, kHi] = this.kRange;
    for (let d = 0; d < D; d++) {
      const k = k0 + d;
      if (k < kLo || k >= kHi) continue;
      for (let h = 0; h < H; h++) {
        const j = j0 + h;
        if (j < 0 || j >= Y) continue;
        for (let w = 0; w < W; w++) {
          const i = i0 + w;
          if (i < 0 || i >= X) continue;
          const v = ((k - kLo) * Y + j) * X + i, s = ((d * H + h) * W + w) * K;
          this.count[v]++;
          for (let c = 0; c < K; c++) this.sum[v * K + c] += logits[s + c];
        }
      }
    }
  }

  /** The averaged logits, [slices, Y, X, K] (voxels not covered by any window: NaN). */
  averaged(): Float32Array {
    const K = this.numClasses, out = new Float32Array(this.sum.length);
    for (let v = 0; v < this.count.length; v++) for (let c = 0; c < K; c++) out[v * K + c] = this.count[v] ? this.sum[v * K + c] / this.count[v] : NaN;
    return out;
  }

  /** Labels of slices k0…k1−1 in the canonical i-fastest layout (a whole volume when kRange is all of it). */
  labels(): Uint8Array {
    const K = this.numClasses;
    const out = new Uint8Array(this.count.length);
    for (let v = 0; v < out.length; v++) {
      if (this.count[v] === 0) throw new Error(`WindowAssembler: voxel ${v} was not covered by any window.`);
      let best = 0, bestVal = this.sum[v * K];
      for (let c = 1; c < K; c++) if (this.sum[v * K + c] > bestVal) { bestVal = this.sum[v * K + c]; best = c; }
      out[v] = best;
    }
    return out;
  }
}
