// Test helpers for the window tests: synthetic volumes and the bundled Colin27 2 mm sample.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Vec3, VoxelArray } from '../../core/types.ts';
import { readNifti, toCanonical } from '../../nifti/index.ts';
import type { Volume } from '../../nifti/types.ts';

/** A volume on a unit grid; `f(i, j, k, c)` gives each voxel. */
export function makeVolume(
  dims: Vec3, f: (i: number, j: number, k: number, c: number) => number,
  opts: { channels?: number; name?: string; array?: (n: number) => VoxelArray } = {},
): Volume {
  const channels = opts.channels ?? 1;
  const [nx, ny, nz] = dims;
  const data = opts.array ? opts.array(nx * ny * nz * channels) : new Float32Array(nx * ny * nz * channels);
  for (let c = 0, q = 0; c < channels; c++) {
    for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++, q++) data[q] = f(i, j, k, c);
  }
  return {
    name: opts.name ?? 'synthetic.nii.gz', dims, channels, data, datatypeCode: 16,
    affine: new Float64Array([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]), affineSource: 'sform',
    spacing: [1, 1, 1], nonFinite: 0, axcodes: 'RAS', description: '',
  };
}

const SAMPLES = fileURLToPath(new URL('../../../public/samples/', import.meta.url));

/** The bundled Colin27 2 mm T1 and its lobe labels, canonical (RAS+). */
export async function colin27(): Promise<{ image: Volume; label: Volume }> {
  const read = async (f: string) => toCanonical(await readNifti(new Uint8Array(readFileSync(SAMPLES + f)), f));
  return { image: await read('colin27_2mm_t1.nii.gz'), label: await read('colin27_2mm_t1_seg.nii.gz') };
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`maxAbsDiff: lengths ${a.length} and ${b.length} differ.`);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}
