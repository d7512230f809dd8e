// `inflateseg bench` as a user runs it (a child process): the JSON it writes has every field, its FLOPs are the pure
// count of src/weights/flops.ts for the shape, memory is reported per step; bad calls (in process) exit 2 naming the flag.
// Timings are printed, never asserted.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trainStepFlops, encoderCost, decoderCost } from '../../src/weights/flops.ts';
import { shapeFlops } from '../../src/cli/benchShapes.ts';
import { main } from '../../src/cli/main.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const CLI = path.join(ROOT, 'scripts/inflateseg.mjs');

let tmp: string;
beforeAll(() => { tmp = mkdtempSync(path.join(tmpdir(), 'inflateseg-bench-')); });
afterAll(() => { rmSync(tmp, { recursive: true, force: true }); });

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: tmp, env: { ...process.env, FORCE_COLOR: '0' } });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('inflateseg bench (child process)', () => {
  it('times the micro model on cpu and writes JSON whose FLOPs are the pure count', async () => {
    const r = await cli(['bench', '--encoder', 'micro', '--size', '32', '--steps', '2', '--backend', 'cpu', '--json', 'out.json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^backend: cpu/m);
    expect(r.stdout).toMatch(/^step: median [\d.]+ ms/m);
    expect(r.stdout).toMatch(/^matMul: 256² [\d.]+/m);
    expect(r.stdout).toMatch(/^memory: .*: (flat|grew by)/m);
    const j = JSON.parse(readFileSync(path.join(tmp, 'out.json'), 'utf8'));
    expect(j).toMatchObject({ command: 'bench', backend: { name: 'cpu' }, shape: { encoder: 'micro', decoder: 'unetr', size: 32, T: 5, batch: 2, numClasses: 8, decoderWidth: 16 } });
    expect(j.warmupMs).toHaveLength(1);
    expect(j.ms).toHaveLength(2);
    expect(j.medianMs).toBeGreaterThan(0);
    expect(j.samplesPerSec).toBeCloseTo(2000 / j.medianMs, 6);
    // The micro ViT: D 32, depth 2, patch 8, a 4×4 grid at 32 px; UNETR head of width 16, 8 classes, T 5, batch 2.
    const micro = { embedDim: 32, depth: 2, mlpRatio: 4, patchSize: 8, hasClsToken: true, hasDistToken: false };
    const expected = trainStepFlops(micro, { kind: 'unetr', width: 16, numClasses: 8 }, 32, 1, 5, 2);
    expect(j.flops).toEqual(expected);
    expect(j.flops.stepFlops).toBe(6 * 2 * (encoderCost(micro, 32, 1, 5).totalMacs + decoderCost({ kind: 'unetr', embedDim: 32, width: 16, numClasses: 8, imgSize: 32, patchSize: 8 })));
    expect(shapeFlops(j.shape)).toEqual(expected);
    expect(j.gflopsPerSec).toBeCloseTo(expected.stepFlops / 1e9 / (j.medianMs / 1000), 6);
    expect(j.matMul.sizes.map((s: { n: number }) => s.n)[0]).toBe(256);
    expect(j.matMul.best).toBe(Math.max(...j.matMul.sizes.map((s: { gflops: number }) => s.gflops)));
    expect(j.fractionOfMatMul).toBeCloseTo(j.gflopsPerSec / j.matMul.best, 9);
    expect(j.memory.map((m: { step: number }) => m.step)).toEqual([1, 2, 3]);
    expect(j.growth).toEqual({ numTensors: j.memory[2].numTensors - j.memory[0].numTensors, numBytes: j.memory[2].numBytes - j.memory[0].numBytes });
    expect(j.memoryFlat).toBe(true);
  });

  it('bad calls (in process, as main runs them): a message naming the flag, exit status 2, no file written', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--encoder', 'vit_huge'], /--encoder "vit_huge": expected one of micro, vit_tiny, vit_small, vit_base/],
      [['--encoder', 'micro', '--size', '30'], /--size 30: micro has 8-pixel patches; use a multiple of 8/],
      [['--strategy', '2d', '--T', '5'], /--T 5: --strategy 2d uses one slice/],
      [['--T', '4'], /--T "4": expected an odd integer/],
      [['--steps', '0'], /--steps "0": expected an integer ≥ 1/],
      [['--backend', 'tpu'], /--backend "tpu": expected one of/],
      [['data.nii.gz'], /bench takes no data/],
    ];
    for (const [args, message] of cases) {
      let err = '';
      const sink = { write: (s: string) => { err += s; return true; } };
      const code = await main(['bench', ...args, '--json', path.join(tmp, 'bad.json')], { out: sink, err: sink, signal: new AbortController().signal, onInterrupt: () => {}, interrupted: false });
      expect(code, `${args.join(' ')}: ${err}`).toBe(2);
      expect(err).toMatch(message);
      expect(err).toMatch(/^inflateseg bench error: /);
    }
    expect(existsSync(path.join(tmp, 'bad.json'))).toBe(false);
  });
});
