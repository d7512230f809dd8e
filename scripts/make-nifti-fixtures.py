#!/usr/bin/python3
# Writes the small NIfTI fixtures in test/fixtures/nifti/ and expected.json: what nibabel (the independent
# reference) reads from each file. Run with Debian's python (nibabel 5, numpy): /usr/bin/python3 scripts/make-nifti-fixtures.py
import gzip
import json
import math
import os
import struct

import nibabel as nib
import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'nifti')
SHAPE = (5, 4, 3)


def rot_x(deg):
    t = math.radians(deg)
    c, s = math.cos(t), math.sin(t)
    return np.array([[1, 0, 0], [0, c, -s], [0, s, c]])


def rot_z(deg):
    t = math.radians(deg)
    c, s = math.cos(t), math.sin(t)
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])


def affine(m3, offset):
    a = np.eye(4)
    a[:3, :3] = m3
    a[:3, 3] = offset
    return a


def pattern(shape, dtype):
    """Distinct values per voxel that exercise the whole range of the dtype (sign bit, high bytes)."""
    n = int(np.prod(shape))
    i = np.arange(n, dtype=np.float64)
    dt = np.dtype(dtype)
    if dt.kind == 'f':
        v = (i - n / 2) * 1.25 + 0.1
        v[1] = 3.0e5 if dt.itemsize == 4 else -1.0e200
    elif dt.kind == 'u':
        top = float(np.iinfo(dt).max)
        v = i * 3 % 250
        v[1] = top
        v[2] = top - 1
        v[3] = top // 2 + 7
    else:
        lo, hi = float(np.iinfo(dt).min), float(np.iinfo(dt).max)
        v = (i * 7 % 200) - 100
        v[1], v[2], v[3] = lo, hi, -257
    return v.astype(dtype).reshape(shape, order='F')


def sample_positions(shape):
    s = shape
    pos = [(0, 0, 0), (1, 0, 0), (2, 0, 0), (3, 0, 0), (s[0] - 1, 0, 0), (0, s[1] - 1, 0), (0, 0, s[2] - 1),
           (s[0] - 1, s[1] - 1, s[2] - 1), (1, 2, 1), (s[0] // 2, s[1] // 2, s[2] // 2)]
    if len(s) == 4:
        pos = [p + (c,) for c in range(s[3]) for p in pos[::2]] + [p + (s[3] - 1,) for p in pos[1::2]]
    return [list(map(int, p)) for p in pos]


def finite(a):
    return np.nan_to_num(a, nan=0.0, posinf=0.0, neginf=0.0)


def describe(path):
    img = nib.load(path)
    raw = np.asanyarray(img.get_fdata())
    data = finite(raw)
    shape = list(img.shape)
    pos = sample_positions(img.shape)
    can = nib.as_closest_canonical(img)
    cdata = finite(np.asanyarray(can.get_fdata()))
    return {
        'shape': shape,
        'datatype': int(img.header['datatype']),
        'nonFinite': int(np.size(raw) - np.count_nonzero(np.isfinite(raw))),
        'sum': float(data.sum()),
        'min': float(data.min()),
        'max': float(data.max()),
        'samples': [{'index': p, 'value': float(data[tuple(p)])} for p in pos],
        'affine': img.affine.tolist(),
        'axcodes': ''.join(nib.aff2axcodes(img.affine)),
        'ornt': nib.io_orientation(img.affine).astype(int).tolist(),
        'canonical': {
            'same_object': can is img,
            'shape': list(can.shape),
            'affine': can.affine.tolist(),
            'axcodes': ''.join(nib.aff2axcodes(can.affine)),
            'sum': float(cdata.sum()),
            'samples': [{'index': p, 'value': float(cdata[tuple(p)])} for p in sample_positions(can.shape)],
        },
    }


def save(img, name, endian='<'):
    """Writes img as name (.nii or .nii.gz) with the given header byte order."""
    hdr = img.header.copy()
    if endian == '>':
        hdr = hdr.as_byteswapped('>')
    cls = type(img)
    out = cls(np.asanyarray(img.dataobj), img.affine, hdr)
    raw = out.to_bytes()
    if endian == '>':
        assert raw[:4] in (b'\x00\x00\x01\x5c', b'\x00\x00\x02\x1c'), (name, raw[:4])
    write_bytes(name, raw)


def write_bytes(name, raw):
    path = os.path.join(OUT, name)
    if name.endswith('.gz'):
        raw = gzip.compress(raw, compresslevel=9, mtime=0)
    with open(path, 'wb') as f:
        f.write(raw)


def patch(raw, offset, fmt, value):
    b = bytearray(raw)
    struct.pack_into(fmt, b, offset, value)
    return bytes(b)


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if f.endswith(('.nii', '.nii.gz', '.json')):
            os.remove(os.path.join(OUT, f))
    names = []

    def add(img, name, endian='<'):
        save(img, name, endian)
        names.append(name)

    ras = affine(np.diag([2.0, 3.0, 4.0]), [-10.0, 20.5, -30.25])
    # every datatype, both byte orders
    for dt in ['uint8', 'int16', 'int32', 'float32', 'float64', 'int8', 'uint16', 'uint32']:
        for endian in '<>':
            img = nib.Nifti1Image(pattern(SHAPE, dt), ras)
            img.header.set_data_dtype(dt)
            add(img, f'dtype_{dt}_{"le" if endian == "<" else "be"}.nii', endian)
    img = nib.Nifti1Image(pattern(SHAPE, 'int16'), ras)
    add(img, 'dtype_int16_le.nii.gz')
    img = nib.Nifti1Image(pattern(SHAPE, 'float32'), ras)
    add(img, 'dtype_float32_be.nii.gz', '>')

    # orientations (sform + qform set by nibabel, codes 2 and 1... nibabel sets sform_code 2, qform_code 0 → set both)
    shape = (7, 6, 5)
    data = pattern(shape, 'int16')
    orients = {
        'orient_lps': affine(np.diag([-1.5, -2.0, 2.5]), [60.0, 80.0, -40.0]),
        'orient_psr': affine(np.array([[0, 0, 2.0], [-1.0, 0, 0], [0, 3.0, 0]]), [-5.0, 7.0, 9.0]),
        'orient_ail': affine(np.array([[0, 0, -1.2], [1.1, 0, 0], [0, -0.9, 0]]), [3.0, -4.0, 5.0]),
        'orient_sra': affine(np.array([[0, 1.0, 0], [0, 0, 1.0], [1.0, 0, 0]]), [0.0, 0.0, 0.0]),
        'orient_oblique': affine(rot_x(20) @ rot_z(30) @ np.diag([-1.0, 1.2, 2.0]), [12.0, -34.0, 56.0]),
    }
    for name, aff in orients.items():
        img = nib.Nifti1Image(data, aff)
        img.set_qform(aff, code=1)
        img.set_sform(aff, code=2)
        add(img, name + '.nii')
    img = nib.Nifti1Image(data, orients['orient_oblique'])
    img.set_qform(orients['orient_oblique'], code=1)
    img.set_sform(orients['orient_oblique'], code=2)
    add(img, 'orient_oblique_be.nii.gz', '>')

    # qform only (oblique, improper → qfac = -1)
    qaff = affine(rot_z(-25) @ rot_x(15) @ np.diag([1.0, -2.0, 1.5]), [-7.5, 3.25, 11.0])
    img = nib.Nifti1Image(data, None)
    img.set_qform(qaff, code=1)
    img.set_sform(None, code=0)
    add(img, 'qform_only.nii')
    # qform only with qfac (pixdim[0]) patched to 0: NIfTI says treat as 1 (nibabel fixes it to 1 on load)
    img = nib.Nifti1Image(data, None)
    img.set_qform(affine(rot_z(10) @ np.diag([2.0, 2.0, 3.0]), [1.0, 2.0, 3.0]), code=1)
    img.set_sform(None, code=0)
    raw = img.to_bytes()
    assert struct.unpack_from('<f', raw, 76)[0] == 1.0
    write_bytes('qform_qfac0.nii', patch(raw, 76, '<f', 0.0))
    names.append('qform_qfac0.nii')
    # both forms, different, qform_code > sform_code: nibabel (and this reader) take the sform anyway
    img = nib.Nifti1Image(data, None)
    img.set_qform(qaff, code=2)
    img.set_sform(orients['orient_lps'], code=1)
    add(img, 'both_forms.nii')
    # neither form: nibabel's base affine (x flipped, centred), pixdims 1.5 2 2.5
    img = nib.Nifti1Image(data, None)
    img.header.set_zooms((1.5, 2.0, 2.5))
    img.set_qform(None, code=0)
    img.set_sform(None, code=0)
    add(img, 'no_form.nii')

    # NIfTI-2, both byte orders
    img = nib.Nifti2Image(pattern(shape, 'float32'), orients['orient_psr'])
    add(img, 'nifti2_le.nii')
    add(img, 'nifti2_be.nii.gz', '>')

    # 4D: 3 channels
    d4 = np.stack([pattern(SHAPE, 'float32') * (c + 1) for c in range(3)], axis=3)
    img = nib.Nifti1Image(d4, orients['orient_lps'])
    add(img, 'four_d_3ch.nii.gz')
    img = nib.Nifti1Image(d4.astype(np.int16), orients['orient_oblique'])
    add(img, 'four_d_3ch_oblique.nii')

    # scaled int16: slope 2.5, inter -10
    img = nib.Nifti1Image(pattern(SHAPE, 'int16'), ras)
    img.header.set_data_dtype('int16')
    img.header.set_slope_inter(2.5, -10.0)
    raw = img.to_bytes()
    raw = patch(patch(raw, 112, '<f', 2.5), 116, '<f', -10.0)
    write_bytes('scaled_int16.nii', raw)
    names.append('scaled_int16.nii')
    # scaled uint8 big endian, slope 0.5 inter 0
    img = nib.Nifti1Image(pattern(SHAPE, 'uint8'), ras)
    raw = img.header.as_byteswapped('>')
    img = nib.Nifti1Image(pattern(SHAPE, 'uint8'), ras, raw)
    raw = img.to_bytes()
    raw = patch(patch(raw, 112, '>f', 0.5), 116, '>f', 0.0)
    write_bytes('scaled_uint8_be.nii', raw)
    names.append('scaled_uint8_be.nii')

    # float with NaN / ±Inf
    f = pattern(SHAPE, 'float32')
    f[0, 0, 0] = np.nan
    f[1, 2, 1] = np.inf
    f[4, 3, 2] = -np.inf
    f[2, 1, 0] = np.nan
    add(nib.Nifti1Image(f, ras), 'float_nonfinite.nii')
    add(nib.Nifti1Image(f.astype(np.float64), orients['orient_lps']), 'float64_nonfinite_be.nii.gz', '>')

    expected = {}
    for name in names:
        expected[name] = describe(os.path.join(OUT, name))
    with open(os.path.join(OUT, 'expected.json'), 'w') as fh:
        json.dump({'generator': 'scripts/make-nifti-fixtures.py', 'nibabel': nib.__version__, 'files': expected}, fh, indent=1)
    print(f'wrote {len(names)} fixtures + expected.json to {os.path.normpath(OUT)}')


if __name__ == '__main__':
    main()
