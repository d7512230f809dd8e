// The volume model learns with the app's own defaults (issue 16): the micro 3D UNETR from scratch on the bundled ITK
// head, every setting from DEFAULT_TRAIN_CONFIG + volumeTrainDefaults('micro') (the preset the app offers on wasm),
// wasm as the app; the first 100 steps of that default run. Before the fixes the held-out Dice of the tissue classes
// (label values 2…6; 1 is the air) stayed near 0: half the crops came from a 9-slice piece of air and padding, and
// the held-out slab was 97 % air (bench/RESULTS.md "3D UNETR training").
import { beforeAll, describe, expect, it } from 'vitest';
import { chooseBackend } from '../../src/train/backend.ts';
import { makeRun } from '../../src/train/anyRun.ts';
import { defaultVolumePreset, volumeModelConfig, volumeTrainDefaults } from '../../src/train/volumeDefaults.ts';
import { DEFAULT_TRAIN_CONFIG, type CaseData } from '../../src/workers/train.protocol.ts';
import { MICRO_LABELS, microSetup } from '../support/microRun.ts';

let cases: CaseData[];

beforeAll(async () => {
  await chooseBackend('wasm');
  ({ cases } = await microSetup());
});

const tissue = (dice: number[]) => dice.slice(2).reduce((a, d) => a + d, 0) / (dice.length - 2);

describe('the volume model learns with the app defaults (wasm)', () => {
  it('raises the held-out Dice of the tissue classes within the first 100 steps of the micro default run', { timeout: 180_000 }, async () => {
    const preset = defaultVolumePreset({ name: 'wasm', software: false });
    expect(preset).toBe('micro');
    const cfg = { ...DEFAULT_TRAIN_CONFIG, ...volumeTrainDefaults(preset) };
    expect(cfg.valEvery).toBe(50);
    const vals: Array<{ step: number; dice: number[] }> = [];
    const run = makeRun({ kind: 'volume', config: volumeModelConfig(preset, 1, 7) }, cases, 7, cfg, MICRO_LABELS, (e) => {
      if (e.type === 'validation') vals.push({ step: e.step, dice: e.dice });
      if (e.type === 'validation' && e.step === 100) run.stop();
    });
    await run.run();
    run.dispose();
    expect(vals.map((v) => v.step)).toEqual([50, 100]);
    const [at50, at100] = vals.map((v) => tissue(v.dice));
    console.log(`held-out Dice of classes 2…6: ${at50.toFixed(3)} at step 50, ${at100.toFixed(3)} at step 100 (per class ${vals[1].dice.map((d) => d.toFixed(2)).join(' ')})`);
    expect(at100).toBeGreaterThan(0.15);
    expect(at100).toBeGreaterThan(at50 + 0.04);
  });
});
