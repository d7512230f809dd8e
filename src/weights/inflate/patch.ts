// Patch-kernel inflation (METHOD.md "Weight inflation, exactly", steps 1–3): RGB → grey → C_in channels → 3D.
// Pure functions on row-major kernels, tensor in → tensor out; the input is never mutated.
import type { HostTensor } from '../../core/types.ts';

/** How the 2D kernel is spread over the T slices of a window (METHOD.md step 3). */
export type InflateMode = 'center' | 'average';

/** Reads a float tensor's data as numbers; integer kernels make no sense here. */
function floatData(t: HostTensor, what: string): Float32Array | Float64Array {
  if (t.data instanceof Float32Array || t.data instanceof Float64Array) return t.data;
  throw new Error(`patch: ${what} must be float32 or float64, found ${t.dtype}`);
}

function checkKernel2d(w: HostTensor, what: string): [number, number, number, number] {
  if (w.shape.length !== 4) {
    throw new Error(`patch: ${what} must be a 2D conv kernel [D, C, P, P], found shape [${w.shape.join(', ')}]`);
  }
  const [d, c, ph, pw] = w.shape as [number, number, number, number];
  if (w.data.length !== d * c * ph * pw) {
    throw new Error(`patch: ${what} has ${w.data.length} values, shape [${w.shape.join(', ')}] needs ${d * c * ph * pw}`);
  }
  return [d, c, ph, pw];
}

/**
 * Step 1, colour to grey: G[o, 0, i, j] = Σ_c W2[o, c, i, j] over the 3 RGB channels → [D, 1, P, P].
 * A grey image s fed to the RGB model as (s, s, s) gives W2·(s, s, s) = G·s, so G is exact, not a heuristic.
 * Early return (the same object) when the kernel already has one channel.
 */
export function rgbToGrey(w: HostTensor): HostTensor {
  const [d, c, ph, pw] = checkKernel2d(w, 'rgbToGrey input');
  if (c === 1) return w;
  if (c !== 3) {
    throw new Error(`patch: rgbToGrey expects 1 or 3 input channels (shape [D, C, P, P]), found C = ${c} in [${w.shape.join(', ')}]`);
  }
  const src = floatData(w, 'rgbToGrey input');
  const area = ph * pw;
  const out = new Float32Array(d * area);
  for (let o = 0; o < d; o++) {
    const base = o * c * area;
    for (let k = 0; k < area; k++) {
      // Float64 sum of the three channels, rounded once.
      out[o * area + k] = src[base + k] + src[base + area + k] + src[base + 2 * area + k];
    }
  }
  return { dtype: 'float32', shape: [d, 1, ph, pw], data: out };
}

/**
 * Step 2, grey to C_in channels: W[o, c, i, j] = G[o, 0, i, j] / C_in for every c → [D, C_in, P, P].
 * When all C_in modalities carry the same image s, W·(s, …, s) = G·s, the grey response.
 */
export function greyToChannels(g: HostTensor, cIn: number): HostTensor {
  const [d, c, ph, pw] = checkKernel2d(g, 'greyToChannels input');
  if (c !== 1) throw new Error(`patch: greyToChannels expects a grey kernel [D, 1, P, P], found C = ${c}`);
  if (!Number.isInteger(cIn) || cIn < 1) throw new Error(`patch: greyToChannels needs an integer C_in ≥ 1, found ${cIn}`);
  if (cIn === 1) return g;
  const src = floatData(g, 'greyToChannels input');
  const area = ph * pw;
  const out = new Float32Array(d * cIn * area);
  for (let o = 0; o < d; o++) {
    for (let k = 0; k < area; k++) {
      const v = src[o * area + k] / cIn;
      for (let ch = 0; ch < cIn; ch++) out[(o * cIn + ch) * area + k] = v;
    }
  }
  return { dtype: 'float32', shape: [d, cIn, ph, pw], data: out };
}

/**
 * Step 3, 2D → 3D: [D, C, P, P] → [D, C, T, P, P] (PyTorch Conv3d layout, depth before the in-plane axes).
 * - 'center':  W3[o, c, d] = W[o, c] when d = floor(T/2), else 0 (the 3D model equals the 2D model on that slice).
 * - 'average': W3[o, c, d] = W[o, c] / T for every d (equal to the 2D model on a window of identical slices).
 * NOTE: for an even T, 'center' follows METHOD.md literally: d = floor(T/2) is the later of the two middle slices.
 * T = 1 gives the '2d' baseline kernel (W itself, reshaped) for either mode.
 */
export function inflateKernel(w: HostTensor, T: number, mode: InflateMode): HostTensor {
  const [d, c, ph, pw] = checkKernel2d(w, 'inflateKernel input');
  if (!Number.isInteger(T) || T < 1) throw new Error(`patch: inflateKernel needs an integer T ≥ 1 (slices per window), found ${T}`);
  if (mode !== 'center' && mode !== 'average') throw new Error(`patch: inflateKernel mode must be 'center' or 'average', found '${String(mode)}'`);
  const src = floatData(w, 'inflateKernel input');
  const area = ph * pw;
  const out = new Float32Array(d * c * T * area);
  const centre = Math.floor(T / 2);
  for (let oc = 0; oc < d * c; oc++) {
    const from = oc * area;
    for (let t = 0; t < T; t++) {
      if (mode === 'center' && t !== centre) continue; // stays zero
      const to = (oc * T + t) * area;
      if (mode === 'center') out.set(src.subarray(from, from + area), to);
      else for (let k = 0; k < area; k++) out[to + k] = src[from + k] / T;
    }
  }
  return { dtype: 'float32', shape: [d, c, T, ph, pw], data: out };
}

/**
 * Steps 1–3 in one: the pre-trained kernel [D, 3, P, P] (or [D, 1, P, P]) → [D, C_in, T, P, P].
 * The '2d' baseline is T = 1.
 */
export function inflatePatchKernel(w2: HostTensor, cIn: number, T: number, mode: InflateMode): HostTensor {
  return inflateKernel(greyToChannels(rgbToGrey(w2), cIn), T, mode);
}

/**
 * Video Swin's pre-trained kernel [D, 3, Pd, P, P] (temporal patch Pd = 2) → [D, C_in, Pd, P, P]: the colour steps
 * (RGB summed, spread over C_in) on each temporal tap; the taps themselves are kept as pre-trained. With
 * `collapse` (the '2d' baseline) the Pd taps are summed into one, [D, C_in, 1, P, P]: one slice through it gives
 * what the pre-trained kernel gives on a static clip of that slice repeated Pd times.
 */
export function inflateVideoKernel(w: HostTensor, cIn: number, collapse: boolean): HostTensor {
  if (w.shape.length !== 5) throw new Error(`patch: inflateVideoKernel expects a Video Swin kernel [D, C, Pd, P, P], found shape [${w.shape.join(', ')}]`);
  const [d, c, pd, ph, pw] = w.shape as [number, number, number, number, number];
  const src = floatData(w, 'inflateVideoKernel input');
  if (src.length !== d * c * pd * ph * pw) throw new Error(`patch: inflateVideoKernel input has ${src.length} values, shape [${w.shape.join(', ')}] needs ${d * c * pd * ph * pw}`);
  const area = ph * pw;
  const taps: HostTensor[] = [];
  for (let t = 0; t < pd; t++) {
    // tap t as a 2D kernel [D, C, P, P]
    const data = new Float32Array(d * c * area);
    for (let oc = 0; oc < d * c; oc++) data.set(src.subarray((oc * pd + t) * area, (oc * pd + t + 1) * area), oc * area);
    taps.push(greyToChannels(rgbToGrey({ dtype: 'float32', shape: [d, c, ph, pw], data }), cIn));
  }
  const outDepth = collapse ? 1 : pd;
  const out = new Float32Array(d * cIn * outDepth * area);
  for (let oc = 0; oc < d * cIn; oc++) {
    for (let t = 0; t < pd; t++) {
      const from = taps[t].data.subarray(oc * area, (oc + 1) * area) as Float32Array;
      const to = (oc * outDepth + (collapse ? 0 : t)) * area;
      if (collapse) for (let k = 0; k < area; k++) out[to + k] += from[k];
      else out.set(from, to);
    }
  }
  return { dtype: 'float32', shape: [d, cIn, outDepth, ph, pw], data: out };
}
