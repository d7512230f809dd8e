// Host-side geometry of the (Video) Swin encoder: the window and shift each block uses on a given token grid, the
// relative position index into the pre-trained bias table, the shifted-window mask, the temporal token count and the
// centre token. Pure arithmetic on typed arrays, cached per shape (the model gathers / adds them as constants).
//
// THE RULE (both families, per axis a ∈ (depth, rows, cols); 2D Swin is the case depth = 1, Wd = 1):
//  - window w_a = min(W_a, n_a) for the pre-trained window W_a and a stage grid of n_a tokens (clipped when the
//    grid is no larger than the window: Video Swin's get_window_size, and the classification Swin's rule);
//  - shift s_a = ⌊W_a / 2⌋ on odd blocks (1, 3, …) of a stage, but 0 along any axis where n_a ≤ W_a;
//  - otherwise the normed tokens (after norm1) are zero-padded at the end of each axis to a multiple of w_a
//    (the segmentation Swins, mmseg / Swin-Transformer-Semantic-Segmentation / Video Swin), attended in windows,
//    and cropped back. Padded tokens are keys like any other (only the shift mask below is applied, as there).
//  - shifted blocks roll the padded grid by −s_a, attend with the mask, roll back by +s_a; the mask is built on the
//    padded grid: along a shifted axis of padded length m the regions are [0, m − w), [m − w, m − s), [m − s, m)
//    (one region along an unshifted axis); two tokens of a window in different regions get −100 before softmax.
//  - the relative position bias of a (clipped) window is gathered from the full table by the offsets:
//    row = (Δd + Wd − 1)(2Wh − 1)(2Ww − 1) + (Δh + Wh − 1)(2Ww − 1) + (Δw + Ww − 1), Δ = query − key position.
//    NOTE: exact for any clipping; the original Video Swin code takes the first N×N entries of the full window's
//    index instead, which is the same when only the depth is clipped (a prefix of the raster order) but not when
//    rows / columns are (a stage grid smaller than 7 in-plane).

/** The window and shift one block uses along (depth, rows, cols), and the padded grid. */
export interface BlockGeometry {
  window: [number, number, number];
  shift: [number, number, number];
  /** Grid after padding to a multiple of the window. */
  padded: [number, number, number];
}

/** The pre-trained window as [Wd, Wh, Ww] (2D Swin: Wd = 1). */
export function fullWindow(window: readonly number[]): [number, number, number] {
  if (window.length === 2) return [1, window[0], window[1]];
  if (window.length === 3) return [window[0], window[1], window[2]];
  throw new Error(`swin: window must be [Wh, Ww] or [Wd, Wh, Ww], found [${window.join(', ')}]`);
}

/** The rule above for block `block` (0-based within its stage) on a grid [D, h, w]. */
export function blockGeometry(grid: readonly number[], window: readonly number[], block: number): BlockGeometry {
  const W = fullWindow(window);
  const win = [0, 1, 2].map((a) => Math.min(W[a], grid[a])) as [number, number, number];
  const shift = [0, 1, 2].map((a) => (block % 2 === 1 && grid[a] > W[a] ? Math.floor(W[a] / 2) : 0)) as [number, number, number];
  const padded = [0, 1, 2].map((a) => Math.ceil(grid[a] / win[a]) * win[a]) as [number, number, number];
  return { window: win, shift, padded };
}

const indexCache = new Map<string, Int32Array>();
/** Rows of the full table [(2Wd−1)(2Wh−1)(2Ww−1), heads] for every (query, key) pair of a window, N·N row-major. */
export function windowRelIndex(win: readonly number[], full: readonly number[]): Int32Array {
  const key = `${win.join(',')}/${full.join(',')}`;
  const hit = indexCache.get(key);
  if (hit) return hit;
  const [wd, wh, ww] = win;
  const [Wd, Wh, Ww] = full;
  const N = wd * wh * ww;
  const pos: number[][] = [];
  for (let d = 0; d < wd; d++) for (let h = 0; h < wh; h++) for (let w = 0; w < ww; w++) pos.push([d, h, w]);
  const idx = new Int32Array(N * N);
  for (let i = 0; i < N; i++) {
    for (let j = 0; j < N; j++) {
      const [dd, dh, dw] = [pos[i][0] - pos[j][0], pos[i][1] - pos[j][1], pos[i][2] - pos[j][2]];
      idx[i * N + j] = (dd + Wd - 1) * (2 * Wh - 1) * (2 * Ww - 1) + (dh + Wh - 1) * (2 * Ww - 1) + (dw + Ww - 1);
    }
  }
  indexCache.set(key, idx);
  return idx;
}

/** Region label along one axis of padded length m for window w and shift s (0 everywhere when s = 0). */
function regions(m: number, w: number, s: number): Int32Array {
  const r = new Int32Array(m);
  if (s > 0) for (let i = 0; i < m; i++) r[i] = i < m - w ? 0 : i < m - s ? 1 : 2;
  return r;
}

const maskCache = new Map<string, Float32Array>();
/**
 * The shifted-window mask [nW, N, N] (windows in raster order over the padded grid, tokens in raster order within a
 * window): 0 where query and key lie in the same region, −100 elsewhere. Only for a geometry with some shift.
 */
export function shiftMask(g: BlockGeometry): Float32Array {
  const key = `${g.window.join(',')}/${g.shift.join(',')}/${g.padded.join(',')}`;
  const hit = maskCache.get(key);
  if (hit) return hit;
  const [md, mh, mw] = g.padded;
  const [wd, wh, ww] = g.window;
  const rd = regions(md, wd, g.shift[0]);
  const rh = regions(mh, wh, g.shift[1]);
  const rw = regions(mw, ww, g.shift[2]);
  const nd = md / wd;
  const nh = mh / wh;
  const nw = mw / ww;
  const N = wd * wh * ww;
  const mask = new Float32Array(nd * nh * nw * N * N);
  const label = new Int32Array(N);
  let win = 0;
  for (let a = 0; a < nd; a++) {
    for (let b = 0; b < nh; b++) {
      for (let c = 0; c < nw; c++, win++) {
        let t = 0;
        for (let d = 0; d < wd; d++) for (let h = 0; h < wh; h++) for (let w = 0; w < ww; w++) label[t++] = rd[a * wd + d] * 9 + rh[b * wh + h] * 3 + rw[c * ww + w];
        const base = win * N * N;
        for (let i = 0; i < N; i++) for (let j = 0; j < N; j++) mask[base + i * N + j] = label[i] === label[j] ? 0 : -100;
      }
    }
  }
  maskCache.set(key, mask);
  return mask;
}

/** Depth of the patch kernel: the window T for Swin (patchDepth 1: depth collapses), patchDepth (2) for Video Swin. */
export const kernelDepth = (patchDepth: number, T: number): number => (patchDepth === 1 ? T : patchDepth);

/** Temporal tokens D' = ⌈T / kernel depth⌉ (the window zero-padded at its end to a multiple of the kernel depth). */
export const temporalTokens = (patchDepth: number, T: number): number => Math.ceil(T / kernelDepth(patchDepth, T));

/**
 * The temporal token whose patch holds the centre slice ⌊T/2⌋: ⌊⌊T/2⌋ / kernel depth⌋. For odd D' it is ⌊D'/2⌋
 * (T = 5: slices 0‑1 | 2‑3 | 4‑pad, token 1); for even D' it is D'/2 − 1 when T is odd (T = 3: 0‑1 | 2‑pad, token 0
 * holds slice 1; token 1 holds slice 2 and a zero slice) and D'/2 when T is even (T = 4: 0‑1 | 2‑3, token 1).
 */
export const centreToken = (patchDepth: number, T: number): number => Math.floor(Math.floor(T / 2) / kernelDepth(patchDepth, T));
