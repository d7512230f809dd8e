// The Model choice (issue 16): choosing the volume model takes MONAI's recipe settings except those the user
// edited; choosing the window model again brings the window defaults back for the same fields.
import { describe, expect, it } from 'vitest';
import { getState, setState } from './store.ts';
import { chooseModel, setTrainConfig } from './train.ts';
import { useModelChoice } from './volume.ts';
import { DEFAULT_TRAIN_CONFIG } from '../workers/train.protocol.ts';

describe('chooseModel', () => {
  it('applies the volume defaults (kept edits), then the window defaults back', () => {
    setState({ trainConfig: { ...DEFAULT_TRAIN_CONFIG }, trainDefaults: { why: '', edited: [] } });
    setTrainConfig({ batch: 3 });
    chooseModel({ kind: 'unetr3d', preset: 'micro' });
    expect(useModelChoice.getState()).toEqual({ kind: 'unetr3d', preset: 'micro' });
    expect(getState().trainConfig).toMatchObject({ loss: 'dice-ce', lr: 1e-4, weightDecay: 1e-5, clip: 0, warmupSteps: 0, batch: 3 });
    expect(getState().trainDefaults.why).toMatch(/volume model \(micro\)/);
    chooseModel({ kind: 'window' });
    expect(getState().trainConfig).toMatchObject({ loss: DEFAULT_TRAIN_CONFIG.loss, lr: DEFAULT_TRAIN_CONFIG.lr, weightDecay: DEFAULT_TRAIN_CONFIG.weightDecay, clip: DEFAULT_TRAIN_CONFIG.clip, batch: 3 });
  });
});
