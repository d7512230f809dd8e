// The volume model (src/model/volume) against its PyTorch reference (test/reference/unetr3d_torch.py, torch 1.13, written
// from the UNETR paper and MONAI's documented blocks; loads our parameters strictly by MONAI's names): each new op
// (3×3×3 and 1×1×1 conv, instance norm, 2×2×2 transposed conv, perceptron patch embedding, ViT block, res block,
// up block), the whole forward, the Dice + CE loss and its gradients w.r.t. the input and parameters of every kind
// vs torch autograd — on the cpu backend and on wasm (with the repo's wasm kernels). Micro config, batch 2 (instance
// norm per sample). Debian's python3-torch is required (fails, never skips, without it).
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertNoForbiddenKernels } from '../../src/model/guard.ts';
import type { ParamMap } from '../../src/model/types.ts';
import { createUnetr3dParams, UNETR3D_MICRO, volumeLoss, type VolumeModelConfig } from '../../src/model/volume/index.ts';
import { conv3d, convTranspose2x2x2, instanceNorm3d } from '../../src/model/volume/ops3d.ts';
import { resBlock, unetr3dForward, upBlock, vitBlock, vitEmbed } from '../../src/model/volume/unetr3d.ts';
import { registerWasm } from '../../src/train/backend.ts';
import { py, requireTorch } from '../support/torchTwin.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
/**
 * wasm: the micro config, 2 channels, batch 2. cpu: tfjs's cpu backend runs this graph ~40× slower than wasm (its
 * Slice and matMul), so it gets a 16×16×32 crop (1×1×2 tokens), 1 channel, batch 1 (the ops and gradients are the same).
 */
const CASES = {
  wasm: { cfg: { ...UNETR3D_MICRO, inChans: 2, numClasses: 3 } as VolumeModelConfig, B: 2 },
  cpu: { cfg: { ...UNETR3D_MICRO, crop: [16, 16, 32], inChans: 1, numClasses: 3 } as VolumeModelConfig, B: 1 },
};
const GRADS = [
  'vit.patch_embedding.patch_embeddings.1.weight', 'vit.patch_embedding.position_embeddings', 'vit.blocks.0.attn.qkv.weight',
  'vit.blocks.1.mlp.linear1.weight', 'vit.norm.weight', 'encoder1.layer.conv1.conv.weight', 'encoder2.blocks.0.0.conv.weight',
  'encoder3.blocks.0.1.conv2.conv.weight', 'decoder5.transp_conv.conv.weight', 'decoder2.conv_block.conv3.conv.weight', 'out.conv.conv.weight', 'out.conv.conv.bias',
];

let tmp: string;
beforeAll(() => { tmp = mkdtempSync(path.join(tmpdir(), 'inflateseg-unetr3d-')); });
afterAll(() => { rmSync(tmp, { recursive: true, force: true }); });

interface Setup {
  cfg: VolumeModelConfig;
  params: ParamMap;
  inputs: Map<string, tf.Tensor>;
  torchOut: Map<string, { shape: number[]; data: Float32Array }>;
}

const seeded = (shape: number[], seed: number): tf.Tensor => tf.tidy(() => tf.randomNormal(shape, 0, 1, 'float32', seed));

/** Parameters and inputs for cfg (made on the cpu backend), and the reference's outputs for them. */
async function setup(cfg: VolumeModelConfig, B: number, name: string): Promise<Setup> {
  await tf.setBackend('cpu');
  const F = cfg.featureSize;
  const [D, H, W] = cfg.crop;
  const params = createUnetr3dParams(cfg, 11);
  const inputs = new Map<string, tf.Tensor>([
    ['x', seeded([B, D, H, W, cfg.inChans], 1)],
    ['labels', tf.tidy(() => tf.randomUniform([B, D, H, W], 0, cfg.numClasses, 'int32', 2))],
    ['t', seeded([B, (D * H * W) / 16 ** 3, cfg.hiddenSize], 3)],
    ['z', seeded([B, D / 2, H / 2, W / 2, 2 * F], 4)],
    ['u', seeded([B, D, H, W, F], 5)],
    ['u2', seeded([B, D, H, W, 2 * F], 6)],
  ]);
  // Everything for the reference in one float32 file.
  const all: [string, tf.Tensor][] = [...params, ...inputs];
  const entries: { name: string; shape: number[]; offset: number }[] = [];
  let offset = 0;
  for (const [key, t] of all) {
    entries.push({ name: key, shape: t.shape, offset });
    offset += t.size;
  }
  const buf = new Float32Array(offset);
  all.forEach(([, t], i) => buf.set(Float32Array.from(t.dataSync()), entries[i].offset));
  const file = (ext: string) => path.join(tmp, `${name}.${ext}`);
  writeFileSync(file('in.bin'), buf);
  writeFileSync(file('json'), JSON.stringify({ config: cfg, data: file('in.bin'), out: file('out.bin'), tensors: entries, grads: GRADS }));
  requireTorch();
  const r = await py([path.join(ROOT, 'test/reference/unetr3d_torch.py'), file('json')]);
  const manifest = JSON.parse(r.stdout) as { outputs: { name: string; shape: number[]; offset: number }[] };
  const raw = new Float32Array(readFileSync(file('out.bin')).buffer.slice(0));
  const torchOut = new Map(manifest.outputs.map((o) => [o.name, { shape: o.shape, data: raw.subarray(o.offset, o.offset + o.shape.reduce((a, b) => a * b, 1)) }]));
  return { cfg, params, inputs, torchOut };
}

function teardown(s: Setup): void {
  for (const v of s.params.values()) v.dispose();
  tf.dispose([...s.inputs.values()]);
}

/** max |a − torch[name]| and max |torch[name]|, shapes checked. */
function diff(s: Setup, name: string, a: tf.Tensor): { maxAbsDiff: number; maxAbs: number } {
  const ref = s.torchOut.get(name);
  if (!ref) throw new Error(`the reference wrote no '${name}'`);
  expect(a.shape, name).toEqual(ref.shape);
  const d = a.dataSync();
  let maxAbsDiff = 0, maxAbs = 0;
  for (let i = 0; i < d.length; i++) {
    maxAbsDiff = Math.max(maxAbsDiff, Math.abs(d[i] - ref.data[i]));
    maxAbs = Math.max(maxAbs, Math.abs(ref.data[i]));
  }
  return { maxAbsDiff, maxAbs };
}

type Op = (params: ParamMap, cfg: VolumeModelConfig, inp: (k: string) => tf.Tensor) => tf.Tensor;
const OPS: Record<string, Op> = {
  'op:patch_embedding': (params, cfg, inp) => vitEmbed(params, cfg, inp('x') as tf.Tensor5D),
  'op:block0': (params, cfg, inp) => vitBlock(params, cfg, 0, inp('t') as tf.Tensor3D),
  'op:instance_norm': (_params, _cfg, inp) => instanceNorm3d(inp('z') as tf.Tensor5D),
  'op:conv3x3x3': (params, _cfg, inp) => conv3d(inp('x') as tf.Tensor5D, params.get('encoder1.layer.conv1.conv.weight')!, null),
  'op:conv1x1x1': (params, _cfg, inp) => conv3d(inp('u2') as tf.Tensor5D, params.get('decoder2.conv_block.conv3.conv.weight')!, null),
  'op:transp_conv': (params, _cfg, inp) => convTranspose2x2x2(inp('z') as tf.Tensor5D, params.get('decoder2.transp_conv.conv.weight')!, null),
  'op:res_block': (params, _cfg, inp) => resBlock(params, 'encoder1.layer', inp('x') as tf.Tensor5D),
  'op:up_block': (params, _cfg, inp) => upBlock(params, 'decoder2', inp('z') as tf.Tensor5D, inp('u') as tf.Tensor5D),
};

for (const backend of ['wasm', 'cpu'] as const) {
  describe(`unetr3d vs PyTorch 1.13 (${backend} backend)`, () => {
    let s: Setup;
    beforeAll(async () => {
      s = await setup(CASES[backend].cfg, CASES[backend].B, backend);
      if (backend === 'wasm') await registerWasm();
      await tf.setBackend(backend);
    }, 120_000);
    afterAll(async () => {
      teardown(s);
      await tf.setBackend('cpu');
    });
    const inp = (k: string) => s.inputs.get(k) as tf.Tensor;

    it('every new op within 1e-4', () => {
      const lines: string[] = [];
      for (const [name, f] of Object.entries(OPS)) {
        const { maxAbsDiff, maxAbs } = tf.tidy(() => diff(s, name, f(s.params, s.cfg, inp)));
        lines.push(`${name}: max |diff| ${maxAbsDiff.toExponential(2)} (max |ref| ${maxAbs.toFixed(3)})`);
        expect(maxAbs, name).toBeGreaterThan(1e-2);
        expect(maxAbsDiff, name).toBeLessThanOrEqual(1e-4);
      }
      console.log(`[${backend}]\n${lines.join('\n')}`);
    });

    it('the whole forward, the Dice + CE loss and its gradients (input and parameters) match torch autograd; no forbidden kernel', () => {
      const xv = tf.variable(inp('x'), true, `unetr3d-parity-x-${backend}`);
      const vars = [xv, ...GRADS.map((n) => s.params.get(n)!)];
      const lines: string[] = [];
      try {
        assertNoForbiddenKernels(() => tf.tidy(() => {
          const l = diff(s, 'logits', unetr3dForward(s.params, s.cfg, xv));
          lines.push(`logits: max |diff| ${l.maxAbsDiff.toExponential(2)} (max |ref| ${l.maxAbs.toFixed(3)})`);
          expect(l.maxAbsDiff).toBeLessThanOrEqual(1e-4);
          const { value, grads } = tf.variableGrads(() => volumeLoss(unetr3dForward(s.params, s.cfg, xv), inp('labels')), vars);
          const lv = diff(s, 'loss', value.reshape([1]));
          lines.push(`loss: ${value.dataSync()[0].toFixed(6)}, |diff| ${lv.maxAbsDiff.toExponential(2)}`);
          expect(lv.maxAbsDiff).toBeLessThanOrEqual(1e-5);
          for (const [i, v] of vars.entries()) {
            const name = i === 0 ? 'x' : GRADS[i - 1];
            const g = diff(s, `grad:${name}`, grads[v.name]);
            lines.push(`grad ${name}: max |diff| ${g.maxAbsDiff.toExponential(2)} (max |ref| ${g.maxAbs.toExponential(2)})`);
            expect(g.maxAbs, name).toBeGreaterThan(1e-6);
            // Within 1e-4 of the largest entry (float32 sums over up to 2·32³ voxels).
            expect(g.maxAbsDiff, name).toBeLessThanOrEqual(1e-4 * Math.max(g.maxAbs, 1e-2));
          }
        }));
      } finally {
        xv.dispose();
      }
      console.log(`[${backend}]\n${lines.join('\n')}`);
    });
  });
}
