// Tests for pairing dropped files into cases.
import { describe, expect, it } from 'vitest';
import { assignLabel, classifyFile, labelStem, naturalCompare, pairFiles, unassignLabel, type DroppedFile } from './pairing.ts';

function files(...paths: string[]): DroppedFile[] {
  return paths.map((path) => ({ path, name: path.slice(path.lastIndexOf('/') + 1) }));
}

describe('classifyFile', () => {
  it('recognises NIfTI, lookups, junk and others', () => {
    const kinds = files('a.nii', 'b.NII.GZ', 'aal.nii.txt', 'aal.nii.lut', 'dataset.json', 'x.csv', 'y.tsv',
      '._a.nii.gz', '.DS_Store', '__MACOSX/d/a.nii.gz', 'readme.md', 'a.mgz', 'LICENSE-Apache-2.0.txt', 'README.txt').map(classifyFile);
    expect(kinds).toEqual(['nifti', 'nifti', 'lookup', 'lookup', 'lookup', 'lookup', 'lookup',
      'junk', 'junk', 'junk', 'other', 'other', 'other', 'other']);
  });
});

describe('pairFiles', () => {
  it('pairs brain + brain_seg and keeps a lookup file dropped beside them', () => {
    const p = pairFiles(files('brain.nii.gz', 'brain_seg.nii.gz', 'brain_classes.txt'));
    expect(p.cases).toEqual([{ id: 'brain', images: ['brain.nii.gz'], image: 'brain.nii.gz', label: 'brain_seg.nii.gz' }]);
    expect(p.lookups).toEqual(['brain_classes.txt']);
    expect(p.unpaired).toEqual([]);
    expect(p.notes).toEqual([]);
  });

  it('understands every label suffix, case-insensitively, with .nii and .nii.gz mixed', () => {
    const p = pairFiles(files('case1.nii', 'case1_label.nii', 'b.nii.gz', 'b_GT.nii.gz', 'c.nii', 'c-seg.nii.gz',
      'd.nii.gz', 'd.seg.nii.gz', 'e.nii', 'e_Mask.nii', 'f.nii', 'f_labels.nii'));
    expect(Object.fromEntries(p.cases.map((c) => [c.id, c.label]))).toEqual({
      case1: 'case1_label.nii', b: 'b_GT.nii.gz', c: 'c-seg.nii.gz', d: 'd.seg.nii.gz', e: 'e_Mask.nii', f: 'f_labels.nii',
    });
  });

  it('pairs a suffix label in another folder when the stem is unique, prefers the same folder', () => {
    const p = pairFiles(files('scans/brain.nii.gz', 'segs/brain_seg.nii.gz'));
    expect(p.cases[0].label).toBe('segs/brain_seg.nii.gz');
    const q = pairFiles(files('a/brain.nii.gz', 'a/brain_seg.nii.gz', 'b/brain_seg.nii.gz'));
    expect(q.cases[0].label).toBe('a/brain_seg.nii.gz');
    expect(q.unpaired).toEqual(['b/brain_seg.nii.gz']);
    expect(q.notes.join('\n')).toMatch(/b\/brain_seg\.nii\.gz.*closer label/);
  });

  it('pairs an MSD tree: imagesTr ↔ labelsTr by name, imagesTs unlabeled, dataset.json as a lookup', () => {
    const p = pairFiles(files('Task09_Spleen/dataset.json',
      'Task09_Spleen/imagesTr/spleen_2.nii.gz', 'Task09_Spleen/imagesTr/spleen_10.nii.gz',
      'Task09_Spleen/labelsTr/spleen_2.nii.gz', 'Task09_Spleen/labelsTr/spleen_10.nii.gz',
      'Task09_Spleen/imagesTs/spleen_1.nii.gz', 'Task09_Spleen/imagesTr/._spleen_2.nii.gz'));
    expect(p.cases.map((c) => [c.id, c.label])).toEqual([
      ['spleen_1', undefined],
      ['spleen_2', 'Task09_Spleen/labelsTr/spleen_2.nii.gz'],
      ['spleen_10', 'Task09_Spleen/labelsTr/spleen_10.nii.gz'],
    ]);
    expect(p.lookups).toEqual(['Task09_Spleen/dataset.json']);
    expect(p.ignored).toEqual(['Task09_Spleen/imagesTr/._spleen_2.nii.gz']);
    expect(p.unpaired).toEqual([]);
  });

  it('pairs images/ + labels/ and img/ + label/', () => {
    const p = pairFiles(files('d/images/a.nii.gz', 'd/labels/a.nii.gz', 'e/img/b.nii', 'e/label/b.nii'));
    expect(p.cases.map((c) => [c.id, c.label])).toEqual([['a', 'd/labels/a.nii.gz'], ['b', 'e/label/b.nii']]);
  });

  it('groups nnU-Net _0000/_0001 channels into one case ordered by channel, paired with the plain label', () => {
    const p = pairFiles(files('T/imagesTr/BRATS_001_0001.nii.gz', 'T/imagesTr/BRATS_001_0000.nii.gz',
      'T/labelsTr/BRATS_001.nii.gz', 'T/imagesTs/BRATS_400_0000.nii.gz', 'T/imagesTs/BRATS_400_0001.nii.gz'));
    expect(p.cases).toEqual([
      { id: 'BRATS_001', images: ['T/imagesTr/BRATS_001_0000.nii.gz', 'T/imagesTr/BRATS_001_0001.nii.gz'],
        image: 'T/imagesTr/BRATS_001_0000.nii.gz', label: 'T/labelsTr/BRATS_001.nii.gz' },
      { id: 'BRATS_400', images: ['T/imagesTs/BRATS_400_0000.nii.gz', 'T/imagesTs/BRATS_400_0001.nii.gz'],
        image: 'T/imagesTs/BRATS_400_0000.nii.gz' },
    ]);
    expect(p.notes).toEqual([]);
  });

  it('notes gaps in channel numbering', () => {
    const p = pairFiles(files('imagesTr/a_0000.nii.gz', 'imagesTr/a_0002.nii.gz'));
    expect(p.cases[0].images).toHaveLength(2);
    expect(p.notes[0]).toMatch(/0000, 0002/);
  });

  it('does not read _0001 as a channel outside an image folder', () => {
    const p = pairFiles(files('scan_0000.nii.gz', 'scan_0001.nii.gz'));
    expect(p.cases.map((c) => c.id)).toEqual(['scan_0000', 'scan_0001']);
  });

  it('leaves ambiguous labels unpaired with a note', () => {
    const p = pairFiles(files('brain.nii.gz', 'brain_seg.nii.gz', 'brain_mask.nii.gz'));
    expect(p.cases[0].label).toBeUndefined();
    expect(p.unpaired).toEqual(['brain_mask.nii.gz', 'brain_seg.nii.gz']);
    expect(p.notes[0]).toMatch(/several candidate labels/);
    const q = pairFiles(files('a/x.nii.gz', 'b/x.nii.gz', 'c/x_seg.nii.gz'));
    expect(q.cases.map((c) => c.id)).toEqual(['a/x', 'b/x']);
    expect(q.unpaired).toEqual(['c/x_seg.nii.gz']);
    expect(q.notes[0]).toMatch(/matches several images \(a\/x\.nii\.gz, b\/x\.nii\.gz\)/);
  });

  it('reports labels without an image and ignores junk and unknown files', () => {
    const p = pairFiles(files('lonely_seg.nii.gz', '.DS_Store', '__MACOSX/x/._a.nii.gz', 'notes.pdf', 'a.nii.gz'));
    expect(p.cases.map((c) => c.id)).toEqual(['a']);
    expect(p.unpaired).toEqual(['lonely_seg.nii.gz']);
    expect(p.ignored).toEqual(['.DS_Store', '__MACOSX/x/._a.nii.gz', 'notes.pdf']);
    expect(p.notes.join('\n')).toMatch(/lonely_seg\.nii\.gz: .*no image/);
    expect(p.notes.join('\n')).toMatch(/notes\.pdf: not a NIfTI/);
  });

  it('treats a real atlas folder: aal.nii.gz with aal.nii.txt and aal.nii.lut', () => {
    const p = pairFiles(files('aal.nii.gz', 'aal.nii.txt', 'aal.nii.lut'));
    expect(p.cases.map((c) => c.id)).toEqual(['aal']);
    expect(p.lookups).toEqual(['aal.nii.txt', 'aal.nii.lut']);
  });
});

describe('assignLabel / unassignLabel', () => {
  const base = pairFiles(files('a.nii.gz', 'b.nii.gz', 'a_seg.nii.gz', 'other.nii.gz')).cases;

  it('moves a label between cases without mutating the input', () => {
    const moved = assignLabel(base, 'b', 'a_seg.nii.gz');
    expect(moved.find((c) => c.id === 'b')?.label).toBe('a_seg.nii.gz');
    expect(moved.find((c) => c.id === 'a')).not.toHaveProperty('label');
    expect(base.find((c) => c.id === 'a')?.label).toBe('a_seg.nii.gz');
    const none = unassignLabel(moved, 'b');
    expect(none.every((c) => c.label === undefined)).toBe(true);
  });

  it('rejects unknown cases and image paths as labels', () => {
    expect(() => assignLabel(base, 'zzz', 'a_seg.nii.gz')).toThrow(/no case with id 'zzz'/);
    expect(() => assignLabel(base, 'a', 'other.nii.gz')).toThrow(/other\.nii\.gz is an image/);
    expect(() => unassignLabel(base, 'zzz')).toThrow(/zzz/);
  });
});

describe('naturalCompare', () => {
  it('orders numbers numerically', () => {
    expect(['c10', 'c2', 'b', 'c1'].sort(naturalCompare)).toEqual(['b', 'c1', 'c2', 'c10']);
  });
});

describe('labelStem', () => {
  it('strips the label suffixes pairing recognises, and says null otherwise', () => {
    expect(labelStem('brain_seg.nii.gz')).toBe('brain');
    expect(labelStem('case1_label.nii')).toBe('case1');
    expect(labelStem('Head_GT.nii.gz')).toBe('Head');
    expect(labelStem('liver-seg.nii.gz')).toBe('liver');
    expect(labelStem('brain.nii.gz')).toBeNull();
  });
});
