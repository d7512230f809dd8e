// Runs: pure summaries, recording in the store (once per run, continued runs, evaluation attached to the right
// record), and the Compare strategies orchestration against fake training and conversion actions.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { getState, setState, initialTrain, type AppState, type RunRecord } from './store.ts';
import { clearRuns, currentRecord, deleteRun, diceCurve, nextRunId, recordRun, renameRun, runEncoder, runLabel, summarizeRun } from './runs.ts';
import { compareBlocker, compareProgress, compareStrategies, stopCompare, useCompare, type CompareState } from './compare.ts';
import type { ConvertedEncoder } from '../workers/weights.protocol.ts';
import type { InflationStrategy } from '../weights/types.ts';
import { useModelChoice } from './volume.ts';

// --- fakes for the worker-facing actions (the compare orchestration drives them) --------------------------------
const fake = vi.hoisted(() => ({
  converted: [] as string[],
  /** How each fake run ends after its steps: by default 'done'. */
  ending: [] as Array<'done' | 'stopped' | 'failed' | 'refused'>,
  stepsPerRun: 3,
  lastSource: 'timm_vit.safetensors' as string | null,
}));

vi.mock('./model.ts', async () => {
  const { setState: set } = await import('./store.ts');
  return {
    lastConversionSource: () => fake.lastSource,
    cancelConversion: () => {},
    convertAgain: async (patch: { strategy: InflationStrategy }) => {
      await new Promise((r) => setTimeout(r, 1));
      fake.converted.push(patch.strategy);
      set((s) => ({ modelOptions: { ...s.modelOptions, ...patch }, encoder: encoderWith(patch.strategy, patch.strategy === '2d' ? 1 : s.modelOptions.T) }));
      return true;
    },
  };
});

vi.mock('./train.ts', async () => {
  const { getState: get, setState: set } = await import('./store.ts');
  const { recordRun: record } = await import('./runs.ts');
  const { notify } = await import('./actions.ts');
  const patchRun = (p: Partial<AppState['run']>) => set((s) => ({ run: { ...s.run, ...p } }));
  // As the training actions do on the worker's 'state' event: state first, then recordRun, in one task.
  const end = (state: 'done' | 'stopped' | 'failed') => { patchRun({ state }); record(); };
  let stopped = false;
  const start = () => {
      const ending = fake.ending.shift() ?? 'done';
      set((s) => ({ run: { state: 'starting', totalSteps: s.trainConfig.steps, steps: [], validations: [], notes: [] } }));
      stopped = false;
      const tick = (k: number) => setTimeout(() => {
        if (ending === 'refused') { notify('error', 'a run is already in progress; stop it first'); return; }
        if (stopped) { end('stopped'); return; }
        if (k > fake.stepsPerRun) { end(ending); return; }
        const run = get().run;
        patchRun({ state: 'running', steps: [...run.steps, { step: k, loss: 1 / k, lr: 1e-3, ms: 10 * k, samplesPerSec: 1, numTensors: 1, numBytes: 1 }] });
        if (k === fake.stepsPerRun) patchRun({ validations: [{ step: k, dice: [1, 0.5], meanDice: 0.5 }] });
        tick(k + 1);
      }, 1);
      tick(1);
      return null;
  };
  return { stopTraining: () => { stopped = true; }, startTraining: start, startVolumeTraining: start };
});

function encoderWith(strategy: string, T: number): ConvertedEncoder {
  const spec = { family: 'vit', embedDim: 24 } as unknown as ConvertedEncoder['spec'];
  return {
    source: 'timm_vit.safetensors', format: 'safetensors', spec2d: spec, spec, tensors: [], params: 0, notes: [], ms: 0,
    options: { strategy: strategy as InflationStrategy, T, inChans: 1, imgSize: 32 }, report: { used: 0, renamed: 0, dropped: [] },
  };
}

const step = (k: number, ms = 10) => ({ step: k, loss: 1, lr: 1e-3, ms, samplesPerSec: 1, numTensors: 1, numBytes: 1 });

function record(patch: Partial<RunRecord> = {}): RunRecord {
  return {
    id: 1, label: 'x', state: 'done', encoder: { source: 's', strategy: 'center', T: 5, imgSize: 64 }, config: initialTrain().trainConfig,
    steps: [step(1, 900), step(2, 10), step(3, 20)], validations: [{ step: 2, dice: [1, 0.2], meanDice: 0.2 }, { step: 3, dice: [1, 0.4], meanDice: 0.4 }],
    endedAt: '2024-01-01T00:00:00.000Z', ...patch,
  };
}

describe('run summaries (pure)', () => {
  it('labels a run by strategy, T and the step it reached, with the state when it did not finish', () => {
    expect(runLabel(record())).toBe('center T5 · 3 steps');
    expect(runLabel(record({ state: 'stopped', steps: [step(1)] }))).toBe('center T5 · 1 steps · stopped');
    expect(runLabel(record({ steps: [] }))).toBe('center T5 · 0 steps');
  });

  it('summarizes: last validation Dice, median ms per step (leaves out the warm-up), evaluation means', () => {
    expect(summarizeRun(record())).toEqual({ steps: 3, finalDice: 0.4, evalDice: undefined, evalHd95: undefined, msPerStep: 20 });
    const ev = [
      { caseId: 'a', dice: [1, 0.5], meanDice: 0.5, hd95: [0, 2], meanHd95: 2 },
      { caseId: 'b', dice: [1, 0.7], meanDice: 0.7, hd95: [0, 4], meanHd95: 4 },
    ];
    const s = summarizeRun(record({ evaluation: ev, steps: [step(1, 10), step(2, 30)], validations: [] }));
    expect(s.evalDice).toBeCloseTo(0.6, 12);
    expect(s.evalHd95).toBe(3);
    expect(s.msPerStep).toBe(20);
    expect(s.finalDice).toBeUndefined();
    expect(summarizeRun(record({ steps: [], validations: [] }))).toEqual({ steps: 0, finalDice: undefined, evalDice: undefined, evalHd95: undefined, msPerStep: undefined });
    expect(summarizeRun(record({ evaluation: [{ caseId: 'a', dice: [1, 0], meanDice: 0, hd95: [0, Infinity], meanHd95: Infinity }] })).evalHd95).toBe(Infinity);
  });

  it('gives the Dice curve as chart points and ids after the largest', () => {
    expect(diceCurve(record())).toEqual([[2, 0.2], [3, 0.4]]);
    expect(nextRunId([])).toBe(1);
    expect(nextRunId([record({ id: 7 }), record({ id: 3 })])).toBe(8);
  });

  it('takes the encoder from an imported checkpoint, else the run continued, else the encoder in use', () => {
    const run = initialTrain().run;
    const enc = encoderWith('average', 3);
    expect(runEncoder(run, enc, null)).toEqual({ source: 'timm_vit.safetensors', strategy: 'average', T: 3, imgSize: 32 });
    expect(runEncoder(run, null, null)).toBeNull();
    const prev = { source: 'p', strategy: 'center', T: 5, imgSize: 64 };
    expect(runEncoder({ ...run, steps: [step(1)] }, enc, prev)).toBe(prev);
    expect(runEncoder({ ...run, steps: [] }, enc, prev)?.strategy).toBe('average'); // a fresh start uses the new encoder
    const loaded = { source: 'ck', inflation: { strategy: '2d', T: 1, inChans: 1, imgSize: 48 }, config: { T: 1, imgSize: 48 } } as unknown as NonNullable<AppState['run']['loaded']>;
    expect(runEncoder({ ...run, steps: [step(1)], loaded }, enc, prev)).toEqual({ source: 'ck', strategy: '2d', T: 1, imgSize: 48 });
  });
});

// --- recording in the store ------------------------------------------------------------------------------------
const patchRun = (p: Partial<AppState['run']>) => setState((s) => ({ run: { ...s.run, ...p } }));

function reset() {
  clearRuns();
  setState({ ...initialTrain(), encoder: encoderWith('center', 3), notices: [], conversion: { status: 'idle' } });
  useCompare.setState({ status: 'idle', strategies: [], index: 0, phase: 'convert', recordIds: [], message: undefined });
  fake.converted = [];
  fake.ending = [];
  fake.lastSource = 'timm_vit.safetensors';
}

describe('recordRun', () => {
  beforeEach(reset);

  it('keeps a finished run once, with the encoder it started from and its curves', () => {
    patchRun({ state: 'starting', steps: [], validations: [] });
    setState({ encoder: encoderWith('scratch', 3) }); // a conversion during the run does not change its record
    patchRun({ state: 'done', steps: [step(1), step(2)], validations: [{ step: 2, dice: [1, 0.3], meanDice: 0.3 }] });
    const r = recordRun()!;
    expect(r).toMatchObject({ id: 1, label: 'center T3 · 2 steps', state: 'done', encoder: { strategy: 'center', T: 3, imgSize: 32 } });
    expect(recordRun()?.id).toBe(1); // the same run again: no second record
    expect(getState().runs).toHaveLength(1);
    expect(getState().runs[0].steps).toHaveLength(2);
    expect(currentRecord()?.id).toBe(1);
  });

  it('records nothing while a run is active', () => {
    patchRun({ state: 'running' });
    expect(recordRun()).toBeNull();
    expect(getState().runs).toHaveLength(0);
  });

  it('a continued run is a new record whose curves include the earlier steps', () => {
    patchRun({ state: 'starting', steps: [] });
    patchRun({ state: 'done', steps: [step(1), step(2)] });
    recordRun();
    setState({ encoder: encoderWith('2d', 1) });
    patchRun({ state: 'starting' }); // continueTraining keeps the steps
    patchRun({ state: 'stopped', steps: [...getState().run.steps, step(3)] });
    const r = recordRun()!;
    expect(r.id).toBe(2);
    expect(r.steps.map((s) => s.step)).toEqual([1, 2, 3]);
    expect(r.encoder.strategy).toBe('center'); // the model continued, not the encoder converted since
    expect(r.label).toBe('center T3 · 3 steps · stopped');
  });

  it('attaches Evaluate results (without the predicted volumes) to the record of the model evaluated', () => {
    patchRun({ state: 'starting', steps: [] });
    patchRun({ state: 'done', steps: [step(1)] });
    recordRun();
    patchRun({ evaluating: true, evaluation: undefined });
    patchRun({ evaluating: false, evaluation: [{ caseId: 'a', dice: [1, 0.6], meanDice: 0.6, hd95: [0, 3], meanHd95: 3, prediction: new Uint8Array(8) }] });
    expect(getState().runs[0].evaluation).toEqual([{ caseId: 'a', dice: [1, 0.6], meanDice: 0.6, hd95: [0, 3], meanHd95: 3 }]);
    // An imported checkpoint is another model: its evaluation belongs to no record.
    patchRun({ state: 'loaded', evaluation: undefined });
    patchRun({ evaluation: [{ caseId: 'a', dice: [1, 0.1], meanDice: 0.1, hd95: [0, 9], meanHd95: 9, prediction: new Uint8Array(8) }] });
    expect(getState().runs[0].evaluation![0].meanDice).toBe(0.6);
  });

  it('renames (not to blank), deletes and clears', () => {
    for (let k = 0; k < 2; k++) {
      patchRun({ state: 'starting', steps: [] });
      patchRun({ state: 'done', steps: [step(1)] });
      recordRun();
    }
    renameRun(1, '  baseline ');
    renameRun(2, '   ');
    expect(getState().runs.map((r) => r.label)).toEqual(['baseline', 'center T3 · 1 steps']);
    deleteRun(1);
    expect(getState().runs.map((r) => r.id)).toEqual([2]);
    clearRuns();
    expect(getState().runs).toEqual([]);
  });
});

// --- Compare strategies ------------------------------------------------------------------------------------------
describe('compare strategies', () => {
  beforeEach(() => {
    reset();
    setState({ cases: [{ id: 'a', imageFiles: ['a.nii'], split: 'train', status: 'ready', image: {} as never, label: {} as never }], modelOptions: { ...getState().modelOptions, T: 3, strategy: 'center' } });
  });

  it('says why it cannot start', () => {
    const s = getState();
    expect(compareBlocker(s, ['center'], false)).toBeNull();
    expect(compareBlocker(s, [], false)).toMatch(/at least one strategy/);
    expect(compareBlocker(s, ['center'], true)).toMatch(/already running/);
    expect(compareBlocker({ ...s, run: { ...s.run, state: 'paused' } }, ['center'], false)).toMatch(/Stop the current run/);
    expect(compareBlocker({ ...s, conversion: { status: 'converting' } }, ['center'], false)).toMatch(/conversion/);
    expect(compareBlocker({ ...s, cases: [] }, ['center'], false)).toMatch(/label map/);
    fake.lastSource = null;
    expect(compareBlocker(s, ['center'], false)).toMatch(/2D encoder/);
  });

  it('formats progress', () => {
    const c: CompareState = { status: 'running', strategies: ['center', '2d', 'scratch'], index: 1, phase: 'train', recordIds: [] };
    expect(compareProgress(c, { steps: [step(1), step(40)], totalSteps: 100 })).toBe('2 / 3: 2d, step 40 / 100');
    expect(compareProgress({ ...c, phase: 'convert' }, { steps: [], totalSteps: 100 })).toBe('2 / 3: 2d, converting');
    expect(compareProgress({ ...c, status: 'done' }, { steps: [], totalSteps: 0 })).toBe('3 / 3 done');
    expect(compareProgress({ ...c, status: 'stopped' }, { steps: [], totalSteps: 0 })).toBe('stopped');
  });

  it('converts and trains each strategy in turn with the same settings and names the records', async () => {
    const cfg = getState().trainConfig;
    await expect(compareStrategies(['center', '2d', 'scratch'])).resolves.toBe('done');
    expect(fake.converted).toEqual(['center', '2d', 'scratch']);
    const runs = getState().runs;
    expect(runs.map((r) => r.label)).toEqual(['compare: center', 'compare: 2d', 'compare: scratch']);
    expect(runs.map((r) => [r.encoder.strategy, r.encoder.T])).toEqual([['center', 3], ['2d', 1], ['scratch', 3]]);
    expect(runs.every((r) => r.steps.length === 3 && r.validations.length === 1 && r.config === cfg)).toBe(true);
    expect(useCompare.getState()).toMatchObject({ status: 'done', recordIds: [1, 2, 3] });
  });

  it('trains the volume model (UNETR 3D, scratch) as a row with the same settings, without converting, and keeps the Model choice', async () => {
    const cfg = getState().trainConfig;
    fake.lastSource = null;
    expect(compareBlocker(getState(), ['unetr3d'], false)).toBeNull();
    fake.lastSource = 'timm_vit.safetensors';
    await expect(compareStrategies(['center', 'unetr3d'])).resolves.toBe('done');
    expect(fake.converted).toEqual(['center']);
    const runs = getState().runs;
    expect(runs.map((r) => r.label)).toEqual(['compare: center', 'compare: unetr3d']);
    expect(runs.map((r) => [r.encoder.strategy, r.encoder.T, r.encoder.source])).toEqual([['center', 3, 'timm_vit.safetensors'], ['unetr3d', 64, 'UNETR 3D browser (scratch)']]);
    expect(runs.every((r) => r.config === cfg)).toBe(true);
    expect(useModelChoice.getState().kind).toBe('window');
  });

  it('a run stopped during the comparison ends it: no further strategy', async () => {
    fake.ending = ['done', 'stopped'];
    await expect(compareStrategies(['center', '2d', 'scratch'])).resolves.toBe('stopped');
    expect(fake.converted).toEqual(['center', '2d']);
    expect(getState().runs.map((r) => [r.label, r.state])).toEqual([['compare: center', 'done'], ['compare: 2d', 'stopped']]);
  });

  it('Stop comparison stops the run under way', async () => {
    fake.stepsPerRun = 50;
    const done = compareStrategies(['center', '2d']);
    await vi.waitFor(() => expect(getState().run.state).toBe('running'));
    stopCompare();
    await expect(done).resolves.toBe('stopped');
    fake.stepsPerRun = 3;
    expect(fake.converted).toEqual(['center']);
    expect(getState().runs.map((r) => r.state)).toEqual(['stopped']);
  });

  it('a failed run, or a start the worker refuses, ends it with the reason', async () => {
    fake.ending = ['failed'];
    await expect(compareStrategies(['center', '2d'])).resolves.toBe('failed');
    expect(fake.converted).toEqual(['center']);
    fake.ending = ['refused'];
    setState({ run: { ...getState().run, state: 'done' } });
    await expect(compareStrategies(['scratch'])).resolves.toBe('failed');
    expect(useCompare.getState().message).toMatch(/already in progress/);
    expect(getState().runs).toHaveLength(1);
  });
});
