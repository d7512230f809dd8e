// Layers as pure tensor functions over PyTorch-layout weights: linear, LayerNorm, exact GELU, NHWC conv 1×1/3×3,
// the 2×2 stride-2 transposed conv (as one matMul), bilinear resize and adaptive average pooling (as matrices), 2×2 max pool.
// Only kernels with tfjs gradients are used (no Einsum, StridedSlice, Conv3D*, DepthToSpace). Every product of
// activations by weights runs as a plain 2-D matMul, forward and backward (matMul2d, matMulBT, linear below).
import * as tf from '@tensorflow/tfjs';
import { wasmMatMulFast } from '../train/wasm/matmul.ts';

/**
 * tf.customGrad over tensor inputs: `value` computes the output from them, `grads` the gradient of each input from
 * dy and the saved tensors (the inputs, then `extra`).
 * NOTE: the backward may only use saved tensors: the forward runs in a tidy that disposes anything else it saw.
 */
export function customOp<T extends tf.Tensor>(inputs: tf.Tensor[], value: (...xs: tf.Tensor[]) => T, grads: (dy: T, saved: tf.Tensor[]) => tf.Tensor[], extra: tf.Tensor[] = []): T {
  const f = tf.customGrad<T>((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args.pop() as tf.GradSaveFunc;
    const xs = args as tf.Tensor[];
    save([...xs, ...extra]);
    return { value: value(...xs), gradFunc: grads };
  });
  return f(...inputs);
}

/**
 * op(a) · op(b) for 2-D a, b, op a transpose where asked: as matMul's transpose flags where the backend's product
 * takes transposed operands at full speed, else as explicit transposes and a plain product.
 * NOTE: tfjs-backend-wasm 4.22's own product runs transposed operands ~10× slower than plain ones (2.3 vs 30 GFLOP/s;
 * shared/PERF_NOTES.md); the hand-written kernel that replaces it (src/train/wasm/matmul.ts) packs its operands and
 * takes either layout at the same speed. Explicit transposes remain for wasm without that kernel (no wasm SIMD).
 */
export function product(a: tf.Tensor, b: tf.Tensor, tA: boolean, tB: boolean): tf.Tensor2D {
  if (tf.getBackend() === 'wasm' && !wasmMatMulFast()) {
    return tf.matMul((tA ? tf.transpose(a) : a) as tf.Tensor2D, (tB ? tf.transpose(b) : b) as tf.Tensor2D);
  }
  return tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D, tA, tB);
}

/** a [M, K] · b [K, N], with the gradient da = dy · bᵀ, db = aᵀ · dy (`product`: no slow transposed wasm products). */
export const matMul2d = (a: tf.Tensor, b: tf.Tensor): tf.Tensor2D =>
  customOp([a, b], (x, y) => tf.matMul(x as tf.Tensor2D, y as tf.Tensor2D), (dy, [x, y]) => [product(dy, y, false, true), product(x, dy, true, false)]);

/** m [M, K] (a constant: no gradient) · x [K, N]: dx = mᵀ · dy. */
const constMatMul = (m: tf.Tensor2D, x: tf.Tensor): tf.Tensor2D =>
  customOp([x], (xi) => tf.matMul(m, xi as tf.Tensor2D), (dy, [, ms]) => [product(ms, dy, true, false)], [m]);

/** a [M, K] · bᵀ for b [N, K]: da = dy · b, db = dyᵀ · a. */
export const matMulBT = (a: tf.Tensor, b: tf.Tensor): tf.Tensor2D =>
  customOp([a, b], (x, y) => product(x, y, false, true), (dy, [x, y]) => [tf.matMul(dy, y as tf.Tensor2D), product(dy, x, true, false)]);

/** y = x·Wᵀ + b for x [..., in], W [out, in] (nn.Linear layout), b [out] or null; plain 2-D products (matMulBT). */
export function linear(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor | null): tf.Tensor {
  const [out, inDim] = w.shape;
  if (x.shape[x.rank - 1] !== inDim) throw new Error(`ops.linear: input [${x.shape.join(', ')}] does not fit weight [${w.shape.join(', ')}] (nn.Linear layout [out, in])`);
  const lead = x.shape.slice(0, -1);
  const y = matMulBT(x.reshape([-1, inDim]), w);
  return (b ? y.add(b) : y).reshape([...lead, out]);
}

/**
 * True when small products should be split into plain 2-D matMuls rather than batched (attention per batch × head):
 * on the wasm backend, whose batched matMul runs at ~2 GFLOP/s and whose rank-5 transposes cost ~6 ms for 75 k
 * values. Elsewhere (WebGPU above all) one batched matMul is one dispatch instead of batch · heads of them.
 */
export const splitSmallProducts = (): boolean => tf.getBackend() === 'wasm';

/** LayerNorm over the last axis (biased variance, like PyTorch), then · weight + bias. */
export function layerNorm(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, eps: number): tf.Tensor {
  const { mean, variance } = tf.moments(x, -1, true);
  return x.sub(mean).mul(tf.rsqrt(variance.add(eps))).mul(w).add(b);
}

/** The exact GELU: x·Φ(x) = x·(1 + erf(x/√2))/2 (timm's nn.GELU default, not the tanh approximation). */
export function gelu(x: tf.Tensor): tf.Tensor {
  return x.mul(tf.erf(x.mul(Math.SQRT1_2)).add(1)).mul(0.5);
}

/**
 * nn.Conv2d (stride 1, padding k // 2, odd k) on NHWC x with a PyTorch weight [out, in, kh, kw]: 1×1 as a matMul,
 * otherwise k² shifted matMuls ('same' padding) on the weight transposed to [kh, kw, in, out].
 */
export function conv2d(x: tf.Tensor4D, w: tf.Tensor, b: tf.Tensor | null): tf.Tensor4D {
  const [out, inDim, kh, kw] = w.shape;
  if (x.shape[3] !== inDim) throw new Error(`ops.conv2d: input has ${x.shape[3]} channels, weight [${w.shape.join(', ')}] needs ${inDim}`);
  if (kh % 2 !== 1 || kw % 2 !== 1) throw new Error(`ops.conv2d: odd kernels only, found ${kh}×${kw}`);
  let y: tf.Tensor4D;
  if (kh === 1 && kw === 1) {
    y = linear(x, w.reshape([out, inDim]), null) as tf.Tensor4D;
  } else {
    y = shiftedMatMulConv(x, w);
  }
  return b ? y.add(b) : y;
}

/**
 * A 'same' k×k convolution as k² shifted plain matMuls summed: y = Σ_(dy,dx) shift(x) · W[:, :, dy, dx]ᵀ.
 * NOTE: tfjs's Conv2DBackpropFilter is pathologically slow on the cpu backend (11 s for a 32×32×64 3×3 layer,
 * ~7 MFLOP/s) and missing on wasm (shared/PERF_NOTES.md); slices, pads and matMuls have fast gradients everywhere,
 * and WebGPU runs the matMuls as well as its own conv kernels.
 */
function shiftedMatMulConv(x: tf.Tensor4D, w: tf.Tensor): tf.Tensor4D {
  const [out, inDim, kh, kw] = w.shape;
  const [B, H, W] = x.shape;
  const ph = (kh - 1) / 2, pw = (kw - 1) / 2;
  const xp = tf.pad(x, [[0, 0], [ph, ph], [pw, pw], [0, 0]]);
  const wk = w.transpose([2, 3, 1, 0]); // [kh, kw, in, out]
  let acc: tf.Tensor | null = null;
  for (let dy = 0; dy < kh; dy++) {
    for (let dx = 0; dx < kw; dx++) {
      const patch = tf.slice(xp, [0, dy, dx, 0], [B, H, W, inDim]).reshape([B * H * W, inDim]);
      const term = matMul2d(patch, tf.slice(wk, [dy, dx, 0, 0], [1, 1, inDim, out]).reshape([inDim, out]));
      acc = acc ? acc.add(term) : term;
    }
  }
  return acc!.reshape([B, H, W, out]) as tf.Tensor4D;
}

/**
 * nn.ConvTranspose2d(kernel 2, stride 2) on NHWC x with a PyTorch weight [in, out, 2, 2]: every input pixel emits
 * a 2×2 block, so it is one matMul [B·h·w, in] × [in, 2·2·out] and a reshape/transpose to [B, 2h, 2w, out].
 */
export function convTranspose2x2(x: tf.Tensor4D, w: tf.Tensor, b: tf.Tensor | null): tf.Tensor4D {
  const [inDim, out, kh, kw] = w.shape;
  const [B, h, wd, c] = x.shape;
  if (c !== inDim || kh !== 2 || kw !== 2) throw new Error(`ops.convTranspose2x2: input [${x.shape.join(', ')}] and weight [${w.shape.join(', ')}] (need [${c}, out, 2, 2])`);
  const k = w.transpose([0, 2, 3, 1]).reshape([inDim, 4 * out]);
  const y = matMul2d(x.reshape([B * h * wd, c]), k)
    .reshape([B, h, wd, 2, 2, out])
    .transpose([0, 1, 3, 2, 4, 5])
    .reshape([B, 2 * h, 2 * wd, out]) as tf.Tensor4D;
  return b ? y.add(b) : y;
}

/**
 * Rows of F.interpolate(mode='bilinear', align_corners=False) along one axis: out[o] = Σ_i M[o, i]·in[i].
 * src = (o + ½)·in/out − ½, clamped at 0; the two neighbours floor(src) and min(floor(src) + 1, in − 1).
 */
export function bilinearMatrix(inSize: number, outSize: number): Float32Array {
  const m = new Float32Array(outSize * inSize);
  const scale = inSize / outSize;
  for (let o = 0; o < outSize; o++) {
    const src = Math.max(0, (o + 0.5) * scale - 0.5);
    const i0 = Math.min(Math.floor(src), inSize - 1);
    const i1 = Math.min(i0 + 1, inSize - 1);
    const l = src - i0;
    m[o * inSize + i0] += 1 - l;
    m[o * inSize + i1] += l;
  }
  return m;
}

/** Rows of nn.AdaptiveAvgPool2d along one axis: bin o averages [floor(o·in/out), ceil((o+1)·in/out)). */
export function adaptivePoolMatrix(inSize: number, outSize: number): Float32Array {
  const m = new Float32Array(outSize * inSize);
  for (let o = 0; o < outSize; o++) {
    const s = Math.floor((o * inSize) / outSize);
    const e = Math.ceil(((o + 1) * inSize) / outSize);
    for (let i = s; i < e; i++) m[o * inSize + i] = 1 / (e - s);
  }
  return m;
}

/** Applies per-axis linear maps (mh [outH, h], mw [outW, w]) to NHWC x as two plain 2-D matMuls. */
function separable(x: tf.Tensor4D, mh: Float32Array, outH: number, mw: Float32Array, outW: number): tf.Tensor4D {
  const [B, h, w, c] = x.shape;
  let y = constMatMul(tf.tensor2d(mh, [outH, h]), x.transpose([1, 0, 2, 3]).reshape([h, B * w * c])); // [outH, B·w·c]
  y = y.reshape([outH, B, w, c]).transpose([2, 1, 0, 3]).reshape([w, B * outH * c]);
  y = constMatMul(tf.tensor2d(mw, [outW, w]), y); // [outW, B·outH·c]
  return y.reshape([outW, B, outH, c]).transpose([1, 2, 0, 3]) as tf.Tensor4D;
}

/** Bilinear resize of NHWC x to outH × outW with PyTorch's align_corners=False semantics; identity when sizes match. */
export function resizeBilinear(x: tf.Tensor4D, outH: number, outW: number): tf.Tensor4D {
  const [, h, w] = x.shape;
  if (h === outH && w === outW) return x;
  return separable(x, bilinearMatrix(h, outH), outH, bilinearMatrix(w, outW), outW);
}

/** nn.AdaptiveAvgPool2d(s) on NHWC x → [B, s, s, C]. */
export function adaptiveAvgPool(x: tf.Tensor4D, s: number): tf.Tensor4D {
  const [, h, w] = x.shape;
  return separable(x, adaptivePoolMatrix(h, s), s, adaptivePoolMatrix(w, s), s);
}

/**
 * nn.MaxPool2d(2, 2) on NHWC x (floor mode: an odd last row/column is dropped) as reshape + max.
 * NOTE: a side of 1 cannot be pooled (PyTorch would fail); it is passed through unchanged.
 */
export function maxPool2(x: tf.Tensor4D): tf.Tensor4D {
  const [B, h, w, c] = x.shape;
  const ph = h >= 2 ? 2 : 1;
  const pw = w >= 2 ? 2 : 1;
  if (ph === 1 && pw === 1) return x;
  const hh = Math.floor(h / ph);
  const ww = Math.floor(w / pw);
  const cropped = hh * ph === h && ww * pw === w ? x : tf.slice(x, [0, 0, 0, 0], [B, hh * ph, ww * pw, c]);
  return cropped.reshape([B, hh, ph, ww, pw, c]).max([2, 4]) as tf.Tensor4D;
}
