// Swin and Video Swin layouts (scripts/make-weight-fixtures.py writes one micro state per family under each release's
// own names): every layout maps to the SAME canonical state (keys, shapes and values), the spec read from the shapes,
// the report, and clear errors naming the file for unknown, missing and mis-shaped keys.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { HostTensor } from '../../core/types.ts';
import { readCheckpoint } from '../formats/index.ts';
import type { StateDict } from '../types.ts';
import { loadFixture, loadJson } from './fixtures.testutil.ts';
import { checkSwinStrict, expectedSwinKeys, toCanonical, windowFromRows } from './index.ts';

const DIR = new URL('../../../test/fixtures/weights/layouts/', import.meta.url);
const readNative = async (file: string): Promise<StateDict> => (await readCheckpoint(new Blob([readFileSync(new URL(file, DIR))]), file)).tensors;
const f32 = (shape: number[]): HostTensor => ({ dtype: 'float32', shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) });

/** Exact equality of two canonical states: the same keys, shapes and float32 values. */
function expectSameState(a: StateDict, b: StateDict): void {
  expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
  for (const [k, t] of a) {
    const u = b.get(k)!;
    expect(u.shape, k).toEqual(t.shape);
    expect(Float32Array.from(u.data as ArrayLike<number>), k).toEqual(Float32Array.from(t.data as ArrayLike<number>));
  }
}

const SWIN = { family: 'swin', embedDim: 4, depth: 6, numHeads: 1, mlpRatio: 2, patchSize: 4, inChans: 3, hasClsToken: false, hasDistToken: false, qkvBias: 'qkv', layerScale: false, absPosEmbed: false, relPosBias: 'per-layer', normEps: 1e-5, fcNorm: false };
const DEPTHS = [2, 2, 1, 1];
const HEADS = [1, 1, 2, 2];

describe('Swin (2D) layouts → one canonical state', () => {
  const reference = toCanonical(loadFixture('swin_timm'), 'timm/swin_micro/model.safetensors', loadJson('swin_timm.config.json'));

  it('timm ≥ 0.9 (the canonical names): spec from the shapes, head.fc dropped, nothing renamed', () => {
    expect(reference.spec).toEqual({ ...SWIN, layout: 'timm', grid: [8, 8], swin: { depths: DEPTHS, heads: HEADS, window: [2, 2], patchDepth: 1 } });
    expect(reference.report.renamed).toEqual([]);
    expect(reference.report.dropped.map((d) => d.key)).toEqual(['head.fc.weight', 'head.fc.bias']);
    expect([...reference.state.keys()]).toEqual([...expectedSwinKeys(reference.spec).keys()].filter((k) => reference.state.has(k)));
    expect(reference.state.size).toBe(expectedSwinKeys(reference.spec).size);
  });

  const cases: Array<[string, () => Promise<StateDict> | StateDict, string, object | undefined]> = [
    ['timm < 0.9 (merging at the end of the stage, buffers)', () => loadFixture('swin_timm_legacy'), 'swin-original', undefined],
    ['the Swin release, flattened {model: …}', () => loadFixture('swin_original'), 'swin-original', undefined],
    ['the Swin release .pth', () => readNative('swin_micro_patch4_window2_32.pth'), 'swin-original', undefined],
    ['Hugging Face SwinForImageClassification (.safetensors)', () => loadFixture('hf_swin'), 'hf-swin', loadJson('hf_swin.config.json')],
    ['Hugging Face (pytorch_model.bin)', () => readNative('hf_swin.pytorch_model.bin'), 'hf-swin', loadJson('hf_swin.config.json')],
  ];
  for (const [title, load, layout, config] of cases) {
    it(`${title} → ${layout}, the same keys and values as timm`, async () => {
      const c = toCanonical(await load(), `${layout}.fixture`, config);
      expect(c.spec).toEqual({ ...reference.spec, layout });
      expectSameState(reference.state, c.state);
    });
  }

  it('torchvision swin_t/s/b (.pth and .safetensors): features.0.{0,2} patch embedding, features.{2s+1} blocks, features.{2s+2} merging', async () => {
    for (const load of [() => readNative('torchvision_swin.pth'), () => loadFixture('torchvision_swin')]) {
      const c = toCanonical(await load(), 'swin_t.pth');
      expect(c.spec).toEqual({ ...reference.spec, layout: 'torchvision-swin', grid: [56, 56] }); // NOTE: no config, no masks → 224 px
      expectSameState(reference.state, c.state);
      expect(c.report.renamed).toContainEqual(['features.0.2.bias', 'patch_embed.norm.bias']);
      expect(c.report.renamed).toContainEqual(['features.3.1.mlp.0.weight', 'layers.1.blocks.1.mlp.fc1.weight']);
      expect(c.report.renamed).toContainEqual(['features.6.reduction.weight', 'layers.3.downsample.reduction.weight']);
    }
  });

  it('the grid of the original release comes from its attn_mask buffers (16 windows of 2×2 at stage 0 → 8×8 tokens, 32 px)', () => {
    expect(toCanonical(loadFixture('swin_timm_legacy'), 'legacy').spec.grid).toEqual([8, 8]);
    const noMask = new Map([...loadFixture('swin_timm_legacy')].filter(([k]) => !k.endsWith('attn_mask')));
    expect(toCanonical(noMask, 'legacy').spec.grid).toEqual([56, 56]); // NOTE: 224 px assumed without config or masks
  });

  it('index shifts and the q/k/v merge, read from the files (not from the maps)', () => {
    const legacy = loadFixture('swin_timm_legacy');
    const hf = loadFixture('hf_swin');
    const s = reference.state;
    expect(s.get('layers.1.downsample.reduction.weight')!.data).toEqual(legacy.get('layers.0.downsample.reduction.weight')!.data);
    expect(s.get('layers.3.downsample.norm.bias')!.data).toEqual(hf.get('swin.encoder.layers.2.downsample.norm.bias')!.data);
    const qkv = s.get('layers.2.blocks.0.attn.qkv.weight')!;
    const q = hf.get('swin.encoder.layers.2.blocks.0.attention.self.query.weight')!;
    const v = hf.get('swin.encoder.layers.2.blocks.0.attention.self.value.weight')!;
    expect(qkv.shape).toEqual([48, 16]);
    expect(qkv.data.slice(0, q.data.length)).toEqual(q.data);
    expect(qkv.data.slice(2 * q.data.length)).toEqual(v.data);
  });

  it('reports the buffers and heads it drops, with reasons, and the renames', () => {
    const c = toCanonical(loadFixture('hf_swin'), 'hf_swin', loadJson('hf_swin.config.json'));
    const reasons = new Map(c.report.dropped.map((d) => [d.key, d.reason]));
    expect(reasons.get('classifier.weight')).toMatch(/classifier head/);
    expect(reasons.get('swin.encoder.layers.0.blocks.1.attention.self.relative_position_index')).toMatch(/buffer/);
    expect(c.report.renamed).toContainEqual(['swin.encoder.layers.0.blocks.1.attention.self.key.bias', 'layers.0.blocks.1.attn.qkv.bias']);
    expect(c.report.renamed).toContainEqual(['swin.encoder.layers.1.downsample.reduction.weight', 'layers.2.downsample.reduction.weight']);
    const o = toCanonical(loadFixture('swin_original'), 'swin_micro_patch4_window2_32.pth');
    expect(o.report.dropped.find((d) => d.key === 'model.layers.0.blocks.1.attn_mask')?.reason).toMatch(/shifted-window mask/);
  });
});

describe('Video Swin layouts → one canonical state', () => {
  const VIDEO = { ...SWIN, family: 'videoswin', grid: [56, 56], swin: { depths: DEPTHS, heads: HEADS, window: [2, 2, 2], patchDepth: 2 } };
  const reference = toCanonical(loadFixture('videoswin_original'), 'swin_micro_patch244_window222_kinetics.pth');

  it('the Video Swin release (mmaction: state_dict, backbone., cls_head): spec with the 3D window and patch depth', () => {
    expect(reference.spec).toEqual({ ...VIDEO, layout: 'videoswin-original' });
    expect(reference.state.get('patch_embed.proj.weight')!.shape).toEqual([4, 3, 2, 4, 4]);
    expect(reference.state.get('layers.0.blocks.0.attn.relative_position_bias_table')!.shape).toEqual([27, 1]);
    expect(reference.report.dropped.map((d) => d.key)).toContain('state_dict.cls_head.fc_cls.weight');
  });

  const cases: Array<[string, () => Promise<StateDict> | StateDict, string]> = [
    ['the Video Swin release .pth (meta + state_dict)', () => readNative('swin_micro_patch244_window222_kinetics.pth'), 'videoswin-original'],
    ['torchvision Swin3D (.safetensors)', () => loadFixture('torchvision_swin3d'), 'torchvision-swin3d'],
    ['torchvision Swin3D (.pth)', () => readNative('torchvision_swin3d.pth'), 'torchvision-swin3d'],
  ];
  for (const [title, load, layout] of cases) {
    it(`${title} → ${layout}, the same keys and values`, async () => {
      const c = toCanonical(await load(), `${layout}.fixture`);
      expect(c.spec).toEqual({ ...VIDEO, layout });
      expectSameState(reference.state, c.state);
    });
  }

  it('torchvision names: features.{2s}.{b} blocks with mlp.0/mlp.3, features.{2s+1} the merging that starts stage s+1', () => {
    const c = toCanonical(loadFixture('torchvision_swin3d'), 'swin3d');
    expect(c.report.renamed).toContainEqual(['features.2.1.mlp.3.bias', 'layers.1.blocks.1.mlp.fc2.bias']);
    expect(c.report.renamed).toContainEqual(['features.5.reduction.weight', 'layers.3.downsample.reduction.weight']);
    expect(c.state.get('layers.3.downsample.reduction.weight')!.shape).toEqual([32, 64]);
  });

  it('the 3D window from the table rows: (2Wd−1)(2W−1)² with W > 1; ties need the index buffer or a config', () => {
    expect(windowFromRows(15 * 13 * 13, true)).toEqual([8, 7, 7]); // Video Swin-B: 2535 rows
    expect(windowFromRows(27, true)).toEqual([2, 2, 2]);
    expect(windowFromRows(169, false)).toEqual([7, 7]);
    expect(windowFromRows(729, true)).toMatch(/729 rows fits several windows \(41×2×2, 5×5×5, 1×14×14\); give window_size in a config/);
    expect(windowFromRows(729, true, 125)).toEqual([5, 5, 5]); // the index buffer's side (Wd·Wh·Ww tokens) settles it
    expect(windowFromRows(12, false)).toMatch(/not \(2W−1\)²/);
  });
});

describe('Swin errors name the file and the problem', () => {
  const timm = (): StateDict => new Map(loadFixture('swin_timm'));

  it('an unknown key', () => {
    const t = timm().set('layers.0.blocks.0.attn.extra', f32([4]));
    expect(() => toCanonical(t, 'my_swin.safetensors')).toThrow(/^my_swin\.safetensors: 1 unrecognised key\(s\) for the timm Swin layout: layers\.0\.blocks\.0\.attn\.extra/);
  });

  it('a missing key and a wrong shape', () => {
    const t = timm();
    t.delete('layers.1.downsample.norm.bias');
    t.set('layers.2.blocks.0.mlp.fc2.weight', f32([16, 31]));
    expect(() => toCanonical(t, 'swin.safetensors')).toThrow(/^swin\.safetensors: 2 problem\(s\) against the expected Swin keys: missing layers\.1\.downsample\.norm\.bias \(expected shape \[16\]\); layers\.2\.blocks\.0\.mlp\.fc2\.weight: expected shape \[16,32\] but the checkpoint has \[16,31\]/);
  });

  it('a missing key is named with its file name when it came through a rename', () => {
    const h = new Map(loadFixture('hf_swin'));
    h.set('swin.encoder.layers.0.blocks.0.layernorm_after.weight', f32([5]));
    expect(() => toCanonical(h, 'hf_swin.bin', loadJson('hf_swin.config.json'))).toThrow(/layers\.0\.blocks\.0\.norm2\.weight \(from swin\.encoder\.layers\.0\.blocks\.0\.layernorm_after\.weight\): expected shape \[4\]/);
    h.delete('swin.encoder.layers.0.blocks.0.attention.self.key.weight');
    expect(() => toCanonical(h, 'hf_swin.bin')).toThrow(/^hf_swin\.bin: layers\.0\.blocks\.0\.attn\.qkv\.weight is the concatenation of query, key and value, but key is missing/);
  });

  it('Swin V2, absolute position embeddings, a non-contiguous stage, a contradicting preset or config', () => {
    expect(() => toCanonical(timm().set('layers.0.blocks.0.attn.logit_scale', f32([1, 1, 1])), 'swinv2.safetensors')).toThrow(/^swinv2\.safetensors: layers\.0\.blocks\.0\.attn\.logit_scale: this is a Swin V2 checkpoint/);
    expect(() => toCanonical(timm().set('absolute_pos_embed', f32([1, 64, 4])), 'ape.pth')).toThrow(/^ape\.pth: absolute_pos_embed: an absolute position embedding/);
    const gap = new Map([...timm()].map(([k, v]) => [k.replace(/^layers\.3\.blocks\.0\./, 'layers.3.blocks.1.'), v]));
    expect(() => toCanonical(gap, 'gap.safetensors')).toThrow(/^gap\.safetensors: stage 3: block indices are not contiguous \(found 1\)/);
    expect(() => toCanonical(timm(), 'swin', undefined, { family: 'vit' })).toThrow(/the preset says vit, but the checkpoint is a Swin \(2D patch kernel\) model/);
    expect(() => toCanonical(loadFixture('torchvision_swin3d'), 'swin3d', undefined, { family: 'swin' })).toThrow(/the preset says swin, but the checkpoint is a Video Swin/);
    expect(() => toCanonical(loadFixture('hf_swin'), 'hf', { ...loadJson('hf_swin.config.json'), depths: [2, 2, 2, 2] })).toThrow(/^hf: config depths \[2,2,2,2\] but the weights say \[2, 2, 1, 1\]/);
  });

  it('checkSwinStrict accepts the model\'s stage_norms (checked) and refuses other extras', () => {
    const c = toCanonical(loadFixture('swin_timm'), 'swin', loadJson('swin_timm.config.json'));
    const s = new Map(c.state).set('stage_norms.2.weight', f32([16])).set('stage_norms.2.bias', f32([16]));
    expect(() => checkSwinStrict(s, c.spec, 'swin')).not.toThrow();
    s.set('stage_norms.3.weight', f32([16])); // stage 3 is 32 wide
    expect(() => checkSwinStrict(s, c.spec, 'swin')).toThrow(/stage_norms\.3\.weight: expected shape \[32\].*missing stage_norms\.3\.bias|missing stage_norms\.3\.bias.*stage_norms\.3\.weight: expected shape \[32\]/);
  });
});
