// The arithmetic ceiling of WebAssembly on this CPU, one thread: how many float32 FLOPs per second a loop of
// independent multiply–adds reaches with WebAssembly SIMD (f32x4.mul then f32x4.add: what tfjs-backend-wasm 4.22's
// XNNPACK build can use) and with relaxed SIMD's fused f32x4.relaxed_madd (where the engine has it). A matrix product
// cannot run faster than this, so it bounds any wasm training step from above; bench/train.ts records it beside
// tfjs's wasm matMul and PyTorch's. Run alone: `npx tsx bench/wasm-peak.ts` (`node --experimental-wasm-relaxed-simd
// --import tsx bench/wasm-peak.ts` for the fused form on Node 20; `--json` for one JSON line).

import {
  END, F32, F32_ADD, F32X4_ADD, F32X4_EXTRACT_LANE, F32X4_MUL, F32X4_RELAXED_MADD, F32X4_SPLAT, HEADER, I32, I32_SUB, LOCAL_GET, LOCAL_SET,
  LOCAL_TEE, LOOP, BR_IF, V128, VOID, f32, funcBody, i32, section, simd, str,
} from '../src/train/wasm/asm.ts';

/** Independent accumulator chains: enough to cover the add latency (3–4 cycles) on 2 ports several times over. */
// NOTE: 8 accumulators and 2 multiplicands (11 live vectors) stay in the 16 xmm registers V8 allocates on x64: with
// 12 distinct multiplicands and 12 accumulators it spilled and measured 23 GFLOP/s instead of 58. 6 to 12
// accumulators all measure the same here (58.1–58.7), 4 measure 39: the chains then wait on the add latency.
export const ACCUMULATORS = 8;
const MULTIPLICANDS = 2;

/**
 * `run(iterations, x) → f32`: each iteration updates ACCUMULATORS f32x4 accumulators, acc_j ← acc_j + a_j·b
 * (8 FLOPs each), with a_j and b derived from x so nothing folds away; returns a lane sum so nothing is dead.
 */
export function peakModule(fused: boolean): Uint8Array<ArrayBuffer> {
  const N = 0, X = 1, B = 2, A0 = 3, ACC0 = A0 + MULTIPLICANDS;
  const code: number[] = [LOCAL_GET, X, ...simd(F32X4_SPLAT), LOCAL_SET, B];
  for (let j = 0; j < MULTIPLICANDS; j++) {
    // a_j = splat(x + j)
    code.push(LOCAL_GET, X, ...f32(j), F32_ADD, ...simd(F32X4_SPLAT), LOCAL_SET, A0 + j);
  }
  for (let j = 0; j < ACCUMULATORS; j++) {
    // acc_j = splat(j / 1000)
    code.push(...f32(j * 1e-3), ...simd(F32X4_SPLAT), LOCAL_SET, ACC0 + j);
  }
  code.push(LOOP, VOID);
  for (let j = 0; j < ACCUMULATORS; j++) {
    if (fused) code.push(LOCAL_GET, A0 + (j % MULTIPLICANDS), LOCAL_GET, B, LOCAL_GET, ACC0 + j, ...simd(F32X4_RELAXED_MADD), LOCAL_SET, ACC0 + j);
    else code.push(LOCAL_GET, ACC0 + j, LOCAL_GET, A0 + (j % MULTIPLICANDS), LOCAL_GET, B, ...simd(F32X4_MUL), ...simd(F32X4_ADD), LOCAL_SET, ACC0 + j);
  }
  code.push(LOCAL_GET, N, ...i32(1), I32_SUB, LOCAL_TEE, N, BR_IF, 0, END);
  code.push(LOCAL_GET, ACC0, ...simd(F32X4_EXTRACT_LANE), 0);
  for (let j = 1; j < ACCUMULATORS; j++) code.push(LOCAL_GET, ACC0 + j, ...simd(F32X4_EXTRACT_LANE), 0, F32_ADD);
  code.push(END);
  return new Uint8Array([
    ...HEADER,
    ...section(1, [1, 0x60, 2, I32, F32, 1, F32]),
    ...section(3, [1, 0]),
    ...section(7, [1, ...str('run'), 0x00, 0]),
    ...section(10, [1, ...funcBody([[1 + MULTIPLICANDS + ACCUMULATORS, V128]], code)]),
  ]);
}

export interface WasmPeak {
  /** GFLOP/s of f32x4.mul + f32x4.add (the best of 5 runs of ~0.2 s). */
  simd128: number;
  /** GFLOP/s of f32x4.relaxed_madd, or null where the engine has no relaxed SIMD (Node 20 needs a flag). */
  relaxedMadd: number | null;
}

function measure(bytes: Uint8Array<ArrayBuffer>): number | null {
  if (!WebAssembly.validate(bytes)) return null;
  const run = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports.run as (n: number, x: number) => number;
  run(1e5, 0.5); // warm-up: V8 tiers up to the optimising compiler
  let best = 0;
  for (let r = 0; r < 5; r++) {
    const n = 2e7;
    const t0 = performance.now();
    run(n, 0.5 + r * 1e-7);
    const s = (performance.now() - t0) / 1000;
    best = Math.max(best, (n * ACCUMULATORS * 8) / s / 1e9);
  }
  return best;
}

export function wasmPeak(): WasmPeak {
  const simd128 = measure(peakModule(false));
  if (simd128 === null) throw new Error('wasm-peak: this engine has no WebAssembly SIMD');
  const relaxedMadd = measure(peakModule(true));
  return { simd128, relaxedMadd };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const p = wasmPeak();
  if (process.argv.includes('--json')) console.log(JSON.stringify(p));
  else console.log(`WebAssembly SIMD f32x4 mul+add: ${p.simd128.toFixed(1)} GFLOP/s; relaxed_madd: ${p.relaxedMadd === null ? 'not available' : `${p.relaxedMadd.toFixed(1)} GFLOP/s`}`);
}
