// readCheckpoint: recognising files by content, and the errors for files that are not checkpoints
// (random bytes, NIfTI images given by mistake, gzip, HDF5, JSON, legacy pickles).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readCheckpoint } from './index.ts';
import { fixtureBlob } from './testutil.ts';

const NIFTI = fileURLToPath(new URL('../../../test/fixtures/nifti/', import.meta.url));
const blob = (b: ArrayLike<number> | Uint8Array) => new Blob([Uint8Array.from(b as ArrayLike<number>)]);
const niftiBlob = (name: string) => new Blob([readFileSync(NIFTI + name)]);

describe('readCheckpoint', () => {
  it('sniffs by content, not by name', async () => {
    const s = await readCheckpoint(fixtureBlob('model.safetensors'), 'weights.pth');
    expect(s.format).toBe('safetensors');
    const t = await readCheckpoint(fixtureBlob('plain.pth'), 'weights.safetensors');
    expect(t.format).toBe('torch-zip');
    expect(t.metadata).toEqual({});
  });

  it('notes say where the state dict was found', async () => {
    const r = await readCheckpoint(fixtureBlob('nested.pth'), 'deit.pth');
    expect(r.notes).toEqual(["deit.pth: state dict found under ['model']"]);
  });

  it('random bytes: what they start with', async () => {
    const bytes = Array.from({ length: 64 }, (_, i) => (i * 73 + 11) & 0xff);
    await expect(readCheckpoint(blob(bytes), 'x.bin')).rejects.toThrow(
      /^x\.bin: is not a checkpoint this app reads \(\.safetensors, or a PyTorch zip \.pth\/\.pt\/\.bin\); it starts with 0b 54 9d e6 2f 78 c1 0a "\.T\.\.\/x\.\."$/,
    );
    await expect(readCheckpoint(blob([]), 'e.pth')).rejects.toThrow('e.pth: the file is empty');
  });

  it('a NIfTI image given as a checkpoint', async () => {
    await expect(readCheckpoint(niftiBlob('dtype_uint8_le.nii'), 'ct.nii')).rejects.toThrow('ct.nii: looks like a NIfTI-1 image (.nii), not a checkpoint');
    await expect(readCheckpoint(niftiBlob('dtype_int16_be.nii'), 'ct.nii')).rejects.toThrow(/NIfTI-1 image/);
    await expect(readCheckpoint(niftiBlob('nifti2_le.nii'), 'ct.nii')).rejects.toThrow(/NIfTI-2 image/);
    await expect(readCheckpoint(niftiBlob('dtype_int16_le.nii.gz'), 'ct.nii.gz')).rejects.toThrow(/looks like a gzip file \(a \.nii\.gz image\?/);
  });

  it('HDF5, NumPy, JSON', async () => {
    await expect(readCheckpoint(blob([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0]), 'm.h5')).rejects.toThrow(/HDF5 file \(\.h5 Keras weights\)/);
    await expect(readCheckpoint(blob([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]), 'a.npy')).rejects.toThrow(/NumPy \.npy array/);
    await expect(readCheckpoint(new Blob(['{"weight_map": {}}']), 'index.json')).rejects.toThrow(/JSON text file/);
  });

  it('a legacy PyTorch pickle', async () => {
    await expect(readCheckpoint(fixtureBlob('legacy.pth'), 'old.pth')).rejects.toThrow(/^old\.pth: legacy \(pre-1\.6\) PyTorch pickle/);
  });

  it('safetensors errors pass through with the file name', async () => {
    const bytes = readFileSync(fileURLToPath(new URL('../../../test/fixtures/weights/formats/model.safetensors', import.meta.url)));
    await expect(readCheckpoint(new Blob([bytes.subarray(0, bytes.length - 20)]), 'vit.safetensors')).rejects.toThrow(/^vit\.safetensors: tensor '.*' claims bytes .* — truncated\?$/);
  });
});
