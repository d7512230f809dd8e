// Benchmarks of the data path and the viewer (`npm run bench:data`; `npm run bench` runs it before bench:train and bench:browser): prints a table and records
// bench/results.json and the tables in bench/RESULTS.md. Timings are reported, never asserted.
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { renderSlice, type Axis } from '../src/render/slice.ts';
import { labelStats } from '../src/data/labels.ts';
import type { Volume } from '../src/nifti/types.ts';
import { benchNifti } from './nifti.ts';
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

  // --- NIfTI: load + canonical reorientation, both codecs, beside nibabel and gzip -dc (bench/nifti.ts) ---------
  const niftiTable = await benchNifti(add, ROOT, { data: ct.data, dims: [nx, ny, nz] });
  const labelVol: Volume = {
    name: 'label', dims: [nx, ny, nz], channels: 1, data: ct.label, datatypeCode: 2, affine: Float64Array.from([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]),
    affineSource: 'sform', spacing: [1, 1, 1], nonFinite: 0, axcodes: 'RAS', description: '',
  };
  const tStats = time(() => labelStats(labelVol), 500).median;
  add('label classes + counts: 512×512×300 uint8', tStats, 'ms');

  // --- Weights: read + map + inflate vs a plain copy -------------------------------------------------
  await benchWeights(add);

  const machine = { cpus: os.cpus().length, cpu: os.cpus()[0]?.model ?? 'unknown', node: process.version, date: new Date().toISOString().slice(0, 10) };
  const load = os.loadavg().map((l) => Math.round(l * 100) / 100);
  writeFileSync(path.join(ROOT, 'bench/results.json'), JSON.stringify({ machine: { ...machine, loadavgAtEnd: load }, rows, niftiTable }, null, 2) + '\n');
  console.log(`\nwrote bench/results.json (${machine.cpus} × ${machine.cpu}, Node ${machine.node})`);
}

await main();
