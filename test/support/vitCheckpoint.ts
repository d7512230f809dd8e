// A full-size ViT state dict in timm layout with deterministic pseudo-random values (benchmarks, large-file tests).
import type { HostTensor } from '../../src/core/types.ts';

/** ViT with width D, `depth` blocks, patch 16, 224 px (14×14 grid + cls), MLP ratio 4, a 1000-class head. */
export function vitState(D: number, depth: number): Array<[string, HostTensor]> {
  const out: Array<[string, HostTensor]> = [];
  let seed = 1;
  const t = (...shape: number[]): HostTensor => {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) { seed = (seed * 1664525 + 1013904223) >>> 0; data[i] = (seed / 2 ** 32 - 0.5) * 0.04; }
    return { dtype: 'float32', shape, data };
  };
  out.push(['cls_token', t(1, 1, D)], ['pos_embed', t(1, 197, D)], ['patch_embed.proj.weight', t(D, 3, 16, 16)], ['patch_embed.proj.bias', t(D)]);
  for (let i = 0; i < depth; i++) {
    const p = `blocks.${i}.`;
    out.push([`${p}norm1.weight`, t(D)], [`${p}norm1.bias`, t(D)], [`${p}attn.qkv.weight`, t(3 * D, D)], [`${p}attn.qkv.bias`, t(3 * D)],
      [`${p}attn.proj.weight`, t(D, D)], [`${p}attn.proj.bias`, t(D)], [`${p}norm2.weight`, t(D)], [`${p}norm2.bias`, t(D)],
      [`${p}mlp.fc1.weight`, t(4 * D, D)], [`${p}mlp.fc1.bias`, t(4 * D)], [`${p}mlp.fc2.weight`, t(D, 4 * D)], [`${p}mlp.fc2.bias`, t(D)]);
  }
  out.push(['norm.weight', t(D)], ['norm.bias', t(D)], ['head.weight', t(1000, D)], ['head.bias', t(1000)]);
  return out;
}
