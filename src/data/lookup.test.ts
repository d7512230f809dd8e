// Tests for lookup-file parsing: each format, auto-detection and clear errors.
import { describe, expect, it } from 'vitest';
import { parseBinaryLut, parseLookup, parseLookupFile } from './labels.ts';

// The first and last lines of MRIcron's templates/aal.nii.txt (CRLF endings and a trailing blank line, as shipped).
const AAL = '1 Precentral_L 2001\r\n2 Precentral_R 2002\r\n3 Frontal_Sup_L 2101\r\n4 Frontal_Sup_R 2102\r\n'
  + '5 Frontal_Sup_Orb_L 2111\r\n114 Vermis_8 9150\r\n115 Vermis_9 9160\r\n116 Vermis_10 9170\r\n\r\n';

describe('parseLookup: text formats', () => {
  it('reads AAL (index name code), dropping the region code', () => {
    const t = parseLookup(AAL, 'aal.nii.txt');
    expect(t.format).toBe('aal');
    expect(t.names[1]).toBe('Precentral_L');
    expect(t.names[116]).toBe('Vermis_10');
    expect(Object.keys(t.names)).toHaveLength(8);
    expect(t.colors).toBeUndefined();
  });

  it('reads a 116-line AAL table', () => {
    const text = Array.from({ length: 116 }, (_, i) => `${i + 1} Region_${i + 1} ${2001 + i}`).join('\r\n');
    const t = parseLookup(text, 'aal.nii.txt');
    expect(Object.keys(t.names)).toHaveLength(116);
    expect(t.names[116]).toBe('Region_116');
  });

  it('reads FreeSurfer ColorLUT with comments', () => {
    const text = '#$Id: FreeSurferColorLUT.txt $\n\n#No. Label Name:                R   G   B   A\n'
      + '0   Unknown                     0   0   0   0\n17  Left-Hippocampus          220 216  20   0\n'
      + '53  Right-Hippocampus         220 216  20   0\n';
    const t = parseLookup(text, 'FreeSurferColorLUT.txt');
    expect(t.format).toBe('freesurfer');
    expect(t.names).toEqual({ 0: 'Unknown', 17: 'Left-Hippocampus', 53: 'Right-Hippocampus' });
    expect(t.colors?.[17]).toEqual([220, 216, 20]);
  });

  it('reads ITK-SNAP label descriptions with quoted names', () => {
    const text = '################################################\n# ITK-SnAP Label Description File\n'
      + '#    IDX   -R-  -G-  -B-  -A--  VIS MSH  LABEL\n################################################\n'
      + '    0     0    0    0        0  0  0    "Clear Label"\n'
      + '    1   255    0    0        1  1  1    "Label 1"\n'
      + '    2     0  255    0      0.5  1  1    "Left kidney"\n';
    const t = parseLookup(text, 'labels.txt');
    expect(t.format).toBe('itksnap');
    expect(t.names).toEqual({ 0: 'Clear Label', 1: 'Label 1', 2: 'Left kidney' });
    expect(t.colors?.[2]).toEqual([0, 255, 0]);
  });

  it('reads plain "index name" lines (the bundled colin27_classes.txt style), names with spaces, tabs', () => {
    const t = parseLookup('0 background\n1 grey matter\n2 white_matter\n', 'colin27_classes.txt');
    expect(t.format).toBe('index-name');
    expect(t.names).toEqual({ 0: 'background', 1: 'grey matter', 2: 'white_matter' });
    const tab = parseLookup('0\tUnclassified\n1\tMiddle cerebellar peduncle\n', 'jhu.txt');
    expect(tab.names[1]).toBe('Middle cerebellar peduncle');
  });

  it('reads CSV/TSV with a header, finding index, name and colour columns', () => {
    const csv = parseLookup('name,value,r,g,b\nliver,1,255,0,0\n"spleen, accessory",2,0,0,255\n', 'classes.csv');
    expect(csv.format).toBe('table');
    expect(csv.names).toEqual({ 1: 'liver', 2: 'spleen, accessory' });
    expect(csv.colors).toEqual({ 1: [255, 0, 0], 2: [0, 0, 255] });
    const tsv = parseLookup('label\tstructure\tcolor\n0\tbackground\t#000000\n3\tpancreas\t#ffcc00\n', 'seg.tsv');
    expect(tsv.names).toEqual({ 0: 'background', 3: 'pancreas' });
    expect(tsv.colors?.[3]).toEqual([255, 204, 0]);
    // 'label' holds names here, so 'index' is the index column.
    const t = parseLookup('index;label\n1;tumour\n', 'x.csv');
    expect(t.names).toEqual({ 1: 'tumour' });
  });

  it('reads headerless CSV with colours', () => {
    const t = parseLookup('1,liver,255,0,0\n2,spleen\n', 'x.csv');
    expect(t.names).toEqual({ 1: 'liver', 2: 'spleen' });
    expect(t.colors).toEqual({ 1: [255, 0, 0] });
  });

  it('notes duplicate indices (last wins)', () => {
    const t = parseLookup('1 a\n1 b\n', 'dup.txt');
    expect(t.names[1]).toBe('b');
    expect(t.notes[0]).toMatch(/dup\.txt: index 1 appears twice/);
  });
});

describe('parseLookup: JSON', () => {
  it('reads index → name maps, MSD dataset.json and arrays', () => {
    expect(parseLookup('{"1": "liver", "2": "tumour"}', 'c.json').names).toEqual({ 1: 'liver', 2: 'tumour' });
    const msd = '{"name": "Spleen", "modality": {"0": "CT"}, "labels": {"0": "background", "1": "spleen"}, "numTraining": 41}';
    expect(parseLookup(msd, 'dataset.json').names).toEqual({ 0: 'background', 1: 'spleen' });
    expect(parseLookup('["background", "liver"]', 'c.json').names).toEqual({ 0: 'background', 1: 'liver' });
    const rich = parseLookup('{"labels": [{"index": 4, "name": "kidney", "color": [10, 20, 30]}]}', 'c.json');
    expect(rich.names).toEqual({ 4: 'kidney' });
    expect(rich.colors).toEqual({ 4: [10, 20, 30] });
  });

  it('reads the inverted name → index form (nnU-Net v2), skipping region entries with a note', () => {
    const t = parseLookup('{"labels": {"background": 0, "edema": 1, "enhancing": 3, "whole tumor": [1, 2, 3]}}', 'dataset.json');
    expect(t.names).toEqual({ 0: 'background', 1: 'edema', 3: 'enhancing' });
    expect(t.notes[0]).toMatch(/whole tumor/);
  });

  it('names the file on bad JSON', () => {
    expect(() => parseLookup('{"1": ', 'bad.json')).toThrow(/bad\.json: invalid JSON/);
    expect(() => parseLookup('{"a": "b"}', 'odd.json')).toThrow(/odd\.json.*maps neither/);
    expect(() => parseLookup('{"cases": [{"id": "x"}]}', 'index.json')).toThrow(/index\.json.*maps neither/);
  });
});

describe('errors and binary .lut', () => {
  it('rejects unknown formats, naming the file and listing the formats understood', () => {
    expect(() => parseLookup('hello world\nthis is prose\n', 'readme.txt')).toThrow(/readme\.txt.*\n- AAL/s);
    expect(() => parseLookup('1 liver\nfoo\n', 'x.txt')).toThrow(/x\.txt: not a class lookup this app reads: entry 2 \("foo"\)/);
    expect(() => parseLookup('# only comments\n', 'empty.txt')).toThrow(/empty\.txt: not a class lookup this app reads: the file has no entries/);
  });

  it('reads MRIcron binary .lut (R, G, B planes)', () => {
    const bytes = new Uint8Array(768);
    bytes[1] = 10; bytes[256 + 1] = 20; bytes[512 + 1] = 30; bytes[255] = 255;
    const { colors } = parseBinaryLut(bytes);
    expect(colors[1]).toEqual([10, 20, 30]);
    expect(colors[255]).toEqual([255, 0, 0]);
    expect(Object.keys(colors)).toHaveLength(256);
    expect(() => parseBinaryLut(new Uint8Array(10), 'x.lut')).toThrow(/x\.lut: .*768 bytes.*has 10/);
    expect(parseLookupFile(bytes, 'aal.nii.lut').format).toBe('mricron-lut');
    expect(parseLookupFile(new TextEncoder().encode(AAL), 'aal.nii.txt').names[2]).toBe('Precentral_R');
  });
});
