// One-kernel AdamW for the cpu and wasm backends: global gradient norm, clipping and the update of every parameter in a
// single tfjs kernel (instead of ~15 per parameter), bit-identical to the per-tensor tfjs ops in src/train/optim/adamw.ts.
import * as tf from '@tensorflow/tfjs';
import { instantiateAdamwSimd } from './adamw-simd.ts';
import { perWasmBackend, wasmInternals } from '../wasm/kernels.ts';

export const FUSED_ADAMW = 'InflateSegFusedAdamW';

/** The float32 constants of one parameter's update (see `updateRange`). */
export interface ParamCoeffs {
  /** 1 − lr·weightDecay (decoupled decay), 1 without decay. */
  decayFactor: number;
  /** lr / (1 − β1^t). */
  stepSize: number;
  /** √(1 − β2^t). */
  sqrtBc2: number;
}

export interface FusedArgs {
  p: tf.Tensor[]; g: tf.Tensor[]; m: tf.Tensor[]; v: tf.Tensor[];
  coeffs: ParamCoeffs[];
  beta1: number; beta2: number; eps: number;
  /** Clip the gradients to this global L2 norm; null: no clipping. */
  maxGradNorm: number | null;
}

/** Whether the active backend (or `backend`) has the fused kernel. */
export function hasFusedAdamW(backend = tf.getBackend()): boolean {
  return tf.getKernel(FUSED_ADAMW, backend) !== undefined;
}

/**
 * The update of every parameter, in one kernel: the global norm of the gradients before clipping, and the new
 * parameters and moments (fresh tensors, in the order given; the caller assigns them). Only where
 * `hasFusedAdamW()`.
 */
export function fusedAdamW(a: FusedArgs): { norm: tf.Scalar; p: tf.Tensor[]; m: tf.Tensor[]; v: tf.Tensor[] } {
  const n = a.p.length;
  const inputs: tf.NamedTensorMap = {};
  for (let i = 0; i < n; i++) Object.assign(inputs, { [`p${i}`]: a.p[i], [`g${i}`]: a.g[i], [`m${i}`]: a.m[i], [`v${i}`]: a.v[i] });
  const attrs = {
    count: n, beta1: a.beta1, beta2: a.beta2, eps: a.eps, maxGradNorm: a.maxGradNorm ?? -1,
    decayFactor: a.coeffs.map((c) => c.decayFactor), stepSize: a.coeffs.map((c) => c.stepSize), sqrtBc2: a.coeffs.map((c) => c.sqrtBc2),
  };
  const out = tf.engine().runKernel(FUSED_ADAMW, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
  return { norm: out[0] as tf.Scalar, p: out.slice(1, 1 + n), m: out.slice(1 + n, 1 + 2 * n), v: out.slice(1 + 2 * n) };
}

interface Attrs { count: number; beta1: number; beta2: number; eps: number; maxGradNorm: number; decayFactor: number[]; stepSize: number[]; sqrtBc2: number[] }

const f = Math.fround;

/** A kernel input by name, or an error naming it. */
function input(inputs: tf.NamedTensorInfoMap, key: string): tf.TensorInfo {
  const t = inputs[key];
  if (!t) throw new Error(`${FUSED_ADAMW}: no input ${key}.`);
  return t;
}

/** Σ g² over elements [from, g.length), in float64. */
function sumSquares(g: Float32Array, from = 0): number {
  let s = 0;
  for (let i = from; i < g.length; i++) s += g[i] * g[i];
  return s;
}

/** √(Σ g²) over all gradients, accumulated in float64, rounded to float32. */
export function globalNormOf(grads: readonly Float32Array[]): number {
  let s = 0;
  for (const g of grads) s += sumSquares(g);
  return f(Math.sqrt(s));
}

/** torch's clip coefficient min(1, maxNorm / (norm + 1e-6)) in float32 steps, as clipByGlobalNorm computes it; 1 without clipping. */
export function clipCoef(norm: number, maxGradNorm: number): number {
  return maxGradNorm < 0 ? 1 : Math.min(f(f(maxGradNorm) / f(norm + f(1e-6))), 1);
}

/**
 * The AdamW update of elements [from, to) in float32 arithmetic (every product, sum, quotient and root rounded to
 * float32: Math.fround of the float64 result is the correctly rounded float32 result for these operations). The
 * constants are float32 values. Same formula and order as the per-tensor ops and the SIMD function.
 */
export function updateRange(
  p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, po: Float32Array, mo: Float32Array, vo: Float32Array,
  from: number, to: number, coef: number, b1: number, c1: number, b2: number, c2: number, sb2: number, eps: number, dc: number, ss: number,
): void {
  for (let i = from; i < to; i++) {
    const gc = f(g[i] * coef);
    const mi = f(f(m[i] * b1) + f(gc * c1));
    const vi = f(f(v[i] * b2) + f(f(gc * gc) * c2));
    const den = f(f(f(Math.sqrt(vi)) / sb2) + eps);
    mo[i] = mi;
    vo[i] = vi;
    po[i] = f(f(p[i] * dc) - f(f(mi / den) * ss));
  }
}

/** The per-step float32 constants shared by every parameter. */
function constants(at: Attrs) {
  return { b1: f(at.beta1), c1: f(1 - at.beta1), b2: f(at.beta2), c2: f(1 - at.beta2), eps: f(at.eps) };
}

// --- cpu backend ------------------------------------------------------------------------------------------------

interface CpuBackendLike {
  data: { get(id: tf.DataId): { values?: unknown } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): tf.TensorInfo;
}

function cpuKernel({ inputs, attrs, backend }: { inputs: tf.NamedTensorInfoMap; attrs?: tf.NamedAttrMap; backend: unknown }): tf.TensorInfo[] {
  const at = attrs as unknown as Attrs;
  const be = backend as CpuBackendLike;
  const read = (key: string): Float32Array => {
    const vals = be.data.get(input(inputs, key).dataId).values;
    if (!(vals instanceof Float32Array)) throw new Error(`${FUSED_ADAMW}: input ${key} is not float32 data on the cpu backend.`);
    return vals;
  };
  const k = constants(at);
  const grads = Array.from({ length: at.count }, (_, i) => read(`g${i}`));
  const norm = globalNormOf(grads);
  const coef = f(clipCoef(norm, at.maxGradNorm));
  const ps: tf.TensorInfo[] = [], ms: tf.TensorInfo[] = [], vs: tf.TensorInfo[] = [];
  for (let i = 0; i < at.count; i++) {
    const shape = input(inputs, `p${i}`).shape;
    const size = grads[i].length;
    const po = new Float32Array(size), mo = new Float32Array(size), vo = new Float32Array(size);
    updateRange(read(`p${i}`), grads[i], read(`m${i}`), read(`v${i}`), po, mo, vo, 0, size,
      coef, k.b1, k.c1, k.b2, k.c2, f(at.sqrtBc2[i]), k.eps, f(at.decayFactor[i]), f(at.stepSize[i]));
    ps.push(be.makeTensorInfo(shape, 'float32', po));
    ms.push(be.makeTensorInfo(shape, 'float32', mo));
    vs.push(be.makeTensorInfo(shape, 'float32', vo));
  }
  return [be.makeTensorInfo([], 'float32', Float32Array.of(norm)), ...ps, ...ms, ...vs];
}

// --- wasm backend -----------------------------------------------------------------------------------------------

/** The SIMD functions per wasm backend instance (null: none, update in JavaScript). */
const simdOf = perWasmBackend(instantiateAdamwSimd);

/** Switch for tests: false makes the wasm kernel update in JavaScript only (the SIMD function's reference). */
export const wasmSimd = { enabled: true };

function wasmKernel({ inputs, attrs, backend }: { inputs: tf.NamedTensorInfoMap; attrs?: tf.NamedAttrMap; backend: unknown }): tf.TensorInfo[] {
  const at = attrs as unknown as Attrs;
  const be = wasmInternals(backend);
  const simd = wasmSimd.enabled ? simdOf(be) : null;
  const k = constants(at);
  const offset = (t: tf.TensorInfo) => be.dataIdMap.get(t.dataId).memoryOffset;
  // Allocate every output first: an allocation may grow the memory and detach earlier views of it.
  const norm = be.makeOutput([], 'float32');
  const outs = { p: [] as tf.TensorInfo[], m: [] as tf.TensorInfo[], v: [] as tf.TensorInfo[] };
  for (const key of ['p', 'm', 'v'] as const) for (let i = 0; i < at.count; i++) outs[key].push(be.makeOutput(input(inputs, `p${i}`).shape, 'float32'));
  const heap = be.wasm.HEAPF32;
  const view = (t: tf.TensorInfo) => heap.subarray(offset(t) >> 2, (offset(t) >> 2) + t.shape.reduce((a, b) => a * b, 1));
  const grads = Array.from({ length: at.count }, (_, i) => view(input(inputs, `g${i}`)));
  // Vector part of each gradient in WebAssembly, the last size mod 4 values here.
  let sum = 0;
  grads.forEach((g, i) => {
    const vec = simd ? g.length - (g.length % 4) : 0;
    if (vec > 0) sum += simd!.sumsq(offset(input(inputs, `g${i}`)), vec * 4);
    sum += sumSquares(g, vec);
  });
  const n = f(Math.sqrt(sum));
  heap[offset(norm) >> 2] = n;
  const coef = f(clipCoef(n, at.maxGradNorm));
  for (let i = 0; i < at.count; i++) {
    const size = grads[i].length;
    const ins = { p: input(inputs, `p${i}`), m: input(inputs, `m${i}`), v: input(inputs, `v${i}`), g: input(inputs, `g${i}`) };
    const sb2 = f(at.sqrtBc2[i]), dc = f(at.decayFactor[i]), ss = f(at.stepSize[i]);
    const vec = simd ? size - (size % 4) : 0;
    if (vec > 0) {
      simd!.adamw(offset(ins.p), offset(ins.g), offset(ins.m), offset(ins.v), offset(outs.p[i]), offset(outs.m[i]), offset(outs.v[i]), vec * 4,
        coef, k.b1, k.c1, k.b2, k.c2, sb2, k.eps, dc, ss);
    }
    updateRange(view(ins.p), grads[i], view(ins.m), view(ins.v), view(outs.p[i]), view(outs.m[i]), view(outs.v[i]), vec, size,
      coef, k.b1, k.c1, k.b2, k.c2, sb2, k.eps, dc, ss);
  }
  return [norm, ...outs.p, ...outs.m, ...outs.v];
}

for (const [backendName, kernelFunc] of [['cpu', cpuKernel], ['wasm', wasmKernel]] as const) {
  if (!tf.getKernel(FUSED_ADAMW, backendName)) tf.registerKernel({ kernelName: FUSED_ADAMW, backendName, kernelFunc: kernelFunc as unknown as tf.KernelFunc });
}
