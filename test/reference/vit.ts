// A small, obviously-correct reference forward of a ViT / DeiT / DINO / BEiT encoder over a canonical (timm-named)
// state dict, for tests only (not the app): explicit loops, float64 arithmetic, no shortcuts.
//
// The forward, exactly (one image or window, no batch):
//  1. Patch embedding: a convolution with kernel = stride = (T, P, P) (Conv3d, weight [D, C, T, P, P]) on an input
//     [C, T, H, W], or (P, P) (Conv2d, weight [D, C, P, P]) on [C, H, W]; the input depth must equal the kernel
//     depth, so there is one token per in-plane patch, ordered row-major over the (H/P)×(W/P) grid, plus the bias.
//  2. Tokens: [cls_token?, dist_token?, patches…]; then + pos_embed when present (shapes must match, no resize).
//  3. Each block i (pre-norm):  x += γ1 ⊙ proj(attn(LN1(x)));  x += γ2 ⊙ fc2(GELU(fc1(LN2(x))))
//     - LN: biased variance, eps = spec.normEps, then · weight + bias.
//     - qkv = LN1(x)·Wqkvᵀ + b, where b = attn.qkv.bias, or (BEiT) concat(q_bias, 0, v_bias), or 0. The 3D outputs
//       are [q | k | v], each split into `heads` contiguous chunks of D/heads.
//     - per head: softmax_j(q_i·k_j · (D/heads)^−½ + B[i, j]) · v, with B from the layer's
//       attn.relative_position_bias_table (or the shared rel_pos_bias.relative_position_bias_table) gathered by
//       BEiT's relative position index over the patch grid (class token first); B = 0 without a table.
//     - heads concatenated, then attn.proj.
//     - GELU is the exact one: x·Φ(x) = x·(1 + erf(x/√2))/2.
//     - γ1, γ2 = ls1.gamma / ls2.gamma (ViT layer scale) or gamma_1 / gamma_2 (BEiT) when present, else 1.
//  4. Final `norm` when the state has norm.weight (BEiT with mean pooling has none; fc_norm belongs to the pooled
//     head and is NOT applied). Returns all tokens after that: Float32Array [tokens, D], row-major.
import type { HostTensor } from '../../src/core/types.ts';
import type { EncoderSpec, StateDict } from '../../src/weights/types.ts';
import { relativePositionIndex } from '../../src/weights/inflate/posembed.ts';

/** erf to ~1e-15: Maclaurin series for |x| < 2.5, a continued fraction for erfc beyond, ±1 past 6. */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax >= 6) return Math.sign(x);
  if (ax < 2.5) {
    let term = x;
    let sum = x;
    for (let n = 1; n < 100; n++) {
      term *= (-x * x) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc(x) = e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))), evaluated from the tail.
  let k = ax;
  for (let n = 60; n >= 1; n--) k = ax + n / 2 / k;
  const erfc = Math.exp(-ax * ax) / (Math.sqrt(Math.PI) * k);
  return Math.sign(x) * (1 - erfc);
}

export const gelu = (x: number): number => 0.5 * x * (1 + erf(x / Math.SQRT2));

function get(state: StateDict, key: string): HostTensor {
  const t = state.get(key);
  if (!t) throw new Error(`reference vit: missing '${key}'`);
  return t;
}

/** y[n, o] = b[o] + Σ_i W[o, i]·x[n, i] for x [n, inDim], W [outDim, inDim]. */
function linear(x: Float64Array, n: number, w: HostTensor, bias: ArrayLike<number> | null): Float64Array {
  const [outDim, inDim] = w.shape;
  if (x.length !== n * inDim) throw new Error(`reference vit: linear expects ${inDim} inputs, found ${x.length / n}`);
  const y = new Float64Array(n * outDim);
  for (let r = 0; r < n; r++) {
    for (let o = 0; o < outDim; o++) {
      let s = bias ? bias[o] : 0;
      for (let i = 0; i < inDim; i++) s += w.data[o * inDim + i] * x[r * inDim + i];
      y[r * outDim + o] = s;
    }
  }
  return y;
}

function layerNorm(x: Float64Array, n: number, d: number, w: HostTensor, b: HostTensor, eps: number): Float64Array {
  const y = new Float64Array(n * d);
  for (let r = 0; r < n; r++) {
    let mean = 0;
    for (let i = 0; i < d; i++) mean += x[r * d + i];
    mean /= d;
    let v = 0;
    for (let i = 0; i < d; i++) v += (x[r * d + i] - mean) ** 2;
    const inv = 1 / Math.sqrt(v / d + eps);
    for (let i = 0; i < d; i++) y[r * d + i] = (x[r * d + i] - mean) * inv * w.data[i] + b.data[i];
  }
  return y;
}

/** Patch embedding as an explicit convolution; returns [gh·gw, D] and the grid. */
function patchEmbed(
  state: StateDict,
  input: Float32Array,
  inputShape: [number, number, number, number] | [number, number, number],
): { tokens: Float64Array; gh: number; gw: number } {
  const w = get(state, 'patch_embed.proj.weight');
  const bias = state.get('patch_embed.proj.bias')?.data ?? null;
  const [C, T, H, W] = inputShape.length === 4 ? inputShape : [inputShape[0], 1, inputShape[1], inputShape[2]];
  const kernel = w.shape.length === 5 ? w.shape : [w.shape[0], w.shape[1], 1, w.shape[2], w.shape[3]];
  if (inputShape.length === 3 && w.shape.length !== 4) throw new Error('reference vit: a [C, H, W] input needs a 2D kernel [D, C, P, P]');
  const [D, kc, kt, P] = kernel;
  if (kc !== C || kt !== T) throw new Error(`reference vit: input [${inputShape.join(', ')}] does not fit kernel [${w.shape.join(', ')}] (C and depth must match)`);
  if (input.length !== C * T * H * W) throw new Error(`reference vit: input has ${input.length} values, shape needs ${C * T * H * W}`);
  if (H % P || W % P) throw new Error(`reference vit: H, W (${H}, ${W}) must be multiples of P = ${P}`);
  const gh = H / P;
  const gw = W / P;
  const tokens = new Float64Array(gh * gw * D);
  for (let gy = 0; gy < gh; gy++) {
    for (let gx = 0; gx < gw; gx++) {
      for (let o = 0; o < D; o++) {
        let s = bias ? bias[o] : 0;
        for (let c = 0; c < C; c++) {
          for (let t = 0; t < T; t++) {
            for (let i = 0; i < P; i++) {
              for (let j = 0; j < P; j++) {
                const wv = w.data[(((o * C + c) * T + t) * P + i) * P + j];
                const xv = input[((c * T + t) * H + gy * P + i) * W + gx * P + j];
                s += wv * xv;
              }
            }
          }
        }
        tokens[(gy * gw + gx) * D + o] = s;
      }
    }
  }
  return { tokens, gh, gw };
}

function attention(state: StateDict, p: string, h: Float64Array, n: number, d: number, heads: number, relBias: Float64Array | null): Float64Array {
  let qkvBias: ArrayLike<number> | null = state.get(`${p}attn.qkv.bias`)?.data ?? null;
  const qb = state.get(`${p}attn.q_bias`);
  const vb = state.get(`${p}attn.v_bias`);
  if (!qkvBias && qb && vb) {
    const b = new Float64Array(3 * d);
    b.set(qb.data, 0); // k has no bias
    b.set(vb.data, 2 * d);
    qkvBias = b;
  }
  const qkv = linear(h, n, get(state, `${p}attn.qkv.weight`), qkvBias);
  const hd = d / heads;
  const scale = 1 / Math.sqrt(hd);
  const o = new Float64Array(n * d);
  const logits = new Float64Array(n);
  for (let hh = 0; hh < heads; hh++) {
    for (let i = 0; i < n; i++) {
      let max = -Infinity;
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let c = 0; c < hd; c++) s += qkv[i * 3 * d + hh * hd + c] * qkv[j * 3 * d + d + hh * hd + c];
        s = s * scale + (relBias ? relBias[(hh * n + i) * n + j] : 0);
        logits[j] = s;
        if (s > max) max = s;
      }
      let z = 0;
      for (let j = 0; j < n; j++) z += (logits[j] = Math.exp(logits[j] - max));
      for (let c = 0; c < hd; c++) {
        let s = 0;
        for (let j = 0; j < n; j++) s += logits[j] * qkv[j * 3 * d + 2 * d + hh * hd + c];
        o[i * d + hh * hd + c] = s / z;
      }
    }
  }
  return linear(o, n, get(state, `${p}attn.proj.weight`), state.get(`${p}attn.proj.bias`)?.data ?? null);
}

/** B[h, i, j] from a table [(2gh−1)(2gw−1)+3, heads] and BEiT's index (class token first). */
function relativeBias(table: HostTensor, gh: number, gw: number, n: number, heads: number): Float64Array {
  const index = relativePositionIndex(gh, gw);
  if (n !== gh * gw + 1) throw new Error(`reference vit: relative position bias needs exactly one class token (${n} tokens, grid ${gh}×${gw})`);
  const rows = (2 * gh - 1) * (2 * gw - 1) + 3;
  if (table.shape[0] !== rows || table.shape[1] !== heads) {
    throw new Error(`reference vit: relative_position_bias_table [${table.shape.join(', ')}] does not fit grid ${gh}×${gw} (needs [${rows}, ${heads}])`);
  }
  const b = new Float64Array(heads * n * n);
  for (let hh = 0; hh < heads; hh++) for (let k = 0; k < n * n; k++) b[hh * n * n + k] = table.data[index[k] * heads + hh];
  return b;
}

function residual(x: Float64Array, y: Float64Array, gamma: HostTensor | undefined, d: number): void {
  for (let k = 0; k < x.length; k++) x[k] += (gamma ? gamma.data[k % d] : 1) * y[k];
}

/** Encoder tokens [tokens, D] (see the definition at the top of this file). */
export function vitTokens(
  state: StateDict,
  spec: EncoderSpec & { T?: number },
  input: Float32Array,
  inputShape: [number, number, number, number] | [number, number, number],
): Float32Array {
  const d = spec.embedDim;
  const { tokens: patches, gh, gw } = patchEmbed(state, input, inputShape);
  const prefixKeys = ['cls_token', 'dist_token'].filter((k) => state.has(k));
  const n = prefixKeys.length + gh * gw;
  let x: Float64Array = new Float64Array(n * d);
  prefixKeys.forEach((k, i) => x.set(get(state, k).data, i * d));
  x.set(patches, prefixKeys.length * d);
  const pe = state.get('pos_embed');
  if (pe) {
    if (pe.data.length !== n * d) throw new Error(`reference vit: pos_embed [${pe.shape.join(', ')}] does not fit ${n} tokens of ${d}`);
    for (let k = 0; k < x.length; k++) x[k] += pe.data[k];
  }
  const shared = state.get('rel_pos_bias.relative_position_bias_table');
  for (let i = 0; i < spec.depth; i++) {
    const p = `blocks.${i}.`;
    const table = state.get(`${p}attn.relative_position_bias_table`) ?? shared;
    const relBias = table ? relativeBias(table, gh, gw, n, spec.numHeads) : null;
    const h1 = layerNorm(x, n, d, get(state, `${p}norm1.weight`), get(state, `${p}norm1.bias`), spec.normEps);
    residual(x, attention(state, p, h1, n, d, spec.numHeads, relBias), state.get(`${p}ls1.gamma`) ?? state.get(`${p}gamma_1`), d);
    const h2 = layerNorm(x, n, d, get(state, `${p}norm2.weight`), get(state, `${p}norm2.bias`), spec.normEps);
    const f1 = linear(h2, n, get(state, `${p}mlp.fc1.weight`), state.get(`${p}mlp.fc1.bias`)?.data ?? null);
    for (let k = 0; k < f1.length; k++) f1[k] = gelu(f1[k]);
    const f2 = linear(f1, n, get(state, `${p}mlp.fc2.weight`), state.get(`${p}mlp.fc2.bias`)?.data ?? null);
    residual(x, f2, state.get(`${p}ls2.gamma`) ?? state.get(`${p}gamma_2`), d);
  }
  if (state.has('norm.weight')) x = layerNorm(x, n, d, get(state, 'norm.weight'), get(state, 'norm.bias'), spec.normEps);
  return Float32Array.from(x);
}
