// The volume model's MAC count (flops3d.ts) against a hand count of the micro config, and the presets' totals.
import { describe, expect, it } from 'vitest';
import { UNETR3D_MICRO, volumeConfig } from './presets.ts';
import { unetr3dCost } from './flops3d.ts';

describe('unetr3dCost', () => {
  it('counts the micro config as by hand', () => {
    // 32³ crop (32,768 voxels), patch 16 → 8 tokens, hidden 32, 3 blocks, MLP 64, feature 4, 1 channel, 2 classes.
    // ViT: embedding 8·32·4096 = 1,048,576; per block qkv 8·32·96 = 24,576, scores + weighted sum 2·8·8·32 = 4,096,
    // out_proj 8·32·32 = 8,192, MLP 2·8·32·64 = 32,768 → 69,632; ×3 = 208,896.
    const vit = 1_048_576 + 3 * 69_632;
    // Full resolution (32,768 voxels): encoder1 (1→4: 27·1·4 + 27·4·4 + 1·4 per voxel = 544), decoder2's res block on
    // [up, skip] (8→4: 27·8·4 + 27·4·4 + 8·4 = 1,328), the output conv (4·2 = 8): 1,880 a voxel.
    const full = 32_768 * 1_880;
    // 1/2 (4,096 voxels): encoder2's last res block (8→8: 2·27·64 = 3,456), decoder3's (16→8: 27·16·8 + 27·64 + 128
    // = 5,312); the up-sampling that reads this level (8 MACs per input voxel and weight): decoder2's 8→4, 32·8·4,096
    // (each transposed conv is counted at its input level).
    const half = 4_096 * (3_456 + 5_312) + 4_096 * 8 * (8 * 4);
    // The rest, by the same rule: 1/4 (512 voxels): encoder2 res 8→8 (3,456), encoder3 res 16→16 (13,824), decoder4 res
    // 32→16 (27·32·16 + 27·256 + 512 = 21,248); up-samplings from 512 voxels: encoder2's second 8→8, decoder3's 16→8.
    const quarter = 512 * (3_456 + 13_824 + 21_248) + 512 * 8 * (8 * 8 + 16 * 8);
    // 1/8 (64 voxels): decoder5 res 64→32 (27·64·32 + 27·1,024 + 2,048 = 84,992); up-samplings from 64 voxels: encoder2
    // 8→8, encoder3 16→16, decoder4 32→16 (into 1/4).
    const eighth = 64 * 84_992 + 64 * 8 * (64 + 256 + 512);
    // Tokens (8 voxels): the four up-samplings from the hidden width 32: encoder2 →8, encoder3 →16, encoder4 →32, decoder5 →32.
    const tokens = 8 * 8 * 32 * (8 + 16 + 32 + 32);
    const c = unetr3dCost({ ...UNETR3D_MICRO, inChans: 1, numClasses: 2 });
    expect(c.tokens).toBe(8);
    expect(c.vitMacs).toBe(vit);
    expect(c.fullResMacs).toBe(full);
    expect(c.totalMacs).toBe(vit + full + half + quarter + eighth + tokens);
  });

  it('gives the presets\' totals: MONAI BTCV 73.2 G MACs a 96³ crop, the browser default 16.8 G at 64³', () => {
    const monai = unetr3dCost(volumeConfig('monai-btcv', { inChans: 1, numClasses: 14 }));
    const browser = unetr3dCost(volumeConfig('browser', { inChans: 1, numClasses: 14 }));
    expect(monai.tokens).toBe(216);
    expect(monai.totalMacs / 1e9).toBeCloseTo(73.22, 2);
    expect(browser.totalMacs / 1e9).toBeCloseTo(16.77, 2);
    // The convolutions, not the ViT, dominate: 73 % of MONAI's forward, 94 % of the browser default's.
    expect(monai.convMacs / monai.totalMacs).toBeCloseTo(0.728, 3);
    expect(browser.convMacs / browser.totalMacs).toBeCloseTo(0.938, 3);
  });
});
