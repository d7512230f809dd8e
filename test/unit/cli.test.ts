// The command line as a user runs it (`node scripts/inflateseg.mjs …`, a child process): train the built-in micro
// ViT on the bundled sample (cpu; WebGPU through Dawn when a Vulkan driver is present), read its checkpoint with the
// app's decoder, check that a TrainingRun from it predicts the same voxels as `eval` wrote; bad calls exit non-zero
// with a message and write nothing; Ctrl-C saves and exits 130. Plus the CLI's pure parts, in process.
import * as tf from '@tensorflow/tfjs';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeModelCheckpoint } from '../../src/weights/checkpoint.ts';
import { readNifti, fromCanonical } from '../../src/nifti/index.ts';
import { setGzipCodec } from '../../src/nifti/gzip.ts';
import { loadVolume } from '../../src/workers/nifti.job.ts';
import { TrainingRun, caseVolume } from '../../src/train/run.ts';
import { evaluateVolume } from '../../src/train/evaluate.ts';
import { parseArgs, UsageError } from '../../src/cli/args.ts';
import { TRAIN } from '../../src/cli/train.ts';
import { collectInputs, expandGlob } from '../../src/cli/inputs.ts';
import { pairInputs } from '../../src/cli/dataset.ts';
import { historyCsv, toJson } from '../../src/cli/output.ts';
import { icdCandidates } from '../../src/cli/backend.ts';
import { useZlib } from '../../src/cli/common.ts';
import { RateMeter } from '../../src/cli/progress.ts';
import { main } from '../../src/cli/main.ts';
import type { Io } from '../../src/cli/common.ts';
import { readSafetensors } from '../../src/weights/formats/index.ts';
import { decodeEncoderMetadata } from '../../src/weights/export.ts';
import { haveVulkan } from '../support/dawn.ts';
import { startHubServer } from '../support/hubServer.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const CLI = path.join(ROOT, 'scripts/inflateseg.mjs');
const IMAGE = path.join(ROOT, 'public/samples/itk_kmeans_t1.nii.gz');
const LABEL = path.join(ROOT, 'public/samples/itk_kmeans_t1_seg.nii.gz');
/** Small and quick: micro ViT, 32 px, T = 3, 3 steps, windows along axis 1 (62 slices to predict, not 128). */
const QUICK = ['--encoder', 'micro', '--size', '32', '--T', '3', '--steps', '3', '--val-every', '0', '--axis', '1'];

let tmp: string;
beforeAll(() => { tmp = mkdtempSync(path.join(tmpdir(), 'inflateseg-cli-')); });
afterAll(() => { rmSync(tmp, { recursive: true, force: true }); });

interface Result { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

/** Runs the CLI; `onStderr` sees the log as it grows (and may signal the child). */
function cli(args: string[], onStderr?: (text: string, child: ReturnType<typeof spawn>) => void): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: tmp, env: { ...process.env, FORCE_COLOR: '0' } });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); onStderr?.(stderr, child); });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

const out = (name: string) => path.join(tmp, name);

describe('inflateseg train / eval (child process)', () => {
  it('trains the micro ViT on the sample (cpu) and writes a checkpoint the app reads; eval predicts what a TrainingRun from it predicts', async () => {
    const t = await cli(['train', IMAGE, LABEL, ...QUICK, '--backend', 'cpu', '--out', out('run')]);
    expect(t.code, t.stderr).toBe(0);
    expect(t.stderr).toMatch(/backend: cpu/);
    expect(t.stderr).toMatch(/step 3\/3/);
    expect(readdirSync(out('run')).sort()).toEqual(['metrics.csv', 'metrics.json', 'model.safetensors']);
    const ckpt = await decodeModelCheckpoint(new Uint8Array(readFileSync(out('run/model.safetensors'))), 'model.safetensors');
    expect(ckpt.meta.step).toBe(3);
    expect(ckpt.meta.config).toMatchObject({ T: 3, imgSize: 32, inChans: 1, numClasses: 7 });
    expect(ckpt.meta.orientation).toEqual({ space: 'RAS', axis: 1 });
    expect(ckpt.meta.history.steps.map((s) => s.step)).toEqual([1, 2, 3]);
    expect(ckpt.optim).not.toBeNull();
    const csv = readFileSync(out('run/metrics.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toMatch(/^step,loss,lr,.*,val_mean_dice,val_dice_background,/);
    expect(csv).toHaveLength(4);
    expect(JSON.parse(readFileSync(out('run/metrics.json'), 'utf8'))).toMatchObject({ command: 'train', state: 'done', step: 3, backend: { name: 'cpu' } });

    const e = await cli(['eval', IMAGE, LABEL, '--model', out('run/model.safetensors'), '--backend', 'cpu', '--out', out('eval')]);
    expect(e.code, e.stderr).toBe(0);
    const predFile = out('eval/itk_kmeans_t1_pred.nii.gz');
    expect(e.stdout.split('\n')).toContain(predFile);
    const metrics = JSON.parse(readFileSync(out('eval/metrics.json'), 'utf8')) as { cases: Array<{ dice: number[] }> };
    expect(metrics.cases[0].dice).toHaveLength(7);

    // The app's path in process: import the checkpoint, evaluate the volume, put it back on the file's grid.
    await tf.setBackend('cpu');
    const img = await loadVolume(new Blob([readFileSync(IMAGE)]), 'itk_kmeans_t1.nii.gz', 'image');
    const seg = await loadVolume(new Blob([readFileSync(LABEL)]), 'itk_kmeans_t1_seg.nii.gz', 'label');
    const v = img.volume;
    const data = { id: 'itk_kmeans_t1', split: 'train' as const, dims: v.dims, channels: 1, spacing: v.spacing, affine: v.affine, image: v.data, label: seg.volume.data };
    const run = new TrainingRun({ kind: 'model', checkpoint: ckpt }, [], 7, ckpt.meta.train, { classNames: ckpt.meta.classNames, source: ckpt.meta.source, appVersion: 'test' }, () => {});
    const r = await evaluateVolume(run.params, run.config, caseVolume(data, 'image'), caseVolume(data, 'label'), run.axis, ckpt.meta.train.batch);
    run.dispose();
    const expected = fromCanonical({ dims: v.dims, data: r.prediction, affine: v.affine }, img.source);
    const written = await readNifti(readFileSync(predFile), 'pred');
    const original = await readNifti(readFileSync(IMAGE), 'image');
    expect(written.dims).toEqual(original.dims);
    expect(Array.from(written.affine)).toEqual(Array.from(original.affine));
    expect(Buffer.from(written.data.buffer, written.data.byteOffset, written.data.byteLength).equals(Buffer.from(expected.data.buffer, expected.data.byteOffset, expected.data.byteLength))).toBe(true);
    expect(metrics.cases[0].dice[1]).toBeCloseTo(r.metrics!.dice[1], 12);
  }, 90_000);

  it.runIf(haveVulkan)('trains on WebGPU through Dawn (software Vulkan driver) and says which adapter', async () => {
    const t = await cli(['train', IMAGE, LABEL, ...QUICK, '--steps', '2', '--backend', 'webgpu', '--out', out('gpu')]);
    expect(t.code, t.stderr).toBe(0);
    expect(t.stderr).toMatch(/backend: webgpu — .+/);
    const ckpt = await decodeModelCheckpoint(new Uint8Array(readFileSync(out('gpu/model.safetensors'))), 'model.safetensors');
    expect(ckpt.meta.step).toBe(2);
    expect(ckpt.meta.history.steps.every((s) => Number.isFinite(s.loss))).toBe(true);
  }, 90_000);

  it('with no --backend: WebGPU only on a hardware adapter; otherwise wasm, with the reason WebGPU was skipped', async () => {
    const t = await cli(['train', IMAGE, LABEL, ...QUICK, '--steps', '1', '--out', out('auto')]);
    expect(t.code, t.stderr).toBe(0);
    const [, name, adapter] = /backend: (\w+) — (.+)/.exec(t.stderr) ?? [];
    if (name === 'webgpu') {
      expect(adapter).not.toMatch(/software/); // a GPU on this machine
    } else {
      expect(t.stderr).toMatch(/backend: wasm — CPU, (no )?SIMD, \d+ threads?\n/);
      // A software Vulkan driver (SwiftShader here) is found and passed over; without one Dawn has no adapter at all.
      expect(t.stderr).toMatch(haveVulkan ? /\n {2}skipped webgpu: software adapter \(.+\); WebAssembly is faster here\n/ : /\n {2}skipped webgpu: /);
    }
  }, 90_000);

  it('bad flags, a missing file and mismatched grids: a message naming them, a non-zero exit, nothing written', async () => {
    const bad = path.join(tmp, 'mismatch');
    mkdirSync(bad);
    copyFileSync(IMAGE, path.join(bad, 'head.nii.gz'));
    copyFileSync(path.join(ROOT, 'public/samples/colin27_2mm_t1_seg.nii.gz'), path.join(bad, 'head_seg.nii.gz'));
    const [flag, value, missing, grid, noEncoder] = await Promise.all([
      cli(['train', IMAGE, LABEL, '--encoder', 'micro', '--stepz', '3', '--out', out('bad1')]),
      cli(['train', IMAGE, LABEL, '--encoder', 'micro', '--T', '4', '--out', out('bad2')]),
      cli(['train', path.join(tmp, 'nope.nii.gz'), '--encoder', 'micro', '--out', out('bad3')]),
      cli(['train', bad, '--encoder', 'micro', '--size', '32', '--T', '3', '--out', out('bad4')]),
      cli(['eval', IMAGE, '--out', out('bad5')]),
    ]);
    expect([flag.code, value.code, missing.code, grid.code, noEncoder.code]).toEqual([2, 2, 2, 1, 2]);
    expect(flag.stderr).toMatch(/--stepz: unknown option .*did you mean --steps\?/);
    expect(value.stderr).toMatch(/--T "4": expected an odd integer/);
    expect(missing.stderr).toMatch(/nope\.nii\.gz: no such file/);
    expect(grid.stderr).toMatch(/head_seg\.nii\.gz is 91×109×91 but image .*head\.nii\.gz is 128×62×128/);
    expect(noEncoder.stderr).toMatch(/--model FILE is required/);
    for (const d of ['bad1', 'bad2', 'bad3', 'bad4', 'bad5']) expect(existsSync(out(d)), d).toBe(false);
  }, 60_000);

  it('Ctrl-C stops after the current step, writes a checkpoint of that step and exits 130', async () => {
    let sent = false;
    const r = await cli(['train', IMAGE, LABEL, ...QUICK, '--steps', '500', '--log-every', '1', '--backend', 'cpu', '--out', out('int')], (text, child) => {
      if (!sent && /step\s+2\/500/.test(text)) { sent = true; child.kill('SIGINT'); }
    });
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toMatch(/Ctrl-C: stopping after this step/);
    const ckpt = await decodeModelCheckpoint(new Uint8Array(readFileSync(out('int/model.safetensors'))), 'model.safetensors');
    expect(ckpt.meta.step).toBeGreaterThanOrEqual(2);
    expect(ckpt.meta.step).toBeLessThan(500);
    expect(ckpt.meta.history.steps.at(-1)!.step).toBe(ckpt.meta.step);
    expect(JSON.parse(readFileSync(out('int/metrics.json'), 'utf8'))).toMatchObject({ state: 'stopped', step: ckpt.meta.step });
    expect(readdirSync(out('int')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  }, 60_000);
});

/** An Io over strings, for running commands in process. */
function memoryIo(): Io & { text: () => string } {
  let text = '';
  const sink = { write: (s: string) => { text += s; return true; } };
  return { out: sink, err: sink, signal: new AbortController().signal, onInterrupt: () => {}, interrupted: false, text: () => text };
}

describe('CLI parts (in process)', () => {
  it('inflate from a Hub-shaped server: downloads once, then reads the disk cache; writes the encoder as the app exports it', async () => {
    const weights = new Uint8Array(readFileSync(path.join(ROOT, 'test/fixtures/weights/layouts/timm_vit.safetensors')));
    const hub = await startHubServer({ 'timm/vit_micro/model.safetensors': weights });
    process.env.INFLATESEG_CACHE = path.join(tmp, 'cache');
    try {
      for (const n of [1, 2]) {
        const io = memoryIo();
        const code = await main(['inflate', '--encoder', 'timm/vit_micro', '--hub', hub.url, '--heads', '2', '--size', '16', '--T', '3', '--out', out(`hub${n}`)], io);
        expect(code, io.text()).toBe(0);
        expect(io.text()).toContain(out(`hub${n}/encoder.safetensors`));
      }
      expect(hub.requests.filter((r) => r.path.endsWith('/model.safetensors'))).toHaveLength(1);
      const st = await readSafetensors(new Uint8Array(readFileSync(out('hub2/encoder.safetensors'))), 'encoder.safetensors');
      const rec = decodeEncoderMetadata(st.metadata ?? {}, 'encoder.safetensors');
      expect(rec?.options).toMatchObject({ strategy: 'center', T: 3, inChans: 1, imgSize: 16 });
      expect(rec?.source).toBe('timm/vit_micro');
      expect(st.tensors.get('patch_embed.proj.weight')!.shape).toEqual([24, 1, 3, 4, 4]);
    } finally {
      delete process.env.INFLATESEG_CACHE;
      delete (globalThis as { caches?: unknown }).caches;
      await hub.close();
    }
  });


  it('parses flags: --x v, --x=v, --no-x, negative numbers; names the flag in every error', () => {
    const a = parseArgs(TRAIN, ['a.nii', '--steps=10', '--lr', '1e-3', '--augment', 'off', '--seed', '7', '--', '-b.nii']);
    expect(a.positional).toEqual(['a.nii', '-b.nii']);
    expect([a.num('steps'), a.num('lr'), a.str('augment'), a.has('augment'), a.num('seed'), a.has('batch')]).toEqual([10, 1e-3, 'off', true, 7, false]);
    const err = (argv: string[]) => { try { parseArgs(TRAIN, argv); return ''; } catch (e) { expect(e).toBeInstanceOf(UsageError); return (e as Error).message; } };
    expect(err(['--batch', '0'])).toMatch(/--batch "0": expected an integer ≥ 1/);
    expect(err(['--steps'])).toMatch(/--steps needs a value/);
    expect(err(['--loss', 'dice'])).toMatch(/--loss "dice": expected one of dice-focal, dice-ce, ce/);
    expect(err(['--lr', 'fast'])).toMatch(/--lr "fast": expected a number/);
    expect(err(['-x'])).toMatch(/-x: unknown option/);
  });

  it('expands globs and folders; an MSD-style folder pairs imagesTr with labelsTr', () => {
    const msd = path.join(tmp, 'Task01');
    for (const d of ['imagesTr', 'labelsTr', 'imagesTs']) mkdirSync(path.join(msd, d), { recursive: true });
    for (const f of ['imagesTr/c_1.nii.gz', 'imagesTr/c_2.nii.gz', 'labelsTr/c_1.nii.gz', 'labelsTr/c_2.nii.gz', 'imagesTs/c_9.nii.gz', 'dataset.json']) writeFileSync(path.join(msd, f), '');
    const files = collectInputs(['Task01'], 'data', tmp);
    expect(files.map((f) => f.path)).toEqual(['Task01/dataset.json', 'Task01/imagesTr/c_1.nii.gz', 'Task01/imagesTr/c_2.nii.gz', 'Task01/imagesTs/c_9.nii.gz', 'Task01/labelsTr/c_1.nii.gz', 'Task01/labelsTr/c_2.nii.gz']);
    const p = pairInputs(files);
    expect(p.cases.map((c) => [c.id, c.label ?? null])).toEqual([['c_1', 'Task01/labelsTr/c_1.nii.gz'], ['c_2', 'Task01/labelsTr/c_2.nii.gz'], ['c_9', null]]);
    expect(p.lookups).toEqual(['Task01/dataset.json']);
    expect(expandGlob('Task01/**/c_?.nii.gz', tmp)).toHaveLength(5);
    expect(expandGlob('Task01/images*/c_[12].nii.gz', tmp)).toEqual(['Task01/imagesTr/c_1.nii.gz', 'Task01/imagesTr/c_2.nii.gz']);
    expect(() => collectInputs(['Task01/*.nii'], 'data', tmp)).toThrow(/Task01\/\*\.nii: no file matches/);
  });

  it('reads NIfTI through zlib exactly as through the default gunzip, and names a truncated file', async () => {
    const bytes = new Uint8Array(readFileSync(LABEL));
    const plain = await readNifti(bytes, 'seg');
    useZlib();
    try {
      const viaZlib = await readNifti(bytes, 'seg');
      // The voxels may be a view into the decompressed file (readNifti's zero-copy path): compare the views' bytes.
      const bytesOf = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
      expect(bytesOf(viaZlib.data).equals(bytesOf(plain.data))).toBe(true);
      await expect(readNifti(bytes.subarray(0, bytes.length - 100), 'cut.nii.gz')).rejects.toThrow(/cut\.nii\.gz.*gzip data is corrupt or truncated/);
    } finally {
      setGzipCodec(null);
    }
  });

  it('metrics CSV: one row per step, validations in their step, NaN kept apart from missing; JSON without NaN', () => {
    const csv = historyCsv({
      steps: [{ step: 1, loss: 2, lr: 0, ms: 5, samplesPerSec: 1, numTensors: 3, numBytes: 4 }, { step: 2, loss: 1.5, lr: 1e-4, ms: 5, samplesPerSec: 1, numTensors: 3, numBytes: 4 }],
      validations: [{ step: 2, dice: [0.9, NaN], meanDice: 0.5 }],
    }, ['background', 'grey, matter']);
    expect(csv.split('\n')).toEqual(['step,loss,lr,ms,samples_per_s,num_tensors,num_bytes,val_mean_dice,val_dice_background,"val_dice_grey,_matter"', '1,2,0,5,1,3,4,,,', '2,1.5,0.0001,5,1,3,4,0.5,0.9,NaN', '']);
    expect(JSON.parse(toJson({ a: NaN, b: Infinity }))).toEqual({ a: null, b: 'Infinity' });
  });

  it('Vulkan drivers: the one the user set, else the system (when a GPU node exists), then software ones present', () => {
    expect(icdCandidates({ VK_ICD_FILENAMES: '/x.json' }, true, () => true)).toEqual(['/x.json']);
    expect(icdCandidates({}, false, (p) => String(p).includes('swiftshader'))).toEqual(['/usr/lib/chromium/vk_swiftshader_icd.json']);
    expect(icdCandidates({}, true, () => false)).toEqual(['system']);
  });

  it('steps/s over recent steps and the ETA', () => {
    const m = new RateMeter(2);
    m.mark(0, 0);
    m.mark(1, 10_000); // a slow first step (shader compilation)
    m.mark(2, 10_500);
    m.mark(3, 11_000);
    expect(m.rate).toBeCloseTo(2, 9);
    expect(m.eta(13)).toBeCloseTo(5, 9);
  });
});
