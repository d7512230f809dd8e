// The CLI with Swin encoders, in process: the 'swint' preset from a Hub-shaped server (the micro Swin fixture served as
// timm's Swin-B repo), Video Swin as swint3d=FILE and swint3d=URL, and the message when no file is given. The written
// encoder is read back as the app imports it.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import type { Io } from '../../src/cli/common.ts';
import { encoderSource } from '../../src/cli/encoder.ts';
import { UsageError } from '../../src/cli/args.ts';
import { readSafetensors } from '../../src/weights/formats/index.ts';
import { checkEncoderTensors, decodeEncoderMetadata } from '../../src/weights/export.ts';
import { decodeModelCheckpoint } from '../../src/weights/checkpoint.ts';
import { startHubServer, type HubServer } from '../support/hubServer.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const FIX = path.join(ROOT, 'test/fixtures/weights/layouts');
const VIDEO = path.join(FIX, 'swin_micro_patch244_window222_kinetics.pth');
const SWIN_B = 'timm/swin_base_patch4_window7_224.ms_in22k';
const CLI = path.join(ROOT, 'scripts/inflateseg.mjs');
const SAMPLE = ['public/samples/itk_kmeans_t1.nii.gz', 'public/samples/itk_kmeans_t1_seg.nii.gz'].map((f) => path.join(ROOT, f));

/** The CLI as a user runs it (a child process). */
function cli(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: tmp, env: { ...process.env, FORCE_COLOR: '0' } });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

let tmp: string;
let hub: HubServer;
beforeAll(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), 'inflateseg-cli-swin-'));
  hub = await startHubServer({
    [`${SWIN_B}/model.safetensors`]: new Uint8Array(readFileSync(path.join(FIX, 'swin_timm.safetensors'))),
    [`${SWIN_B}/config.json`]: new Uint8Array(readFileSync(path.join(FIX, 'swin_timm.config.json'))),
    'org/files/swin_micro_patch244_window222_kinetics.pth': new Uint8Array(readFileSync(VIDEO)),
  });
  process.env.INFLATESEG_CACHE = path.join(tmp, 'cache');
});
afterAll(async () => {
  delete process.env.INFLATESEG_CACHE;
  delete (globalThis as { caches?: unknown }).caches;
  await hub.close();
  rmSync(tmp, { recursive: true, force: true });
});

function memoryIo(): Io & { text: () => string } {
  let text = '';
  const sink = { write: (s: string) => { text += s; return true; } };
  return { out: sink, err: sink, signal: new AbortController().signal, onInterrupt: () => {}, interrupted: false, text: () => text };
}

async function readBack(file: string) {
  const st = await readSafetensors(new Uint8Array(readFileSync(file)), 'encoder.safetensors');
  const rec = decodeEncoderMetadata(st.metadata ?? {}, 'encoder.safetensors')!;
  checkEncoderTensors(st.tensors, rec, 'encoder.safetensors'); // what the app does when the file is dropped
  return { st, rec };
}

describe('CLI with Swin encoders', () => {
  it("--encoder swint: the preset's Hub repo (served locally), inflated centre T = 3 → a Swin encoder the app reads", async () => {
    const io = memoryIo();
    const outDir = path.join(tmp, 'swint');
    const code = await main(['inflate', '--encoder', 'swint', '--hub', hub.url, '--size', '32', '--T', '3', '--out', outDir], io);
    expect(code, io.text()).toBe(0);
    expect(io.text()).toMatch(/swin D 4 × 6 blocks \(stages 2-2-1-1, heads 1-1-2-2, window 2×2\), patch 4/);
    const { st, rec } = await readBack(path.join(outDir, 'encoder.safetensors'));
    expect(rec.spec).toMatchObject({ family: 'swin', layout: 'timm', T: 3, grid: [8, 8] });
    expect(rec.source).toBe(SWIN_B);
    expect(st.tensors.get('patch_embed.proj.weight')!.shape).toEqual([4, 1, 3, 4, 4]);
    expect(st.tensors.get('layers.3.downsample.reduction.weight')!.shape).toEqual([32, 64]);
  });

  it('--encoder swint3d=FILE and swint3d=URL: the Video Swin release, kernel depth 2 kept, T = 5 slices', async () => {
    for (const [n, value] of [[1, `swint3d=${VIDEO}`], [2, `swint3d=${hub.url}/org/files/resolve/main/swin_micro_patch244_window222_kinetics.pth`]] as const) {
      const io = memoryIo();
      const outDir = path.join(tmp, `video${n}`);
      const code = await main(['inflate', '--encoder', value, '--size', '32', '--T', '5', '--out', outDir], io);
      expect(code, io.text()).toBe(0);
      expect(io.text()).toContain('videoswin D 4 × 6 blocks (stages 2-2-1-1, heads 1-1-2-2, window 2×2×2)');
      const { st, rec } = await readBack(path.join(outDir, 'encoder.safetensors'));
      expect(rec.spec).toMatchObject({ family: 'videoswin', layout: 'videoswin-original', T: 5, swin: { patchDepth: 2 } });
      expect(st.tensors.get('patch_embed.proj.weight')!.shape).toEqual([4, 1, 2, 4, 4]);
    }
  });

  it('swint3d without a file, with a preset, a wrong URL, or a 2D Swin file: a usage/data error that says what to give', async () => {
    await expect(encoderSource('swint3d', hub.url)).rejects.toThrow(UsageError);
    await expect(encoderSource('swint3d', hub.url)).rejects.toThrow(/--encoder swint3d: Video Swin has no Hub preset; name its checkpoint after '=': --encoder swint3d=\/path\/to\/swin_base_patch244_window877_kinetics600_22k\.pth/);
    await expect(encoderSource('videoswint=', hub.url)).rejects.toThrow(/--encoder videoswint=: Video Swin has no Hub preset/);
    await expect(encoderSource('swint3d=swint', hub.url)).rejects.toThrow(/swint is not a checkpoint file, folder or URL/);
    await expect(encoderSource('https://example.org/weights/', hub.url)).rejects.toThrow(/the URL should name a checkpoint file/);
    const io = memoryIo();
    const code = await main(['inflate', '--encoder', `swint3d=${path.join(FIX, 'swin_timm.safetensors')}`, '--size', '32', '--out', path.join(tmp, 'bad')], io);
    expect(code).not.toBe(0);
    expect(io.text()).toMatch(/the preset says videoswin, but the checkpoint is a Swin \(2D patch kernel\) model/);
    const missing = memoryIo();
    expect(await main(['inflate', '--encoder', `swint3d=${hub.url}/org/files/resolve/main/nope.pth`, '--size', '32', '--out', path.join(tmp, 'bad2')], missing)).not.toBe(0);
    expect(missing.text()).toMatch(/nope\.pth: HTTP 404/);
  });

  it('trains 3 steps on the sample with --encoder <micro Swin file> and with swint3d=<micro Video Swin file>', async () => {
    const quick = ['--size', '32', '--T', '3', '--steps', '3', '--val-every', '0', '--axis', '1'];
    const cases = [['swin', path.join(FIX, 'swin_timm.safetensors')], ['videoswin', `swint3d=${VIDEO}`]] as const;
    const runs = await Promise.all(cases.map(([family, enc]) => cli(['train', ...SAMPLE, '--encoder', enc, ...quick, '--out', path.join(tmp, `train-${family}`)])));
    for (const [i, [family]] of cases.entries()) {
      expect(runs[i].code, runs[i].stderr).toBe(0);
      expect(runs[i].stderr).toMatch(/step 3\/3 {2}loss \d/);
      const ckpt = await decodeModelCheckpoint(new Uint8Array(readFileSync(path.join(tmp, `train-${family}`, 'model.safetensors'))), 'model.safetensors');
      expect(ckpt.meta.step).toBe(3);
      expect(ckpt.meta.config).toMatchObject({ T: 3, imgSize: 32, inChans: 1, numClasses: 7 });
      expect(JSON.stringify(ckpt.meta.config)).toContain(`"family":"${family}"`);
    }
  }, 120_000);
});
