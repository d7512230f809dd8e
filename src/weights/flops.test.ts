// Compute counts against published figures and hand arithmetic.
import { describe, expect, it } from 'vitest';
import { decoderCost, encoderCost, inflationOverhead, swinEncoderCost, trainStepFlops } from './flops.ts';

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

describe('Swin / Video Swin', () => {
  const base = { mlpRatio: 4, patchSize: 4, hasClsToken: false, hasDistToken: false };
  const swinT = { ...base, embedDim: 96, depth: 12, swin: { depths: [2, 2, 6, 2], heads: [3, 6, 12, 24], window: [7, 7], patchDepth: 1 } };
  const swinB = { ...base, embedDim: 128, depth: 24, swin: { depths: [2, 2, 18, 2], heads: [4, 8, 16, 32], window: [7, 7], patchDepth: 1 } };
  const video = (s: typeof swinT) => ({ ...s, swin: { ...s.swin, window: [8, 7, 7], patchDepth: 2 } });

  it('matches the published figures (the papers count MACs and call them FLOPs): Swin-T 4.5 G, Swin-B 15.4 G at 224 px; Video Swin-T 88 G, -B 282 G at 32×224²', () => {
    expect(encoderCost(swinT, 224, 3, 1).totalMacs / 1e9).toBeCloseTo(4.49, 2);
    expect(encoderCost(swinB, 224, 3, 1).totalMacs / 1e9).toBeCloseTo(15.43, 2);
    expect(encoderCost(video(swinT), 224, 3, 32).totalMacs / 1e9).toBeCloseTo(87.8, 1);
    expect(encoderCost(video(swinB), 224, 3, 32).totalMacs / 1e9).toBeCloseTo(281.3, 1);
    // The inflated Swin's window costs only its patch embedding: T 5 vs 1 adds 4·56²·128·16 MACs to Swin-B.
    expect(encoderCost(swinB, 224, 1, 5).totalMacs - encoderCost(swinB, 224, 1, 1).totalMacs).toBe(4 * 56 * 56 * 128 * 16);
  });

  it('counts by hand: embed 4, depths 1-1-1-2, window 3 at 32 px (grids 8 → padded 9, 4 → 6, 2 and 1 clipped), 2 channels, T 3', () => {
    const tiny = { ...base, embedDim: 4, depth: 5, swin: { depths: [1, 1, 1, 2], heads: [1, 1, 1, 1], window: [3, 3], patchDepth: 1 } };
    const block = (n: number, padded: number, N: number, C: number) => padded * C * 3 * C + 2 * padded * N * C + padded * C * C + 2 * n * C * 4 * C;
    const hand =
      64 * 4 * (2 * 3 * 16) + //          patch embedding: 8×8 tokens × 4 × (2·3·4·4)
      block(64, 81, 9, 4) + //             stage 0: 8×8 padded to 9×9, 3×3 windows
      16 * 16 * 8 + block(16, 36, 9, 8) + // merging 4·4 → 8; stage 1: 4×4 padded to 6×6
      4 * 32 * 16 + block(4, 4, 4, 16) + //  stage 2: 2×2, window clipped to 2×2
      1 * 64 * 32 + 2 * block(1, 1, 1, 32); // stage 3: 1×1, two blocks
    expect(swinEncoderCost(tiny, 32, 2, 3).totalMacs).toBe(hand);
    // Video Swin, window 2×3×3, T 5: 3 temporal tokens padded to 4 along depth in every stage.
    const v = { ...tiny, swin: { ...tiny.swin, window: [2, 3, 3], patchDepth: 2 } };
    const handV =
      3 * 64 * 4 * (2 * 2 * 16) +
      block(3 * 64, 4 * 81, 18, 4) +
      3 * 16 * 16 * 8 + block(3 * 16, 4 * 36, 18, 8) +
      3 * 4 * 32 * 16 + block(3 * 4, 4 * 4, 8, 16) +
      3 * 64 * 32 + 2 * block(3, 4, 2, 32);
    expect(encoderCost(v, 32, 2, 5).totalMacs).toBe(handV);
  });

  it('heads over the 4 stage maps (no neck), by hand: D 4, W 2, 3 classes, 32 px → maps 8², 4², 2², 1²', () => {
    const d = { embedDim: 4, width: 2, numClasses: 3, imgSize: 32, patchSize: 4, hierarchical: true };
    const unetr = (64 * 4 + 16 * 8 + 4 * 16 + 1 * 32) * 2 + (4 + 16 + 64) * 9 * 2 * 2 + 64 * 2 * 3;
    expect(decoderCost({ ...d, kind: 'unetr' })).toBe(unetr);
    const uper =
      (1 + 4 + 9 + 36) * 32 * 2 + //         psp 1×1 32 → 2
      1 * 9 * (32 + 8) * 2 + //                bottleneck 3×3 on the 1×1 map
      (64 * 4 + 16 * 8 + 4 * 16) * 2 + //      lateral_convs
      (64 + 16 + 4) * 9 * 2 * 2 + //           fpn_convs
      64 * 9 * 8 * 2 + 64 * 2 * 3; //         fpn_bottleneck, conv_seg
    expect(decoderCost({ ...d, kind: 'uper' })).toBe(uper);
  });
});
