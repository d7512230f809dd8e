// Benchmarks of the data path and the viewer (`npm run bench`): prints a table and records
// bench/results.json and the tables in bench/RESULTS.md. Timings are reported, never asserted.
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { readNifti, toCanonical, writeNifti } from '../src/nifti/index.ts';
import { renderSlice, type Axis } from '../src/render/slice.ts';
import { labelStats } from '../src/data/labels.ts';
import { benchWeights } from './weights.ts';

const ROOT = path.resolve(import.meta.dirname, '..');

function time(fn: () => void, minMs = 300): { median: number; runs: number } {
  const t: number[] = [];
  const start = performance.now();
  while (performance.now() - start < minMs || t.length < 5) {
    const t0 = performance.now();
    fn();
    t.push(performance.now() - t0);
  }
  t.sort((a, b) => a - b);
  return { median: t[Math.floor(t.length / 2)], runs: t.length };
}

async function timeAsync(fn: () => Promise<unknown>, runs = 3): Promise<number> {
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    t.push(performance.now() - t0);
  }
  t.sort((a, b) => a - b);
  return t[Math.floor(t.length / 2)];
}

/** A CT-like int16 volume: a body ellipse (~40 HU) with organs and bone in air (−1000 HU), plus a label map. */
function syntheticCT(nx: number, ny: number, nz: number) {
  const data = new Int16Array(nx * ny * nz);
  const label = new Uint8Array(nx * ny * nz);
  let o = 0;
  for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++, o++) {
    const x = (i - nx / 2) / (nx * 0.42), y = (j - ny / 2) / (ny * 0.32);
    const r = x * x + y * y;
    if (r > 1) { data[o] = -1000 + ((i * 7 + j * 13 + k) % 23); continue; }
    data[o] = 40 + ((i * 31 + j * 17 + k * 7) % 41) - 20;
    const lx = (i - nx * 0.35) / (nx * 0.12), ly = (j - ny * 0.45) / (ny * 0.1);
    if (lx * lx + ly * ly < 1) { data[o] = 60; label[o] = 1; }
    const sx = (i - nx / 2) / (nx * 0.04), sy = (j - ny * 0.72) / (ny * 0.04);
    if (sx * sx + sy * sy < 1) { data[o] = 700; label[o] = 2; }
  }
  return { data, label };
}

interface Row { name: string; value: number; unit: string; note?: string }
const rows: Row[] = [];
const add = (name: string, value: number, unit: string, note?: string) => {
  rows.push({ name, value: Math.round(value * 100) / 100, unit, note });
  console.log(`${name.padEnd(58)} ${value.toFixed(2).padStart(10)} ${unit}${note ? `  (${note})` : ''}`);
};

async function main() {
  // --- Viewer: one 512×512 slice with overlay (target < 16 ms) ---------------------------------
  const [nx, ny, nz] = [512, 512, 300];
  const ct = syntheticCT(nx, ny, nz);
  const palette = new Uint8Array([0, 0, 0, 230, 90, 60, 80, 170, 255]);
  for (const axis of ['axial', 'coronal', 'sagittal'] as Axis[]) {
    let out: Uint8ClampedArray | undefined;
    const idx = axis === 'axial' ? 150 : 256;
    const r = time(() => {
      out = renderSlice({ dims: [nx, ny, nz], spacing: [0.8, 0.8, 2], image: ct.data, channel: 0, window: { low: -175, high: 250 }, label: ct.label, palette, opacity: 0.5 }, { axis, radiological: true }, idx, out).rgba;
    });
    add(`render ${axis} slice of 512×512×300 int16 + overlay`, r.median, 'ms', `median of ${r.runs}; target < 16 ms`);
  }

  // --- NIfTI: load + canonical reorientation --------------------------------------------------
  const colinPath = path.join(ROOT, 'public/samples/colin27_t1.nii.gz');
  const colin = new Uint8Array(readFileSync(colinPath));
  const colinRaw = 181 * 217 * 181;
  const tColin = await timeAsync(async () => toCanonical(await readNifti(colin, 'colin27_t1.nii.gz')));
  add('read + canonical: Colin27 1 mm (uint8, .nii.gz)', tColin, 'ms', `${(colinRaw / 1e6 / (tColin / 1000)).toFixed(0)} MB/s of voxels`);

  const affine = Float64Array.from([-0.8, 0, 0, 200, 0, -0.8, 0, 200, 0, 0, 2, -300, 0, 0, 0, 1]); // LPS-stored CT
  const ctGz = await writeNifti({ dims: [nx, ny, nz], channels: 1, data: ct.data, affine });
  const ctRawMB = (nx * ny * nz * 2) / 1e6;
  const tCT = await timeAsync(async () => toCanonical(await readNifti(ctGz, 'ct.nii.gz')));
  add('read + canonical: 512×512×300 int16 CT (LPS, .nii.gz)', tCT, 'ms', `${(ctRawMB / (tCT / 1000)).toFixed(0)} MB/s; ${(ctGz.length / 1e6).toFixed(1)} MB gz`);
  const ctVol = await readNifti(ctGz, 'ct.nii.gz');
  const tReorient = time(() => toCanonical(ctVol), 500).median;
  add('canonical reorientation alone: 512×512×300 int16 (LPS→RAS)', tReorient, 'ms');
  const tStats = time(() => labelStats({ ...ctVol, data: ct.label, datatypeCode: 2 }), 500).median;
  add('label classes + counts: 512×512×300 uint8', tStats, 'ms');

  // The decompression floor: gzip -dc of the same file.
  const tmp = path.join(os.tmpdir(), 'inflateseg-bench-ct.nii.gz');
  writeFileSync(tmp, ctGz);
  const tGzip = await timeAsync(async () => execFileSync('sh', ['-c', `gzip -dc ${tmp} > /dev/null`]));
  add('gzip -dc of the same CT file (decompression floor)', tGzip, 'ms');
  add('ratio read+canonical / gzip -dc (CT)', tCT / tGzip, '×', 'target ≤ 1.5');

  // The same files through nibabel (Debian python3-nibabel), when it is installed.
  try {
    const nib = JSON.parse(execFileSync('/usr/bin/python3', [path.join(ROOT, 'bench/nibabel_load.py'), colinPath, tmp], { encoding: 'utf8' })) as Record<string, number>;
    add('nibabel load + as_closest_canonical: Colin27 1 mm', nib[colinPath], 'ms');
    add('nibabel load + as_closest_canonical: 512×512×300 CT', nib[tmp], 'ms');
    add('ratio ours / nibabel (CT)', tCT / nib[tmp], '×', 'target ≤ 1');
  } catch {
    console.log('(nibabel not available: apt-get install python3-nibabel for the reference timings)');
  }

  // --- Weights: read + map + inflate vs a plain copy -------------------------------------------------
  await benchWeights(add);

  const machine = { cpus: os.cpus().length, cpu: os.cpus()[0]?.model ?? 'unknown', node: process.version, date: new Date().toISOString().slice(0, 10) };
  writeFileSync(path.join(ROOT, 'bench/results.json'), JSON.stringify({ machine, rows }, null, 2) + '\n');
  console.log(`\nwrote bench/results.json (${machine.cpus} × ${machine.cpu}, Node ${machine.node})`);
}

await main();
