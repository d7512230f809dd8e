// Learning rate of the volume model's short runs (issue 16, bench/RESULTS.md "3D UNETR training"): the micro preset
// from scratch on the bundled ITK head (wasm, batch 2, Dice + CE, AdamW wd 1e-5, no warm-up, linear decay), the
// held-out slab's mean Dice by sliding window every 50 steps, for MONAI's lr 1e-4 and the window model's 1e-3.
// Run: node --import tsx bench/unetr3d-lr.mts [steps] [lr,lr,…]
import { chooseBackend } from '../src/train/backend.ts';
import { makeRun } from '../src/train/anyRun.ts';
import { volumeModelConfig, volumeTrainDefaults } from '../src/train/volumeDefaults.ts';
import { MICRO_LABELS, microSetup } from '../test/support/microRun.ts';
import { DEFAULT_TRAIN_CONFIG } from '../src/workers/train.protocol.ts';

const steps = Number(process.argv[2] ?? 150);
const lrs = (process.argv[3] ?? '1e-4,1e-3').split(',').map(Number);
await chooseBackend('wasm');
const { cases } = await microSetup();
for (const lr of lrs) {
  const t0 = performance.now();
  const dice: string[] = [];
  let last: number[] = [];
  const cfg = { ...DEFAULT_TRAIN_CONFIG, ...volumeTrainDefaults('micro'), steps, valEvery: 50, lr, seed: 0 };
  const run = makeRun({ kind: 'volume', config: volumeModelConfig('micro', 1, 7) }, cases, 7, cfg, MICRO_LABELS, (e) => {
    if (e.type === 'validation') { dice.push(`${e.step}: ${e.meanDice.toFixed(3)}`); last = e.dice; }
  });
  await run.run();
  console.log(`lr ${lr}: mean Dice ${dice.join(', ')}; per class at the end ${last.map((d) => d.toFixed(2)).join(' ')} (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  run.dispose();
}
