// The model checkpoint format on small hand-made records: what goes in comes out (NaN Dice included), the optimiser
// state is kept apart from the weights, and broken metadata is refused with the file and the key named.
import { describe, expect, it } from 'vitest';
import { checkpointName, decodeAnyCheckpoint, decodeModelCheckpoint, encodeModelCheckpoint, isModelCheckpointFile, isVolumeCheckpoint, modelKindOf, type ModelCheckpoint, type VolumeCheckpoint } from './checkpoint.ts';
import { readSafetensors, writeSafetensors } from './formats/index.ts';
import type { EncoderSpec } from './types.ts';

const spec: EncoderSpec = {
  family: 'vit', layout: 'timm', embedDim: 4, depth: 1, numHeads: 1, mlpRatio: 4, patchSize: 2, inChans: 1, grid: [2, 2], hasClsToken: true, hasDistToken: false,
  qkvBias: 'qkv', layerScale: false, absPosEmbed: true, relPosBias: 'none', normEps: 1e-6, fcNorm: false,
};
const f32 = (shape: number[], k = 1) => ({ dtype: 'float32' as const, shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => k * (i + 0.5)) });

function record(): ModelCheckpoint {
  return {
    meta: {
      config: { encoder: spec, T: 3, inChans: 1, imgSize: 4, numClasses: 3, decoder: 'unetr', decoderWidth: 8, featureBlocks: [1, 1, 1, 1] },
      inflation: { strategy: 'center', T: 3, inChans: 1, imgSize: 4, seed: 0 },
      source: 'org/vit-micro + config.json',
      train: { steps: 10, batch: 2, lr: 1e-3, weightDecay: 0.05, warmupSteps: 1, schedule: 'cosine', loss: 'dice-ce', ignoreBackground: true, augment: 'off', seed: 5, valEvery: 5, axis: 1, clip: 1, layerDecay: 0.75 },
      step: 5,
      classNames: ['background', 'liver', 'tumour'],
      intensity: { case1: 'ct-abdomen' },
      orientation: { space: 'RAS', axis: 1 },
      history: { steps: [{ step: 5, loss: 0.5, lr: 1e-3, ms: 12, samplesPerSec: 160, numTensors: 40, numBytes: 1024 }], validations: [{ step: 5, dice: [0.9, NaN, 0.25], meanDice: 0.25 }] },
      appVersion: '0.1.0',
      created: '2026-11-25T00:00:00.000Z',
    },
    weights: new Map([['patch_embed.proj.weight', f32([4, 1, 3, 2, 2])], ['decode_head.cls.bias', f32([3], -1)]]),
    optim: { step: 5, tensors: { 'optim.m.decode_head.cls.bias': f32([3], 2), 'optim.v.decode_head.cls.bias': f32([3], 3), 'optim.step.decode_head.cls.bias': { dtype: 'float32', shape: [], data: Float32Array.of(5) } } },
  };
}

describe('model checkpoint format', () => {
  it('round-trips weights, optimiser state and every metadata field (NaN Dice stays NaN)', async () => {
    const r = record();
    const bytes = encodeModelCheckpoint(r);
    const back = await decodeModelCheckpoint(bytes, 'm.safetensors');
    expect(back.meta).toEqual(r.meta); // toEqual treats NaN as equal to NaN
    expect(Number.isNaN(back.meta.history.validations[0].dice[1])).toBe(true);
    expect([...back.weights.keys()]).toEqual(['patch_embed.proj.weight', 'decode_head.cls.bias']);
    expect(Array.from(back.weights.get('decode_head.cls.bias')!.data)).toEqual([-0.5, -1.5, -2.5]);
    expect(back.optim!.step).toBe(5);
    expect(Object.keys(back.optim!.tensors).sort()).toEqual(['optim.m.decode_head.cls.bias', 'optim.step.decode_head.cls.bias', 'optim.v.decode_head.cls.bias']);
    expect(await isModelCheckpointFile(new Blob([bytes as Uint8Array<ArrayBuffer>]))).toBe(true);
    // Without the optimiser state: no optim.* tensors and no optim_step.
    const bare = await readSafetensors(encodeModelCheckpoint({ ...r, optim: null }), 'bare.safetensors');
    expect([...bare.tensors.keys()].some((k) => k.startsWith('optim.'))).toBe(false);
    expect(bare.metadata.optim_step).toBeUndefined();
    expect(checkpointName(r.meta)).toBe('vit-micro_center_T3_step5.safetensors');
  });

  it('refuses weights named like optimiser state, and broken or missing metadata, naming the file and key', async () => {
    const r = record();
    expect(() => encodeModelCheckpoint({ ...r, weights: new Map([['optim.x', f32([1])]]) })).toThrow(/may not start with 'optim\.'/);
    const md = (over: Record<string, string>) => writeSafetensors([['a', f32([1])]], { ...(readMeta(encodeModelCheckpoint(r))), ...over });
    await expect(decodeModelCheckpoint(md({ config: '{oops' }), 'x.safetensors')).rejects.toThrow(/x\.safetensors: checkpoint metadata 'config' is not valid JSON/);
    await expect(decodeModelCheckpoint(md({ step: '-1' }), 'x.safetensors')).rejects.toThrow(/step is -1/);
    await expect(decodeModelCheckpoint(md({ history: '{}' }), 'x.safetensors')).rejects.toThrow(/history must hold/);
    await expect(decodeModelCheckpoint(md({ format: 'inflateseg-encoder/1' }), 'x.safetensors')).rejects.toThrow(/not an InflateSeg model checkpoint \(metadata format is 'inflateseg-encoder\/1'/);
    const noTrain = readMeta(encodeModelCheckpoint(r));
    delete noTrain.train;
    await expect(decodeModelCheckpoint(writeSafetensors([['a', f32([1])]], noTrain), 'y.safetensors')).rejects.toThrow(/y\.safetensors: checkpoint metadata lacks 'train'/);
  });
});

function readMeta(bytes: Uint8Array): Record<string, string> {
  const n = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
  return JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))).__metadata__;
}

describe('volume model checkpoint (config.model unetr3d)', () => {
  const volume = (): VolumeCheckpoint => {
    const { inflation: _inflation, config: _config, ...rest } = record().meta;
    return {
      meta: {
        ...rest, source: 'UNETR 3D micro (scratch)', orientation: { space: 'RAS', axis: 2 },
        config: { model: 'unetr3d', crop: [32, 32, 32], patch: 16, inChans: 1, numClasses: 3, hiddenSize: 32, depth: 3, numHeads: 2, mlpDim: 64, featureSize: 4, skipBlocks: [0, 1, 2], preset: 'custom' },
      },
      weights: new Map([['out.conv.conv.bias', f32([3])]]),
      optim: null,
    };
  };

  it('round-trips without an inflation key; window-only readers refuse it naming the file; older checkpoints are window models', async () => {
    const v = volume();
    const bytes = encodeModelCheckpoint(v);
    expect((await readSafetensors(bytes, 'v.safetensors')).metadata?.inflation).toBeUndefined();
    const back = await decodeAnyCheckpoint(bytes, 'v.safetensors');
    expect(isVolumeCheckpoint(back)).toBe(true);
    expect(back.meta).toEqual(v.meta);
    expect(checkpointName(v.meta)).toBe('unetr3d_custom_32x32x32_step5.safetensors');
    await expect(decodeModelCheckpoint(bytes, 'v.safetensors')).rejects.toThrow(/v\.safetensors: a volume-based model \(3D UNETR, preset custom\): this reader takes window-based models only/);
    const old = await decodeAnyCheckpoint(encodeModelCheckpoint(record()), 'w.safetensors');
    expect(isVolumeCheckpoint(old)).toBe(false);
    expect(modelKindOf(old.meta.config)).toBe('window');
    const md = readMeta(bytes);
    await expect(decodeAnyCheckpoint(writeSafetensors([['a', f32([1])]], { ...md, config: JSON.stringify({ model: 'unetr3d', crop: [32, 32] }) }), 'bad.safetensors'))
      .rejects.toThrow(/bad\.safetensors: checkpoint config of the 3D UNETR lacks its crop/);
    const { inflation: _drop, ...noInflation } = readMeta(encodeModelCheckpoint(record()));
    await expect(decodeAnyCheckpoint(writeSafetensors([['a', f32([1])]], noInflation), 'w2.safetensors')).rejects.toThrow(/w2\.safetensors: checkpoint metadata lacks 'inflation'/);
  });
});
