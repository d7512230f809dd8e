// Training-graph checks: analytic gradients (tf.variableGrads) vs central finite differences on a tiny model,
// no forbidden kernels in forward + backward (guard.ts), and no tensor leaks over 5 forward + backward steps.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Variant } from '../../test/reference/micro.ts';
import type { DecoderKind, ModelConfig } from './config.ts';
import { assertNoForbiddenKernels, recordKernels } from './guard.ts';
import { forward } from './index.ts';
import { segLoss } from './losses.ts';
import { encode } from './encoder.ts';
import { createParams, disposeParams, encoderParams, trainableVars } from './params.ts';
import { microSetup, useCpu } from './testutil.ts';
import type { ParamMap } from './types.ts';

beforeAll(useCpu);

interface Setup {
  config: ModelConfig;
  params: ParamMap;
  x: tf.Tensor;
  labels: tf.Tensor;
}

function setup(variant: Variant, decoder: DecoderKind, batch = 1): Setup {
  // 'average' so every slice of the T = 3 kernel carries gradient signal into the input.
  const { config, state } = microSetup(variant, { T: 3, strategy: 'average', decoder, decoderWidth: 8 });
  const params = createParams(config, state, 4);
  // A classifier at std 0.01 gives tiny gradients upstream; scale it up so every parameter gets a measurable gradient.
  const cls = params.get('decode_head.conv_seg.weight') as tf.Variable;
  tf.tidy(() => cls.assign(cls.mul(50)));
  const x = tf.randomUniform([batch, 3, 16, 16, 1], 0, 1, 'float32', 21);
  const labels = tf.randomUniform([batch, 16, 16], 0, 3, 'int32', 22);
  return { config, params, x, labels };
}

const lossOf = (s: Setup): tf.Scalar => segLoss(forward(s.params, s.config, s.x), s.labels);
const teardown = (s: Setup): void => {
  disposeParams(s.params);
  tf.dispose([s.x, s.labels]);
};

type Check = { name: string; index: number; analytic: number; numeric: number };

/** The k entries of the largest analytic gradient of each named parameter, checked against central differences. */
function gradCheck(params: ParamMap, loss: () => tf.Scalar, names: string[], k: number, eps: number): Check[] {
  const vars = names.map((n) => params.get(n) as tf.Variable);
  const grads = tf.tidy(() => {
    const { grads: g } = tf.variableGrads(loss, vars);
    return vars.map((v) => g[v.name].dataSync() as Float32Array);
  });
  const out: Check[] = [];
  const evalLoss = (): number => tf.tidy(() => loss().dataSync()[0]);
  vars.forEach((v, vi) => {
    const g = grads[vi];
    const order = Array.from(g.keys()).sort((a, b) => Math.abs(g[b]) - Math.abs(g[a]));
    const base = v.dataSync().slice() as Float32Array;
    for (const index of order.slice(0, k)) {
      const at = (delta: number): number => {
        const data = base.slice();
        data[index] += delta;
        tf.tidy(() => v.assign(tf.tensor(data, v.shape)));
        return evalLoss();
      };
      const numeric = (at(eps) - at(-eps)) / (2 * eps);
      tf.tidy(() => v.assign(tf.tensor(base, v.shape)));
      out.push({ name: names[vi], index, analytic: g[index], numeric });
    }
  });
  return out;
}

function expectClose(checks: Check[], rel: number, abs: number): void {
  for (const c of checks) {
    expect(Math.abs(c.analytic), `${c.name}[${c.index}] carries a real signal`).toBeGreaterThan(1e-4);
    expect(Math.abs(c.numeric - c.analytic), `${c.name}[${c.index}]: analytic ${c.analytic} vs numeric ${c.numeric}`).toBeLessThanOrEqual(rel * Math.abs(c.analytic) + abs);
  }
}

// NOTE: the heads contain max pooling (and UPerNet ReLUs): piecewise-linear, so a finite difference whose ±ε step
// switches a max is off by O(1) of that term. A patch-kernel entry moves every token, so with the heads attached its
// finite difference was 0.5–1 % off at any ε (and exact once the pool was swapped for a mean); the encoder is
// therefore checked alone with a smooth loss, and the full models on parameters that move few pooled values.
describe('gradients: analytic (tf.variableGrads) vs central differences, float32', () => {
  for (const variant of ['beit', 'vit-ls'] as const) {
    it(`encoder alone (${variant}, T = 3), smooth loss Σ r ⊙ tokens: ε 1e-2, rel. 2e-2`, () => {
      const { config, state } = microSetup(variant, { T: 3, strategy: 'average' });
      const params = encoderParams(config, state);
      const x = tf.randomUniform([2, 3, 16, 16, 1], 0, 1, 'float32', 31);
      const r = tf.randomNormal([2, 17, 16], 0, 1, 'float32', 32);
      const names = variant === 'beit'
        ? ['patch_embed.proj.weight', 'blocks.0.attn.qkv.weight', 'blocks.0.attn.q_bias', 'blocks.1.attn.relative_position_bias_table', 'blocks.1.gamma_1', 'blocks.1.mlp.fc1.weight']
        : ['patch_embed.proj.weight', 'pos_embed', 'cls_token', 'blocks.0.attn.qkv.bias', 'blocks.1.ls2.gamma', 'norm.weight'];
      expectClose(gradCheck(params, () => encode(params, config, x).mul(r).sum() as tf.Scalar, names, 3, 1e-2), 2e-2, 2e-5);
      disposeParams(params);
      tf.dispose([x, r]);
    });
  }

  it('full model, unetr head, Dice + focal (ViT, T = 3): ε 1e-2, rel. 2e-2', () => {
    const s = setup('vit', 'unetr');
    const names = ['blocks.0.attn.qkv.weight', 'pos_embed', 'decode_head.lateral.0.weight', 'decode_head.up.0.0.weight', 'decode_head.fuse.1.weight', 'decode_head.conv_seg.weight'];
    expectClose(gradCheck(s.params, () => lossOf(s), names, 3, 1e-2), 2e-2, 2e-5);
    teardown(s);
  });

  it('full model, uper head (BEiT, T = 3): ε 3e-3 (ReLU kinks), rel. 2e-2', () => {
    const s = setup('beit', 'uper');
    const names = ['blocks.0.attn.q_bias', 'decode_head.fpn1.0.weight', 'decode_head.psp_modules.0.1.conv.weight', 'decode_head.bottleneck.conv.weight', 'decode_head.fpn_convs.0.conv.weight', 'decode_head.conv_seg.bias'];
    expectClose(gradCheck(s.params, () => lossOf(s), names, 2, 3e-3), 2e-2, 5e-5);
    teardown(s);
  });
});

describe('guard: no Einsum / StridedSlice / Conv3D(BackpropInputV2) in a training step', () => {
  for (const [variant, decoder] of [['deit', 'unetr'], ['beit', 'uper']] as const) {
    it(`${variant} + ${decoder}, batch 2: forward + gradient of every trainable parameter`, () => {
      const s = setup(variant, decoder, 2);
      const kernels = assertNoForbiddenKernels(() => {
        tf.tidy(() => {
          tf.variableGrads(() => lossOf(s), trainableVars(s.params));
        });
      });
      // The recorder saw both directions: matMuls, the shifted slices of the 3×3 convs (forward Slice/PadV2,
      // backward PadV2/Slice), Erf and Softmax; and no Conv2D kernels at all (slow on cpu, missing on wasm).
      for (const k of ['BatchMatMul', 'Slice', 'PadV2', 'Erf', 'Softmax']) expect(kernels.has(k), k).toBe(true);
      for (const k of ['Conv2D', 'Conv2DBackpropFilter', 'Conv2DBackpropInput']) expect(kernels.has(k), k).toBe(false);
      if (variant === 'beit') expect(kernels.has('UnsortedSegmentSum')).toBe(true); // the gather's gradient
      teardown(s);
    });
  }

  it('catches a forbidden kernel', () => {
    const { kernels } = recordKernels(() => tf.tidy(() => tf.einsum('ij,jk->ik', tf.ones([2, 2]), tf.ones([2, 2]))));
    expect(kernels.has('Einsum')).toBe(true);
    expect(() => assertNoForbiddenKernels(() => tf.tidy(() => tf.ones([4]).stridedSlice([0], [2], [1])))).toThrow(/forbidden kernels ran: StridedSlice/);
  });
});

describe('memory', () => {
  it('tf.memory().numTensors is unchanged after 5 forward + backward steps', () => {
    const s = setup('beit', 'unetr', 2);
    const vars = trainableVars(s.params);
    const step = (): void =>
      tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => lossOf(s), vars);
        expect(Number.isFinite(value.dataSync()[0])).toBe(true);
        expect(Object.keys(grads).length).toBe(vars.length);
      });
    step(); // first call may create lazily cached state
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) step();
    expect(tf.memory().numTensors).toBe(before);
    teardown(s);
  });
});
