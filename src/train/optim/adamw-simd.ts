// Two hand-assembled WebAssembly SIMD functions (≈ 400 bytes): one AdamW update in place of ~15 tfjs kernels, and a
// float64 sum of squares (the gradient norm). The module imports tfjs-backend-wasm's own memory, so both read and
// write tensors where they lie, without copies.
import {
  BLOCK, BR_IF, END, F32, F32X4_ADD, F32X4_DIV, F32X4_MUL, F32X4_SPLAT, F32X4_SQRT, F32X4_SUB, F64, F64_ADD, F64X2_ADD,
  F64X2_EXTRACT_LANE, F64X2_MUL, F64X2_PROMOTE_LOW_F32X4, HEADER, I32, I32_ADD, I32_CONST, I32_EQZ, I32_LT_U, I8X16_SHUFFLE,
  LOCAL_GET, LOCAL_SET, LOCAL_TEE, LOOP, V128, V128_LOAD, V128_STORE, VOID, importMemory, section, simd, str, uleb,
} from '../wasm/asm.ts';

/**
 * `adamw(p, g, m, v, pOut, mOut, vOut, bytes, coef, β1, 1−β1, β2, 1−β2, √bc2, eps, decayFactor, stepSize)`:
 * byte offsets of seven float32 arrays in the imported memory, the byte length to update (a multiple of 16: four
 * floats a lane group; the caller does the tail), then the float32 constants. For each element, in this order
 * (every operation rounded to float32, as tfjs's per-tensor kernels round them):
 *   gc = g·coef;  m' = m·β1 + gc·(1−β1);  v' = v·β2 + (gc·gc)·(1−β2);
 *   p' = p·decayFactor − (m' / (√v' / √bc2 + eps))·stepSize.
 * WebAssembly's f32x4 add/sub/mul/div/sqrt are IEEE-754 single precision, correctly rounded: the results equal
 * scalar float32 arithmetic bit for bit.
 */
export type AdamwSimdFn = (
  p: number, g: number, m: number, v: number, pOut: number, mOut: number, vOut: number, bytes: number,
  coef: number, beta1: number, oneMinusBeta1: number, beta2: number, oneMinusBeta2: number, sqrtBc2: number, eps: number,
  decayFactor: number, stepSize: number,
) => void;

/** `sumsq(g, bytes)`: Σ g² over `bytes` (a multiple of 16) of float32 values at byte offset g, in float64 (squares exact). */
export type SumsqSimdFn = (g: number, bytes: number) => number;

/** memarg: alignment hint 2^2 (float32 arrays are 4-byte aligned), offset 0. */
const MEMARG = [2, 0];

/** Parameter (local) indices of the function. */
const P = 0, G = 1, M = 2, V = 3, PO = 4, MO = 5, VO = 6, BYTES = 7;
const SCALARS = 9; // coef … stepSize: locals 8 … 16
const I = 17; // byte index, i32
const K = 18; // splatted constants: locals 18 … 26 (coef, β1, 1−β1, β2, 1−β2, √bc2, eps, decayFactor, stepSize)
const [COEF, B1, C1, B2, C2, SB2, EPS, DC, SS] = Array.from({ length: SCALARS }, (_, j) => K + j);
const GC = 27, MN = 28, VN = 29; // per-iteration vectors

/** Pushes the address `base + i`. */
const at = (base: number): number[] => [LOCAL_GET, base, LOCAL_GET, I, I32_ADD];
const get = (l: number): number[] => [LOCAL_GET, l];
const op = (o: number): number[] => simd(o);
const load = (base: number): number[] => [...at(base), ...simd(V128_LOAD), ...MEMARG];

function adamwBody(): number[] {
  const code: number[] = [];
  for (let j = 0; j < SCALARS; j++) code.push(LOCAL_GET, 8 + j, ...simd(F32X4_SPLAT), LOCAL_SET, K + j);
  code.push(BLOCK, VOID, LOCAL_GET, BYTES, I32_EQZ, BR_IF, 0, LOOP, VOID);
  // gc = g·coef
  code.push(...load(G), ...get(COEF), ...op(F32X4_MUL), LOCAL_SET, GC);
  // m' = m·β1 + gc·(1−β1)
  code.push(...load(M), ...get(B1), ...op(F32X4_MUL), ...get(GC), ...get(C1), ...op(F32X4_MUL), ...op(F32X4_ADD), LOCAL_SET, MN);
  // v' = v·β2 + (gc·gc)·(1−β2)
  code.push(...load(V), ...get(B2), ...op(F32X4_MUL), ...get(GC), ...get(GC), ...op(F32X4_MUL), ...get(C2), ...op(F32X4_MUL), ...op(F32X4_ADD), LOCAL_SET, VN);
  code.push(...at(MO), ...get(MN), ...simd(V128_STORE), ...MEMARG);
  code.push(...at(VO), ...get(VN), ...simd(V128_STORE), ...MEMARG);
  // p' = p·decayFactor − (m' / (√v' / √bc2 + eps))·stepSize
  code.push(...at(PO), ...load(P), ...get(DC), ...op(F32X4_MUL));
  code.push(...get(MN), ...get(VN), ...op(F32X4_SQRT), ...get(SB2), ...op(F32X4_DIV), ...get(EPS), ...op(F32X4_ADD), ...op(F32X4_DIV), ...get(SS), ...op(F32X4_MUL));
  code.push(...op(F32X4_SUB), ...simd(V128_STORE), ...MEMARG);
  // i += 16; again while i < bytes
  code.push(LOCAL_GET, I, I32_CONST, 16, I32_ADD, LOCAL_TEE, I, LOCAL_GET, BYTES, I32_LT_U, BR_IF, 0, END, END, END);
  const locals = [2, 1, I32, 12, V128]; // 1 i32, 12 v128
  return [...uleb(locals.length + code.length), ...locals, ...code];
}

/** sumsq: locals 0 g, 1 bytes, 2 i, 3–4 two f64x2 accumulators (zero-initialised), 5 four floats, 6 two as f64. */
function sumsqBody(): number[] {
  const [g, bytes, i, acc0, acc1, x, d] = [0, 1, 2, 3, 4, 5, 6];
  const square = (acc: number) => [LOCAL_SET, d, LOCAL_GET, acc, LOCAL_GET, d, LOCAL_GET, d, ...simd(F64X2_MUL), ...simd(F64X2_ADD), LOCAL_SET, acc];
  const code = [
    BLOCK, VOID, LOCAL_GET, bytes, I32_EQZ, BR_IF, 0, LOOP, VOID,
    LOCAL_GET, g, LOCAL_GET, i, I32_ADD, ...simd(V128_LOAD), ...MEMARG, LOCAL_TEE, x, ...simd(F64X2_PROMOTE_LOW_F32X4), ...square(acc0),
    // lanes 2, 3 moved down (bytes 8–15 first), then widened
    LOCAL_GET, x, LOCAL_GET, x, ...simd(I8X16_SHUFFLE), 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7, ...simd(F64X2_PROMOTE_LOW_F32X4), ...square(acc1),
    LOCAL_GET, i, I32_CONST, 16, I32_ADD, LOCAL_TEE, i, LOCAL_GET, bytes, I32_LT_U, BR_IF, 0, END, END,
    LOCAL_GET, acc0, LOCAL_GET, acc1, ...simd(F64X2_ADD), LOCAL_TEE, acc0, ...simd(F64X2_EXTRACT_LANE), 0,
    LOCAL_GET, acc0, ...simd(F64X2_EXTRACT_LANE), 1, F64_ADD, END,
  ];
  const locals = [2, 1, I32, 4, V128];
  return [...uleb(locals.length + code.length), ...locals, ...code];
}

/** The module's bytes. `shared`: the memory to import is a shared one (tfjs's threaded wasm build). */
export function adamwSimdModule(shared: boolean): Uint8Array<ArrayBuffer> {
  const params = [...Array(BYTES + 1).fill(I32), ...Array(SCALARS).fill(F32)];
  return new Uint8Array([
    ...HEADER,
    ...section(1, [2, 0x60, ...uleb(params.length), ...params, 0, 0x60, 2, I32, I32, 1, F64]),
    ...importMemory(shared),
    ...section(3, [2, 0, 1]),
    ...section(7, [2, ...str('adamw'), 0x00, 0, ...str('sumsq'), 0x00, 1]),
    ...section(10, [2, ...adamwBody(), ...sumsqBody()]),
  ]);
}

/**
 * The functions bound to `memory`, or null where this engine cannot run them (no WebAssembly SIMD, or the module
 * does not validate): the caller then works in JavaScript, with the same results.
 */
export function instantiateAdamwSimd(memory: WebAssembly.Memory): { adamw: AdamwSimdFn; sumsq: SumsqSimdFn } | null {
  try {
    const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
    const bytes = adamwSimdModule(shared);
    if (!WebAssembly.validate(bytes)) return null;
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
    return { adamw: instance.exports.adamw as AdamwSimdFn, sumsq: instance.exports.sumsq as SumsqSimdFn };
  } catch {
    return null;
  }
}
