// Tests for the seeded PRNG: determinism, range, rough uniformity, fork independence.
import { describe, expect, it } from 'vitest';
import { makeRng, mixSeed } from './rng.ts';

describe('makeRng', () => {
  it('repeats its sequence for a seed and differs between seeds', () => {
    const a = makeRng(42), b = makeRng(42), c = makeRng(43);
    const sa = Array.from({ length: 20 }, () => a.next());
    expect(Array.from({ length: 20 }, () => b.next())).toEqual(sa);
    expect(Array.from({ length: 20 }, () => c.next())).not.toEqual(sa);
  });

  it('stays in [0, 1) with mean ≈ ½ and ints cover 0…n−1 evenly', () => {
    const r = makeRng(7);
    let sum = 0, outside = 0;
    const hist = new Array(6).fill(0);
    for (let i = 0; i < 60000; i++) {
      const v = r.next();
      if (!(v >= 0 && v < 1)) outside++;
      sum += v;
      hist[r.int(6)]++;
    }
    expect(outside).toBe(0);
    expect(sum / 60000).toBeCloseTo(0.5, 2);
    for (const h of hist) expect(Math.abs(h - 10000)).toBeLessThan(400); // ~4 σ
  });

  it('uniform(a, b), chance(p) and fork behave', () => {
    const r = makeRng(1);
    for (let i = 0; i < 1000; i++) {
      const u = r.uniform(-0.1, 0.1);
      expect(u >= -0.1 && u < 0.1).toBe(true);
    }
    let hits = 0;
    for (let i = 0; i < 20000; i++) if (r.chance(0.1)) hits++;
    expect(Math.abs(hits / 20000 - 0.1)).toBeLessThan(0.01);
    expect(r.chance(0)).toBe(false);
    const f1 = makeRng(5).fork(), f2 = makeRng(5).fork();
    expect(f1.next()).toBe(f2.next());
    expect(() => r.int(0)).toThrow(/integer ≥ 1/);
    expect(() => makeRng(NaN)).toThrow(/finite/);
  });

  it('mixSeed spreads neighbouring seeds', () => {
    expect(mixSeed(0)).not.toBe(mixSeed(1));
    expect(makeRng(0).next()).not.toBeCloseTo(makeRng(1).next(), 3);
  });
});
