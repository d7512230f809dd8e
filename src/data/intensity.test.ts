// Tests for intensity presets, exact percentiles and normalisation.
import { describe, expect, it } from 'vitest';
import type { Volume } from '../nifti/types.ts';
import {
  channelData, computeRange, fromCentreWidth, normalize, percentiles, PRESETS, suggestPreset, toCentreWidth,
} from './intensity.ts';

/** Deterministic shuffle (LCG-driven Fisher–Yates). */
function shuffled(n: number, seed = 12345): Float32Array {
  const a = Float32Array.from({ length: n }, (_, i) => i);
  let s = seed;
  for (let i = n - 1; i > 0; i--) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const j = s % (i + 1);
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

/** Brute-force numpy 'linear' percentile, for cross-checks. */
function reference(data: ArrayLike<number>, p: number): number {
  const x = Float64Array.from(data).sort();
  const h = ((x.length - 1) * p) / 100;
  const lo = Math.floor(h);
  return x[lo] + (h - lo) * (x[Math.min(lo + 1, x.length - 1)] - x[lo]);
}

function volume(data: Volume['data'], name = 'v.nii.gz', channels = 1): Volume {
  const n = data.length / channels;
  return {
    name, dims: [n, 1, 1], channels, data, datatypeCode: 16, affine: new Float64Array([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]),
    affineSource: 'sform', spacing: [1, 1, 1], nonFinite: 0, axcodes: 'RAS', description: '',
  };
}

describe('percentiles', () => {
  it('matches the linear definition on 0..999 shuffled (h = 999·p/100)', () => {
    // 0.5 %: h = 4.995 → 4 + 0.995·1 = 4.995; 99.5 %: h = 994.005 → 994.005.
    const [a, b] = percentiles(shuffled(1000), [0.5, 99.5]);
    expect(a).toBeCloseTo(4.995, 12);
    expect(b).toBeCloseTo(994.005, 12);
    expect(percentiles(new Int32Array(shuffled(1000)), [0, 50, 100])).toEqual([0, 499.5, 999]);
  });

  it('matches numpy', () => {
    // Reference values from Debian's /usr/bin/python3 (numpy 1.24.2): np.percentile(x, ps) with the default method.
    const ints = new Int16Array([3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5]);
    const got = percentiles(ints, [0, 0.5, 25, 50, 90, 99.5, 100]);
    [1.0, 1.0, 2.5, 4.0, 6.0, 8.849999999999998, 9.0].forEach((v, i) => expect(got[i]).toBeCloseTo(v, 10));

    const floats = new Float64Array([-1.5, 2.25, 1e3, 0.1, -7, 3.3333]);
    const got2 = percentiles(floats, [10, 33, 66.6, 99.5]);
    [-4.25, -0.45999999999999985, 2.6074889999999997, 975.0833324999996].forEach((v, i) => expect(got2[i]).toBeCloseTo(v, 9));

    // c = np.array([(i*i) % 1009 for i in range(5000)], dtype=np.float32) - np.float32(500.25)
    const c = Float32Array.from({ length: 5000 }, (_, i) => ((i * i) % 1009) - 500.25);
    const got3 = percentiles(c, [0.5, 1, 50, 99, 99.5]);
    [-497.25, -495.25, 4.75, 502.7600000000002, 505.75].forEach((v, i) => expect(got3[i]).toBeCloseTo(v, 9));
  });

  it('is exact on large float data that needs histogram refinement', () => {
    const n = 300_000;
    const data = new Float32Array(n);
    let s = 7;
    for (let i = 0; i < n; i++) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      // heavy-tailed: most values near 0, a few huge, so the first histogram is lopsided
      data[i] = (s / 2 ** 32) ** 6 * 1e6 - 3;
    }
    data[17] = -1e9; // an outlier that squeezes everything into one top-level bin
    const ps = [0, 0.5, 1, 25, 50, 99.5, 100];
    const got = percentiles(data, ps);
    ps.forEach((p, i) => expect(got[i]).toBe(reference(data, p)));
  });

  it('is exact on wide-range integers and ignores non-finite values', () => {
    const wide = Int32Array.from(shuffled(5000), (v) => v * 1000 - 2_000_000);
    expect(percentiles(wide, [0.5, 99.5])).toEqual([reference(wide, 0.5), reference(wide, 99.5)]);
    const hu = Int16Array.from(shuffled(3000), (v) => v - 1024);
    expect(percentiles(hu, [0.5, 50, 99.5])).toEqual([reference(hu, 0.5), reference(hu, 50), reference(hu, 99.5)]);
    const f = new Float32Array([NaN, 1, Infinity, 2, -Infinity, 3]);
    expect(percentiles(f, [0, 50, 100])).toEqual([1, 2, 3]);
  });

  it('handles a single value, constants and bad input', () => {
    expect(percentiles(new Float32Array([7]), [0.5, 99.5])).toEqual([7, 7]);
    expect(percentiles(new Float32Array(1000).fill(-3.5), [0.5, 99.5])).toEqual([-3.5, -3.5]);
    expect(() => percentiles(new Float32Array(0), [50])).toThrow(/no finite values/);
    expect(() => percentiles(new Float32Array([1]), [101])).toThrow(/101 is not a percentile/);
  });

  it('is exact on a 512×512×300 int16 CT (checked against a plain counting pass) and a 181×217×181 float32 MRI', () => {
    const ct = new Int16Array(512 * 512 * 300);
    for (let i = 0; i < ct.length; i++) ct[i] = ((i * 2654435761) >>> 20) - 1024;
    // Independent reference: count every int16 value, then numpy's linear rule on the implied sorted order.
    const counts = new Float64Array(65536);
    for (let i = 0; i < ct.length; i++) counts[ct[i] + 32768]++;
    const kth = (k: number) => { let acc = 0; for (let v = 0; v < 65536; v++) { acc += counts[v]; if (acc > k) return v - 32768; } return NaN; };
    const ref = (p: number) => { const h = ((ct.length - 1) * p) / 100, f = Math.floor(h); return kth(f) + (h - f) * (kth(f + 1) - kth(f)); };
    const [p1, p2] = percentiles(ct, [0.5, 99.5]);
    expect(p1).toBeCloseTo(ref(0.5), 9);
    expect(p2).toBeCloseTo(ref(99.5), 9);
    const mri = new Float32Array(181 * 217 * 181);
    for (let i = 0; i < mri.length; i++) mri[i] = Math.abs(Math.sin(i * 0.001)) * 900.5;
    const [lo, hi] = percentiles(mri, [0.5, 99.5]);
    expect(lo).toBeLessThan(hi);
  });
});

describe('presets and computeRange', () => {
  it('exposes the CT windows, also as centre/width', () => {
    expect(computeRange('ct-abdomen', new Int16Array(1))).toEqual({ low: -175, high: 250 });
    expect(toCentreWidth(PRESETS['ct-lung'] as { low: number; high: number })).toEqual({ centre: -600, width: 1500 });
    expect(toCentreWidth({ low: 0, high: 80 })).toEqual({ centre: 40, width: 80 });
    expect(fromCentreWidth(400, 1500)).toEqual({ low: -350, high: 1150 });
  });

  it('computes minmax and percentile ranges, optionally for one channel', () => {
    const data = new Float32Array([...shuffled(1000), ...new Float32Array(1000).fill(5)]);
    expect(computeRange('minmax', data)).toEqual({ low: 0, high: 999 });
    expect(computeRange('minmax', data, { channel: 1, channels: 2 })).toEqual({ low: 5, high: 5 });
    const r = computeRange('mri-percentile', data, { channel: 0, channels: 2 });
    expect(r.low).toBeCloseTo(4.995, 12);
    expect(r.high).toBeCloseTo(994.005, 12);
    expect(() => computeRange('minmax', data, { channel: 2, channels: 2 })).toThrow(/channel 2 requested/);
    expect(channelData(volume(data, 'two.nii.gz', 2), 1)[0]).toBe(5);
  });
});

describe('normalize', () => {
  it('maps CT window edges to 0, 1 and the centre to 0.5, clipping outside', () => {
    const out = normalize(new Int16Array([-175, 250, 37.5, -1000, 3000]), PRESETS['ct-abdomen'] as { low: number; high: number });
    expect(Array.from(out.subarray(0, 2))).toEqual([0, 1]);
    expect(Array.from(out.subarray(3))).toEqual([0, 1]);
    expect(normalize(new Float32Array([37.5]), { low: -175, high: 250 })[0]).toBe(0.5);
  });

  it('does not divide by zero on constant volumes', () => {
    const flat = new Float32Array(10).fill(3);
    const r = computeRange('mri-percentile', flat);
    expect(r).toEqual({ low: 3, high: 3 });
    expect(Array.from(normalize(flat, r))).toEqual(new Array(10).fill(0));
    expect(Array.from(normalize(new Float32Array([2, 3, 4]), r))).toEqual([0, 0, 1]);
  });
});

describe('suggestPreset', () => {
  it('suggests a CT window for HU-like data and percentiles for MRI', () => {
    expect(suggestPreset(volume(new Int16Array([-1024, -1000, 0, 40, 1200]), 'ct.nii.gz')).preset).toBe('ct-abdomen');
    expect(suggestPreset(volume(new Float32Array([-1024, -3, 0.5, 40, 1200]), 'resampled_ct.nii.gz')).preset).toBe('ct-abdomen');
    const outlier = new Float32Array(1000).fill(100);
    outlier[0] = -1000;
    expect(suggestPreset(volume(outlier, 'one_outlier.nii.gz')).preset).toBe('mri-percentile');
    const mri = suggestPreset(volume(new Float32Array([0, 12.5, 300.25, 800]), 't1.nii.gz'));
    expect(mri.preset).toBe('mri-percentile');
    expect(mri.reason).toMatch(/t1\.nii\.gz/);
    expect(suggestPreset(volume(new Float32Array([-2.1, 0.3, 3.7]), 'zscored.nii.gz')).preset).toBe('mri-percentile');
  });
});
