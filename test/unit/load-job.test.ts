// The NIfTI worker's job on the bundled samples, checked against numbers computed independently with nibabel/numpy
// when the samples were derived (scripts/derive-samples.py printed them; public/samples/NOTICE.md records them).
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadVolume } from '../../src/workers/nifti.job.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const blob = (name: string) => new Blob([readFileSync(path.join(ROOT, 'public/samples', name))]);

describe('loadVolume (worker job) on the bundled samples', () => {
  it('Colin27 1 mm labels: RAS grid, class voxel counts as numpy counted them', async () => {
    const phases: string[] = [];
    const r = await loadVolume(blob('colin27_t1_seg.nii.gz'), 'colin27_t1_seg.nii.gz', 'label', (p) => phases.push(p));
    expect(phases).toEqual(['reading', 'parsing', 'reorienting', 'summarising']);
    expect(r.volume.dims).toEqual([181, 217, 181]);
    expect(r.source.axcodes).toBe('RAS');
    expect(r.label!.classes).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(r.label!.counts).toEqual([5769353, 362442, 215229, 193294, 203468, 129950, 53647, 181754]);
    expect(Array.from(r.volume.affine)).toEqual([1, 0, 0, -90, 0, 1, 0, -125, 0, 0, 1, -71, 0, 0, 0, 1]);
  });

  it('ITK k-means pair: stored LSA, shown RAS (128×62×128), label counts as numpy counted them', async () => {
    const img = await loadVolume(blob('itk_kmeans_t1.nii.gz'), 'itk_kmeans_t1.nii.gz', 'image');
    const seg = await loadVolume(blob('itk_kmeans_t1_seg.nii.gz'), 'itk_kmeans_t1_seg.nii.gz', 'label');
    expect(img.source.axcodes).toBe('LSA');
    expect(img.source.dims).toEqual([128, 128, 62]);
    // L→R flips i; S (stored j) becomes the 3rd axis, A (stored k) the 2nd.
    expect(img.volume.dims).toEqual([128, 62, 128]);
    expect(img.volume.spacing.map((s) => Math.round(s * 1e4) / 1e4)).toEqual([2, 3, 2]);
    expect(img.volume.axcodes).toBe('RAS');
    expect(seg.label!.classes).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(seg.label!.counts).toEqual([126, 729202, 114711, 43423, 24061, 57084, 47201]);
    expect(img.image!.modality).toBe('mr');
    expect(img.image!.min).toBe(0);
    expect(img.image!.max).toBeLessThanOrEqual(255);
    expect(img.image!.p005).toBeLessThan(img.image!.p995);
  });

  it('reports a truncated file by name', async () => {
    const bytes = readFileSync(path.join(ROOT, 'public/samples/colin27_2mm_t1.nii.gz')).subarray(0, 5000);
    await expect(loadVolume(new Blob([bytes]), 'cut.nii.gz', 'image')).rejects.toThrow(/^cut\.nii\.gz: /);
  });
});
