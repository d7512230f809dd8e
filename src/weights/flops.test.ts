// Compute counts against published figures and hand arithmetic.
import { describe, expect, it } from 'vitest';
import { encoderCost, inflationOverhead } from './flops.ts';

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
