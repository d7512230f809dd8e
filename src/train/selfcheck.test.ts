// Backend self-check on tfjs's cpu backend: cpu vs cpu gives diffs 0, nothing leaks, the backend is restored; a
// perturbed outcome (one gradient, the loss, NaN) is caught and named; the comparison's tolerances and failures.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { TOLERANCES, compareSteps, maxAbsDiff, microCheckModel, runStep, selfCheck, type StepOutcome } from './selfcheck.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

const clone = (o: StepOutcome): StepOutcome => ({
  ...o,
  logits: o.logits.slice(),
  grads: new Map([...o.grads].map(([k, v]) => [k, v.slice()])),
  after: new Map([...o.after].map(([k, v]) => [k, v.slice()])),
});

describe('selfCheck on cpu', () => {
  it('cpu vs cpu: ok, every diff 0, no tensor left behind, cpu still active', async () => {
    const before = tf.memory().numTensors;
    const r = await selfCheck();
    expect(r.backend).toBe('cpu');
    expect(r.ok).toBe(true);
    expect(r.diffs).toEqual({ logits: 0, loss: 0, grads: 0, params: 0 });
    expect(r.failures).toEqual([]);
    expect(r.tolerances).toEqual(TOLERANCES);
    expect(r.worst).toBe('cls_token'); // all equal: the first parameter
    expect(r.ms).toBeGreaterThan(0);
    expect(r.stepMs.backend).toBeGreaterThan(0);
    expect(tf.memory().numTensors).toBe(before);
    expect(tf.getBackend()).toBe('cpu');
  });

  it('a tampered gradient fails the check and is named', async () => {
    const before = tf.memory().numTensors;
    const r = await selfCheck({
      tamper: (o) => {
        const g = o.grads.get('blocks.1.attn.qkv.weight')!;
        g[5] += 0.05 * (Math.abs(g[5]) + 1e-2);
      },
    });
    expect(r.ok).toBe(false);
    expect(r.worst).toBe('blocks.1.attn.qkv.weight');
    expect(r.diffs.grads).toBeGreaterThan(TOLERANCES.grads);
    expect(r.diffs.logits).toBe(0);
    expect(r.failures).toEqual([expect.stringMatching(/^grads of blocks\.1\.attn\.qkv\.weight: /)]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('an input off by 0.1 on one backend moves logits, loss, gradients and parameters: all four fail', async () => {
    const model = microCheckModel();
    const ref = await runStep('cpu', model);
    const got = await runStep('cpu', { ...model, x: model.x.map((v) => v + 0.1) });
    const c = compareSteps(ref, got);
    expect(c.ok).toBe(false);
    expect(c.diffs.logits).toBeGreaterThan(TOLERANCES.logits);
    expect(c.diffs.loss).toBeGreaterThan(TOLERANCES.loss);
    expect(c.diffs.grads).toBeGreaterThan(TOLERANCES.grads);
    expect(c.diffs.params).toBeGreaterThan(TOLERANCES.params);
    expect(c.failures.map((f) => f.split(/[ :]/)[0])).toEqual(['logits', 'loss', 'grads', 'params']);
  });

  it('the AdamW step applies the gradients it is given (the optimiser is compared on the same gradients)', async () => {
    const model = microCheckModel();
    const ref = await runStep('cpu', model);
    const flipped = new Map([...ref.grads].map(([k, g]) => [k, g.map((v) => -v)]));
    const c = compareSteps(ref, await runStep('cpu', model, flipped));
    expect(c.diffs.grads).toBe(0);
    expect(c.diffs.params).toBeGreaterThan(TOLERANCES.params);
    const partial = new Map([...ref.grads].filter(([k]) => k !== 'pos_embed'));
    const before = tf.memory().numTensors;
    await expect(runStep('cpu', model, partial)).rejects.toThrow(/no reference gradient for 'pos_embed'/);
    expect(tf.memory().numTensors).toBe(before); // nothing leaks on the error path either
  });
});

describe('compareSteps', () => {
  let ref: StepOutcome;
  beforeAll(async () => { ref = await runStep('cpu', microCheckModel()); });

  it('a NaN anywhere fails (NaN is never within tolerance)', () => {
    const got = clone(ref);
    got.after.get('decode_head.conv_seg.bias')![0] = NaN;
    const c = compareSteps(ref, got);
    expect(c.ok).toBe(false);
    expect(c.diffs.params).toBeNaN();
    expect(c.failures[0]).toMatch(/^params after AdamW \(decode_head\.conv_seg\.bias\): NaN/);
  });

  it('a NaN loss fails and says both values', () => {
    const got = clone(ref);
    got.loss = NaN;
    const c = compareSteps(ref, got);
    expect(c.ok).toBe(false);
    expect(c.failures).toEqual([expect.stringMatching(/^loss: NaN > 1\.0e-4 \(NaN vs cpu \d/)]);
  });

  it('a missing gradient is a failure that names it', () => {
    const got = clone(ref);
    got.grads.delete('pos_embed');
    const c = compareSteps(ref, got);
    expect(c.ok).toBe(false);
    expect(c.failures[0]).toMatch(/missing pos_embed/);
  });

  it('differences just under the tolerances pass', () => {
    const got = clone(ref);
    const scale = Math.max(1, ref.logits.reduce((m, v) => Math.max(m, Math.abs(v)), 0));
    got.logits[0] += 0.5 * TOLERANCES.logits * scale;
    got.loss += 0.5 * TOLERANCES.loss * Math.max(1, Math.abs(ref.loss));
    const c = compareSteps(ref, got);
    expect(c.ok).toBe(true);
    expect(c.diffs.logits).toBeCloseTo(0.5 * TOLERANCES.logits, 6);
  });

  it('maxAbsDiff: NaN sticks, a length mismatch is Infinity', () => {
    expect(maxAbsDiff(Float32Array.of(1, NaN, 3), Float32Array.of(1, 2, 9))).toBeNaN();
    expect(maxAbsDiff(Float32Array.of(1), Float32Array.of(1, 2))).toBe(Infinity);
    expect(maxAbsDiff(Float32Array.of(1, 2), Float32Array.of(1.5, 2))).toBe(0.5);
  });
});

describe('selfCheck errors', () => {
  it('names a backend that InflateSeg does not train on', async () => {
    await expect(selfCheck({ backend: 'tpu' as never })).rejects.toThrow(/selfCheck: backend 'tpu' is not one InflateSeg trains on/);
  });

  it('a backend missing here (webgl in Node) is an error, and cpu stays active', async () => {
    await expect(selfCheck({ backend: 'webgl' })).rejects.toThrow(/webgl/);
    expect(tf.getBackend()).toBe('cpu');
  });
});
