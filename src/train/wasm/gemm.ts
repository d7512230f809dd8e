// A float32 matrix product in hand-written WebAssembly SIMD, for tfjs's wasm backend (src/train/wasm/matmul.ts).
// Two functions over the imported memory:
//  - `gemm`: C = A·B for A with 4·m rows, B packed in panels of 8 columns; each 4×8 block of C is 8 f32x4
//    accumulators, and each k adds A[i, k] (splatted) times B's 8 values to them. 4×8 is what fits V8's 16 xmm
//    registers on x64 (8 accumulators, 2 B vectors, the splat): 42–44 GFLOP/s on this CPU (one thread), against
//    31–32 for tfjs-backend-wasm 4.22's XNNPACK product and a 58.7 GFLOP/s ceiling for f32x4 mul + add
//    (bench/wasm-peak.ts). 5×8 and 6×8 spill (35, 28); unrolling k measured slower too.
//  - `gather`: a strided copy of an R×C block, which packs B, transposes A, pads the tails and copies C out.
import {
  BLOCK, END, F32_LOAD, F32_STORE, HEADER, I32, I32_ADD, I32_EQZ, I32_LT_U, I32_MUL, LOCAL_GET, LOCAL_SET, LOCAL_TEE, LOOP, BR_IF, V128,
  V128_CONST, V128_LOAD, V128_LOAD32_SPLAT, V128_STORE, F32X4_ADD, F32X4_MUL, VOID, funcBody, i32, importMemory, section, simd, str, uleb,
} from './asm.ts';

/** Rows and columns of the block of C one iteration of `gemm` computes. */
export const MR = 4, NR = 8;

/**
 * `gemm(a, lda, bp, c, ldc, m, k, panels)`, byte addresses and strides: for rows i < m (a multiple of MR) and panel
 * p < panels, C[i, 8p + q] = Σ_k A[i, k] · Bp[p, k, q], with A[i, k] at a + i·lda + 4k, Bp[p, k, q] at
 * bp + 32·(p·k_len + k) + 4q, and C[i, 8p + q] written at c + i·ldc + 32p + 4q. k ≥ 1.
 * Summation order: k ascending, one multiply and one add per term, each rounded to float32.
 */
function gemmBody(): number[] {
  const [A, LDA, BP, C, LDC, M, K] = [0, 1, 2, 3, 4, 5, 6];
  const PANELS = 7;
  let l = 8;
  const p = l++, i = l++, kk = l++, bptr = l++, panelBytes = l++, cp = l++;
  const ap = Array.from({ length: MR }, () => l++);
  const nI32 = l - 8;
  const acc = Array.from({ length: 2 * MR }, () => l++);
  const b0 = l++, b1 = l++, s = l++;
  const nV = l - 8 - nI32;
  const memarg = (offset: number) => [4, ...uleb(offset)]; // 16-byte alignment hint, offset
  const code: number[] = [];
  code.push(BLOCK, VOID, LOCAL_GET, M, I32_EQZ, BR_IF, 0, LOCAL_GET, PANELS, I32_EQZ, BR_IF, 0);
  code.push(LOCAL_GET, K, ...i32(32), I32_MUL, LOCAL_SET, panelBytes);
  code.push(...i32(0), LOCAL_SET, p, LOOP, VOID); // panels
  code.push(...i32(0), LOCAL_SET, i, LOOP, VOID); // row blocks
  for (const a of acc) code.push(...simd(V128_CONST), ...new Array(16).fill(0), LOCAL_SET, a);
  for (let r = 0; r < MR; r++) code.push(LOCAL_GET, A, LOCAL_GET, i, ...i32(r), I32_ADD, LOCAL_GET, LDA, I32_MUL, I32_ADD, LOCAL_SET, ap[r]);
  code.push(LOCAL_GET, BP, LOCAL_GET, p, LOCAL_GET, panelBytes, I32_MUL, I32_ADD, LOCAL_SET, bptr);
  code.push(...i32(0), LOCAL_SET, kk, LOOP, VOID); // k (in bytes of A's row)
  code.push(LOCAL_GET, bptr, ...simd(V128_LOAD), ...memarg(0), LOCAL_SET, b0, LOCAL_GET, bptr, ...simd(V128_LOAD), ...memarg(16), LOCAL_SET, b1);
  for (let r = 0; r < MR; r++) {
    code.push(LOCAL_GET, ap[r], LOCAL_GET, kk, I32_ADD, ...simd(V128_LOAD32_SPLAT), 2, 0, LOCAL_SET, s);
    code.push(LOCAL_GET, acc[2 * r], LOCAL_GET, s, LOCAL_GET, b0, ...simd(F32X4_MUL), ...simd(F32X4_ADD), LOCAL_SET, acc[2 * r]);
    code.push(LOCAL_GET, acc[2 * r + 1], LOCAL_GET, s, LOCAL_GET, b1, ...simd(F32X4_MUL), ...simd(F32X4_ADD), LOCAL_SET, acc[2 * r + 1]);
  }
  code.push(LOCAL_GET, bptr, ...i32(32), I32_ADD, LOCAL_SET, bptr);
  code.push(LOCAL_GET, kk, ...i32(4), I32_ADD, LOCAL_TEE, kk, LOCAL_GET, K, ...i32(4), I32_MUL, I32_LT_U, BR_IF, 0, END);
  for (let r = 0; r < MR; r++) {
    code.push(LOCAL_GET, C, LOCAL_GET, i, ...i32(r), I32_ADD, LOCAL_GET, LDC, I32_MUL, I32_ADD, LOCAL_GET, p, ...i32(32), I32_MUL, I32_ADD, LOCAL_TEE, cp);
    code.push(LOCAL_GET, acc[2 * r], ...simd(V128_STORE), ...memarg(0), LOCAL_GET, cp, LOCAL_GET, acc[2 * r + 1], ...simd(V128_STORE), ...memarg(16));
  }
  code.push(LOCAL_GET, i, ...i32(MR), I32_ADD, LOCAL_TEE, i, LOCAL_GET, M, I32_LT_U, BR_IF, 0, END);
  code.push(LOCAL_GET, p, ...i32(1), I32_ADD, LOCAL_TEE, p, LOCAL_GET, PANELS, I32_LT_U, BR_IF, 0, END);
  code.push(END, END);
  return funcBody([[nI32, I32], [nV, V128]], code);
}

/**
 * `gather(src, rowStride, colStride, dst, dstRowStride, rows, cols)`, byte addresses and strides:
 * dst[r·dstRowStride + 4c] = src[r·rowStride + c·colStride] for r < rows, c < cols. Copies bits (any 4-byte type).
 */
function gatherBody(): number[] {
  const [SRC, RS, CS, DST, DRS, ROWS, COLS] = [0, 1, 2, 3, 4, 5, 6];
  const [r, c, s, d] = [7, 8, 9, 10];
  const code = [
    BLOCK, VOID, LOCAL_GET, ROWS, I32_EQZ, BR_IF, 0, LOCAL_GET, COLS, I32_EQZ, BR_IF, 0,
    ...i32(0), LOCAL_SET, r, LOOP, VOID,
    LOCAL_GET, SRC, LOCAL_GET, r, LOCAL_GET, RS, I32_MUL, I32_ADD, LOCAL_SET, s,
    LOCAL_GET, DST, LOCAL_GET, r, LOCAL_GET, DRS, I32_MUL, I32_ADD, LOCAL_SET, d,
    ...i32(0), LOCAL_SET, c, LOOP, VOID,
    LOCAL_GET, d, LOCAL_GET, s, F32_LOAD, 2, 0, F32_STORE, 2, 0,
    LOCAL_GET, s, LOCAL_GET, CS, I32_ADD, LOCAL_SET, s,
    LOCAL_GET, d, ...i32(4), I32_ADD, LOCAL_SET, d,
    LOCAL_GET, c, ...i32(1), I32_ADD, LOCAL_TEE, c, LOCAL_GET, COLS, I32_LT_U, BR_IF, 0, END,
    LOCAL_GET, r, ...i32(1), I32_ADD, LOCAL_TEE, r, LOCAL_GET, ROWS, I32_LT_U, BR_IF, 0, END,
    END, END,
  ];
  return funcBody([[4, I32]], code);
}

export type GemmFn = (a: number, lda: number, bp: number, c: number, ldc: number, m: number, k: number, panels: number) => void;
export type GatherFn = (src: number, rowStride: number, colStride: number, dst: number, dstRowStride: number, rows: number, cols: number) => void;

/** The module's bytes; `shared`: the memory to import is shared (tfjs's threaded wasm build). */
export function gemmModule(shared: boolean): Uint8Array<ArrayBuffer> {
  const eightI32 = [0x60, 8, ...new Array(8).fill(I32), 0];
  const sevenI32 = [0x60, 7, ...new Array(7).fill(I32), 0];
  return new Uint8Array([
    ...HEADER,
    ...section(1, [2, ...eightI32, ...sevenI32]),
    ...importMemory(shared),
    ...section(3, [2, 0, 1]),
    ...section(7, [2, ...str('gemm'), 0x00, 0, ...str('gather'), 0x00, 1]),
    ...section(10, [2, ...gemmBody(), ...gatherBody()]),
  ]);
}

/** The functions bound to `memory`, or null where the engine cannot run them (no SIMD, or the module does not validate). */
export function instantiateGemm(memory: WebAssembly.Memory): { gemm: GemmFn; gather: GatherFn } | null {
  try {
    const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
    const bytes = gemmModule(shared);
    if (!WebAssembly.validate(bytes)) return null;
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
    return { gemm: instance.exports.gemm as GemmFn, gather: instance.exports.gather as GatherFn };
  } catch {
    return null;
  }
}
