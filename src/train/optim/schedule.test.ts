// Tests for the learning-rate schedule against hand-computed values, and the batch scaling rule.
import { describe, expect, it } from 'vitest';
import { lrAt, makeSchedule, scaleLr, scheduleAt } from './schedule.ts';

describe('lrAt', () => {
  // baseLr 3e-5, 20 warm-up steps, 120 steps in all: decay spans 100 steps.
  const cfg = { baseLr: 3e-5, totalSteps: 120, warmupSteps: 20 };

  it('warms up linearly from 0', () => {
    expect(lrAt(0, cfg)).toBe(0);
    expect(lrAt(10, cfg)).toBeCloseTo(1.5e-5, 18); // mid warm-up: 3e-5 · 10/20
    expect(lrAt(19, cfg)).toBeCloseTo(2.85e-5, 18);
    expect(lrAt(20, cfg)).toBeCloseTo(3e-5, 18); // end of warm-up: the peak
  });

  it('decays linearly to 0 and stays there', () => {
    expect(lrAt(70, cfg)).toBeCloseTo(1.5e-5, 18); // mid decay: p = 50/100
    expect(lrAt(95, cfg)).toBeCloseTo(0.75e-5, 18); // p = 3/4
    expect(lrAt(119, cfg)).toBeCloseTo(3e-7, 18); // last step: p = 99/100
    expect(lrAt(120, cfg)).toBe(0);
    expect(lrAt(10_000, cfg)).toBe(0);
  });

  it('decays to a floor, linearly or by cosine', () => {
    const f = { ...cfg, minLr: 1e-6 };
    expect(lrAt(70, f)).toBeCloseTo(1e-6 + 0.5 * 2.9e-5, 18);
    expect(lrAt(500, f)).toBe(1e-6);
    const c = { ...f, decay: 'cosine' as const };
    expect(lrAt(20, c)).toBeCloseTo(3e-5, 18);
    expect(lrAt(70, c)).toBeCloseTo(1e-6 + 0.5 * 2.9e-5, 18); // cos(π/2) = 0
    expect(lrAt(45, c)).toBeCloseTo(1e-6 + 2.9e-5 * (1 + Math.SQRT1_2) / 2, 18); // p = 1/4
    expect(lrAt(119, c)).toBeCloseTo(1e-6 + 2.9e-5 * (1 + Math.cos(0.99 * Math.PI)) / 2, 18);
    expect(lrAt(120, c)).toBe(1e-6);
  });

  it('uses METHOD defaults: 20 warm-up steps, floor 0, linear', () => {
    const d = { baseLr: 1, totalSteps: 220 };
    expect(lrAt(5, d)).toBe(0.25);
    expect(lrAt(120, d)).toBe(0.5);
  });

  it('handles no warm-up and warm-up as long as the run', () => {
    expect(lrAt(0, { baseLr: 2, totalSteps: 4, warmupSteps: 0 })).toBe(2);
    expect(lrAt(3, { baseLr: 2, totalSteps: 4, warmupSteps: 0 })).toBe(0.5);
    expect(lrAt(9, { baseLr: 2, totalSteps: 10, warmupSteps: 20 })).toBe(0.9);
    expect(lrAt(10, { baseLr: 2, totalSteps: 10, warmupSteps: 20 })).toBe(1); // still warming up
    expect(lrAt(20, { baseLr: 2, totalSteps: 10, warmupSteps: 20 })).toBe(0);
  });

  it('refuses bad steps and configs', () => {
    expect(() => lrAt(-1, cfg)).toThrow(/step -1/);
    expect(() => lrAt(1.5, cfg)).toThrow(/step 1.5/);
    expect(() => lrAt(0, { ...cfg, totalSteps: 0 })).toThrow(/totalSteps 0/);
    expect(() => lrAt(0, { ...cfg, minLr: 1 })).toThrow(/minLr 1/);
    expect(() => makeSchedule({ ...cfg, baseLr: NaN })).toThrow(/baseLr NaN/);
  });

  it('composes as number | (step) => number', () => {
    const s = makeSchedule(cfg);
    expect(scheduleAt(s, 70)).toBe(lrAt(70, cfg));
    expect(scheduleAt(1e-4, 70)).toBe(1e-4);
  });
});

describe('scaleLr', () => {
  it('scales linearly with the batch (reference batch 16)', () => {
    expect(scaleLr(3e-5, 16)).toBe(3e-5);
    expect(scaleLr(3e-5, 2)).toBeCloseTo(3.75e-6, 20);
    expect(scaleLr(1e-3, 4, 8)).toBe(5e-4);
    expect(() => scaleLr(3e-5, 0)).toThrow(/batch 0/);
  });
});
