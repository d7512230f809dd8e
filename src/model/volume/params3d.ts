// The volume model's parameters under MONAI's UNETR state-dict names (monai.networks.nets.UNETR with
// proj_type / pos_embed = 'perceptron', res_block = True, conv_block = True, norm_name = 'instance', qkv_bias = False):
// the spec (name → shape, init), fresh variables from a seed, and variables from a state dict (strict).
//
//   vit.patch_embedding.patch_embeddings.1.{weight [hidden, P³·C], bias}   Linear over (p_d, p_h, p_w, c) patches
//   vit.patch_embedding.position_embeddings [1, tokens, hidden]
//   vit.blocks.{i}.norm1 / norm2.{weight, bias}, attn.qkv.weight [3·hidden, hidden] (no bias), attn.out_proj.{weight, bias},
//                   mlp.linear1.{weight [mlp, hidden], bias}, mlp.linear2.{weight [hidden, mlp], bias}
//   vit.norm.{weight, bias}
//   encoder1.layer.conv{1,2,3}.conv.weight           UnetResBlock(C → F) at crop resolution (conv3 1×1×1: C ≠ F)
//   encoder{2,3,4}.transp_conv_init.conv.weight      ConvTranspose3d(hidden → 2F / 4F / 8F, 2, stride 2), no bias
//   encoder2.blocks.{0,1}.0.conv.weight, encoder3.blocks.0.0.conv.weight   further ×2 up-samplings, then
//   encoder2.blocks.{j}.1.conv{1,2}.conv.weight, encoder3.blocks.0.1.…      a UnetResBlock each (same width: no conv3)
//   decoder{5,4,3,2}.transp_conv.conv.weight          ConvTranspose3d(in → out), then
//   decoder{k}.conv_block.conv{1,2,3}.conv.weight     UnetResBlock(2·out → out) on [up, skip]
//   out.conv.conv.{weight [K, F, 1, 1, 1], bias}
// Convolutions have no bias (MONAI's get_conv_layer default) except the output block; instance norms have no
// parameters (nn.InstanceNorm3d affine = False). Names as in MONAI 0.8 – 1.4: the 'perceptron' embedding is
// nn.Sequential(rearrange, Linear), hence '.1.'; the argument that selects it was renamed pos_embed → proj_type in 1.3,
// the parameter names did not change (models/CHECKPOINT_FORMAT.md).
import { initValues, newVariable, strictVariables } from '../params.ts';
import { makeRng } from '../../weights/inflate/index.ts';
import type { StateDict } from '../../weights/types.ts';
import type { ParamMap, ParamSpec } from '../types.ts';
import type { VolumeModelConfig } from './config.ts';
import { tokenGrid, validateVolumeConfig } from './presets.ts';

/** MONAI initialises every Linear and the position embedding with a normal of std 0.02 (truncated at ±2: never reached). */
const VIT_STD = 0.02;

function conv(s: Map<string, ParamSpec>, name: string, out: number, inDim: number, k: number): void {
  s.set(`${name}.conv.weight`, { shape: [out, inDim, k, k, k], init: { kind: 'he', fanIn: inDim * k * k * k } });
}

/** ConvTranspose3d(in, out, 2, stride 2): weight [in, out, 2, 2, 2]. NOTE: He over fanIn = in — kernel = stride, every output voxel sees `in` inputs. */
function convT(s: Map<string, ParamSpec>, name: string, inDim: number, out: number): void {
  s.set(`${name}.conv.weight`, { shape: [inDim, out, 2, 2, 2], init: { kind: 'he', fanIn: inDim } });
}

function resBlock(s: Map<string, ParamSpec>, p: string, inDim: number, out: number): void {
  conv(s, `${p}.conv1`, out, inDim, 3);
  conv(s, `${p}.conv2`, out, out, 3);
  if (inDim !== out) conv(s, `${p}.conv3`, out, inDim, 1);
}

function linear(s: Map<string, ParamSpec>, name: string, out: number, inDim: number, bias = true): void {
  s.set(`${name}.weight`, { shape: [out, inDim], init: { kind: 'normal', std: VIT_STD } });
  if (bias) s.set(`${name}.bias`, { shape: [out], init: { kind: 'zeros' } });
}

/** Every parameter of the model (MONAI names, PyTorch layouts) and its initialisation. */
export function unetr3dParamSpecs(cfg: VolumeModelConfig): Map<string, ParamSpec> {
  validateVolumeConfig(cfg);
  const s = new Map<string, ParamSpec>();
  const h = cfg.hiddenSize;
  const F = cfg.featureSize;
  const [g0, g1, g2] = tokenGrid(cfg);
  linear(s, 'vit.patch_embedding.patch_embeddings.1', h, cfg.patch ** 3 * cfg.inChans);
  s.set('vit.patch_embedding.position_embeddings', { shape: [1, g0 * g1 * g2, h], init: { kind: 'normal', std: VIT_STD } });
  const ln = (name: string): void => {
    s.set(`${name}.weight`, { shape: [h], init: { kind: 'ones' } });
    s.set(`${name}.bias`, { shape: [h], init: { kind: 'zeros' } });
  };
  for (let i = 0; i < cfg.depth; i++) {
    const p = `vit.blocks.${i}`;
    linear(s, `${p}.mlp.linear1`, cfg.mlpDim, h);
    linear(s, `${p}.mlp.linear2`, h, cfg.mlpDim);
    ln(`${p}.norm1`);
    linear(s, `${p}.attn.out_proj`, h, h);
    linear(s, `${p}.attn.qkv`, 3 * h, h, false);
    ln(`${p}.norm2`);
  }
  ln('vit.norm');
  resBlock(s, 'encoder1.layer', cfg.inChans, F);
  const prUp = (name: string, out: number, layers: number): void => {
    convT(s, `${name}.transp_conv_init`, h, out);
    for (let j = 0; j < layers; j++) {
      convT(s, `${name}.blocks.${j}.0`, out, out);
      resBlock(s, `${name}.blocks.${j}.1`, out, out);
    }
  };
  prUp('encoder2', 2 * F, 2);
  prUp('encoder3', 4 * F, 1);
  prUp('encoder4', 8 * F, 0);
  const up = (name: string, inDim: number, out: number): void => {
    convT(s, `${name}.transp_conv`, inDim, out);
    resBlock(s, `${name}.conv_block`, 2 * out, out);
  };
  up('decoder5', h, 8 * F);
  up('decoder4', 8 * F, 4 * F);
  up('decoder3', 4 * F, 2 * F);
  up('decoder2', 2 * F, F);
  s.set('out.conv.conv.weight', { shape: [cfg.numClasses, F, 1, 1, 1], init: { kind: 'he', fanIn: F } });
  s.set('out.conv.conv.bias', { shape: [cfg.numClasses], init: { kind: 'zeros' } });
  return s;
}

/** Parameter count of a config (from the spec). */
export const unetr3dParamCount = (cfg: VolumeModelConfig): number =>
  [...unetr3dParamSpecs(cfg).values()].reduce((n, sp) => n + sp.shape.reduce((a, b) => a * b, 1), 0);

/** Fresh variables for the config from seed (spec order; He normal convs, std 0.02 linears, unit LayerNorms). */
export function createUnetr3dParams(cfg: VolumeModelConfig, seed = 0): ParamMap {
  const rng = makeRng(seed);
  const params: ParamMap = new Map();
  for (const [key, spec] of unetr3dParamSpecs(cfg)) params.set(key, newVariable(initValues(spec, rng), spec.shape));
  return params;
}

/** Variables from a state dict under MONAI's names; strict: a missing or unknown key or a wrong shape is an error naming it. */
export function loadUnetr3dParams(cfg: VolumeModelConfig, state: StateDict): ParamMap {
  const shapes = new Map([...unetr3dParamSpecs(cfg)].map(([k, spec]) => [k, spec.shape]));
  return strictVariables('unetr3d: state does not match the config', 'unetr3d', shapes, state, [...state.keys()]);
}
