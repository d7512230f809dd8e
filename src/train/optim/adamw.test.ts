// Tests for AdamW and clipping against torch 1.13 numbers, constant memory over steps, and the state round trip.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeAdamW } from './adamw.ts';
import { clipByGlobalNorm } from './clip.ts';

beforeAll(async () => { await tf.setBackend('cpu'); await tf.ready(); });

const SHAPES: Record<string, number[]> = {
  'blocks.0.mlp.fc1.weight': [2, 3], // decays (0.05)
  'blocks.0.mlp.fc1.bias': [3], // no decay
  'decode_head.conv_seg.weight': [2, 2], // decays, lr multiplier 0.5
};
const NAMES = Object.keys(SHAPES);
const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
/** Initial value i of the k-th parameter: ((5i + 3k) mod 9 − 4)/8. */
const init = (k: number) => Array.from({ length: size(SHAPES[NAMES[k]]) }, (_, i) => (((i * 5 + k * 3) % 9) - 4) / 8);
/** Gradient i of the k-th parameter at step t: scale·(((3i + 5t + k) mod 7) − 3)/4. */
const grad = (k: number, t: number, scale: number) => Array.from({ length: size(SHAPES[NAMES[k]]) }, (_, i) => (scale * (((i * 3 + t * 5 + k) % 7) - 3)) / 4);
const LRS = [1e-2, 5e-3, 2e-2];

// Produced with torch 1.13 (/usr/bin/python3): three nn.Parameters with the values above, one param group each
// (weight_decay 0.05, 0, 0.05; the group lr set to LRS[t]·multiplier before each step), torch.optim.AdamW(betas
// (0.9, 0.999), eps 1e-8), three steps of the gradients above; with clipping, torch.nn.utils.clip_grad_norm_
// (all three, 1.0) before each step and gradients ×3. Printed: parameters, exp_avg, exp_avg_sq (%.9g).
const TORCH = {
  noclip: {
    'blocks.0.mlp.fc1.weight': {
      p: [-0.486181736, 0.124245457, -0.397665888, 0.269292593, -0.261179805, 0.375987619],
      m: [-0.0157500021, 0.0300000031, 0.0582500026, -0.0377499945, -0.00950000435, 0.0520000011],
      v: [0.000811125559, 0.000812250015, 0.000686313026, 0.000874312595, 0.000499500311, 0.000873937795],
    },
    'blocks.0.mlp.fc1.bias': {
      p: [-0.123345196, 0.502168059, 0.0129568996],
      m: [0.0520000011, -0.0772500038, -0.0157500021],
      v: [0.000873937795, 0.000687312568, 0.000811125559],
    },
    'decode_head.conv_seg.weight': {
      p: [0.259650528, -0.255593836, 0.375496536, -0.123803571],
      m: [-0.0377499945, -0.00950000435, 0.0520000011, -0.0772500038],
      v: [0.000874312595, 0.000499500311, 0.000873937795, 0.000687312568],
    },
  },
  clip: {
    norms: [5.356071472167969, 5.809474945068359, 5.141740798950195],
    'blocks.0.mlp.fc1.weight': {
      p: [-0.485436052, 0.123337358, -0.397200257, 0.268495202, -0.260846257, 0.37643379],
      m: [-0.0107889008, 0.0205215923, 0.0310592465, -0.0170261171, -0.00648846012, 0.0267588068],
      v: [0.000242717753, 0.000258089305, 0.000214044339, 0.000254524959, 0.000163380915, 0.000249401113],
    },
    'blocks.0.mlp.fc1.bias': {
      p: [-0.12289881, 0.501850367, 0.013702766],
      m: [0.0267588068, -0.0440361723, -0.0107889008],
      v: [0.000249401113, 0.000227707933, 0.000242717753],
    },
    'decode_head.conv_seg.weight': {
      p: [0.259251803, -0.255427063, 0.375719696, -0.12396235],
      m: [-0.0170261171, -0.00648846012, 0.0267588068, -0.0440361723],
      v: [0.000254524959, 0.000163380915, 0.000249401113, 0.000227707933],
    },
  },
};

function makeParams(): Map<string, tf.Variable> {
  return new Map(NAMES.map((n, k) => [n, tf.variable(tf.tensor(init(k), SHAPES[n]), true, `adamw-test-${n}-${Math.random()}`)]));
}

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Math.max(...Array.from(a, (x, i) => Math.abs(x - b[i])));

async function runThree(clip: boolean, fused = true) {
  const params = makeParams();
  const opt = makeAdamW({ fused, maxGradNorm: clip ? 1.0 : null, lrMultipliers: new Map([['decode_head.conv_seg.weight', 0.5]]) });
  const norms: number[] = [];
  for (let t = 0; t < 3; t++) {
    const grads = new Map(NAMES.map((n, k) => [n, tf.tensor(grad(k, t, clip ? 3 : 1), SHAPES[n])]));
    opt.step(params, grads, (step) => LRS[step]);
    tf.dispose([...grads.values()]);
    norms.push(await opt.gradNorm());
  }
  return { params, opt, norms };
}

describe('AdamW against torch.optim.AdamW', () => {
  // fused: one kernel on cpu (src/train/optim/fused.ts); per-tensor ops otherwise (what GPU backends run).
  for (const [clip, fused] of [[false, true], [true, true], [false, false], [true, false]]) {
    it(`matches three steps ${clip ? 'with' : 'without'} clipping (max |Δ| ≤ 1e-6; ${fused ? 'fused kernel' : 'per-tensor ops'})`, async () => {
      const { params, opt, norms } = await runThree(clip, fused);
      const ref = clip ? TORCH.clip : TORCH.noclip;
      const state = await opt.getState();
      expect(state.step).toBe(3);
      for (const n of NAMES) {
        const r = (ref as unknown as Record<string, { p: number[]; m: number[]; v: number[] }>)[n];
        expect(maxDiff(params.get(n)!.dataSync(), r.p)).toBeLessThanOrEqual(1e-6);
        expect(maxDiff(state.tensors[`optim.m.${n}`].data, r.m)).toBeLessThanOrEqual(1e-6);
        expect(maxDiff(state.tensors[`optim.v.${n}`].data, r.v)).toBeLessThanOrEqual(1e-6);
        expect(state.tensors[`optim.m.${n}`].shape).toEqual(SHAPES[n]);
        expect(Array.from(state.tensors[`optim.step.${n}`].data)).toEqual([3]);
      }
      if (clip) for (let t = 0; t < 3; t++) expect(norms[t]).toBeCloseTo(TORCH.clip.norms[t], 5);
      opt.dispose();
      tf.dispose([...params.values()]);
    });
  }

  it('leaves parameters without a gradient (and their state) alone', () => {
    const params = makeParams();
    const opt = makeAdamW();
    const before = params.get('blocks.0.mlp.fc1.bias')!.dataSync().slice();
    const g = tf.ones([2, 3]);
    opt.step(params, new Map([['blocks.0.mlp.fc1.weight', g]]), 1e-3);
    expect(params.get('blocks.0.mlp.fc1.bias')!.dataSync()).toEqual(before);
    expect(params.get('blocks.0.mlp.fc1.weight')!.dataSync()).not.toEqual(Float32Array.from(init(0)));
    g.dispose();
    opt.dispose();
    tf.dispose([...params.values()]);
  });

  it('names what is wrong', () => {
    const params = makeParams();
    const opt = makeAdamW();
    const g = tf.ones([3]);
    expect(() => opt.step(params, new Map([['nope', g]]), 1e-3)).toThrow(/gradient for nope, which is not among the 3 parameters/);
    expect(() => opt.step(params, new Map([['blocks.0.mlp.fc1.weight', g]]), 1e-3)).toThrow(/gradient of blocks.0.mlp.fc1.weight has shape \[3\], the parameter \[2,3\]/);
    expect(() => opt.step(params, new Map([['blocks.0.mlp.fc1.bias', g]]), NaN)).toThrow(/lr NaN at step 0/);
    expect(() => makeAdamW({ betas: [1, 0.999] })).toThrow(/β1 = 1/);
    expect(() => makeAdamW({ maxGradNorm: 0 })).toThrow(/maxGradNorm 0/);
    g.dispose();
    opt.dispose();
    tf.dispose([...params.values()]);
  });
});

describe('clipByGlobalNorm against torch.nn.utils.clip_grad_norm_', () => {
  // torch 1.13: a.grad = [[1, −2], [3, 0.5]]·s, b.grad = [−1, 2, 0.25]·s, clip_grad_norm_([a, b], 1.0).
  const cases = [
    { s: 0.1, norm: 0.43945992, a: [0.100000001, -0.200000003, 0.300000012, 0.0500000007], b: [-0.100000001, 0.200000003, 0.0250000004] },
    { s: 2.0, norm: 8.78919792, a: [0.227552027, -0.455104053, 0.68265605, 0.113776013], b: [-0.227552027, 0.455104053, 0.0568880066] },
  ];
  for (const c of cases) {
    it(`returns the pre-clip norm and scaled gradients (scale ${c.s})`, () => {
      const before = tf.memory().numTensors;
      const grads = new Map([['a', tf.tensor([1, -2, 3, 0.5].map((v) => v * c.s), [2, 2])], ['b', tf.tensor([-1, 2, 0.25].map((v) => v * c.s))]]);
      const r = clipByGlobalNorm(grads, 1.0);
      expect(r.norm.dataSync()[0]).toBeCloseTo(c.norm, 5);
      expect(maxDiff(r.grads.get('a')!.dataSync(), c.a)).toBeLessThanOrEqual(1e-6);
      expect(maxDiff(r.grads.get('b')!.dataSync(), c.b)).toBeLessThanOrEqual(1e-6);
      tf.dispose([...grads.values(), ...r.grads.values(), r.norm]);
      expect(tf.memory().numTensors).toBe(before);
    });
  }
});

describe('AdamW memory and state', () => {
  it('keeps tf.memory().numTensors constant over 20 steps', () => {
    const params = makeParams();
    const opt = makeAdamW();
    const grads = new Map(NAMES.map((n, k) => [n, tf.tensor(grad(k, 1, 1), SHAPES[n])]));
    opt.step(params, grads, 1e-3); // creates the moments
    const after1 = tf.memory().numTensors;
    for (let i = 0; i < 20; i++) opt.step(params, grads, (s) => 1e-3 / (s + 1));
    expect(tf.memory().numTensors).toBe(after1);
    expect(opt.steps).toBe(21);
    opt.dispose();
    tf.dispose([...grads.values(), ...params.values()]);
  });

  it('round-trips its state: a restored optimizer continues exactly like the original', async () => {
    const a = await runThree(false);
    const saved = await a.opt.getState();
    const copy = new Map([...a.params].map(([n, v]) => [n, tf.variable(v.clone(), true, `copy-${n}-${Math.random()}`)]));
    const b = makeAdamW({ maxGradNorm: null, lrMultipliers: new Map([['decode_head.conv_seg.weight', 0.5]]) });
    b.setState(saved);
    expect(b.steps).toBe(3);
    const again = await b.getState();
    expect(again).toEqual(saved);
    for (const [opt, params] of [[a.opt, a.params], [b, copy]] as const) {
      const grads = new Map(NAMES.map((n, k) => [n, tf.tensor(grad(k, 3, 1), SHAPES[n])]));
      opt.step(params, grads, (s) => (s === 3 ? 4e-3 : NaN));
      tf.dispose([...grads.values()]);
    }
    for (const n of NAMES) expect(copy.get(n)!.dataSync()).toEqual(a.params.get(n)!.dataSync());
    // Setting a state replaces the old one without leaking tensors.
    const count = tf.memory().numTensors;
    b.setState(saved);
    expect(tf.memory().numTensors).toBe(count);
    a.opt.dispose(); b.dispose();
    tf.dispose([...a.params.values(), ...copy.values()]);
  });

  it('refuses malformed state', () => {
    const opt = makeAdamW();
    const m = { dtype: 'float32' as const, shape: [2], data: new Float32Array(2) };
    const t = { dtype: 'float32' as const, shape: [], data: Float32Array.of(1) };
    expect(() => opt.setState({ step: 1, tensors: { 'optim.m.x': m, 'optim.step.x': t } })).toThrow(/missing optim.v.x/);
    expect(() => opt.setState({ step: 1, tensors: { 'optim.m.x': m, 'optim.v.x': { ...m, shape: [1, 2] }, 'optim.step.x': t } })).toThrow(/optim.v.x has shape \[1,2\], expected \[2\]/);
    expect(() => opt.setState({ step: 1, tensors: { 'model.x': m } })).toThrow(/unexpected key model.x/);
    expect(() => opt.setState({ step: 1, tensors: { 'optim.m.x': m, 'optim.v.x': m, 'optim.step.x': { ...t, data: Float32Array.of(0) } } })).toThrow(/optim.step.x = 0/);
    opt.dispose();
  });
});

describe('AdamW without clipping', () => {
  it('still records the global gradient norm', async () => {
    const params = makeParams();
    const opt = makeAdamW({ maxGradNorm: null });
    const grads = new Map(NAMES.map((n, k) => [n, tf.tensor(grad(k, 0, 10), SHAPES[n])]));
    opt.step(params, grads, 0);
    let ss = 0;
    NAMES.forEach((_, k) => grad(k, 0, 10).forEach((g) => { ss += g * g; }));
    expect(await opt.gradNorm()).toBeCloseTo(Math.sqrt(ss), 4);
    // lr 0: the parameters do not move, though the moments do.
    NAMES.forEach((n, k) => expect(params.get(n)!.dataSync()).toEqual(Float32Array.from(init(k))));
    opt.dispose();
    tf.dispose([...grads.values(), ...params.values()]);
  });
});
