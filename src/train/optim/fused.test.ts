// The one-kernel AdamW (fused.ts, adamw-simd.ts) against the per-tensor tfjs ops (bit for bit) on the cpu and wasm
// backends, and against an independent float64 AdamW written out here; the SIMD function against the scalar loop.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeAdamW, type AdamWConfig } from './adamw.ts';
import { instantiateAdamwSimd } from './adamw-simd.ts';
import { FUSED_ADAMW, hasFusedAdamW, updateRange, wasmSimd } from './fused.ts';
import { defaultDecay } from './groups.ts';
import { registerWasm } from '../backend.ts';

afterAll(async () => { await tf.setBackend('cpu'); });

/** Sizes that leave every remainder mod 4 (the SIMD function does groups of four, a scalar loop the rest). */
const SHAPES: Record<string, number[]> = {
  'blocks.0.attn.qkv.weight': [5, 7], // decays
  'blocks.0.attn.qkv.bias': [6], // no decay
  'blocks.1.norm1.weight': [9], // no decay
  'decode_head.conv_seg.weight': [4, 4, 1], // decays
  cls_token: [1, 1, 3], // no decay
};
const NAMES = Object.keys(SHAPES);
const size = (s: number[]) => s.reduce((a, b) => a * b, 1);

/** A deterministic value stream in [−1, 1) (xorshift32). */
function stream(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    return x / 2 ** 31 - 1;
  };
}
const values = (n: number, seed: number, scale = 1) => { const r = stream(seed); return Float32Array.from({ length: n }, () => r() * scale); };
const init = (k: number) => values(size(SHAPES[NAMES[k]]), 100 + k, 0.5);
/** Gradient of parameter k at step t; parameter 2 has none at steps 1 and 3 (its step count falls behind). */
const gradAt = (k: number, t: number, scale: number) => values(size(SHAPES[NAMES[k]]), 1000 + 17 * t + k, scale);
const hasGrad = (k: number, t: number) => !(k === 2 && (t === 1 || t === 3));
const LR = (s: number) => [1e-2, 3e-2, 2e-2, 5e-3, 1e-2][s];
const MULT = new Map([['blocks.0.attn.qkv.weight', 0.6], ['cls_token', 0.36]]);
const STEPS = 5;

/** Runs STEPS steps; returns the parameters, moments and norms as host arrays. */
async function run(cfg: AdamWConfig, gradScale: number) {
  const params = new Map(NAMES.map((n, k) => [n, tf.variable(tf.tensor(init(k), SHAPES[n]), true, `fused-test-${n}-${Math.random()}`)]));
  const opt = makeAdamW({ lrMultipliers: MULT, weightDecay: 0.05, ...cfg });
  const norms: number[] = [];
  let tensors = -1;
  for (let t = 0; t < STEPS; t++) {
    const grads = new Map(NAMES.flatMap((n, k) => (hasGrad(k, t) ? [[n, tf.tensor(gradAt(k, t, gradScale), SHAPES[n])] as const] : [])));
    opt.step(params, grads, LR);
    tf.dispose([...grads.values()]);
    norms.push(await opt.gradNorm());
    if (t === 1) tensors = tf.memory().numTensors;
  }
  expect(tf.memory().numTensors, 'tensors held after step 2 and after the last').toBe(tensors);
  const state = await opt.getState();
  const p = new Map(NAMES.map((n) => [n, Float32Array.from(params.get(n)!.dataSync())]));
  opt.dispose();
  tf.dispose([...params.values()]);
  return { p, state, norms };
}

type Run = Awaited<ReturnType<typeof run>>;

function expectBitIdentical(a: Run, b: Run) {
  for (const n of NAMES) {
    expect(Array.from(a.p.get(n)!), n).toEqual(Array.from(b.p.get(n)!));
    for (const k of ['m', 'v', 'step']) expect(Array.from(a.state.tensors[`optim.${k}.${n}`].data), `optim.${k}.${n}`).toEqual(Array.from(b.state.tensors[`optim.${k}.${n}`].data));
  }
}

/** Per tensor (parameters, m, v): max |a − b| / max |b|; the worst of them, with its name. */
function maxRel(a: Run, b: Run): { rel: number; key: string } {
  let worst = { rel: 0, key: '' };
  for (const n of NAMES) {
    const pairs: [string, ArrayLike<number>, ArrayLike<number>][] = [[n, a.p.get(n)!, b.p.get(n)!], ...(['m', 'v'] as const).map((k) => [`optim.${k}.${n}`, a.state.tensors[`optim.${k}.${n}`].data, b.state.tensors[`optim.${k}.${n}`].data] as [string, ArrayLike<number>, ArrayLike<number>])];
    for (const [key, x, y] of pairs) {
      let d = 0, scale = 0;
      for (let i = 0; i < x.length; i++) { d = Math.max(d, Math.abs(x[i] - y[i])); scale = Math.max(scale, Math.abs(y[i])); }
      if (d / scale > worst.rel) worst = { rel: d / scale, key };
    }
  }
  return worst;
}

/**
 * AdamW in float64, written from the torch.optim.AdamW documentation (decoupled decay p ← p(1 − lr·wd), then
 * m ← β1m + (1−β1)g, v ← β2v + (1−β2)g², p ← p − lr/(1−β1^t) · m / (√v/√(1−β2^t) + eps)), gradients first clipped to
 * global norm `clip` (coefficient min(1, clip/(norm + 1e-6))); each parameter's t counts its own updates.
 */
function reference(clip: number | null, gradScale: number) {
  const p = NAMES.map((_, k) => Array.from(init(k)));
  const m = NAMES.map((_, k) => new Array<number>(p[k].length).fill(0));
  const v = NAMES.map((_, k) => new Array<number>(p[k].length).fill(0));
  const t = NAMES.map(() => 0);
  const norms: number[] = [];
  for (let s = 0; s < STEPS; s++) {
    const live = NAMES.map((_, k) => k).filter((k) => hasGrad(k, s));
    const g = new Map(live.map((k) => [k, Array.from(gradAt(k, s, gradScale))]));
    const norm = Math.sqrt([...g.values()].flat().reduce((a, x) => a + x * x, 0));
    norms.push(norm);
    const coef = clip === null ? 1 : Math.min(1, clip / (norm + 1e-6));
    for (const k of live) {
      t[k] += 1;
      const lr = LR(s) * (MULT.get(NAMES[k]) ?? 1);
      const wd = defaultDecay(NAMES[k]) ? 0.05 : 0;
      g.get(k)!.forEach((gi0, i) => {
        const gi = gi0 * coef;
        p[k][i] *= 1 - lr * wd;
        m[k][i] = 0.9 * m[k][i] + 0.1 * gi;
        v[k][i] = 0.999 * v[k][i] + 0.001 * gi * gi;
        p[k][i] -= (lr / (1 - 0.9 ** t[k])) * m[k][i] / (Math.sqrt(v[k][i]) / Math.sqrt(1 - 0.999 ** t[k]) + 1e-8);
      });
    }
  }
  const tensors: Record<string, { data: number[] }> = {};
  NAMES.forEach((n, k) => { tensors[`optim.m.${n}`] = { data: m[k] }; tensors[`optim.v.${n}`] = { data: v[k] }; });
  return { p: new Map(NAMES.map((n, k) => [n, p[k]])), state: { tensors }, norms } as unknown as Run;
}

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`fused AdamW on ${backend}`, () => {
    beforeAll(async () => {
      if (backend === 'wasm') await registerWasm();
      expect(await tf.setBackend(backend)).toBe(true);
    });

    it('has the kernel', () => {
      expect(hasFusedAdamW()).toBe(true);
    });

    // Gradient scale 0.1: norms ≈ 0.7, under the clip limit (the coefficient clamps to 1, exactly); 3: clipped.
    for (const [label, cfg, scale] of [
      ['no clipping', { maxGradNorm: null }, 3],
      ['clipping limit not reached', { maxGradNorm: 1 }, 0.1],
    ] as const) {
      it(`is bit-identical to the per-tensor ops over ${STEPS} steps (${label}; decay/no decay, lr multipliers, a parameter skipping steps)`, async () => {
        const fused = await run({ ...cfg }, scale);
        const ops = await run({ ...cfg, fused: false }, scale);
        expectBitIdentical(fused, ops);
        expect(fused.state.tensors['optim.step.blocks.1.norm1.weight'].data[0]).toBe(3);
        if (backend === 'wasm') {
          wasmSimd.enabled = false;
          try { expectBitIdentical(await run({ ...cfg }, scale), fused); } finally { wasmSimd.enabled = true; }
        }
      });
    }

    it('with clipping: within 1e-6 (relative) of the per-tensor ops (only the norm\'s summation order differs)', async () => {
      const fused = await run({ maxGradNorm: 1 }, 3);
      const ops = await run({ maxGradNorm: 1, fused: false }, 3);
      expect(fused.norms[0]).toBeGreaterThan(10);
      fused.norms.forEach((x, i) => expect(Math.abs(x - ops.norms[i]) / ops.norms[i]).toBeLessThan(1e-6));
      expect(maxRel(fused, ops).rel).toBeLessThan(1e-6);
    });

    for (const clip of [null, 1] as const) {
      it(`agrees with a float64 AdamW written from torch's definition (clip ${clip})`, async () => {
        const ref = reference(clip, 3);
        for (const fusedOn of [true, false]) {
          const got = await run({ maxGradNorm: clip, fused: fusedOn }, 3);
          got.norms.forEach((x, i) => expect(Math.abs(x - ref.norms[i]) / ref.norms[i]).toBeLessThan(1e-6));
          const worst = maxRel(got, ref);
          expect(worst.rel, worst.key).toBeLessThan(1e-6);
        }
      });
    }

    it('counts as one kernel', async () => {
      const params = new Map(NAMES.map((n, k) => [n, tf.variable(tf.tensor(init(k), SHAPES[n]), true, `fused-prof-${n}-${Math.random()}`)]));
      const grads = new Map(NAMES.map((n, k) => [n, tf.tensor(gradAt(k, 0, 1), SHAPES[n])]));
      const opt = makeAdamW();
      opt.step(params, grads, 1e-3);
      const prof = await tf.profile(() => opt.step(params, grads, 1e-3));
      expect(prof.kernels.map((k) => k.name)).toEqual([FUSED_ADAMW]);
      opt.dispose();
      tf.dispose([...params.values(), ...grads.values()]);
    });
  });
}

describe('the SIMD functions', () => {
  it('validate; the update equals the scalar float32 loop bit for bit; the sum of squares is float64', () => {
    const memory = new WebAssembly.Memory({ initial: 1 });
    const simd = instantiateAdamwSimd(memory);
    expect(simd).not.toBeNull();
    const n = 1000; // 4000 bytes an array, 7 arrays: within one 64 KiB page
    const heap = new Float32Array(memory.buffer);
    const at = (j: number) => heap.subarray(j * n, (j + 1) * n);
    at(0).set(values(n, 1)); at(1).set(values(n, 2, 5)); at(2).set(values(n, 3, 0.1)); at(3).set(values(n, 4, 0.01).map(Math.abs));
    const k = [0.3, 0.9, 0.1, 0.999, 0.001, 0.2, 1e-8, 0.9995, 7e-3].map(Math.fround) as [number, number, number, number, number, number, number, number, number];
    simd!.adamw(0, 4 * n, 8 * n, 12 * n, 16 * n, 20 * n, 24 * n, 4 * n, ...k);
    const po = new Float32Array(n), mo = new Float32Array(n), vo = new Float32Array(n);
    updateRange(at(0), at(1), at(2), at(3), po, mo, vo, 0, n, ...k);
    expect(Array.from(at(4))).toEqual(Array.from(po));
    expect(Array.from(at(5))).toEqual(Array.from(mo));
    expect(Array.from(at(6))).toEqual(Array.from(vo));
    // Zero bytes: nothing written.
    at(4).fill(7);
    simd!.adamw(0, 4 * n, 8 * n, 12 * n, 16 * n, 20 * n, 24 * n, 0, ...k);
    expect(at(4).every((x) => x === 7)).toBe(true);
    // Sum of squares in float64 (the same sum in another order: equal to ~1e-15).
    let ref = 0;
    for (const g of at(1)) ref += g * g;
    expect(Math.abs(simd!.sumsq(4 * n, 4 * n) - ref) / ref).toBeLessThan(1e-14);
    expect(simd!.sumsq(4 * n, 16)).toBe(at(1)[0] ** 2 + at(1)[1] ** 2 + at(1)[2] ** 2 + at(1)[3] ** 2);
    expect(simd!.sumsq(4 * n, 0)).toBe(0);
  });

  it('instantiate over a shared memory too (tfjs\'s threaded build in a cross-origin isolated page)', () => {
    expect(instantiateAdamwSimd(new WebAssembly.Memory({ initial: 1, maximum: 16, shared: true }))).not.toBeNull();
  });
});
