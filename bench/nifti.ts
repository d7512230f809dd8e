// NIfTI benchmark: load + canonical RAS+ reorientation of Colin27 and of a 512×512×300 int16 CT stored LPS, with
// both gzip codecs (zlib as the CLI injects it, DecompressionStream), beside nibabel and `gzip -dc` of the same files.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { useZlib } from '../src/cli/common.ts';
import { gunzip, setGzipCodec } from '../src/nifti/gzip.ts';
import { readNifti, toCanonical, writeNifti } from '../src/nifti/index.ts';
import type { Vec3 } from '../src/core/types.ts';

type Add = (name: string, value: number, unit: string, note?: string) => void;
interface Timing { wall: number; cpu: number }

const RUNS = 5;

const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];

/**
 * Median wall and CPU time (CPU of every thread of this process: zlib runs in the thread pool) after one warm-up,
 * over at least RUNS runs and at least 1 s (so a 10 ms load is timed ~100 times, and a stray GC pause is not the median).
 */
async function measure(fn: () => Promise<unknown> | unknown): Promise<Timing> {
  await fn();
  const wall: number[] = [];
  const cpu: number[] = [];
  const start = performance.now();
  while (wall.length < RUNS || (performance.now() - start < 1000 && wall.length < 200)) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await fn();
    wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  return { wall: median(wall), cpu: median(cpu) };
}

/**
 * `gzip -dc file > /dev/null`: median wall time around the child (process start included, a few ms) and its CPU
 * (user + sys) as /usr/bin/time reports it (10 ms resolution).
 */
function gzipFloor(file: string): Timing {
  const wall: number[] = [];
  const cpu: number[] = [];
  execFileSync('sh', ['-c', `gzip -dc '${file}' > /dev/null`]); // warm-up: the file in the page cache
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    const line = execFileSync('sh', ['-c', `{ /usr/bin/time -f '%U %S' gzip -dc '${file}' > /dev/null; } 2>&1`], { encoding: 'utf8' }).trim().split('\n').pop()!;
    wall.push(performance.now() - t0);
    const [u, s] = line.split(' ').map(Number);
    cpu.push((u + s) * 1000);
  }
  return { wall: median(wall), cpu: median(cpu) };
}

interface NibabelTimes { view: { wall_ms: number; cpu_ms: number }; fortran: { wall_ms: number; cpu_ms: number }; c_order: { wall_ms: number; cpu_ms: number } }

export async function benchNifti(add: Add, root: string, ct: { data: Int16Array; dims: Vec3 }): Promise<string> {
  const colinPath = path.join(root, 'public/samples/colin27_t1.nii.gz');
  const colin = new Uint8Array(readFileSync(colinPath));
  const affine = Float64Array.from([-0.8, 0, 0, 200, 0, -0.8, 0, 200, 0, 0, 2, -300, 0, 0, 0, 1]); // LPS-stored CT
  useZlib();
  const ctGz = await writeNifti({ dims: ct.dims, channels: 1, data: ct.data, affine });
  const ctPath = path.join(os.tmpdir(), 'inflateseg-bench-ct.nii.gz');
  writeFileSync(ctPath, ctGz);
  const files = [
    { key: 'colin', label: 'Colin27 1 mm uint8 (RAS, 181×217×181)', file: colinPath, bytes: colin, voxelBytes: 181 * 217 * 181 },
    { key: 'ct', label: `CT int16 stored LPS (${ct.dims.join('×')})`, file: ctPath, bytes: ctGz, voxelBytes: ct.data.length * 2 },
  ];

  // Ours: readNifti + toCanonical, in place as the app's and the CLI's loader call it (nifti.job.ts), and copying.
  const ours: Record<string, Record<string, Timing>> = {};
  for (const f of files) {
    ours[f.key] = {};
    for (const codec of ['zlib', 'DecompressionStream'] as const) {
      if (codec === 'zlib') useZlib();
      else setGzipCodec(null);
      ours[f.key][`${codec}`] = await measure(async () => toCanonical(await readNifti(f.bytes, f.file), { inPlace: true }));
      ours[f.key][`${codec}, gunzip alone`] = await measure(() => gunzip(f.bytes));
    }
    useZlib();
    ours[f.key]['zlib, copying toCanonical'] = await measure(async () => toCanonical(await readNifti(f.bytes, f.file)));
    const vol = await readNifti(f.bytes, f.file);
    ours[f.key]['toCanonical alone, copy'] = await measure(() => toCanonical(vol));
    // In place on the same array: each run flips it back, the same work every time.
    ours[f.key]['toCanonical alone, in place'] = await measure(() => toCanonical(vol, { inPlace: true }));
  }
  setGzipCodec(null);

  const floor = Object.fromEntries(files.map((f) => [f.key, gzipFloor(f.file)]));
  let nib: Record<string, NibabelTimes> | null = null;
  try {
    nib = JSON.parse(execFileSync('/usr/bin/python3', [path.join(root, 'bench/nibabel_load.py'), ...files.map((f) => f.file)], { encoding: 'utf8' })) as Record<string, NibabelTimes>;
  } catch {
    console.log('(nibabel not available: apt-get install python3-nibabel for the reference timings)');
  }

  // Rows for results.json and a markdown table for RESULTS.md.
  const table: string[] = ['| file | what | wall ms | CPU ms | MB/s of voxels (wall) | ours (zlib, in place) ÷ this |', '|---|---|---|---|---|---|'];
  for (const f of files) {
    const mine = ours[f.key].zlib.wall;
    const line = (what: string, t: Timing, note?: string) => {
      const mbs = f.voxelBytes / 1e6 / (t.wall / 1000);
      add(`NIfTI ${f.key}: ${what}`, t.wall, 'ms', `CPU ${t.cpu.toFixed(0)} ms; ${mbs.toFixed(0)} MB/s of voxels${note ? `; ${note}` : ''}`);
      table.push(`| ${f.label} | ${what} | ${t.wall.toFixed(0)} | ${t.cpu.toFixed(0)} | ${mbs.toFixed(0)} | ${(mine / t.wall).toFixed(2)} |`);
    };
    for (const [what, t] of Object.entries(ours[f.key])) line(`ours: ${what}`, t);
    if (nib) {
      const n = nib[f.file];
      line('nibabel: as_closest_canonical (flips as views)', { wall: n.view.wall_ms, cpu: n.view.cpu_ms });
      line('nibabel: + np.asfortranarray (same layout as ours)', { wall: n.fortran.wall_ms, cpu: n.fortran.cpu_ms });
      line('nibabel: + np.ascontiguousarray (C order: a transpose)', { wall: n.c_order.wall_ms, cpu: n.c_order.cpu_ms });
    }
    line('gzip -dc > /dev/null (decompression floor)', floor[f.key]);
  }
  for (const f of files) {
    const mine = ours[f.key].zlib.wall;
    if (nib) {
      add(`NIfTI ${f.key}: ours ÷ nibabel + asfortranarray (same work)`, mine / nib[f.file].fortran.wall_ms, '×', 'target ≤ 1');
      add(`NIfTI ${f.key}: ours ÷ nibabel with views`, mine / nib[f.file].view.wall_ms, '×', 'target ≤ 1');
    }
    add(`NIfTI ${f.key}: ours ÷ gzip -dc`, mine / floor[f.key].wall, '×', 'target ≤ 1.5');
  }
  const md = table.join('\n');
  console.log(`\n${md}\n`);
  return md;
}
