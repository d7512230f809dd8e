// The PyTorch trainer (python/inflateseg_torch/train.py) on a checkpoint the CLI wrote: `inflateseg export-torch`
// writes the folder, its run.sh trains 10 steps on 2 processes (torchrun, DistributedDataParallel, gloo on the CPU), the same 10 steps on one process (the same global batch: the
// same weights), the result read by the app's decoder (history appended, optimiser state), evaluated and resumed by
// the CLI; the app's batches drawn by the Python sampler; and the metadata round trip (TS writes → Python reads and writes → TS reads, unchanged).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeModelCheckpoint, encodeModelCheckpoint, type ModelCheckpoint } from '../../src/weights/checkpoint.ts';
import { collectInputs } from '../../src/cli/inputs.ts';
import { loadDataset, pairInputs, toCaseData } from '../../src/cli/dataset.ts';
import { useZlib } from '../../src/cli/common.ts';
import { caseVolume } from '../../src/train/run.ts';
import { augmentFor, makeSampler } from '../../src/data/windows/index.ts';
import { cli, py, PYTHON, requireTorch, run, SAMPLE } from '../support/torchTwin.ts';

let tmp: string;
beforeAll(() => { tmp = mkdtempSync(path.join(tmpdir(), 'inflateseg-torch-train-')); });
afterAll(() => { rmSync(tmp, { recursive: true, force: true }); });

const read = async (file: string): Promise<ModelCheckpoint> => decodeModelCheckpoint(new Uint8Array(readFileSync(file)), file);

describe('PyTorch trainer', () => {
  it('continues a CLI checkpoint on 2 gloo processes; the CLI reads, evaluates and resumes the result', async () => {
    requireTorch();
    const start = path.join(tmp, 'start');
    await cli(['train', ...SAMPLE, '--encoder', 'micro', '--size', '32', '--T', '3', '--steps', '3', '--val-every', '0', '--axis', '1', '--out', start]);
    const from = path.join(start, 'model.safetensors');
    const folder = path.join(tmp, 'torch');
    const ex = await cli(['export-torch', ...SAMPLE, '--model', from, '--steps', '13', '--out', folder]);
    expect(ex.stdout.trim().split('\n').map((f) => path.basename(f))).toEqual(['model.safetensors', 'dataset.json', 'run.sh', 'README.txt']);
    const manifest = JSON.parse(readFileSync(path.join(folder, 'dataset.json'), 'utf8')) as { cases: { id: string; images: string[]; label: string; split: string }[] };
    expect(manifest.cases).toEqual([{ id: 'itk_kmeans_t1', images: [SAMPLE[0]], label: SAMPLE[1], split: 'train' }]);
    const ddp = await run('sh', [path.join(folder, 'run.sh'), '--threads', '1'], { PYTHON, NPROC: '2', OMP_NUM_THREADS: '1' }, tmp);
    if (ddp.code !== 0) throw new Error(`run.sh exited ${ddp.code}:\n${ddp.stderr}`);
    expect(ddp.stdout).toMatch(/on 2 process\(es\) \(cpu\)/);
    expect(ddp.stdout).toMatch(/validation at step 13: mean Dice/);
    const ddpOut = path.join(folder, 'model_continued.safetensors'), oneOut = path.join(tmp, 'one.safetensors');
    await py(['-m', 'inflateseg_torch', 'train', '--checkpoint', from, ...SAMPLE, '--steps', '13', '--threads', '1', '--out', oneOut]);

    // The app's decoder reads it: steps 1…3 from the app, 4…13 from PyTorch, the optimiser state of step 13.
    const before = await read(from), after = await read(ddpOut), one = await read(oneOut);
    expect(after.meta.step).toBe(13);
    expect(after.meta.history.steps.map((s) => s.step)).toEqual(Array.from({ length: 13 }, (_, i) => i + 1));
    expect(after.meta.history.steps.slice(0, 3)).toEqual(before.meta.history.steps);
    expect(after.meta.history.validations.at(-1)?.step).toBe(13);
    expect(after.meta.config).toEqual(before.meta.config);
    expect(after.meta.train).toEqual({ ...before.meta.train, steps: 13 });
    expect(after.optim?.step).toBe(13);
    expect(Object.keys(after.optim!.tensors).sort()).toEqual(Object.keys(before.optim!.tensors).sort());
    expect(after.optim!.tensors['optim.step.cls_token'].data[0]).toBe(13);
    // 2 processes × 1 window = 1 process × 2 windows: the same weights up to float rounding.
    let diff = 0, moved = 0;
    for (const [k, t] of after.weights) {
      const o = one.weights.get(k)!.data, b = before.weights.get(k)!.data;
      for (let i = 0; i < t.data.length; i++) {
        diff = Math.max(diff, Math.abs(t.data[i] - o[i]));
        moved = Math.max(moved, Math.abs(t.data[i] - b[i]));
      }
    }
    console.log(`DDP (2 × 1 window) vs one process (2 windows) after 10 steps: max |Δw| ${diff.toExponential(2)}; largest change from the start ${moved.toExponential(2)}`);
    expect(moved).toBeGreaterThan(1e-3);
    expect(diff).toBeLessThan(1e-4);

    // The CLI evaluates it (Dice) and continues it.
    const ev = await cli(['eval', ...SAMPLE, '--model', ddpOut, '--out', path.join(tmp, 'eval')]);
    expect(ev.stderr).toMatch(/mean Dice over 1 labelled case\(s\): \d\.\d+/);
    const resumed = path.join(tmp, 'resumed');
    const r = await cli(['train', ...SAMPLE, '--resume', ddpOut, '--steps', '15', '--out', resumed]);
    expect(r.stderr).toMatch(/resuming .* at step 13 with its optimiser state/);
    const end = await read(path.join(resumed, 'model.safetensors'));
    expect(end.meta.step).toBe(15);
    expect(end.meta.history.steps.map((s) => s.step)).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
  }, 150_000);

  it('round-trips the metadata: TS writes, Python reads and writes, TS reads the same; and back', async () => {
    requireTorch();
    const start = path.join(tmp, 'rt');
    await cli(['train', ...SAMPLE, '--encoder', 'micro', '--size', '32', '--T', '3', '--steps', '2', '--val-every', '1', '--axis', '1', '--out', start]);
    const a = await read(path.join(start, 'model.safetensors'));
    // A NaN Dice (a class in neither prediction nor label) must survive as NaN (JSON null).
    a.meta.history.validations[0].dice[0] = NaN;
    const tsFile = path.join(tmp, 'ts.safetensors'), pyFile = path.join(tmp, 'py.safetensors'), ts2 = path.join(tmp, 'ts2.safetensors'), py2 = path.join(tmp, 'py2.safetensors');
    writeFileSync(tsFile, encodeModelCheckpoint(a));
    await py(['-m', 'inflateseg_torch', 'roundtrip', tsFile, pyFile]);
    const b = await read(pyFile);
    const { created: _ca, ...ma } = a.meta;
    const { created: _cb, ...mb } = b.meta;
    expect(mb).toEqual(ma);
    expect(b.optim?.step).toBe(a.optim?.step);
    expect([...b.weights.keys()].sort()).toEqual([...a.weights.keys()].sort());
    for (const [k, t] of a.weights) expect(b.weights.get(k)!.data, k).toEqual(t.data);
    for (const [k, t] of Object.entries(a.optim!.tensors)) expect(b.optim!.tensors[k].data, k).toEqual(t.data);
    // And back: TS re-encodes Python's file, Python reads it and writes it again, TS reads the same once more.
    writeFileSync(ts2, encodeModelCheckpoint(b));
    await py(['-m', 'inflateseg_torch', 'roundtrip', ts2, py2]);
    const c = await read(py2);
    const { created: _cc, ...mc } = c.meta;
    expect(mc).toEqual(ma);
  }, 60_000);

  it('draws the app\'s training batches (slices, augmentation with zoom, flips and quarter turns) and its split', async () => {
    requireTorch();
    useZlib();
    const files = collectInputs(SAMPLE, 'data');
    const ds = await loadDataset(files, pairInputs(files), { labelledOnly: true, valFraction: 0.2 });
    const c = toCaseData(ds.cases[0]);
    const s = makeSampler([{ id: c.id, split: c.split, volume: caseVolume(c, 'image'), label: caseVolume(c, 'label') }],
      { axis: 2, T: 5, size: 48, batch: 2, seed: 7, augment: augmentFor('paper') });
    const steps = [0, 1, 2, 3, 100, 5000];
    const batches = steps.map((k) => s.batchAt(k));
    batches.forEach((b, i) => {
      writeFileSync(path.join(tmp, `b${i}.x.f32`), b.x);
      writeFileSync(path.join(tmp, `b${i}.y.i32`), b.y);
    });
    const script = `
import json, sys, numpy as np
from inflateseg_torch.data import Sampler, load_case
img, lab, tmp = sys.argv[1:4]
s = Sampler([load_case('${c.id}', [img], lab)], axis=2, T=5, size=48, batch=2, seed=7, augment='paper')
out = {'val': [i for _, i in s.val], 'train': len(s.train), 'batches': []}
for i, k in enumerate(${JSON.stringify(steps)}):
    x, y = s.batch_at(k)
    tx = np.fromfile(f'{tmp}/b{i}.x.f32', '<f4').reshape(2, 5, 48, 48, 1).transpose(0, 4, 1, 2, 3)
    ty = np.fromfile(f'{tmp}/b{i}.y.i32', '<i4').reshape(2, 48, 48)
    out['batches'].append({'refs': [j for _, j in s.refs_at(k)[0]], 'dx': float(np.abs(x - tx).max()), 'dy': int((y != ty).sum())})
print(json.dumps(out))
`;
    const r = JSON.parse((await py(['-c', script, ...SAMPLE, tmp])).stdout) as { val: number[]; train: number; batches: { refs: number[]; dx: number; dy: number }[] };
    expect(r.val).toEqual(s.val.map((v) => v.index));
    expect(r.train).toBe(s.train.length);
    r.batches.forEach((b, i) => {
      expect(b.refs, `step ${steps[i]}`).toEqual(batches[i].refs.map((x) => x.index));
      expect(b.dy, `label pixels that differ at step ${steps[i]}`).toBe(0);
      expect(b.dx, `max |window − app's| at step ${steps[i]}`).toBeLessThan(1e-6);
    });
  }, 60_000);
});
