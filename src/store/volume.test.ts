// The Model choice (issue 16): choosing the volume model takes MONAI's recipe settings except those the user
// edited; choosing the window model again brings the window defaults back for the same fields.
import { describe, expect, it } from 'vitest';
import { getState, setState } from './store.ts';
import { chooseModel, followBackendPreset, setTrainConfig } from './train.ts';
import { useModelChoice, volumePresetPicked } from './volume.ts';
import { DEFAULT_TRAIN_CONFIG } from '../workers/train.protocol.ts';

describe('chooseModel', () => {
  it('applies the volume defaults (kept edits), then the window defaults back', () => {
    setState({ trainConfig: { ...DEFAULT_TRAIN_CONFIG }, trainDefaults: { why: '', edited: [] } });
    setTrainConfig({ batch: 3 });
    chooseModel({ kind: 'unetr3d', preset: 'micro' });
    expect(useModelChoice.getState()).toEqual({ kind: 'unetr3d', preset: 'micro' });
    expect(getState().trainConfig).toMatchObject({ loss: 'dice-ce', lr: 3e-3, weightDecay: 1e-5, clip: 0, warmupSteps: 0, batch: 3 });
    expect(getState().trainDefaults.why).toMatch(/volume model \(micro\)/);
    chooseModel({ kind: 'window' });
    expect(getState().trainConfig).toMatchObject({ loss: DEFAULT_TRAIN_CONFIG.loss, lr: DEFAULT_TRAIN_CONFIG.lr, weightDecay: DEFAULT_TRAIN_CONFIG.weightDecay, clip: DEFAULT_TRAIN_CONFIG.clip, batch: 3 });
  });

  it('offers the preset the backend trains in minutes (micro on wasm, browser on a GPU) until the user picks one', () => {
    const backend = (name: 'wasm' | 'webgpu', software = false) => ({ name, adapter: 'x', software, fallbacks: [] });
    volumePresetPicked.value = false;
    useModelChoice.setState({ kind: 'unetr3d', preset: 'browser' });
    followBackendPreset(backend('wasm'));
    expect(useModelChoice.getState().preset).toBe('micro');
    expect(getState().trainConfig).toMatchObject({ steps: 300, lr: 3e-3 });
    followBackendPreset(backend('webgpu', true));
    expect(useModelChoice.getState().preset).toBe('micro');
    followBackendPreset(backend('webgpu'));
    expect(useModelChoice.getState().preset).toBe('browser');
    chooseModel({ preset: 'monai-btcv' });
    followBackendPreset(backend('wasm'));
    expect(useModelChoice.getState().preset).toBe('monai-btcv');
    volumePresetPicked.value = false;
  });
});
