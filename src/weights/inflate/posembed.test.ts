// Position information: pos_embed and relative-bias resampling against PyTorch, hand-computed bicubic weights,
// BEiT's relative position index by hand, early returns and errors.
import { describe, expect, it } from 'vitest';
import type { HostTensor } from '../../core/types.ts';
import { relativePositionIndex, relPosTableRows, resamplePosEmbed, resampleRelPosBias, type Grid } from './posembed.ts';
import { beitGeometricCoords, bicubicWeights } from './resample.ts';

/**
 * Produced once with Debian's /usr/bin/python3 (torch 1.13.0a0, numpy) by test/reference/posembed_torch.py:
 * torch.nn.functional.interpolate(mode='bicubic', align_corners=False, antialias=False|True) on the grid part
 * (channel-last rows, as timm permutes it), and the BEiT geometric-grid resize re-written from its description with
 * numpy.interp. Inputs: value(t, c) = float32(sin(1.3·t + 0.7·c)) for row t, channel c (see table() below).
 */
const TORCH = {
  pe_2x2: [0.84529763, 0.72763968, -0.69434345, -0.85205632, -0.63610393, -0.11883171, 0.8266151, 0.49243122],
  pe_6x6: [1.0767003, 1.0200371, 0.86811811, 0.41498372, 0.2481444, -0.46996972, -0.59576595, -1.0156088, -0.9487949, -0.75975984, -0.8981027, -0.25679231, 0.66963166, 0.99619913, 0.84529763, 0.72763968, 0.68277949, 0.09882009, -0.032345049, -0.63490909, -0.69434351, -0.85205632, -1.0038043, -0.7207728, -0.070724271, 0.63766187, 0.53775883, 0.88724369, 1.0129217, 0.79259974, 0.69777781, 0.060338553, -0.14073625, -0.68929219, -0.80818015, -1.0758749, -0.726206, -0.043836255, -0.041816976, 0.55607474, 0.77347088, 1.0132985, 1.0039121, 0.67917556, 0.45431557, -0.16328192, -0.18695882, -0.82570469, -1.0057861, -0.74571711, -0.63610399, -0.11883181, 0.070740849, 0.66292834, 0.75013715, 0.9468447, 0.8266151, 0.49243122, 0.5840438, -0.081334822, -0.9653191, -1.1030315, -0.93743199, -0.6167056, -0.49781525, 0.21757251, 0.35793316, 0.91225201, 0.90496796, 0.87891763, 1.0371857, 0.52256209],
  pe_3x5: [0.89001042, 0.96595949, 0.79925358, 0.33668774, 0.02550271, -0.60146236, -0.77559513, -0.89466518, -0.91217834, -0.44314769, -0.39953238, 0.33740896, 0.52934748, 0.93591291, 1.0412947, 0.75988024, 0.43666235, -0.2309718, -0.50559682, -0.99792296, -0.94970053, -0.9155497, -0.72016805, -0.19686116, 0.13006783, 0.71498889, 0.84083253, 0.86015725, 0.83664119, 0.29405671],
  pe_aa_2x2: [0.59509116, 0.5058099, -0.32964829, -0.57529849, -0.27320009, 0.13537256, 0.58302635, 0.35391605],
  pe_aa_6x6: [1.0476049, 0.99174404, 0.83662862, 0.42948216, 0.30565923, -0.39262831, -0.60344183, -0.99072337, -0.89728332, -0.71125436, -0.89587152, -0.28686434, 0.6617229, 0.9524551, 0.78024811, 0.6784392, 0.66672766, 0.12326236, -0.089842178, -0.6437422, -0.66274339, -0.7844547, -0.95567197, -0.68724746, -0.0039124968, 0.66767323, 0.5153926, 0.83686417, 0.97427541, 0.76602864, 0.60218579, -0.033262257, -0.19428633, -0.68760842, -0.79936516, -1.0410507, -0.72217846, -0.069289207, -0.10224155, 0.47121829, 0.68189967, 0.97031784, 0.96499062, 0.64914203, 0.43769345, -0.14135361, -0.11698597, -0.7558983, -0.95738345, -0.70879608, -0.61201501, -0.14579456, 0.0076585342, 0.58376926, 0.72798854, 0.89452535, 0.76185751, 0.44690552, 0.58253831, -0.044461239, -0.95774204, -1.0658017, -0.88776147, -0.59137416, -0.51063222, 0.1777332, 0.40948367, 0.91450053, 0.86715871, 0.81384915, 1.0092818, 0.50925988],
  rel_bicubic_2x2: [0.3739363, 0.80810058, 0.46541217, -0.21281523, -0.87994105, -0.57672393, 0.64737701, 0.89259678, 0.10775365, -0.55805224, -0.76452881, -0.28587207, 0.82748228, 0.84840316, -0.26544023, -0.82283223, -0.53889084, 0.046195265],
  rel_bicubic_4x4: [-0.093898788, 0.60997456, 0.59544027, 0.90931588, 1.0071018, 0.70701027, 0.53096187, -0.14131482, -0.35324314, -0.88103396, -0.8942948, -0.82977617, -0.91004139, -0.34277722, 0.033872902, 0.70800734, 0.67380512, 0.91866708, 0.98508179, 0.61306989, 0.42373499, -0.25874087, -0.46326885, -0.93169904, -0.91230649, -0.7730335, -0.835069, -0.21878138, 0.22818039, 0.84299397, 0.77948111, 0.91395247, 0.93111533, 0.4570255, 0.25132582, -0.43261114, -0.6216175, -0.98976922, -0.92094105, -0.67045504, -0.70338601, -0.025014907, 0.3755655, 0.92608052, 0.84115541, 0.88444579, 0.86213541, 0.32060724, 0.10775359, -0.55805236, -0.72944117, -1.0078268, -0.90180498, -0.57034308, -0.57930547, 0.12908223, 0.51645172, 0.99314213, 0.88827425, 0.8396346, 0.77823704, 0.17864117, -0.037683222, -0.67383707, -0.82464248, -1.0084451, -0.86706412, -0.46036202, -0.4452005, 0.28094575, 0.6760233, 1.0424757, 0.91615194, 0.75311774, 0.64453185, -0.0070560975, -0.22005853, -0.79609323, -0.91552538, -0.97330147, -0.79229093, -0.30503261, -0.25993764, 0.46277347, 0.77142179, 1.0606824, 0.92201108, 0.68623173, 0.54819804, -0.12863187, -0.33657321, -0.86541623, -0.96267474, -0.93709409, -0.73256922, -0.19912791, -0.13503085, 0.57564241],
  rel_geometric_2x2: [0.99854332, 0.79848713, 0.31909835, -0.36647913, -0.82782644, -0.99455261, 0.98677194, 0.65028787, 0.10775365, -0.55805224, -0.929124, -0.94884449, 0.92879522, 0.47163901, -0.1086366, -0.72349477, -0.98691553, -0.85870701],
  rel_geometric_4x4: [0, 0.64421767, 0.32118567, 0.73257747, 0.9635582, 0.90929741, 0.51550138, -0.15774569, -0.68776613, -0.99369103, -0.81822525, -0.58048119, -0.88345468, -0.37387666, 0.071706573, 0.69403434, 0.3728773, 0.75347638, 0.97521989, 0.87236069, 0.45003379, -0.22732342, -0.73445285, -0.99397822, -0.8067939, -0.53429418, -0.84296436, -0.30445259, 0.21511999, 0.79366785, 0.47626077, 0.79527428, 0.99854332, 0.79848713, 0.31909835, -0.36647913, -0.82782644, -0.99455261, -0.78393117, -0.44191998, -0.76198357, -0.16560417, 0.42016703, 0.90595472, 0.6090351, 0.82073254, 0.98677194, 0.65028787, 0.10775365, -0.55805224, -0.929124, -0.94884449, -0.71292975, -0.28266596, -0.60483283, 0.050422687, 0.60553986, 0.97582054, 0.71329151, 0.80776024, 0.92879522, 0.47163901, -0.1086366, -0.72349477, -0.98691553, -0.85870701, -0.60854554, -0.1101762, -0.41936091, 0.26408851, 0.71021899, 0.99193602, 0.76052937, 0.77389654, 0.8611503, 0.33781678, -0.2495056, -0.81120485, -0.99463521, -0.77180946, -0.51995938, 0.0082563793, -0.28262191, 0.39828857, 0.76255846, 0.99999374, 0.78414825, 0.75696473, 0.82732791, 0.27090579, -0.31993997, -0.8550598, -0.99849504, -0.72836077, -0.47566639, 0.067472556, -0.21425255, 0.46538848],
};

/** [rows, cols] float32 table with value(t, c) = sin(1.3·t + 0.7·c), the script's input. */
function table(rows: number, cols: number): Float32Array {
  const x = new Float32Array(rows * cols);
  for (let t = 0; t < rows; t++) for (let c = 0; c < cols; c++) x[t * cols + c] = Math.sin(1.3 * t + 0.7 * c);
  return x;
}

const tensor = (shape: number[], data: Float32Array): HostTensor => ({ dtype: 'float32', shape, data });
const close = (got: ArrayLike<number>, want: ArrayLike<number>, tol: number): void => {
  expect(got.length).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
  expect(worst).toBeLessThanOrEqual(tol);
};

describe('resamplePosEmbed', () => {
  const pe = tensor([1, 17, 2], table(17, 2)); // 1 class token + 4×4 grid, D = 2
  const cases: [string, Grid, number[]][] = [
    ['4×4 → 2×2', [2, 2], TORCH.pe_2x2],
    ['4×4 → 6×6', [6, 6], TORCH.pe_6x6],
    ['4×4 → 3×5 (non-square)', [3, 5], TORCH.pe_3x5],
  ];
  for (const [name, to, want] of cases) {
    it(`matches torch F.interpolate(bicubic, align_corners=False), ${name}`, () => {
      const out = resamplePosEmbed(pe, 1, [4, 4], to);
      expect(out.shape).toEqual([1, 1 + to[0] * to[1], 2]);
      expect(Array.from(out.data.subarray(0, 2))).toEqual(Array.from(pe.data.subarray(0, 2))); // class token kept
      close(out.data.subarray(2), want, 2e-6);
    });
  }
  it('matches torch with antialias=True (timm’s current default), 4×4 → 2×2 and → 6×6', () => {
    close(resamplePosEmbed(pe, 1, [4, 4], [2, 2], { antialias: true }).data.subarray(2), TORCH.pe_aa_2x2, 2e-6);
    close(resamplePosEmbed(pe, 1, [4, 4], [6, 6], { antialias: true }).data.subarray(2), TORCH.pe_aa_6x6, 2e-6);
  });
  it('hand-computed: rows 0, 1, 2, 3 shrunk to 2 give 0.40625 and 2.59375 (Keys a = −0.75, clamped border)', () => {
    // Source x = (i + 0.5)·2 − 0.5 = 0.5, 2.5; t = 0.5 → weights (−0.09375, 0.59375, 0.59375, −0.09375).
    // i = 0 taps rows (−1→0, 0, 1, 2): −0.09375·0 + 0.59375·0 + 0.59375·1 − 0.09375·2 = 0.40625.
    // i = 1 taps rows (1, 2, 3, 4→3): −0.09375 + 1.1875 + 1.78125 − 0.28125 = 2.59375.
    const w = bicubicWeights(4, 2);
    expect(Array.from(w.weight.subarray(0, 4))).toEqual([-0.09375, 0.59375, 0.59375, -0.09375]);
    expect(Array.from(w.index)).toEqual([0, 0, 1, 2, 1, 2, 3, 3]);
    const g = new Float32Array(16);
    for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) g[r * 4 + c] = r; // constant along columns
    const out = resamplePosEmbed(tensor([1, 16, 1], g), 0, [4, 4], [2, 2]);
    expect(Array.from(out.data)).toEqual([0.40625, 0.40625, 2.59375, 2.59375]);
  });
  it('keeps two prefix tokens (DeiT class + distillation) apart', () => {
    const pe2 = tensor([1, 18, 2], table(18, 2));
    const out = resamplePosEmbed(pe2, 2, [4, 4], [2, 2]);
    expect(out.shape).toEqual([1, 6, 2]);
    expect(Array.from(out.data.subarray(0, 4))).toEqual(Array.from(pe2.data.subarray(0, 4)));
  });
  it('returns the same object when the grids are equal', () => {
    expect(resamplePosEmbed(pe, 1, [4, 4], [4, 4])).toBe(pe);
  });
  it('refuses a token count that does not match prefix + grid', () => {
    expect(() => resamplePosEmbed(pe, 2, [4, 4], [2, 2])).toThrow(/17 tokens, expected prefix 2 \+ grid 4×4 = 18/);
    expect(() => resamplePosEmbed({ ...pe, shape: [17, 2] }, 1, [4, 4], [2, 2])).toThrow(/\[1, tokens, D\]/);
    expect(() => resamplePosEmbed(pe, 1, [4, 4], [0, 2])).toThrow(/toGrid/);
  });
});

describe('resampleRelPosBias', () => {
  const rel = tensor([28, 2], table(28, 2)); // window 3×3: 5×5 distances + 3 class entries, 2 heads
  it('bicubic mode matches torch F.interpolate of the (2h−1)×(2w−1) map per head; class rows kept', () => {
    for (const [win, want] of [[[2, 2], TORCH.rel_bicubic_2x2], [[4, 4], TORCH.rel_bicubic_4x4]] as [Grid, number[]][]) {
      const out = resampleRelPosBias(rel, [3, 3], win, 'bicubic');
      const n = (2 * win[0] - 1) * (2 * win[1] - 1);
      expect(out.shape).toEqual([n + 3, 2]);
      close(out.data.subarray(0, n * 2), want, 2e-6);
      expect(Array.from(out.data.subarray(n * 2))).toEqual(Array.from(rel.data.subarray(25 * 2)));
    }
  });
  it('beit-geometric mode (default) matches the numpy re-derivation of timm’s BEiT filter', () => {
    for (const [win, want] of [[[2, 2], TORCH.rel_geometric_2x2], [[4, 4], TORCH.rel_geometric_4x4]] as [Grid, number[]][]) {
      const out = resampleRelPosBias(rel, [3, 3], win);
      const n = (2 * win[0] - 1) * (2 * win[1] - 1);
      close(out.data.subarray(0, n * 2), want, 1e-6);
      expect(Array.from(out.data.subarray(n * 2))).toEqual(Array.from(rel.data.subarray(25 * 2)));
    }
  });
  it('beit-geometric shrinking keeps the nearer distances: 5×5 → 3×3 is the central crop', () => {
    // q stays ≈ 1.01, so source offsets ±1 are exact targets: the result is the table at |dy|, |dx| ≤ 1.
    const out = resampleRelPosBias(rel, [3, 3], [2, 2]);
    for (let y = 0; y < 3; y++) {
      for (let x = 0; x < 3; x++) {
        for (let h = 0; h < 2; h++) expect(out.data[(y * 3 + x) * 2 + h]).toBeCloseTo(rel.data[((y + 1) * 5 + x + 1) * 2 + h], 6);
      }
    }
  });
  it('beit-geometric source offsets: 0, ±1, ±(1 + q), … with q in [1.01, 1.5]', () => {
    const c = beitGeometricCoords(27, 15); // 14×14 → 8×8 windows (224 px → 128 px at P = 16)
    expect(c.length).toBe(27);
    expect(c[13]).toBe(0);
    expect(c[14]).toBe(1);
    expect(c[15] - 1).toBeCloseTo(1.01, 5);
    expect(c[0]).toBe(-c[26]);
    const up = beitGeometricCoords(15, 27); // upsampling: q is tuned so that the outermost offset reaches 27 // 2 = 13
    expect(up[14]).toBeCloseTo(13, 3);
  });
  it('returns the same object for equal windows; refuses a wrong row count', () => {
    expect(resampleRelPosBias(rel, [3, 3], [3, 3])).toBe(rel);
    expect(() => resampleRelPosBias(rel, [4, 4], [3, 3])).toThrow(/28 rows, window 4×4 needs .* = 52/);
    expect(() => resampleRelPosBias(rel, [3, 3], [2, 2], 'nearest' as 'bicubic')).toThrow(/resize mode/);
  });
  it('relPosTableRows: (2·14 − 1)² + 3 = 732 for BEiT-B/16 at 224 px', () => {
    expect(relPosTableRows([14, 14])).toBe(732);
  });
});

describe('relativePositionIndex', () => {
  it('1×2 window by hand: rows = 1·3 + 3 = 6, cls entries 3, 4, 5', () => {
    // tokens: cls, a = (0, 0), b = (0, 1); index = (ya − yb + 0)·3 + (xa − xb + 1).
    expect(Array.from(relativePositionIndex(1, 2))).toEqual([5, 3, 3, 4, 1, 0, 4, 2, 1]);
  });
  it('2×2 window by hand', () => {
    // rows = 3·3 + 3 = 12; patch (y, x) pairs: index = (ya − yb + 1)·3 + (xa − xb + 1).
    const idx = relativePositionIndex(2, 2);
    const at = (i: number, j: number): number => idx[i * 5 + j];
    expect(at(0, 0)).toBe(11);
    expect([at(0, 1), at(0, 4)]).toEqual([9, 9]);
    expect([at(1, 0), at(4, 0)]).toEqual([10, 10]);
    expect(at(1, 1)).toBe(4); // same token: centre of the 3×3 distance map
    expect(at(1, 4)).toBe(0); // (0,0) vs (1,1): dy = dx = −1
    expect(at(4, 1)).toBe(8); // (1,1) vs (0,0): dy = dx = +1
    expect(at(2, 3)).toBe(2); // (0,1) vs (1,0): (−1 + 1)·3 + (1 + 1) = 2
    expect(at(3, 2)).toBe(6); // (1,0) vs (0,1): (1 + 1)·3 + (−1 + 1) = 6
  });
});
