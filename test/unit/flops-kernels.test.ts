// The counted FLOPs of src/weights/flops.ts against the product kernels tfjs really runs (cpu backend, tf.profile):
// an independent counter from the kernels' shapes, the model built as the benchmark builds it (src/cli/benchCore.ts).
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { benchConfig, generatedEncoder, type StepShape } from '../../src/cli/benchShapes.ts';
import { createParams, forward, type ModelConfig } from '../../src/model/index.ts';
import { makeAdamW } from '../../src/train/optim/adamw.ts';
import { makeTrainStep } from '../../src/train/step.ts';
import { trainStepFlops } from '../../src/weights/flops.ts';
import { DEFAULT_TRAIN_CONFIG } from '../../src/workers/train.protocol.ts';

/** What tf.profile says of one kernel run that the counter reads. */
interface Kernel { name: string; inputShapes: number[][]; outputShapes: number[][] }
const prod = (xs: readonly number[]): number => xs.reduce((a, b) => a * b, 1);

/** A product of [M, K] by [K, N], `batch` times: 2·batch·M·K·N FLOPs. */
interface Product { m: number; k: number; n: number; batch: number }
const productFlops = (p: Product): number => 2 * p.batch * p.m * p.k * p.n;

/**
 * The product a kernel ran, from its input and output shapes alone (transpose flags are not in the profile):
 * MatMul / BatchMatMul / _FusedMatMul: a is [..., M, K] or [..., K, M] and the output [..., M, N], so the contracted
 * side is the side of a that is not M (a square a has K = M either way). Convolutions (NHWC / NDHWC, the tfjs default)
 * count every output value times the kernel window (borders included, as counters do): the filter's volume for a
 * full conv, its spatial size for a depthwise one; a backprop kernel does the MACs of its forward conv, taken from
 * dy and the filter (input gradient) or from dy and the input's channels (filter gradient).
 * Returns null for kernels that multiply nothing; throws on a product kernel it does not know.
 */
function kernelProduct(kr: Kernel): Product | null {
  const [a, b] = kr.inputShapes;
  const out = kr.outputShapes[0];
  switch (kr.name) {
    case 'MatMul': case 'BatchMatMul': case '_FusedMatMul': {
      const M = out[out.length - 2], N = out[out.length - 1];
      const [a1, a2] = a.slice(-2);
      if (a1 !== M && a2 !== M) throw new Error(`${kr.name}: a [${a}] has no side of the output's M (out [${out}])`);
      return { m: M, k: a1 === M ? a2 : a1, n: N, batch: prod(out.slice(0, -2)) };
    }
    case 'Conv2D': case 'FusedConv2D': case 'Conv3D': // x, filter [...k, Cin, Cout] → out [B, ...spatial, Cout]
      return { m: prod(out.slice(0, -1)), k: prod(b.slice(0, -1)), n: out[out.length - 1], batch: 1 };
    case 'DepthwiseConv2dNative': case 'FusedDepthwiseConv2D': // filter [kh, kw, Cin, mult]: one window per output value
      return { m: prod(out), k: b[0] * b[1], n: 1, batch: 1 };
    case 'Conv2DBackpropInput': case 'Conv3DBackpropInputV2': // dy, filter → dx: the forward conv's MACs
      return { m: prod(a.slice(0, -1)), k: prod(b.slice(0, -1)), n: b[b.length - 1], batch: 1 };
    case 'Conv2DBackpropFilter': case 'Conv3DBackpropFilterV2': // x, dy → filter [...k, Cin, Cout]
      return { m: prod(b.slice(0, -1)), k: prod(out.slice(0, -1)), n: out[out.length - 1], batch: 1 };
    case 'DepthwiseConv2dNativeBackpropInput': // dy, filter
      return { m: prod(a), k: b[0] * b[1], n: 1, batch: 1 };
    case 'DepthwiseConv2dNativeBackpropFilter': // x, dy → filter [kh, kw, Cin, mult]
      return { m: prod(b), k: out[0] * out[1], n: 1, batch: 1 };
  }
  if (/MatMul|Conv|Einsum|Dot/i.test(kr.name)) throw new Error(`flops-kernels: no FLOP rule for product kernel ${kr.name}`);
  return null;
}

/** The products among the kernels, with their names. */
const productsOf = (kernels: readonly Kernel[]): Array<Product & { name: string }> =>
  kernels.flatMap((k) => { const p = kernelProduct(k); return p ? [{ ...p, name: k.name }] : []; });
const sumFlops = (ps: readonly Product[]): number => ps.reduce((s, p) => s + productFlops(p), 0);

/** Calls and FLOPs per kernel name and role (learned work, fixed interpolation matrices), largest first, printable. */
function kernelTable(title: string, kernels: readonly Kernel[], interp: readonly Product[]): string {
  const { left, taken } = takeOut(productsOf(kernels), interp);
  const rows = new Map<string, { calls: number; flops: number }>();
  const add = (key: string, p: Product): void => {
    const r = rows.get(key) ?? { calls: 0, flops: 0 };
    r.calls++;
    r.flops += productFlops(p);
    rows.set(key, r);
  };
  for (const p of left) add(`${p.name} (learned)`, p);
  for (const p of taken) add(`${p.name} (interpolation)`, p);
  const total = [...rows.values()].reduce((s, r) => s + r.flops, 0);
  const calls = [...rows.values()].reduce((s, r) => s + r.calls, 0);
  const lines = [...rows].sort((x, y) => y[1].flops - x[1].flops)
    .map(([name, r]) => `  ${name.padEnd(30)} ${String(r.calls).padStart(6)} ${(r.flops / 1e6).toFixed(3).padStart(12)} MFLOP ${((100 * r.flops) / total).toFixed(1).padStart(6)} %`);
  return [title, `  ${'kernel (role)'.padEnd(30)} ${'calls'.padStart(6)} ${'FLOPs'.padStart(18)}`, ...lines,
    `  ${'all products'.padEnd(30)} ${String(calls).padStart(6)} ${(total / 1e6).toFixed(3).padStart(12)} MFLOP`,
    `  (${kernels.length - calls} other kernels: no products)`].join('\n');
}

/**
 * The fixed-matrix products the model runs for its bilinear resizes and adaptive pools (src/model/ops.ts `separable`,
 * read off decoder.ts, uper.ts and head.ts), derived by hand: a map [B, h, w, c] resized to [B, H, W, c] is
 * M_h [H, h] · [h, B·w·c], then M_w [W, w] · [w, B·H·c]; a resize to the same size runs nothing, a pool always runs.
 */
function interpolationProducts(config: ModelConfig, B: number): Product[] {
  if (config.encoder.swin) return swinInterpolationProducts(config, B);
  const g = config.imgSize / config.encoder.patchSize;
  const t = g >= 2 ? Math.floor(g / 2) : g; // the 2×2 max-pooled coarsest map
  const S = config.imgSize, W = config.decoderWidth, D = config.encoder.embedDim, K = config.numClasses;
  const ps: Product[] = [];
  const separable = (h: number, H: number, c: number): void => {
    ps.push({ m: H, k: h, n: B * h * c, batch: 1 }, { m: H, k: h, n: B * H * c, batch: 1 });
  };
  const resize = (h: number, H: number, c: number): void => { if (h !== H) separable(h, H, c); };
  if (config.decoder === 'unetr') {
    resize(t, g, W); // fuse.2's input: the pooled map 3 up to map 2
    resize(g, 2 * g, W); // fuse.1's input
    resize(2 * g, 4 * g, W); // fuse.0's input
  } else {
    for (const s of [1, 2, 3, 6]) {
      separable(t, s, D); // adaptive average pool of the coarsest map
      resize(s, t, W); // back up to it after psp_modules
    }
    resize(t, g, W); resize(g, 2 * g, W); resize(2 * g, 4 * g, W); // FPN top-down
    resize(2 * g, 4 * g, W); resize(g, 4 * g, W); resize(t, 4 * g, W); // fpn outputs 1–3 up to output 0 before the concat
  }
  resize(4 * g, S, K); // logits up to the input size (head.ts classify)
  return ps;
}

/**
 * The same for a Swin: the heads take the 4 stage maps (sides g, g/2, g/4, g/8 for g = imgSize / 4, widths C·2^i)
 * with no neck and no pooling: UNETR resizes map 3 → 2 → 1 → 0 before each fuse; UPerNet pools the last map
 * (width 8C) to 1, 2, 3, 6 and back, resizes the FPN top-down and the fpn outputs 1–3 up to map 0; then the logits.
 */
function swinInterpolationProducts(config: ModelConfig, B: number): Product[] {
  const g = config.imgSize / config.encoder.patchSize;
  const side = [g, g / 2, g / 4, g / 8];
  const S = config.imgSize, W = config.decoderWidth, K = config.numClasses, C3 = 8 * config.encoder.embedDim;
  const ps: Product[] = [];
  const separable = (h: number, H: number, c: number): void => {
    ps.push({ m: H, k: h, n: B * h * c, batch: 1 }, { m: H, k: h, n: B * H * c, batch: 1 });
  };
  const resize = (h: number, H: number, c: number): void => { if (h !== H) separable(h, H, c); };
  if (config.decoder === 'unetr') {
    for (const j of [2, 1, 0]) resize(side[j + 1], side[j], W);
  } else {
    for (const s of [1, 2, 3, 6]) {
      separable(side[3], s, C3);
      resize(s, side[3], W);
    }
    for (const j of [2, 1, 0]) resize(side[j + 1], side[j], W);
    for (const j of [1, 2, 3]) resize(side[j], side[0], W);
  }
  resize(side[0], S, K);
  return ps;
}

/**
 * Takes each of `wanted` out of `have` (one product of the same shape each, so the same FLOPs); throws naming a
 * product no kernel ran. Returns what is left and what was taken.
 */
function takeOut<P extends Product>(have: readonly P[], wanted: readonly Product[]): { left: P[]; taken: P[] } {
  const left = [...have];
  const taken: P[] = [];
  for (const w of wanted) {
    const i = left.findIndex((p) => p.batch === w.batch && p.m === w.m && p.k === w.k && p.n === w.n);
    if (i < 0) throw new Error(`flops-kernels: no kernel ran the product [${w.m}, ${w.k}]·[${w.k}, ${w.n}] (×${w.batch})`);
    taken.push(...left.splice(i, 1));
  }
  return { left, taken };
}

function build(shape: StepShape): { config: ModelConfig; params: ReturnType<typeof createParams> } {
  const enc = generatedEncoder(shape);
  const config = benchConfig(shape, enc.spec);
  return { config, params: createParams(config, enc.state, 0) };
}

/** A fixed window and labels for the shape (values do not change the work). */
function batchOf(config: ModelConfig, B: number): { x: tf.Tensor5D; y: tf.Tensor3D } {
  const S = config.imgSize;
  const x = tf.randomUniform([B, config.T, S, S, 1], 0, 1, 'float32', 7) as tf.Tensor5D;
  const y = tf.randomUniform([B, S, S], 0, config.numClasses, 'int32', 8) as tf.Tensor3D;
  return { x, y };
}

/**
 * Runs fn under tf.profile and returns the kernels it ran; disposes fn's result.
 * NOTE: tf.profile returns the engine's one profile record, whose `kernels` the next profile replaces: keep the array.
 */
async function profileKernels(fn: () => tf.TensorContainer): Promise<Kernel[]> {
  const prof = await tf.profile(fn);
  const kernels = prof.kernels;
  tf.dispose(prof.result);
  return kernels;
}

const counted = (config: ModelConfig, B: number) =>
  trainStepFlops(config.encoder, { kind: config.decoder, width: config.decoderWidth, numClasses: config.numClasses }, config.imgSize, 1, config.T, B);

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

describe('the kernel FLOP counter', () => {
  it('counts products and convolutions by hand, whatever the transposes', async () => {
    const a = tf.ones([3, 5]), at = tf.ones([5, 3]), b = tf.ones([5, 7]), bt = tf.ones([7, 5]);
    const x = tf.ones([2, 6, 6, 4]), f = tf.ones([3, 3, 4, 8]);
    const kernels = await profileKernels(() => tf.tidy(() => {
      for (const [p, q, ta, tb] of [[a, b, false, false], [at, b, true, false], [a, bt, false, true], [at, bt, true, true]] as const) tf.matMul(p, q, ta, tb).dispose();
      tf.matMul(tf.ones([4, 3, 5]), tf.ones([4, 5, 7])).dispose();
      tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, 1, 'same').dispose(); // 2·6·6 outputs · 8 channels · 3·3·4 MACs
      tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, 2, 'valid').dispose(); // 2·2·2 outputs
      const [dx, df] = tf.grads((xi: tf.Tensor, fi: tf.Tensor) => tf.conv2d(xi as tf.Tensor4D, fi as tf.Tensor4D, 1, 'same').sum())([x, f]);
      dx.dispose(); df.dispose();
      tf.depthwiseConv2d(x as tf.Tensor4D, tf.ones([3, 3, 4, 2]) as tf.Tensor4D, 1, 'same').dispose(); // 2·6·6·8 outputs · 9
      return tf.scalar(0);
    }));
    const byName = (n: string) => productsOf(kernels).filter((p) => p.name === n).map(productFlops);
    expect(byName('BatchMatMul')).toEqual([210, 210, 210, 210, 4 * 210]);
    const conv = 2 * (2 * 36 * 8) * 36;
    expect(byName('Conv2D')).toEqual([conv, 2 * (2 * 4 * 8) * 36, conv]); // the gradient's forward runs it again
    expect(byName('Conv2DBackpropInput')).toEqual([conv]);
    expect(byName('Conv2DBackpropFilter')).toEqual([conv]);
    expect(byName('DepthwiseConv2dNative')).toEqual([2 * (2 * 36 * 8) * 9]);
    expect(() => kernelProduct({ name: 'Einsum', inputShapes: [[2, 2]], outputShapes: [[2, 2]] })).toThrow(/Einsum/);
    for (const t of [a, at, b, bt, x, f]) t.dispose();
  });
});

describe('the interpolation products, by hand', () => {
  it('micro ViT, 32 px, UNETR w16, 8 classes, batch 2: 4×4 grid, its pooled 2×2 map, 3 resizes and the logits', () => {
    const shape: StepShape = { encoder: 'micro', decoder: 'unetr', size: 32, T: 5, strategy: 'center', batch: 2 };
    const config = benchConfig(shape, generatedEncoder(shape).spec);
    // [H, h]·[h, 2·h·c] then [H, h]·[h, 2·H·c], 2 FLOPs per MAC: 2→4, 4→8, 8→16 on 16 channels; 16→32 on 8 logits.
    const hand = 2 * (4 * 2 * 64 + 4 * 2 * 128) + 2 * (8 * 4 * 128 + 8 * 4 * 256) + 2 * (16 * 8 * 256 + 16 * 8 * 512) + 2 * (32 * 16 * 256 + 32 * 16 * 512);
    expect(hand).toBe(1010688);
    expect(sumFlops(interpolationProducts(config, 2))).toBe(hand);
  });
});

// micro ViT (D 32, depth 2, patch 8) at 32 and 64 px, both heads, T 1 and 5, batch 1 and 2; a ViT-Ti width (D 192,
// depth 12, 3 heads, patch 16) at 64 px; the micro Swin. Window and head as the benchmark's (8 classes, W 16 below D 64, else 64).
const SHAPES: StepShape[] = [
  { encoder: 'micro', decoder: 'unetr', size: 32, T: 1, strategy: '2d', batch: 1 },
  { encoder: 'micro', decoder: 'unetr', size: 64, T: 5, strategy: 'center', batch: 2 },
  { encoder: 'micro', decoder: 'uper', size: 32, T: 5, strategy: 'center', batch: 2 },
  { encoder: 'micro', decoder: 'uper', size: 64, T: 1, strategy: '2d', batch: 1 },
  { encoder: 'vit_tiny', decoder: 'unetr', size: 64, T: 5, strategy: 'center', batch: 1 },
  // The micro Swin (embed 16, depths 2-2-2-2, window 4): 32 px (grids 8, 4, 2, 1: shifted, then clipped) and 96 px
  // (24, 12, 6 padded to 8 and shifted, 3 clipped), 8 classes, W 16.
  { encoder: 'swin_micro', decoder: 'uper', size: 32, T: 5, strategy: 'center', batch: 2 },
  { encoder: 'swin_micro', decoder: 'unetr', size: 96, T: 3, strategy: 'center', batch: 1 },
];
const label = (s: StepShape): string => `${s.encoder} ${s.size} px ${s.decoder} T ${s.T} batch ${s.batch}`;
const pct = (part: number, whole: number): string => `${((100 * part) / whole).toFixed(2)} %`;

describe('forward pass: counted FLOPs against the product kernels run', () => {
  it.each(SHAPES)('$encoder $size px $decoder T $T batch $batch', async (shape) => {
    const { config, params } = build(shape);
    const { x } = batchOf(config, shape.batch);
    const kernels = await profileKernels(() => tf.tidy(() => forward(params, config, x)));
    x.dispose();
    for (const v of params.values()) v.dispose();

    const run = productsOf(kernels);
    const interp = interpolationProducts(config, shape.batch);
    const { left: learned } = takeOut(run, interp); // throws if one of the hand-derived products did not run
    const f = counted(config, shape.batch);
    const interpFlops = sumFlops(interp);
    console.log(`${kernelTable(`forward, ${label(shape)}`, kernels, interp)}\n` +
      `  run ${sumFlops(run)} = learned ${sumFlops(learned)} (counted forwardFlops ${f.forwardFlops}) + interpolation ${interpFlops}` +
      ` (${interp.length} products: +${pct(interpFlops, f.forwardFlops)} over the count)`);
    expect(new Set(run.map((p) => p.name))).toEqual(new Set(['BatchMatMul'])); // every product runs as a matMul
    expect(sumFlops(learned)).toBe(f.forwardFlops);
  });
});

describe('training step: counted 3 × forward against the product kernels run', () => {
  // NOTE: every learned product has 2 products backward of its own FLOPs (matMul2d / matMulBT's custom gradients
  // compute both operands' gradients, the patch embedding's input included; attention's built-in BatchMatMul gradient
  // needs both, as q, k and v come from the weights); a fixed interpolation matrix M gets none, its input transpose(M)·dy
  // only. So backward = 2 × counted forward + the interpolation forward, and backward / forward < 2 as run.
  it.each(SHAPES)('$encoder $size px $decoder T $T batch $batch', async (shape) => {
    const { config, params } = build(shape);
    const cfg = DEFAULT_TRAIN_CONFIG;
    const opt = makeAdamW({ weightDecay: cfg.weightDecay, maxGradNorm: cfg.clip > 0 ? cfg.clip : null });
    const step = makeTrainStep(params, config, opt, cfg);
    const { x, y } = batchOf(config, shape.batch);
    const fwd = await profileKernels(() => tf.tidy(() => forward(params, config, x)));
    // The step as training and the benchmark run it: forward, loss, gradients and the AdamW update (no products).
    const kernels = await profileKernels(() => step(x, y, 1e-4));
    opt.dispose();
    x.dispose(); y.dispose();
    for (const v of params.values()) v.dispose();

    const f = counted(config, shape.batch);
    const interp = interpolationProducts(config, shape.batch);
    const interpFlops = sumFlops(interp);
    const run = productsOf(kernels);
    const forwardRun = sumFlops(productsOf(fwd));
    const backwardRun = sumFlops(run) - forwardRun;
    const interpBack = interp.map((p) => ({ m: p.k, k: p.m, n: p.n, batch: 1 })); // transpose(M) [h, H] · dy [H, n]
    const { left: learned } = takeOut(run, [...interp, ...interpBack]);
    console.log(`${kernelTable(`training step, ${label(shape)}`, kernels, [...interp, ...interpBack])}\n` +
      `  run ${sumFlops(run)} = learned ${sumFlops(learned)} (counted stepFlops ${f.stepFlops}) + interpolation ${2 * interpFlops}` +
      ` (+${pct(2 * interpFlops, f.stepFlops)} over the count); backward / forward as run ${(backwardRun / forwardRun).toFixed(4)}` +
      ` (learned products alone: ${((sumFlops(learned) - f.forwardFlops) / f.forwardFlops).toFixed(4)})`);
    expect(forwardRun).toBe(f.forwardFlops + interpFlops);
    expect(sumFlops(learned)).toBe(f.stepFlops);
    expect(backwardRun).toBe(2 * f.forwardFlops + interpFlops);
  });
});
