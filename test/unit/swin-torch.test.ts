// Swin and Video Swin (src/model/swin) against an independent PyTorch reference (test/reference/swin_torch.py,
// written from the papers, torch 1.13): raw stage outputs, the tapped maps and the full logits with both heads
// within 1e-4 (max abs), at sizes that pad the grid to the window, clip the window to the grid and shift, batch 2;
// Video Swin at T = 5 (padded to 6: 3 temporal tokens). Gradients of L = Σ logits ⊙ R for a few parameters against
// torch autograd. Debian's python3-torch is required (the test fails, never skips, without it).
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createParams, disposeParams, forward, swinFeatureMaps, swinStages, toStateDict, type ModelConfig } from '../../src/model/index.ts';
import { writeSafetensors } from '../../src/weights/formats/safetensors-write.ts';
import { requireTorch, run, PYTHON, ROOT } from '../support/torchTwin.ts';
import { swinConfig, swinInput, swinState, type SwinCase } from '../support/swin.ts';

let tmp: string;
beforeAll(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), 'inflateseg-swin-'));
  await tf.setBackend('cpu');
});
afterAll(() => { rmSync(tmp, { recursive: true, force: true }); });

const B = 2;
const CASES: Array<{ name: string; c: SwinCase; grads?: string[] }> = [
  {
    name: 'Swin, window 3 at 64 px (grids 16, 8, 4 padded to 18, 9, 6 and shifted; 2 clipped), T 3, uper',
    c: { family: 'swin', window: [3, 3], imgSize: 64, T: 3, decoder: 'uper' },
    grads: ['patch_embed.proj.weight', 'layers.0.blocks.1.attn.relative_position_bias_table', 'layers.1.blocks.1.attn.qkv.weight', 'layers.2.downsample.reduction.weight', 'stage_norms.3.weight', 'decode_head.psp_modules.1.1.conv.weight'],
  },
  { name: 'Swin, window 4 at 32 px (grid 8 shifted; 4, 2, 1 clipped), T 1, unetr', c: { family: 'swin', window: [4, 4], imgSize: 32, T: 1 } },
  {
    name: 'Video Swin, window 2×3×3 at 64 px, T 5 (3 temporal tokens padded to 4 and shifted), unetr',
    c: { family: 'videoswin', window: [2, 3, 3], imgSize: 64, T: 5 },
    grads: ['patch_embed.proj.weight', 'layers.0.blocks.1.attn.relative_position_bias_table', 'layers.3.blocks.0.mlp.fc1.weight', 'decode_head.lateral.1.weight'],
  },
  { name: 'Video Swin, window 8×4×4 at 32 px, T 5 (window clipped to the 3 temporal tokens), uper', c: { family: 'videoswin', window: [8, 4, 4], imgSize: 32, T: 5, decoder: 'uper' } },
];

const R = (n: number): Float32Array => Float32Array.from({ length: n }, (_, i) => Math.cos(0.7 * i));
const readF32 = (f: string): Float32Array => {
  const b = readFileSync(f);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};
const maxAbs = (a: ArrayLike<number>): number => { let m = 0; for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i])); return m; };
function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

interface Ours { stages: Float32Array[]; maps: Float32Array[]; logits: Float32Array; grads: Map<string, Float32Array> }

function ours(config: ModelConfig, weights: Map<string, tf.Variable>, x: tf.Tensor, grads: string[]): Ours {
  const read = (ts: tf.Tensor[]): Float32Array[] => ts.map((t) => Float32Array.from(t.dataSync() as Float32Array));
  const stages = tf.tidy(() => read(swinStages(weights, config, x)));
  const maps = tf.tidy(() => read(swinFeatureMaps(weights, config, x)));
  const logits = tf.tidy(() => Float32Array.from(forward(weights, config, x).dataSync() as Float32Array));
  const g = new Map<string, Float32Array>();
  if (grads.length) {
    const vars = grads.map((n) => weights.get(n) as tf.Variable);
    tf.tidy(() => {
      const r = tf.tensor(R(logits.length), [B, config.imgSize, config.imgSize, config.numClasses]);
      const res = tf.variableGrads(() => forward(weights, config, x).mul(r).sum() as tf.Scalar, vars);
      grads.forEach((n, i) => g.set(n, Float32Array.from(res.grads[vars[i].name].dataSync() as Float32Array)));
    });
  }
  return { stages, maps, logits, grads: g };
}

describe('Swin / Video Swin vs the PyTorch reference', () => {
  it('stage outputs, tapped maps, logits (both heads) within 1e-4; gradients vs autograd', async () => {
    requireTorch();
    expect(tf.memory().numTensors).toBeGreaterThanOrEqual(0);
    const mine: Ours[] = [];
    const jobs = CASES.map(({ c, grads }, i) => {
      const config = swinConfig(c);
      const weights = createParams(config, swinState(config, 10 + i), 20 + i);
      const cls = weights.get('decode_head.conv_seg.weight') as tf.Variable;
      tf.tidy(() => cls.assign(cls.mul(30))); // logits of order 1, not 0.01
      const n = B * config.T * config.imgSize * config.imgSize * config.inChans;
      const xData = swinInput(n);
      const x = tf.tensor5d(xData, [B, config.T, config.imgSize, config.imgSize, config.inChans]);
      mine.push(ours(config, weights, x, grads ?? []));
      const dir = path.join(tmp, `case${i}`);
      writeFileSync(`${dir}.safetensors`, writeSafetensors(toStateDict(weights)));
      writeFileSync(`${dir}.x.f32`, xData);
      x.dispose();
      disposeParams(weights);
      const e = config.encoder;
      return {
        config: {
          family: e.family, embed: e.embedDim, depths: e.swin!.depths, heads: e.swin!.heads, window: e.swin!.window, patch: 4, patch_depth: e.swin!.patchDepth,
          mlp_ratio: 4, eps: e.normEps, T: config.T, in_chans: config.inChans, img: config.imgSize, batch: B, decoder: config.decoder, width: config.decoderWidth, classes: config.numClasses,
        },
        weights: `${dir}.safetensors`, input: `${dir}.x.f32`, out: dir, grads: grads ?? [],
      };
    });
    const spec = path.join(tmp, 'cases.json');
    writeFileSync(spec, JSON.stringify(jobs));
    const r = await run(PYTHON, [path.join(ROOT, 'test/reference/swin_torch.py'), spec]);
    expect(r.code, r.stderr).toBe(0);
    const lines: string[] = [];
    CASES.forEach(({ name, grads }, i) => {
      const dir = jobs[i].out;
      const m = mine[i];
      const d = {
        stages: Math.max(...m.stages.map((s, k) => maxDiff(s, readF32(path.join(dir, `stage${k}.f32`))))),
        maps: Math.max(...m.maps.map((s, k) => maxDiff(s, readF32(path.join(dir, `map${k}.f32`))))),
        logits: maxDiff(m.logits, readF32(path.join(dir, 'logits.f32'))),
      };
      expect(maxAbs(m.logits), `${name}: logits not trivially small`).toBeGreaterThan(0.1);
      lines.push(`${name}: max |tfjs − torch| stages ${d.stages.toExponential(2)}, maps ${d.maps.toExponential(2)}, logits ${d.logits.toExponential(2)} (max |logit| ${maxAbs(m.logits).toFixed(2)})`);
      for (const [k, v] of Object.entries(d)) expect(v, `${name}: ${k}`).toBeLessThanOrEqual(1e-4);
      for (const g of grads ?? []) {
        const ref = readF32(path.join(dir, `grad.${g}.f32`));
        const scale = maxAbs(ref);
        const rel = maxDiff(m.grads.get(g)!, ref) / scale;
        lines.push(`  grad ${g}: max |Δ| / max |g| = ${rel.toExponential(2)} (max |g| ${scale.toExponential(2)})`);
        expect(scale, `${name}: grad ${g} is not zero`).toBeGreaterThan(1e-6);
        expect(rel, `${name}: grad ${g}`).toBeLessThanOrEqual(1e-4);
      }
    });
    console.log(lines.join('\n'));
  }, 120_000);
});


