// In-plane resizing of [N, H, W, C] stacks: bilinear (half-pixel centres) for images and probabilities, area
// (adaptive average) for shrinking images, nearest (half-pixel centres) for labels — to size×size and back. Pure.
import { allocVoxels, dtypeOf, type VoxelArray } from '../../core/types.ts';

/** [N, H, W, C], C fastest: value (n, y, x, c) at ((n·H + y)·W + x)·C + c. */
export type StackShape = readonly [n: number, h: number, w: number, c: number];

function checkShape(fn: string, len: number, shape: StackShape, outH: number, outW: number): void {
  const [n, h, w, c] = shape;
  for (const [k, v] of [['n', n], ['h', h], ['w', w], ['c', c], ['outH', outH], ['outW', outW]] as const) {
    if (!(Number.isInteger(v) && v >= 1)) throw new Error(`${fn}: ${k} = ${v}, expected an integer ≥ 1.`);
  }
  if (len !== n * h * w * c) throw new Error(`${fn}: data has ${len} values, expected N·H·W·C = ${n}·${h}·${w}·${c} = ${n * h * w * c}.`);
}

/**
 * Source taps for one output axis under align_corners=False (PyTorch `interpolate(mode='bilinear')`,
 * tf.image.resizeBilinear with halfPixelCenters): s = (d + ½)·in/out − ½, clamped below at 0;
 * i0 = ⌊s⌋, i1 = min(i0 + 1, in − 1), weight of i1 = s − i0.
 */
export function linearTaps(inSize: number, outSize: number): { i0: Int32Array; i1: Int32Array; f: Float64Array } {
  const i0 = new Int32Array(outSize), i1 = new Int32Array(outSize), f = new Float64Array(outSize);
  const scale = inSize / outSize;
  for (let d = 0; d < outSize; d++) {
    const s = Math.max(0, (d + 0.5) * scale - 0.5);
    const a = Math.min(Math.floor(s), inSize - 1);
    i0[d] = a;
    i1[d] = Math.min(a + 1, inSize - 1);
    f[d] = s - a;
  }
  return { i0, i1, f };
}

/**
 * Nearest source index with half-pixel centres: ⌊(d + ½)·in/out⌋, at most in − 1 (PyTorch 'nearest-exact').
 * NOTE: PyTorch's legacy 'nearest' uses ⌊d·in/out⌋, which shifts the grid by half a pixel; centred sampling
 * keeps labels aligned with the bilinear image, and resizing up by an integer factor and back is the identity.
 */
export function nearestTaps(inSize: number, outSize: number): Int32Array {
  const idx = new Int32Array(outSize);
  // Exact integer arithmetic: (d + ½)·in/out in floating point lands just below whole numbers at ties.
  for (let d = 0; d < outSize; d++) idx[d] = Math.min(Math.floor(((2 * d + 1) * inSize) / (2 * outSize)), inSize - 1);
  return idx;
}

/** Bilinear resize of every [H, W, C] image of the stack to [outH, outW, C] (align_corners=False, no antialias). */
export function resizeBilinear(
  src: ArrayLike<number>, shape: StackShape, outH: number, outW: number, out?: Float32Array,
): Float32Array {
  checkShape('resizeBilinear', src.length, shape, outH, outW);
  const [n, h, w, c] = shape;
  const len = n * outH * outW * c;
  const res = out ?? new Float32Array(len);
  if (res.length !== len) throw new Error(`resizeBilinear: out has ${res.length} values, expected ${len}.`);
  const ty = linearTaps(h, outH), tx = linearTaps(w, outW);
  const rowLen = w * c;
  for (let b = 0; b < n; b++) {
    const srcBase = b * h * rowLen;
    const outBase = b * outH * outW * c;
    for (let y = 0; y < outH; y++) {
      const r0 = srcBase + ty.i0[y] * rowLen, r1 = srcBase + ty.i1[y] * rowLen, fy = ty.f[y];
      for (let x = 0; x < outW; x++) {
        const c0 = tx.i0[x] * c, c1 = tx.i1[x] * c, fx = tx.f[x];
        const o = outBase + (y * outW + x) * c;
        for (let k = 0; k < c; k++) {
          const top = src[r0 + c0 + k] + fx * (src[r0 + c1 + k] - src[r0 + c0 + k]);
          const bottom = src[r1 + c0 + k] + fx * (src[r1 + c1 + k] - src[r1 + c0 + k]);
          res[o + k] = top + fy * (bottom - top);
        }
      }
    }
  }
  return res;
}

/** Nearest-neighbour resize (half-pixel centres) of every [H, W, C] image; the result has the input's array type. */
export function resizeNearest<T extends VoxelArray>(src: T, shape: StackShape, outH: number, outW: number, out?: T): T {
  checkShape('resizeNearest', src.length, shape, outH, outW);
  const [n, h, w, c] = shape;
  const len = n * outH * outW * c;
  const res = out ?? (allocVoxels(dtypeOf(src), len) as T);
  if (res.length !== len) throw new Error(`resizeNearest: out has ${res.length} values, expected ${len}.`);
  const iy = nearestTaps(h, outH), ix = nearestTaps(w, outW);
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < outH; y++) {
      const row = (b * h + iy[y]) * w;
      const o = (b * outH + y) * outW;
      for (let x = 0; x < outW; x++) {
        const s = (row + ix[x]) * c, d = (o + x) * c;
        for (let k = 0; k < c; k++) res[d + k] = src[s + k];
      }
    }
  }
  return res;
}

/** Source rows [start, end) averaged into each output index: adaptive average pooling (PyTorch 'area'). */
function areaBins(inSize: number, outSize: number): { start: Int32Array; end: Int32Array } {
  const start = new Int32Array(outSize), end = new Int32Array(outSize);
  for (let d = 0; d < outSize; d++) {
    start[d] = Math.floor((d * inSize) / outSize);
    end[d] = Math.ceil(((d + 1) * inSize) / outSize);
  }
  return { start, end };
}

/**
 * Area resize (PyTorch `interpolate(mode='area')` = adaptive average pooling): each output pixel is the mean of the
 * input pixels in [⌊d·in/out⌋, ⌈(d+1)·in/out⌉) on both axes. The reference pipeline resizes images this way;
 * unlike bilinear it does not alias when shrinking by a large factor (e.g. 512 → 128).
 */
export function resizeArea(
  src: ArrayLike<number>, shape: StackShape, outH: number, outW: number, out?: Float32Array,
): Float32Array {
  checkShape('resizeArea', src.length, shape, outH, outW);
  const [n, h, w, c] = shape;
  const len = n * outH * outW * c;
  const res = out ?? new Float32Array(len);
  if (res.length !== len) throw new Error(`resizeArea: out has ${res.length} values, expected ${len}.`);
  const by = areaBins(h, outH), bx = areaBins(w, outW);
  const acc = new Float64Array(c);
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < outH; y++) {
      for (let x = 0; x < outW; x++) {
        acc.fill(0);
        for (let sy = by.start[y]; sy < by.end[y]; sy++) {
          for (let sx = bx.start[x]; sx < bx.end[x]; sx++) {
            const s = ((b * h + sy) * w + sx) * c;
            for (let k = 0; k < c; k++) acc[k] += src[s + k];
          }
        }
        const count = (by.end[y] - by.start[y]) * (bx.end[x] - bx.start[x]);
        const o = ((b * outH + y) * outW + x) * c;
        for (let k = 0; k < c; k++) res[o + k] = acc[k] / count;
      }
    }
  }
  return res;
}
