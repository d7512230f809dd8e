// Position information at a new token grid: absolute position embeddings (ViT, DeiT, DINO) and BEiT's relative
// position bias tables and index. Pure: HostTensor in → HostTensor out, the input is never mutated.
import type { HostTensor } from '../../core/types.ts';
import {
  beitGeometricCoords,
  bicubicAntialiasWeights,
  bicubicWeights,
  resample2d,
  unevenLinearWeights,
  type Weights1d,
} from './resample.ts';

export type Grid = [number, number];

export interface PosEmbedResampleOptions {
  /**
   * PyTorch's antialias flag for F.interpolate(bicubic, align_corners=False). This low-level function defaults
   * to false (timm's older `resize_pos_embed`); `inflate` passes true. NOTE: timm's current
   * `resample_abs_pos_embed` / `checkpoint_filter_fn` use antialias=True, which differs (a = −0.5, PIL-style
   * support) even when upsampling; METHOD.md asks for the usual timm behaviour, so inflation follows timm.
   */
  antialias?: boolean;
}

function floatData(t: HostTensor, what: string): Float32Array | Float64Array {
  if (t.data instanceof Float32Array || t.data instanceof Float64Array) return t.data;
  throw new Error(`posembed: ${what} must be float32 or float64, found ${t.dtype}`);
}

const sameGrid = (a: Grid, b: Grid): boolean => a[0] === b[0] && a[1] === b[1];

function checkGrid(g: Grid, what: string): void {
  if (g.length !== 2 || !g.every((n) => Number.isInteger(n) && n >= 1)) {
    throw new Error(`posembed: ${what} must be two integers ≥ 1, found [${g.join(', ')}]`);
  }
}

/**
 * Resamples an absolute position embedding pe [1, prefix + h·w, D] to the grid [h', w'] (timm's
 * resample_abs_pos_embed): the `prefix` class/distillation entries are kept apart unchanged, the grid part is
 * viewed as [h, w, D] (row-major tokens) and resized bicubically. Early return (same object) when the grids match.
 */
export function resamplePosEmbed(
  pe: HostTensor,
  prefix: number,
  fromGrid: Grid,
  toGrid: Grid,
  options: PosEmbedResampleOptions = {},
): HostTensor {
  checkGrid(fromGrid, 'fromGrid');
  checkGrid(toGrid, 'toGrid');
  if (pe.shape.length !== 3 || pe.shape[0] !== 1) {
    throw new Error(`posembed: pos_embed must be [1, tokens, D], found [${pe.shape.join(', ')}]`);
  }
  const [, tokens, dim] = pe.shape as [number, number, number];
  if (!Number.isInteger(prefix) || prefix < 0 || tokens !== prefix + fromGrid[0] * fromGrid[1]) {
    throw new Error(
      `posembed: pos_embed has ${tokens} tokens, expected prefix ${prefix} + grid ${fromGrid[0]}×${fromGrid[1]} = ${prefix + fromGrid[0] * fromGrid[1]}`,
    );
  }
  if (sameGrid(fromGrid, toGrid)) return pe;
  const src = floatData(pe, 'pos_embed');
  const weights = options.antialias ? bicubicAntialiasWeights : bicubicWeights;
  const grid = resample2d(
    src.subarray(prefix * dim),
    fromGrid[0],
    fromGrid[1],
    dim,
    weights(fromGrid[0], toGrid[0]),
    weights(fromGrid[1], toGrid[1]),
  );
  const newTokens = prefix + toGrid[0] * toGrid[1];
  const out = new Float32Array(newTokens * dim);
  out.set(src.subarray(0, prefix * dim));
  out.set(grid, prefix * dim);
  return { dtype: 'float32', shape: [1, newTokens, dim], data: out };
}

/** BEiT's three extra table rows: cls→token, token→cls, cls→cls (after the (2h−1)(2w−1) distances). */
export const REL_POS_EXTRA = 3;

/** Table rows for a window: (2h − 1)(2w − 1) relative distances + 3 class-token entries. */
export const relPosTableRows = (window: Grid): number => (2 * window[0] - 1) * (2 * window[1] - 1) + REL_POS_EXTRA;

/**
 * How a relative position bias table is resized:
 * - 'beit-geometric' (default): timm's BEiT checkpoint filter (`resize_rel_pos_bias_table`, from UniLM BEiT):
 *   source offsets on a geometric grid, linear interpolation at integer target offsets (timm's scipy-free path).
 * - 'bicubic': plain F.interpolate(bicubic, align_corners=False) of the (2h−1)×(2w−1) map per head
 *   (timm's `resize_rel_pos_bias_table_simple`).
 * NOTE: the reference TransSeg/mmseg BEiT and UniLM use the geometric grid with scipy's cubic interp2d, which we do
 * not reproduce; timm (without TIMM_USE_SCIPY_INTERP) uses the same grid with linear interpolation — we match timm.
 */
export type RelPosResizeMode = 'beit-geometric' | 'bicubic';

/**
 * Resizes a BEiT relative position bias table [(2h−1)(2w−1) + 3, heads] from window [h, w] to [h', w'].
 * The 3 class-token rows are kept unchanged at the end. Early return (same object) when the windows match.
 */
export function resampleRelPosBias(
  table: HostTensor,
  fromWindow: Grid,
  toWindow: Grid,
  mode: RelPosResizeMode = 'beit-geometric',
): HostTensor {
  checkGrid(fromWindow, 'fromWindow');
  checkGrid(toWindow, 'toWindow');
  if (table.shape.length !== 2) {
    throw new Error(`posembed: relative_position_bias_table must be [rows, heads], found [${table.shape.join(', ')}]`);
  }
  const [rows, heads] = table.shape as [number, number];
  if (rows !== relPosTableRows(fromWindow)) {
    throw new Error(
      `posembed: relative_position_bias_table has ${rows} rows, window ${fromWindow[0]}×${fromWindow[1]} needs (2h−1)(2w−1)+3 = ${relPosTableRows(fromWindow)}`,
    );
  }
  if (sameGrid(fromWindow, toWindow)) return table;
  const src = floatData(table, 'relative_position_bias_table');
  const inH = 2 * fromWindow[0] - 1;
  const inW = 2 * fromWindow[1] - 1;
  const outH = 2 * toWindow[0] - 1;
  const outW = 2 * toWindow[1] - 1;
  let rowW: Weights1d;
  let colW: Weights1d;
  if (mode === 'bicubic') {
    rowW = bicubicWeights(inH, outH);
    colW = bicubicWeights(inW, outW);
  } else if (mode === 'beit-geometric') {
    // NOTE: timm assumes a square source table; each axis is handled on its own here, which equals timm's
    // result for square windows and extends it to rectangular ones.
    rowW = unevenLinearWeights(beitGeometricCoords(inH, outH), outH);
    colW = unevenLinearWeights(beitGeometricCoords(inW, outW), outW);
  } else {
    throw new Error(`posembed: relative position resize mode must be 'beit-geometric' or 'bicubic', found '${String(mode)}'`);
  }
  // The table is already channel-last: row r = (dy, dx) distance, column = head.
  const grid = resample2d(src.subarray(0, inH * inW * heads), inH, inW, heads, rowW, colW);
  const out = new Float32Array((outH * outW + REL_POS_EXTRA) * heads);
  out.set(grid);
  out.set(src.subarray(inH * inW * heads, rows * heads), outH * outW * heads);
  return { dtype: 'float32', shape: [outH * outW + REL_POS_EXTRA, heads], data: out };
}

/**
 * BEiT's relative position index for a window [h, w] with a class token: an (N+1)×(N+1) row-major Int32Array,
 * N = h·w, query token first. For patch tokens a = (ya, xa), b = (yb, xb):
 *   index = (ya − yb + h − 1)·(2w − 1) + (xa − xb + w − 1)
 * and with R = (2h−1)(2w−1) + 3 table rows: row 0 (cls → token) = R − 3, column 0 (token → cls) = R − 2,
 * [0, 0] (cls → cls) = R − 1.
 */
export function relativePositionIndex(h: number, w: number): Int32Array {
  checkGrid([h, w], 'window');
  const n = h * w;
  const size = n + 1;
  const rows = relPosTableRows([h, w]);
  const index = new Int32Array(size * size);
  for (let a = 0; a < n; a++) {
    const ya = Math.floor(a / w);
    const xa = a % w;
    for (let b = 0; b < n; b++) {
      const yb = Math.floor(b / w);
      const xb = b % w;
      index[(a + 1) * size + (b + 1)] = (ya - yb + h - 1) * (2 * w - 1) + (xa - xb + w - 1);
    }
  }
  for (let j = 1; j < size; j++) index[j] = rows - 3; // cls → token
  for (let i = 1; i < size; i++) index[i * size] = rows - 2; // token → cls
  index[0] = rows - 1; // cls → cls
  return index;
}
