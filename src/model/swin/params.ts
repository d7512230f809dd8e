// The (Video) Swin encoder's parameters for a config: every canonical key and its shape (src/weights/types.ts), and
// the segmentation taps' norms the model adds to a classification checkpoint.
import type { HostTensor } from '../../core/types.ts';
import type { StateDict } from '../../weights/types.ts';
import type { ModelConfig } from '../config.ts';
import { fullWindow, kernelDepth } from './geometry.ts';
import { swinSpec } from './encoder.ts';

/**
 * Every encoder key and its shape: patch kernel [C, C_in, kd, 4, 4] (kd = T for Swin, 2 for Video Swin), patch
 * norm, per stage s the merging (s ≥ 1) and the blocks (bias table [(2Wd−1)(2Wh−1)(2Ww−1), heads_s], Wd = 1 for
 * Swin), the classifier's final `norm` (kept for export; the forward does not read it) and stage_norms.0…3.
 */
export function swinEncoderShapes(config: ModelConfig): Map<string, number[]> {
  const e = config.encoder;
  const spec = swinSpec(config);
  const [Wd, Wh, Ww] = fullWindow(spec.window);
  const rows = (2 * Wd - 1) * (2 * Wh - 1) * (2 * Ww - 1);
  const C0 = e.embedDim;
  const P = e.patchSize;
  const s = new Map<string, number[]>();
  s.set('patch_embed.proj.weight', [C0, config.inChans, kernelDepth(spec.patchDepth, config.T), P, P]);
  s.set('patch_embed.proj.bias', [C0]);
  s.set('patch_embed.norm.weight', [C0]);
  s.set('patch_embed.norm.bias', [C0]);
  spec.depths.forEach((depth, st) => {
    const C = C0 * 2 ** st;
    const H = Math.round(e.mlpRatio * C);
    if (st > 0) {
      s.set(`layers.${st}.downsample.norm.weight`, [2 * C]);
      s.set(`layers.${st}.downsample.norm.bias`, [2 * C]);
      s.set(`layers.${st}.downsample.reduction.weight`, [C, 2 * C]);
    }
    for (let b = 0; b < depth; b++) {
      const p = `layers.${st}.blocks.${b}.`;
      for (const n of ['norm1', 'norm2']) for (const leaf of ['weight', 'bias']) s.set(`${p}${n}.${leaf}`, [C]);
      s.set(`${p}attn.qkv.weight`, [3 * C, C]);
      s.set(`${p}attn.qkv.bias`, [3 * C]);
      s.set(`${p}attn.relative_position_bias_table`, [rows, spec.heads[st]]);
      s.set(`${p}attn.proj.weight`, [C, C]);
      s.set(`${p}attn.proj.bias`, [C]);
      s.set(`${p}mlp.fc1.weight`, [H, C]);
      s.set(`${p}mlp.fc1.bias`, [H]);
      s.set(`${p}mlp.fc2.weight`, [C, H]);
      s.set(`${p}mlp.fc2.bias`, [C]);
    }
  });
  const last = C0 * 2 ** (spec.depths.length - 1);
  s.set('norm.weight', [last]);
  s.set('norm.bias', [last]);
  spec.depths.forEach((_, st) => {
    s.set(`stage_norms.${st}.weight`, [C0 * 2 ** st]);
    s.set(`stage_norms.${st}.bias`, [C0 * 2 ** st]);
  });
  return s;
}

/** Keys of a Swin state the forward never reads (the classifier's final norm): created non-trainable. */
export const SWIN_UNUSED_BY_FORWARD = new Set(['norm.weight', 'norm.bias']);

const filled = (n: number, v: number): HostTensor => ({ dtype: 'float32', shape: [n], data: new Float32Array(n).fill(v) });

/**
 * The state with the segmentation taps' norms added where it has none (a classification checkpoint):
 * stage_norms.3 a copy of `norm` when the state has it, every other one weight 1, bias 0. A state that has them
 * (a saved model) is returned unchanged; the input is never modified.
 */
export function withStageNorms(config: ModelConfig, state: StateDict): StateDict {
  const depths = swinSpec(config).depths;
  if (depths.every((_, s) => state.has(`stage_norms.${s}.weight`) && state.has(`stage_norms.${s}.bias`))) return state;
  const out: StateDict = new Map(state);
  depths.forEach((_, s) => {
    if (out.has(`stage_norms.${s}.weight`) || out.has(`stage_norms.${s}.bias`)) return;
    const C = config.encoder.embedDim * 2 ** s;
    const nw = state.get('norm.weight');
    const nb = state.get('norm.bias');
    const fromNorm = s === depths.length - 1 && nw && nb && nw.shape[0] === C;
    out.set(`stage_norms.${s}.weight`, fromNorm ? { dtype: 'float32', shape: [C], data: Float32Array.from(nw.data) } : filled(C, 1));
    out.set(`stage_norms.${s}.bias`, fromNorm ? { dtype: 'float32', shape: [C], data: Float32Array.from(nb.data) } : filled(C, 0));
  });
  return out;
}
