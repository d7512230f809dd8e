// 3D layers of the volume model as pure tensor functions on channels-last volumes x [B, D, H, W, C] with PyTorch-layout
// weights: convolution 3×3×3 / 1×1×1 (nn.Conv3d, stride 1, padding k // 2), the 2×2×2 stride-2 transposed convolution
// (nn.ConvTranspose3d(kernel 2, stride 2)), instance normalisation without affine parameters (nn.InstanceNorm3d's
// defaults, which MONAI's 'instance' norm uses), LeakyReLU and the 3D patchify of the ViT's "perceptron" embedding.
// Only kernels with gradients on every backend: no Conv3D*, Einsum or StridedSlice (src/model/guard.ts); every product
// is a plain 2-D matMul forward and backward (the wasm backend's fast path, src/train/wasm/matmul.ts).
import * as tf from '@tensorflow/tfjs';
import { customOp, linear, matMul2d, product } from '../ops.ts';

/** nn.InstanceNorm3d's and nn.LayerNorm's default eps (MONAI keeps both defaults). */
export const NORM_EPS = 1e-5;
/** MONAI's UnetResBlock activation: LeakyReLU with negative slope 0.01. */
export const LEAKY_SLOPE = 0.01;

function check5(x: tf.Tensor, what: string): void {
  if (x.rank !== 5) throw new Error(`ops3d.${what}: input must be [B, D, H, W, C], found [${x.shape.join(', ')}]`);
}

/**
 * The 27 shifts of a 'same' 3×3×3 correlation as contiguous row ranges. t [B, D, H, W, ch] is zero-padded by 1 to
 * [B, D+2, H+2, W+2, ch] and flattened to rows r = ((b·(D+2) + d)·(H+2) + h)·(W+2) + w; the input of output row r at
 * offset (a, b, c) ∈ {0, 1, 2}³ is row r + a·(H+2)(W+2) + b·(W+2) + c. So every shifted copy is ONE contiguous slice
 * of M rows (M = all rows − the largest offset), and every output voxel (d < D, h < H, w < W) has r < M; the other
 * rows of the padded layout (borders, the seams between samples) compute garbage that the caller zeroes or crops.
 * NOTE: contiguous slices are plain copies on every backend; a strided 5-D shift costs 0.4–0.7 s for a 32³×8 map on
 * tfjs-backend-wasm 4.22 and ~2 s on cpu (their Slice kernels copy element by element).
 */
interface Layout { B: number; D: number; H: number; W: number; R: number; M: number; offsets: number[] }

function layoutOf([B, D, H, W]: number[]): Layout {
  const P = (H + 2) * (W + 2);
  const R = B * (D + 2) * P;
  const offsets: number[] = [];
  for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) for (let c = 0; c < 3; c++) offsets.push(a * P + b * (W + 2) + c);
  return { B, D, H, W, R, M: R - offsets[26], offsets };
}

/**
 * t [B, D, H, W, ch] zero-padded by `before` and `after` voxels on D, H and W, as rows [R, ch].
 * NOTE: padded as [B, D, H, W·ch] (W's padding is ch values per voxel): tfjs-webgpu 4.22's Pad builds an invalid
 * shader for rank 5 ("cannot index type 'vec5'").
 */
function paddedRows(t: tf.Tensor, L: Layout, before = 1, after = 1): tf.Tensor2D {
  const ch = t.shape[4] as number;
  return tf.pad(t.reshape([L.B, L.D, L.H, L.W * ch]), [[0, 0], [before, after], [before, after], [before * ch, after * ch]]).reshape([L.R, ch]);
}

/** Rows [M, ch] in the padded layout → the voxels [B, D, H, W, ch] (garbage rows dropped; a rank-4 slice, as above). */
function cropRows(y: tf.Tensor, L: Layout): tf.Tensor5D {
  const ch = y.shape[1] as number;
  const full = tf.concat([y, tf.zeros([L.R - L.M, ch])], 0).reshape([L.B, L.D + 2, L.H + 2, (L.W + 2) * ch]);
  return tf.slice(full, [0, 0, 0, 0], [L.B, L.D, L.H, L.W * ch]).reshape([L.B, L.D, L.H, L.W, ch]) as tf.Tensor5D;
}

/**
 * Σ_t rows[offset_t + r] · tap(t) over the 27 offsets: [M, out]. The products are summed three at a time (one AddN
 * per row of taps instead of three Adds: fewer kernels and one pass over the running sum), each group made in its
 * own tidy, so at most four products are alive at once.
 */
function correlate(rows: tf.Tensor2D, L: Layout, tap: (patch: tf.Tensor2D, t: number) => tf.Tensor): tf.Tensor {
  const ch = rows.shape[1];
  let acc: tf.Tensor | null = null;
  for (let g = 0; g < 27; g += 3) {
    const prev: tf.Tensor | null = acc;
    acc = tf.tidy(() => {
      const terms = [g, g + 1, g + 2].map((t) => tap(tf.slice(rows, [L.offsets[t], 0], [L.M, ch]), t));
      return tf.addN(prev ? [prev, ...terms] : terms);
    });
    if (prev) prev.dispose();
  }
  return acc as unknown as tf.Tensor;
}

/**
 * 'same' 3×3×3 convolution as 27 shifted plain matMuls summed, with a gradient that keeps only the input (not the 27
 * shifted copies): y[p] = Σ_o xp[p + o] · W_o, o ∈ {0, 1, 2}³, xp = x zero-padded by 1;
 * dx[q] = Σ_o dyp[q + 2 − o] · W_oᵀ (the same correlation of dy with the flipped, transposed taps), dW_o = xp[· + o]ᵀ · dy.
 * wk is the weight as [27, in, out] (offsets d-major, then h, then w).
 * NOTE: the shifted copies are made and freed one at a time: a 96³ map of 32 channels is 113 MB, and 27 saved copies
 * of it would not fit a browser tab.
 */
function conv3x3x3(x: tf.Tensor5D, wk: tf.Tensor3D): tf.Tensor5D {
  const [, , , , cin] = x.shape;
  const cout = wk.shape[2];
  const L = layoutOf(x.shape);
  return customOp<tf.Tensor5D>(
    [x, wk],
    (xi, wi) => {
      const taps = tf.unstack(wi); // 27 × [in, out]
      const sum = correlate(paddedRows(xi, L), L, (patch, t) => tf.matMul(patch, taps[t]));
      const y = cropRows(sum, L);
      sum.dispose(); // made across the per-shift tidies: freed here, not by the enclosing tidy
      return y;
    },
    (dy, [xi, wi]) => {
      const taps = tf.unstack(wi);
      const sum = correlate(paddedRows(dy, L), L, (patch, t) => product(patch, taps[26 - t], false, true));
      const dx = cropRows(sum, L);
      sum.dispose();
      // dy in the padded layout's first M rows (zeros on the garbage rows), then dW_o = shifted xpᵀ · dy.
      const g = paddedRows(dy, L, 0, 2).slice([0, 0], [L.M, cout]);
      const xr = paddedRows(xi, L);
      const dws = L.offsets.map((off) => tf.tidy(() => product(tf.slice(xr, [off, 0], [L.M, cin]), g, true, false)));
      return [dx, tf.stack(dws)];
    },
  );
}

/**
 * nn.Conv3d(in, out, k, stride 1, padding k // 2) on channels-last x with a PyTorch weight [out, in, k, k, k], k 1 or 3,
 * and an optional bias [out]. 1×1×1 is one matMul (ops.linear); 3×3×3 is conv3x3x3 above.
 */
export function conv3d(x: tf.Tensor5D, w: tf.Tensor, b: tf.Tensor | null): tf.Tensor5D {
  check5(x, 'conv3d');
  const [out, cin, k0, k1, k2] = w.shape;
  if (w.rank !== 5 || x.shape[4] !== cin || k0 !== k1 || k1 !== k2 || (k0 !== 1 && k0 !== 3)) {
    throw new Error(`ops3d.conv3d: input [${x.shape.join(', ')}] and weight [${w.shape.join(', ')}] (need [out, ${x.shape[4]}, k, k, k], k 1 or 3)`);
  }
  if (k0 === 1) return linear(x, w.reshape([out, cin]), b) as tf.Tensor5D;
  return addBias(conv3x3x3(x, w.transpose([2, 3, 4, 1, 0]).reshape([27, cin, out]) as tf.Tensor3D), b);
}

/**
 * y + b over the channels (last axis), on y folded to [voxels, C].
 * NOTE: tfjs-webgpu 4.22's broadcasting binary ops build an invalid shader for rank 5 ("cannot index type 'vec5'").
 */
const addBias = (y: tf.Tensor5D, b: tf.Tensor | null): tf.Tensor5D => (b ? (y.reshape([-1, y.shape[4]]).add(b).reshape(y.shape) as tf.Tensor5D) : y);

/**
 * nn.ConvTranspose3d(in, out, kernel 2, stride 2, no padding) on channels-last x [B, d, h, w, in] with a PyTorch weight
 * [in, out, 2, 2, 2] and optional bias: kernel = stride, so every input voxel emits its own 2×2×2 block and nothing
 * overlaps — one matMul [B·d·h·w, in] × [in, 8·out] and an interleave to [B, 2d, 2h, 2w, out] (two transposes of
 * rank ≤ 5). Its gradient is that of matMul2d, reshape and transpose: no Conv3DBackpropInputV2.
 */
export function convTranspose2x2x2(x: tf.Tensor5D, w: tf.Tensor, b: tf.Tensor | null): tf.Tensor5D {
  check5(x, 'convTranspose2x2x2');
  const [cin, out, ...k] = w.shape;
  const [B, d, h, wd, c] = x.shape;
  if (w.rank !== 5 || c !== cin || k.some((v) => v !== 2)) {
    throw new Error(`ops3d.convTranspose2x2x2: input [${x.shape.join(', ')}] and weight [${w.shape.join(', ')}] (need [${c}, out, 2, 2, 2])`);
  }
  const km = w.transpose([0, 2, 3, 4, 1]).reshape([cin, 8 * out]); // columns (a, b, c, out)
  const y = matMul2d(x.reshape([B * d * h * wd, c]), km) // rows (B, d, h, w)
    .reshape([B * d, h * wd, 2, 4 * out])
    .transpose([0, 2, 1, 3]) // [B·d, a, h·w, (b, c, out)] = [B·2d, h, w, b, (c, out)]
    .reshape([B * 2 * d, h, wd, 2, 2 * out])
    .transpose([0, 1, 3, 2, 4]) // [B·2d, h, b, w, (c, out)]
    .reshape([B, 2 * d, 2 * h, 2 * wd, out]) as tf.Tensor5D;
  return addBias(y, b);
}

/** nn.InstanceNorm3d(C) with its defaults (affine = False, eps 1e-5, biased variance): per sample and channel over D, H, W. */
export function instanceNorm3d(x: tf.Tensor5D, eps = NORM_EPS): tf.Tensor5D {
  check5(x, 'instanceNorm3d');
  const [B, D, H, W, C] = x.shape;
  const flat = x.reshape([B, D * H * W, C]);
  const { mean, variance } = tf.moments(flat, 1, true);
  return flat.sub(mean).mul(tf.rsqrt(variance.add(eps))).reshape([B, D, H, W, C]) as tf.Tensor5D;
}

/**
 * LeakyReLU (MONAI's UnetResBlock: negative slope 0.01), on the map folded to [voxels, C].
 * NOTE: tfjs-webgpu 4.22's Select ("Where for rank 5 is not yet supported"), which LeakyRelu's gradient runs, takes
 * rank ≤ 4.
 */
export const leakyRelu = (x: tf.Tensor5D, slope = LEAKY_SLOPE): tf.Tensor5D =>
  tf.leakyRelu(x.reshape([-1, x.shape[4]]), slope).reshape(x.shape) as tf.Tensor5D;

/**
 * The "perceptron" patch embedding's rearrangement: x [B, D, H, W, C] → [B·(D/P)(H/P)(W/P), P³·C], tokens in
 * (d, h, w) row-major order, each patch flattened as (p_d, p_h, p_w, c) with the channel fastest — MONAI's einops
 * pattern "b c (h p1) (w p2) (d p3) -> b (h w d) (p1 p2 p3 c)" read on [B, C, D, H, W] (its h, w, d are our D, H, W).
 * NOTE: not the order of a Conv3d kernel [hidden, C, P, P, P] (channel slowest): a 'conv' embedding's weight does not
 * load here without permuting it. Two transposes of rank ≤ 5 (some backends cap transposes at rank 6).
 */
export function patchify3d(x: tf.Tensor5D, P: number): tf.Tensor2D {
  check5(x, 'patchify3d');
  const [B, D, H, W, C] = x.shape;
  if (D % P || H % P || W % P) throw new Error(`ops3d.patchify3d: [${D}, ${H}, ${W}] is not a multiple of the patch ${P}`);
  const [g0, g1, g2] = [D / P, H / P, W / P];
  return x
    .reshape([B * g0, P, g1, P, W * C])
    .transpose([0, 2, 1, 3, 4]) // [B·g0·g1, p_d, p_h, (w, c)]
    .reshape([B * g0 * g1, P * P, g2, P * C])
    .transpose([0, 2, 1, 3]) // [B·g0·g1·g2, (p_d, p_h), (p_w, c)]
    .reshape([B * g0 * g1 * g2, P * P * P * C]) as tf.Tensor2D;
}
