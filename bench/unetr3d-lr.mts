// Learning of the volume model's short runs (issue 16, bench/RESULTS.md "3D UNETR training"): a preset from scratch
// on the bundled ITK head with the app's defaults for that preset (src/train/volumeDefaults.ts: batch, lr, schedule,
// augmentation, validation interval), seed 0, wasm; the held-out slab's Dice per class by sliding window at every
// validation, for each learning rate given (default: the preset's own).
// Run: node --import tsx bench/unetr3d-lr.mts [steps|default] [lr,lr,…|default] [micro|browser]
import { chooseBackend } from '../src/train/backend.ts';
import { makeRun } from '../src/train/anyRun.ts';
import { isVolumePreset, volumeModelConfig, volumeTrainDefaults } from '../src/train/volumeDefaults.ts';
import { MICRO_LABELS, microSetup } from '../test/support/microRun.ts';
import { DEFAULT_TRAIN_CONFIG } from '../src/workers/train.protocol.ts';

const preset = process.argv[4] ?? 'micro';
if (!isVolumePreset(preset)) throw new Error(`unetr3d-lr: unknown preset '${preset}'`);
const defaults = volumeTrainDefaults(preset);
const steps = !process.argv[2] || process.argv[2] === 'default' ? defaults.steps : Number(process.argv[2]);
const lrs = !process.argv[3] || process.argv[3] === 'default' ? [defaults.lr] : process.argv[3].split(',').map(Number);
await chooseBackend('wasm');
const { cases } = await microSetup();
for (const lr of lrs) {
  const t0 = performance.now();
  const cfg = { ...DEFAULT_TRAIN_CONFIG, ...defaults, steps, lr, seed: 0 };
  console.log(`${preset}, lr ${lr}, ${steps} steps, batch ${cfg.batch}, validation every ${cfg.valEvery}`);
  const run = makeRun({ kind: 'volume', config: volumeModelConfig(preset, 1, 7) }, cases, 7, cfg, MICRO_LABELS, (e) => {
    if (e.type === 'validation') {
      const s = (performance.now() - t0) / 1000;
      console.log(`  step ${e.step}: mean Dice ${e.meanDice.toFixed(3)}; per class ${e.dice.map((d) => d.toFixed(2)).join(' ')} (${s.toFixed(0)} s)`);
    }
  });
  await run.run();
  run.dispose();
}
