// The volume model's config, parameter names and training graph: presets (MONAI's recipe exactly), parameter names
// and counts (hand-counted), bad configs named, and on wasm a few AdamW steps of Dice + CE on the micro config with
// tf.memory().numTensors flat and the loss falling on a learnable target (a bright ball to segment).
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerWasm } from '../../train/backend.ts';
import { makeAdamW } from '../../train/optim/index.ts';
import { createUnetr3dParams, loadUnetr3dParams, unetr3dForward, unetr3dParamCount, unetr3dParamSpecs, unetr3dPredict, UNETR3D_MICRO, UNETR3D_PRESETS, validateVolumeConfig, volumeConfig, volumeLoss, type VolumeModelConfig } from './index.ts';

describe('unetr3d config and parameters', () => {
  it("'monai-btcv' is MONAI's BTCV recipe and 'browser' a smaller one with the same structure", () => {
    expect(UNETR3D_PRESETS['monai-btcv']).toMatchObject({ crop: [96, 96, 96], patch: 16, hiddenSize: 768, depth: 12, numHeads: 12, mlpDim: 3072, featureSize: 16, skipBlocks: [3, 6, 9] });
    const b = volumeConfig('browser', { inChans: 1, numClasses: 14 });
    expect(b).toMatchObject({ model: 'unetr3d', preset: 'browser', crop: [64, 64, 64], patch: 16, inChans: 1, numClasses: 14 });
    expect(volumeConfig('monai-btcv', { inChans: 1, numClasses: 14, crop: [64, 96, 128] }).crop).toEqual([64, 96, 128]);
  });

  it('has MONAI UNETR parameter names, and the count of MONAI\'s BTCV model', () => {
    const cfg = volumeConfig('monai-btcv', { inChans: 1, numClasses: 14 });
    const specs = unetr3dParamSpecs(cfg);
    expect(specs.get('vit.patch_embedding.patch_embeddings.1.weight')?.shape).toEqual([768, 4096]);
    expect(specs.get('vit.patch_embedding.position_embeddings')?.shape).toEqual([1, 216, 768]);
    expect(specs.get('vit.blocks.11.attn.qkv.weight')?.shape).toEqual([2304, 768]);
    expect(specs.has('vit.blocks.0.attn.qkv.bias')).toBe(false);
    expect(specs.get('encoder2.blocks.1.1.conv2.conv.weight')?.shape).toEqual([32, 32, 3, 3, 3]);
    expect(specs.get('decoder5.conv_block.conv3.conv.weight')?.shape).toEqual([128, 256, 1, 1, 1]);
    expect(specs.get('out.conv.conv.weight')?.shape).toEqual([14, 16, 1, 1, 1]);
    // Hand count. ViT: embedding 4096·768 + 768, positions 216·768; per block 2·(2·768) LN + 768·2304 qkv + 768² + 768
    // out_proj + 768·3072 + 3072 + 3072·768 + 768 MLP = 7,085,568; final LN 1536.
    const vit = 4096 * 768 + 768 + 216 * 768 + 12 * 7_085_568 + 1536;
    const c3 = (o: number, i: number) => o * i * 27;
    const t2 = (i: number, o: number) => i * o * 8;
    const res = (i: number, o: number) => c3(o, i) + c3(o, o) + (i !== o ? o * i : 0);
    const enc = res(1, 16) + t2(768, 32) + 2 * (t2(32, 32) + res(32, 32)) + t2(768, 64) + t2(64, 64) + res(64, 64) + t2(768, 128);
    const dec = t2(768, 128) + res(256, 128) + t2(128, 64) + res(128, 64) + t2(64, 32) + res(64, 32) + t2(32, 16) + res(32, 16);
    expect(unetr3dParamCount(cfg)).toBe(vit + enc + dec + 14 * 16 + 14);
    // 92.78 M (the UNETR paper's table gives 92.58 M for its BTCV model).
    expect(unetr3dParamCount(cfg)).toBe(92_784_046);
  });

  it('loads a state dict strictly by name (missing, unknown and misshapen keys named) and gives back the same values', () => {
    const cfg: VolumeModelConfig = { ...UNETR3D_MICRO, inChans: 1, numClasses: 2 };
    const made = createUnetr3dParams(cfg, 9);
    const state = new Map([...made].map(([k, v]) => [k, { dtype: 'float32' as const, shape: [...v.shape], data: Float32Array.from(v.dataSync()) }]));
    const loaded = loadUnetr3dParams(cfg, state);
    expect([...loaded.keys()]).toEqual([...made.keys()]);
    for (const [k, v] of loaded) expect(Array.from(v.dataSync()), k).toEqual(Array.from(made.get(k)!.dataSync()));
    const without = new Map(state);
    without.delete('vit.norm.bias');
    expect(() => loadUnetr3dParams(cfg, without)).toThrow(/missing: vit\.norm\.bias/);
    expect(() => loadUnetr3dParams(cfg, new Map([...state, ['vit.blocks.0.attn.qkv.bias', { dtype: 'float32', shape: [96], data: new Float32Array(96) }]]))).toThrow(/unknown: vit\.blocks\.0\.attn\.qkv\.bias/);
    expect(() => loadUnetr3dParams(cfg, new Map([...state, ['out.conv.conv.bias', { dtype: 'float32', shape: [3], data: new Float32Array(3) }]]))).toThrow(/'out\.conv\.conv\.bias' has shape \[3\], the config needs \[2\]/);
    for (const m of [made, loaded]) for (const v of m.values()) v.dispose();
  });

  it('refuses configs it cannot build, naming the field', () => {
    const ok: VolumeModelConfig = { ...UNETR3D_MICRO, inChans: 1, numClasses: 2 };
    expect(() => validateVolumeConfig({ ...ok, patch: 8 })).toThrow(/patch must be 16/);
    expect(() => validateVolumeConfig({ ...ok, crop: [32, 32, 40] })).toThrow(/crop must be 3 positive multiples of the patch 16/);
    expect(() => validateVolumeConfig({ ...ok, hiddenSize: 33 })).toThrow(/hiddenSize 33 is not divisible by numHeads 2/);
    expect(() => validateVolumeConfig({ ...ok, skipBlocks: [0, 1, 3] })).toThrow(/skipBlocks must be 3 block indices in 0…2/);
    expect(() => validateVolumeConfig({ ...ok, numClasses: 1 })).toThrow(/numClasses must be at least 2/);
  });
});

describe('unetr3d training on wasm (micro config)', () => {
  beforeAll(async () => {
    await registerWasm();
    await tf.setBackend('wasm');
  });
  afterAll(async () => { await tf.setBackend('cpu'); });

  it('AdamW steps of Dice + CE: tensor count flat, loss falling; predict gives class indices', () => {
    const cfg: VolumeModelConfig = { ...UNETR3D_MICRO, inChans: 1, numClasses: 2 };
    const params = createUnetr3dParams(cfg, 3);
    const opt = makeAdamW({ weightDecay: 1e-5 });
    const nameOf = new Map([...params].map(([k, v]) => [v.name, k]));
    const vars = [...params.values()];
    // A bright ball of radius 9 in noise; the label is the ball.
    const [D, H, W] = cfg.crop;
    const xs = new Float32Array(D * H * W), ys = new Int32Array(D * H * W);
    let s = 5;
    for (let i = 0; i < xs.length; i++) {
      const d = Math.floor(i / (H * W)) - 15.5, h = (Math.floor(i / W) % H) - 13.5, w = (i % W) - 17.5;
      ys[i] = d * d + h * h + w * w < 81 ? 1 : 0;
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      xs[i] = ys[i] + 0.5 * (s / 2 ** 32 - 0.5);
    }
    const x = tf.tensor5d(xs, [1, D, H, W, 1]);
    const y = tf.tensor4d(ys, [1, D, H, W], 'int32');
    const step = (): number => {
      const loss = tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => volumeLoss(unetr3dForward(params, cfg, x), y), vars);
        opt.step(params, new Map(Object.entries(grads).map(([k, g]) => [nameOf.get(k) ?? k, g])), 3e-3);
        return value;
      });
      const v = loss.dataSync()[0];
      loss.dispose();
      return v;
    };
    const losses = [step(), step()];
    const after2 = tf.memory().numTensors;
    for (let i = 0; i < 6; i++) {
      losses.push(step());
      expect(tf.memory().numTensors, `tensors after step ${losses.length}`).toBe(after2);
    }
    console.log(`micro UNETR3D on wasm, Dice + CE: ${losses.map((l) => l.toFixed(4)).join(' → ')}`);
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[losses.length - 1]).toBeLessThan(0.8 * losses[0]);
    const pred = unetr3dPredict(params, cfg, x);
    expect(pred.shape).toEqual([1, D, H, W]);
    expect(pred.dtype).toBe('int32');
    tf.dispose([pred, x, y]);
    opt.dispose();
    for (const v of params.values()) v.dispose();
  }, 120_000);
});
