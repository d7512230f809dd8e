// Compute counts against published figures and hand arithmetic.
import { describe, expect, it } from 'vitest';
import { decoderCost, encoderCost, inflationOverhead, trainStepFlops } from './flops.ts';

const vitB = { embedDim: 768, depth: 12, mlpRatio: 4, patchSize: 16, hasClsToken: true, hasDistToken: false };
const vitS = { ...vitB, embedDim: 384 };

describe('encoderCost', () => {
  it('matches the published ~17.6 GMACs of ViT-B/16 at 224 px and ~4.6 GMACs of ViT-S/16 (timm model cards)', () => {
    expect(encoderCost(vitB, 224, 3, 1).totalMacs / 1e9).toBeCloseTo(17.56, 1);
    expect(encoderCost(vitS, 224, 3, 1).totalMacs / 1e9).toBeCloseTo(4.61, 1);
  });

  it('counts the patch embedding by hand: 196 patches × 768 × (1·5·16·16)', () => {
    const c = encoderCost(vitB, 224, 1, 5);
    expect(c.tokens).toBe(197);
    expect(c.patchEmbedMacs).toBe(196 * 768 * 5 * 256);
  });

  it('shows the method’s claim: a 5-slice window costs < 1 % more than one slice (ViT-B/16, 224 px, 1 channel)', () => {
    const o = inflationOverhead(vitB, 224, 1, 5);
    expect(o).toBeGreaterThan(0.005);
    expect(o).toBeLessThan(0.01);
    // Hand: extra = 196·768·4·256 MACs over the 2D total.
    expect(o).toBeCloseTo((196 * 768 * 4 * 256) / encoderCost(vitB, 224, 1, 1).totalMacs, 12);
  });
});

describe('decoderCost and trainStepFlops', () => {
  // A tiny config counted by hand, layer by layer: D 4, W 2, 3 classes, 32 px with patch 8 → a 4×4 token grid.
  const tiny = { embedDim: 4, width: 2, numClasses: 3, imgSize: 32, patchSize: 8 };

  it('UNETR head: laterals, transposed convs, 3×3 fuses and the classifier, by hand', () => {
    const hand =
      4 * (16 * 4 * 2) + //              lateral.0–3: 1×1, 4 → 2, on 4×4
      16 * 4 * 2 * 2 + //                up.0.0: 4×4 → 8×8, each pixel a 2×2 block of 2 from 2
      64 * 4 * 2 * 2 + //                up.0.1: 8×8 → 16×16
      16 * 4 * 2 * 2 + //                up.1.0: 4×4 → 8×8
      16 * 9 * 2 * 2 + //                fuse.2 on 4×4
      64 * 9 * 2 * 2 + //                fuse.1 on 8×8
      256 * 9 * 2 * 2 + //               fuse.0 on 16×16
      256 * 2 * 3; //                    conv_seg on 16×16
    expect(hand).toBe(15680);
    expect(decoderCost({ ...tiny, kind: 'unetr' })).toBe(hand);
  });

  it('UPerNet head: neck, pyramid pooling + bottleneck, laterals, FPN, fused bottleneck, classifier, by hand', () => {
    const hand =
      16 * 4 * 4 * 4 + 64 * 4 * 4 * 4 + 16 * 4 * 4 * 4 + //   fpn1.0 (4→8), fpn1.2 (8→16), fpn2.0 (4→8): D → D
      (1 + 4 + 9 + 36) * 4 * 2 + //                           psp 1×1 4 → 2 on 1², 2², 3², 6²
      4 * 9 * (4 + 4 * 2) * 2 + //                            bottleneck 3×3 (4 + 8) → 2 on the pooled 2×2 map
      (256 + 64 + 16) * 4 * 2 + //                            lateral_convs 1×1 on 16², 8², 4²
      (256 + 64 + 16) * 9 * 2 * 2 + //                        fpn_convs 3×3 2 → 2
      256 * 9 * 8 * 2 + //                                    fpn_bottleneck 3×3 8 → 2 on 16²
      256 * 2 * 3; //                                         conv_seg
    expect(decoderCost({ ...tiny, kind: 'uper' })).toBe(hand);
  });

  it('a training step is 3 × the forward of the batch, encoder + decoder, 2 FLOPs per MAC', () => {
    const spec = { embedDim: 4, depth: 1, mlpRatio: 4, patchSize: 8, hasClsToken: true, hasDistToken: false };
    const f = trainStepFlops(spec, { kind: 'unetr', width: 2, numClasses: 3 }, 32, 1, 3, 2);
    // Encoder by hand: 16 patches · 4 · (1·3·64) + one block over 17 tokens (qkv, scores + weighted sum, proj, MLP).
    const enc = 16 * 4 * 192 + (17 * 4 * 12 + 2 * 17 * 17 * 4 + 17 * 4 * 4 + 2 * 17 * 4 * 16);
    expect(f.encoderMacs).toBe(enc);
    expect(f.decoderMacs).toBe(15680);
    expect(f.forwardFlops).toBe(2 * 2 * (enc + 15680));
    expect(f.stepFlops).toBe(3 * f.forwardFlops);
  });
});
