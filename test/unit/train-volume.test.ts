// The volume-based model's run in Node (issue 16): 3D UNETR micro (32³ crops) from scratch on the bundled ITK head,
// trained on seeded crops with Dice + CE and AdamW, validated by sliding window on the held-out slab (wasm, as the
// app). Memory stays flat; the checkpoint (config.model 'unetr3d', MONAI names, optimiser state) round-trips and a
// run resumed from it takes exactly the steps of the uninterrupted run; window-only readers refuse it naming the file.
import { beforeAll, describe, expect, it } from 'vitest';
import { chooseBackend } from '../../src/train/backend.ts';
import { makeRun, summarizeAny } from '../../src/train/anyRun.ts';
import { VolumeTrainingRun } from '../../src/train/volumeRun.ts';
import { volumeModelConfig } from '../../src/train/volumeDefaults.ts';
import { checkpointName, decodeAnyCheckpoint, decodeModelCheckpoint, isVolumeCheckpoint } from '../../src/weights/checkpoint.ts';
import { MICRO_LABELS, microConfig, microSetup } from '../support/microRun.ts';
import type { CaseData, TrainConfig, TrainEvent } from '../../src/workers/train.protocol.ts';

let cases: CaseData[];
const LABELS = { ...MICRO_LABELS, source: 'UNETR 3D micro (scratch)' };
const base: TrainConfig = microConfig({ steps: 4, warmupSteps: 0, valEvery: 2, lr: 1e-3, weightDecay: 1e-5, clip: 0, autosave: true });

beforeAll(async () => {
  await chooseBackend('wasm');
  ({ cases } = await microSetup());
});

const ofType = <T extends TrainEvent['type']>(events: TrainEvent[], type: T) => events.filter((e) => e.type === type) as Array<Extract<TrainEvent, { type: T }>>;

describe('VolumeTrainingRun (wasm backend)', () => {
  it('trains from scratch with flat memory, validates on the held-out slab, checkpoints and resumes exactly', { timeout: 240_000 }, async () => {
    const events: TrainEvent[] = [];
    const run = makeRun({ kind: 'volume', config: volumeModelConfig('micro', 1, 7) }, cases, 7, base, LABELS, (e) => events.push(e));
    expect(run).toBeInstanceOf(VolumeTrainingRun);
    expect(run.notes[0]).toMatch(/only labelled case: validation is the slab of axial slices \d+…\d+/);
    await run.run();
    const steps = ofType(events, 'step');
    expect(steps.map((s) => s.step)).toEqual([1, 2, 3, 4]);
    expect(steps.every((s) => Number.isFinite(s.loss))).toBe(true);
    expect(new Set(steps.slice(1).map((s) => s.numTensors)).size).toBe(1);
    const vals = ofType(events, 'validation');
    expect(vals.map((v) => v.step)).toEqual([2, 4]);
    expect(vals[0].dice).toHaveLength(7);
    expect(vals[1].meanDice).toBeGreaterThan(0);
    const split = ofType(events, 'split')[0];
    expect(split.axis).toBe(2);
    const held = split.heldOut.head as number[];
    expect(held.length).toBe(Math.round(0.2 * cases[0].dims[2]));

    // --- the checkpoint: config.model 'unetr3d', MONAI names, optimiser state; window-only readers refuse it -------
    const saved = ofType(events, 'checkpoint').filter((c) => c.reason === 'autosave');
    expect(saved.map((c) => c.summary.step)).toEqual([2, 4]);
    expect(saved[0].name).toBe('unetr3d_custom_32x32x32_step2.safetensors');
    const mid = await decodeAnyCheckpoint(saved[0].bytes, saved[0].name);
    expect(isVolumeCheckpoint(mid)).toBe(true);
    if (!isVolumeCheckpoint(mid)) return;
    expect(mid.meta.config).toEqual(volumeModelConfig('micro', 1, 7));
    expect(mid.meta.orientation).toEqual({ space: 'RAS', axis: 2 });
    expect('inflation' in mid.meta).toBe(false);
    expect([...mid.weights.keys()]).toEqual(expect.arrayContaining(['vit.patch_embedding.position_embeddings', 'vit.blocks.0.attn.qkv.weight', 'encoder1.layer.conv1.conv.weight', 'decoder2.transp_conv.conv.weight', 'out.conv.conv.weight']));
    expect(mid.optim).not.toBeNull();
    expect(checkpointName(mid.meta)).toBe(saved[0].name);
    expect(summarizeAny(mid, 'x').params).toBe([...run.params.values()].reduce((a, v) => a + v.size, 0));
    await expect(decodeModelCheckpoint(saved[0].bytes, 'mid.safetensors', 'export-torch takes window models')).rejects.toThrow(/mid\.safetensors: a volume-based model \(3D UNETR, preset custom\): export-torch takes window models/);

    // --- resumed at step 2, steps 3 and 4 are those of the uninterrupted run ------------------------------------
    const again: TrainEvent[] = [];
    const resumed = makeRun({ kind: 'model', checkpoint: mid }, cases, 7, { ...base, autosave: false }, LABELS, (e) => again.push(e));
    expect(resumed).toBeInstanceOf(VolumeTrainingRun);
    await resumed.run();
    expect(ofType(again, 'step').map((s) => s.loss)).toEqual(steps.slice(2).map((s) => s.loss));
    expect(ofType(again, 'validation').map((v) => v.dice)).toEqual([vals[1].dice]);
    run.dispose();
    resumed.dispose();
  });

  it('pauses, resumes and stops between steps', { timeout: 120_000 }, async () => {
    const events: TrainEvent[] = [];
    const run = makeRun({ kind: 'volume', config: volumeModelConfig('micro', 1, 7) }, cases, 7, { ...base, steps: 10, valEvery: 0, autosave: false }, LABELS, (e) => {
      events.push(e);
      if (e.type === 'step' && e.step === 1) { run.pause(); setTimeout(() => run.resume(), 100); }
      if (e.type === 'step' && e.step === 2) run.stop();
    });
    await run.run();
    expect(ofType(events, 'state').map((e) => e.state)).toEqual(['running', 'paused', 'running', 'stopped']);
    expect(ofType(events, 'step').map((e) => e.step)).toEqual([1, 2]);
    expect(ofType(events, 'validation')).toHaveLength(0);
    expect((await run.checkpoint(false)).meta.step).toBe(2);
    run.dispose();
  });
});
