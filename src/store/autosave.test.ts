// Autosave without a browser: records, missing files, and the save queue, quota handling and offer over an
// in-memory storage (OPFS and IndexedDB themselves are exercised in Chromium by test/e2e/autosave.e2e.ts).
import { beforeEach, describe, expect, it } from 'vitest';
import { discardAutosave, getAutosaveState, initAutosave, makeRecord, missingFiles, parseRecord, saveAutosave, type AutosaveRecord, type AutosaveStorage } from './autosave.ts';
import { getState, initialTrain, setState, type CaseEntry } from './store.ts';
import type { CheckpointSummary } from '../workers/train.protocol.ts';
import type { LoadedVolume } from '../workers/nifti.protocol.ts';

const vol = {} as LoadedVolume;
const kmeans: CaseEntry = { id: 'itk_kmeans_t1', imageFiles: ['itk_kmeans_t1.nii.gz'], labelFile: 'itk_kmeans_t1_seg.nii.gz', image: vol, label: vol, split: 'train', status: 'ready' };
const unlabelled: CaseEntry = { id: 'other', imageFiles: ['other.nii.gz'], image: vol, split: 'train', status: 'ready' };
const summary = (step: number) => ({ step, source: 'timm_vit.safetensors + config.json', created: `2026-01-01T00:00:0${step}.000Z`, train: { steps: 6 } }) as unknown as CheckpointSummary;

/** One slot in memory; `failPut` makes the next puts throw the given errors in turn; `gate` holds puts until opened. */
function memory() {
  const m = {
    kind: 'memory' as const,
    slot: null as { record: AutosaveRecord; bytes: Uint8Array } | null,
    puts: [] as number[],
    clears: 0,
    failPut: [] as Error[],
    gate: null as Promise<void> | null,
    async put(record: AutosaveRecord, bytes: Uint8Array) {
      if (m.gate) await m.gate;
      const err = m.failPut.shift();
      if (err) throw err;
      m.puts.push(record.step);
      m.slot = { record, bytes };
    },
    async get() { return m.slot && { record: parseRecord(JSON.stringify(m.slot.record)), read: async () => new Blob([m.slot!.bytes as BlobPart]) }; },
    async clear() { m.clears++; m.slot = null; },
  };
  return m satisfies AutosaveStorage;
}

const quota = () => Object.assign(new Error('quota exceeded'), { name: 'QuotaExceededError' });

beforeEach(() => setState({ ...initialTrain(), cases: [kmeans, unlabelled], notices: [] }));

describe('autosave records', () => {
  it('describe the checkpoint and the labelled cases with their files', () => {
    const r = makeRecord('a_step4.safetensors', 1234, summary(4), getState().cases, 'ckpt-1.safetensors');
    expect(r).toEqual({
      version: 1, name: 'a_step4.safetensors', file: 'ckpt-1.safetensors', step: 4, totalSteps: 6, savedAt: '2026-01-01T00:00:04.000Z',
      source: 'timm_vit.safetensors + config.json', bytes: 1234,
      cases: [{ id: 'itk_kmeans_t1', split: 'train', imageFiles: ['itk_kmeans_t1.nii.gz'], labelFile: 'itk_kmeans_t1_seg.nii.gz' }],
    });
    expect(parseRecord(JSON.stringify(r))).toEqual(r);
  });

  it('a stored record with a wrong field is refused, naming it', () => {
    const r = makeRecord('a.safetensors', 1, summary(2), [kmeans]);
    expect(() => parseRecord(JSON.stringify({ ...r, step: 'two' }))).toThrow(/'step'/);
    expect(() => parseRecord(JSON.stringify({ ...r, version: 2 }))).toThrow(/'version'/);
    expect(() => parseRecord(JSON.stringify({ ...r, cases: [{ id: 1 }] }))).toThrow(/'cases'/);
  });

  it('name the files to load again: images and labels not loaded now', () => {
    const r = makeRecord('a.safetensors', 1, summary(2), [kmeans]);
    expect(missingFiles(r, [kmeans])).toEqual([]);
    expect(missingFiles(r, [])).toEqual(['itk_kmeans_t1.nii.gz', 'itk_kmeans_t1_seg.nii.gz']);
    expect(missingFiles(r, [{ ...kmeans, label: undefined, labelFile: undefined }])).toEqual(['itk_kmeans_t1_seg.nii.gz']);
    expect(missingFiles(r, [{ ...kmeans, image: undefined, label: undefined, status: 'loading' }])).toHaveLength(2);
  });
});

describe('saving', () => {
  it('turns autosave on, keeps the newest checkpoint and writes only the newest of those that waited', async () => {
    const m = memory();
    await initAutosave(m);
    expect(getState().trainConfig.autosave).toBe(true);
    let open!: () => void;
    m.gate = new Promise((r) => (open = r));
    const saves = [2, 4, 6].map((s) => saveAutosave(`x_step${s}.safetensors`, new Uint8Array(s), summary(s)));
    m.gate = null;
    open();
    await Promise.all(saves);
    expect(m.puts).toEqual([2, 6]);
    expect(m.slot!.record.name).toBe('x_step6.safetensors');
    expect(m.slot!.bytes).toHaveLength(6);
    expect(getAutosaveState().saved).toEqual({ step: 6, at: '2026-01-01T00:00:06.000Z' });
  });

  it('out of quota: clears the old autosave and tries again; if that fails too, says so once and goes on', async () => {
    const m = memory();
    await initAutosave(m);
    m.failPut = [quota()];
    await saveAutosave('x_step2.safetensors', new Uint8Array(2), summary(2));
    expect(m.clears).toBe(1);
    expect(m.puts).toEqual([2]);
    expect(getState().notices).toEqual([]);

    m.failPut = [quota(), quota(), quota(), quota()];
    await saveAutosave('x_step4.safetensors', new Uint8Array(4), summary(4));
    await saveAutosave('x_step6.safetensors', new Uint8Array(6), summary(6));
    const notes = getState().notices;
    expect(notes).toHaveLength(1);
    expect(notes[0].level).toBe('warning');
    expect(notes[0].message).toMatch(/no room for the checkpoint of step 4 .*Training goes on.*export a checkpoint/);
  });

  it('other storage errors become a notice too, and saving never throws', async () => {
    const m = memory();
    await initAutosave(m);
    m.failPut = [new Error('disk on fire')];
    await expect(saveAutosave('x.safetensors', new Uint8Array(1), summary(2))).resolves.toBeUndefined();
    expect(getState().notices[0].message).toMatch(/step 2 could not be stored \(disk on fire\)/);
  });

  it('without any storage: one notice', async () => {
    await initAutosave(null);
    await saveAutosave('x.safetensors', new Uint8Array(1), summary(2));
    await saveAutosave('x.safetensors', new Uint8Array(1), summary(4));
    expect(getState().notices.map((n) => n.message)).toEqual([expect.stringMatching(/not available in this browser/)]);
  });

  it('a checkpoint without the autosave setting (imported) leaves autosave on', async () => {
    await initAutosave(memory());
    setState((s) => ({ trainConfig: { ...s.trainConfig, autosave: undefined } }));
    expect(getState().trainConfig.autosave).toBe(true);
    setState((s) => ({ trainConfig: { ...s.trainConfig, autosave: false } }));
    expect(getState().trainConfig.autosave).toBe(false);
  });
});

describe('the offer after a reload', () => {
  it('is made when an autosave exists, goes when a new run saves, and Discard deletes the autosave', async () => {
    const m = memory();
    await initAutosave(m);
    expect(getAutosaveState().offer).toBeNull();
    await saveAutosave('x_step4.safetensors', new Uint8Array(4), summary(4));

    await initAutosave(m); // a reload
    expect(getAutosaveState().offer).toMatchObject({ status: 'offered', record: { step: 4, name: 'x_step4.safetensors' } });
    await saveAutosave('y_step2.safetensors', new Uint8Array(2), summary(2));
    expect(getAutosaveState().offer).toBeNull();

    await initAutosave(m);
    expect(getAutosaveState().offer?.record.name).toBe('y_step2.safetensors');
    await discardAutosave();
    expect(getAutosaveState().offer).toBeNull();
    expect(m.slot).toBeNull();
    await initAutosave(m);
    expect(getAutosaveState().offer).toBeNull();
  });

  it('a broken autosave is reported and removed', async () => {
    const m = memory();
    m.get = async () => { throw new Error('autosave record: \'step\' is missing or wrong'); };
    await initAutosave(m);
    expect(getAutosaveState().offer).toBeNull();
    expect(m.clears).toBe(1);
    expect(getState().notices[0].message).toMatch(/could not be read \(autosave record: 'step' is missing or wrong\); it was discarded/);
  });
});
