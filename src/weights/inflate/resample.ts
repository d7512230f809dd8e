// 1D resampling weights (PyTorch bicubic with and without antialias, BEiT's geometric-grid linear) and their
// separable 2D application to channel-last grids. Pure: typed arrays in, typed arrays out; float64 accumulation.

/** One output sample per row: out[i] = Σ_k weight[i·taps + k] · in[index[i·taps + k]]. */
export interface Weights1d {
  outSize: number;
  taps: number;
  index: Int32Array;
  weight: Float64Array;
}

const clampIndex = (i: number, n: number): number => (i < 0 ? 0 : i >= n ? n - 1 : i);

/** Keys' cubic convolution kernel with parameter a (PyTorch uses a = −0.75 without antialias, −0.5 with). */
export function keysCubic(x: number, a: number): number {
  const t = Math.abs(x);
  if (t <= 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
  if (t < 2) return ((a * t - 5 * a) * t + 8 * a) * t - 4 * a;
  return 0;
}

/**
 * PyTorch F.interpolate(mode='bicubic', align_corners=False, antialias=False) along one axis, output size given:
 * scale = in/out, source x = (i + 0.5)·scale − 0.5 (not clamped), taps at floor(x) − 1 … floor(x) + 2 with
 * weights Keys(a = −0.75) at distances t + 1, t, 1 − t, 2 − t, indices clamped to the border (replicate).
 */
export function bicubicWeights(inSize: number, outSize: number): Weights1d {
  const taps = 4;
  const index = new Int32Array(outSize * taps);
  const weight = new Float64Array(outSize * taps);
  const scale = inSize / outSize;
  for (let i = 0; i < outSize; i++) {
    const x = (i + 0.5) * scale - 0.5;
    const x0 = Math.floor(x);
    const t = x - x0;
    const w = [keysCubic(t + 1, -0.75), keysCubic(t, -0.75), keysCubic(1 - t, -0.75), keysCubic(2 - t, -0.75)];
    for (let k = 0; k < taps; k++) {
      index[i * taps + k] = clampIndex(x0 - 1 + k, inSize);
      weight[i * taps + k] = w[k];
    }
  }
  return { outSize, taps, index, weight };
}

/**
 * PyTorch F.interpolate(mode='bicubic', align_corners=False, antialias=True) along one axis (PIL's filter):
 * scale = in/out, support = 2·max(scale, 1), centre = (i + 0.5)·scale, taps from max(trunc(centre − support + 0.5), 0)
 * to min(trunc(centre + support + 0.5), in) (exclusive), weight Keys(a = −0.5)((j − centre + 0.5) / max(scale, 1)),
 * normalised to sum 1. Differs from antialias=False even when upsampling (a = −0.5, no border replication).
 */
export function bicubicAntialiasWeights(inSize: number, outSize: number): Weights1d {
  const scale = inSize / outSize;
  const support = 2 * Math.max(scale, 1);
  const invScale = scale >= 1 ? 1 / scale : 1;
  const taps = Math.ceil(support) * 2 + 1;
  const index = new Int32Array(outSize * taps);
  const weight = new Float64Array(outSize * taps);
  for (let i = 0; i < outSize; i++) {
    const centre = scale * (i + 0.5);
    const xmin = Math.max(Math.trunc(centre - support + 0.5), 0);
    const xsize = Math.min(Math.trunc(centre + support + 0.5), inSize) - xmin;
    let total = 0;
    for (let j = 0; j < xsize; j++) total += keysCubic((j + xmin - centre + 0.5) * invScale, -0.5);
    for (let j = 0; j < taps; j++) {
      // Unused taps point at a valid index with weight 0.
      index[i * taps + j] = clampIndex(xmin + j, inSize);
      if (j >= xsize) continue;
      const w = keysCubic((j + xmin - centre + 0.5) * invScale, -0.5);
      weight[i * taps + j] = total !== 0 ? w / total : w;
    }
  }
  return { outSize, taps, index, weight };
}

/**
 * BEiT's source grid for a relative-position axis of odd length `src` resized to `dst` (UniLM BEiT fine-tuning,
 * reused by timm's `resize_rel_pos_bias_table`): offsets 0, ±1, ±(1 + q), ±(1 + q + q²), … with the ratio q found
 * by bisection in [1.01, 1.5] (until the bracket is under 1e-6, q = last midpoint) so that the geometric series
 * over src//2 terms just exceeds dst//2. Target offsets are the integers −dst//2 … dst//2.
 * NOTE: when shrinking (dst < src) q stays at ≈ 1.01, so offsets keep (almost) their meaning in patches and the
 * table is in effect cropped to the nearer distances rather than squashed.
 */
export function beitGeometricCoords(src: number, dst: number): Float64Array {
  const half = Math.floor(src / 2);
  const series = (q: number): number => (1 - q ** half) / (1 - q);
  let left = 1.01;
  let right = 1.5;
  let q = left;
  while (right - left > 1e-6) {
    q = (left + right) / 2;
    if (series(q) > Math.floor(dst / 2)) right = q;
    else left = q;
  }
  const coords = new Float64Array(2 * half + 1);
  let cur = 1;
  for (let i = 0; i < half; i++) {
    coords[half + 1 + i] = cur;
    coords[half - 1 - i] = -cur;
    cur += q ** (i + 1);
  }
  return coords;
}

/**
 * Piecewise-linear interpolation on an uneven, increasing source grid `points`, at integer targets −dst//2 … dst//2,
 * clamped to the end values outside the grid (timm's RegularGridInterpolator semantics, one axis).
 */
export function unevenLinearWeights(points: Float64Array, outSize: number): Weights1d {
  const n = points.length;
  const taps = 2;
  const index = new Int32Array(outSize * taps);
  const weight = new Float64Array(outSize * taps);
  const half = Math.floor(outSize / 2);
  for (let i = 0; i < outSize; i++) {
    const x = i - half;
    let right = 0;
    while (right < n && points[right] < x) right++; // first point ≥ x
    if (right >= n) right = n - 1;
    const left = Math.max(right - 1, 0);
    let dl = Math.max(x - points[left], 0);
    let dr = Math.max(points[right] - x, 0);
    if (dl === 0 && dr === 0) dl = dr = 1;
    index[i * taps] = left;
    index[i * taps + 1] = right;
    weight[i * taps] = dr / (dl + dr);
    weight[i * taps + 1] = dl / (dl + dr);
  }
  return { outSize, taps, index, weight };
}

/**
 * Separable 2D resampling of a channel-last grid src[inH, inW, C] → out[rows.outSize, cols.outSize, C]:
 * first along the columns (width), then along the rows, both in float64; one rounding to float32 at the end.
 */
export function resample2d(
  src: ArrayLike<number>,
  inH: number,
  inW: number,
  channels: number,
  rows: Weights1d,
  cols: Weights1d,
): Float32Array {
  const outH = rows.outSize;
  const outW = cols.outSize;
  const tmp = new Float64Array(inH * outW * channels);
  for (let y = 0; y < inH; y++) {
    for (let x = 0; x < outW; x++) {
      const to = (y * outW + x) * channels;
      for (let k = 0; k < cols.taps; k++) {
        const w = cols.weight[x * cols.taps + k];
        if (w === 0) continue;
        const from = (y * inW + cols.index[x * cols.taps + k]) * channels;
        for (let c = 0; c < channels; c++) tmp[to + c] += w * src[from + c];
      }
    }
  }
  const acc = new Float64Array(channels);
  const out = new Float32Array(outH * outW * channels);
  for (let y = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++) {
      acc.fill(0);
      for (let k = 0; k < rows.taps; k++) {
        const w = rows.weight[y * rows.taps + k];
        if (w === 0) continue;
        const from = (rows.index[y * rows.taps + k] * outW + x) * channels;
        for (let c = 0; c < channels; c++) acc[c] += w * tmp[from + c];
      }
      out.set(acc, (y * outW + x) * channels);
    }
  }
  return out;
}
