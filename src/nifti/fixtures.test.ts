// Every fixture in test/fixtures/nifti read by readNifti and reoriented by toCanonical, compared with what
// nibabel 5 reported for the same file (expected.json, written by scripts/make-nifti-fixtures.py).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { axcodesFromAffine, ioOrientation, readNifti, toCanonical } from './index.ts';
import { FIXTURES, fixtureBytes, maxDiff, rows, sum, voxel } from './testutil.ts';

interface Samples { index: number[]; value: number }
interface Expected {
  shape: number[];
  datatype: number;
  nonFinite: number;
  sum: number;
  min: number;
  max: number;
  samples: Samples[];
  affine: number[][];
  axcodes: string;
  ornt: number[][];
  canonical: { same_object: boolean; shape: number[]; affine: number[][]; axcodes: string; sum: number; samples: Samples[] };
}

const expected = JSON.parse(readFileSync(FIXTURES + 'expected.json', 'utf8')) as { files: Record<string, Expected> };
const names = Object.keys(expected.files);

/** |a − b| within float32 rounding of the larger magnitude (scaled data is Float32 here, float64 in nibabel). */
function close(a: number, b: number, scale = Math.abs(b)): boolean {
  return Math.abs(a - b) <= 1e-6 * Math.max(1, scale);
}

function shapeOf(v: { dims: number[]; channels: number }): number[] {
  return v.channels > 1 ? [...v.dims, v.channels] : [...v.dims];
}

describe('fixtures match nibabel', () => {
  it('has every kind of fixture', () => {
    expect(names.length).toBeGreaterThanOrEqual(30);
  });

  it.each(names)('%s', async (name) => {
    const e = expected.files[name];
    const vol = await readNifti(fixtureBytes(name), name);
    expect(vol.name).toBe(name);
    expect(shapeOf(vol)).toEqual(e.shape);
    expect(vol.datatypeCode).toBe(e.datatype);
    expect(vol.nonFinite).toBe(e.nonFinite);
    const s = sum(vol.data);
    expect(close(s.sum, e.sum, s.abs), `sum ${s.sum} vs ${e.sum}`).toBe(true);
    expect(close(Math.min(...vol.data), e.min)).toBe(true);
    expect(close(Math.max(...vol.data), e.max)).toBe(true);
    for (const { index, value } of e.samples) expect(close(voxel(vol, index), value), `${index}: ${voxel(vol, index)} vs ${value}`).toBe(true);
    expect(maxDiff(vol.affine, e.affine), JSON.stringify(rows(vol.affine))).toBeLessThan(1e-6);
    expect(vol.axcodes).toBe(e.axcodes);
    expect(axcodesFromAffine(vol.affine)).toBe(e.axcodes);
    expect(ioOrientation(vol.affine)).toEqual(e.ornt);
    for (let c = 0; c < 3; c++) expect(vol.spacing[c]).toBeCloseTo(Math.hypot(e.affine[0][c], e.affine[1][c], e.affine[2][c]), 9);

    const can = toCanonical(vol);
    expect(can === vol).toBe(e.canonical.same_object);
    expect(shapeOf(can)).toEqual(e.canonical.shape);
    expect(maxDiff(can.affine, e.canonical.affine), JSON.stringify(rows(can.affine))).toBeLessThan(1e-6);
    expect(can.axcodes).toBe('RAS');
    expect(can.data.constructor).toBe(vol.data.constructor);
    const cs = sum(can.data);
    expect(close(cs.sum, e.canonical.sum, cs.abs)).toBe(true);
    for (const { index, value } of e.canonical.samples) expect(close(voxel(can, index), value), `canonical ${index}`).toBe(true);
  });

  it('scaled files come back as Float32Array, unscaled ones keep their type', async () => {
    const scaled = await readNifti(fixtureBytes('scaled_int16.nii'), 'scaled_int16.nii');
    expect(scaled.data).toBeInstanceOf(Float32Array);
    const plain = await readNifti(fixtureBytes('dtype_uint16_be.nii'), 'dtype_uint16_be.nii');
    expect(plain.data).toBeInstanceOf(Uint16Array);
    const f64 = await readNifti(fixtureBytes('dtype_float64_le.nii'), 'dtype_float64_le.nii');
    expect(f64.data).toBeInstanceOf(Float64Array);
  });

  it('reports where the affine came from, preferring the sform like nibabel', async () => {
    const src = async (n: string) => (await readNifti(fixtureBytes(n), n)).affineSource;
    expect(await src('both_forms.nii')).toBe('sform');
    expect(await src('qform_only.nii')).toBe('qform');
    expect(await src('qform_qfac0.nii')).toBe('qform');
    expect(await src('no_form.nii')).toBe('pixdim');
  });

  it('reads from an ArrayBuffer and from a Uint8Array view at an odd offset', async () => {
    const bytes = fixtureBytes('dtype_int32_le.nii');
    const a = await readNifti(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer, 'a.nii');
    const padded = new Uint8Array(bytes.length + 3);
    padded.set(bytes, 3);
    const b = await readNifti(padded.subarray(3), 'b.nii');
    expect(Array.from(b.data)).toEqual(Array.from(a.data));
    // A Node Buffer from readFileSync is a view into a shared pool: data must still come from the file.
    const c = await readNifti(readFileSync(FIXTURES + 'dtype_int32_le.nii'), 'c.nii');
    expect(Array.from(c.data)).toEqual(Array.from(a.data));
    expect(c.data.byteOffset).toBe(0);
  });
});
