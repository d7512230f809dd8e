#!/usr/bin/python3
"""Reference timings for bench/nifti.ts: nibabel load + as_closest_canonical of the given .nii.gz files.

Run with Debian's /usr/bin/python3 (python3-nibabel). Two measurements per file, each the median of RUNS:
  view:       np.asanyarray(as_closest_canonical(load(f)).dataobj). nibabel reorients flips and transposes
              as numpy *views* (no voxel is moved), so this is decompression + array creation only.
  fortran:    the same + np.asfortranarray: the voxels laid out contiguously in RAS+ order with i fastest,
              which is our reader's layout (NIfTI order), i.e. the same work on both sides.
  c_order:    the same + np.ascontiguousarray (C order, k fastest): a transposing copy, more work than ours;
              reported because it is the usual numpy idiom.
Prints one JSON line: {file: {view|fortran|c_order: {wall_ms, cpu_ms}, dtype, shape}}.
"""
import json
import sys
import time

import nibabel as nib
import numpy as np

RUNS = 5


def measure(f, layout):
    walls, cpus = [], []
    for _ in range(RUNS):
        w0, c0 = time.perf_counter(), time.process_time()
        img = nib.as_closest_canonical(nib.load(f))
        data = np.asanyarray(img.dataobj)  # forces the read (and, for a reoriented image, holds the views)
        if layout == "fortran":
            data = np.asfortranarray(data)
        elif layout == "c_order":
            data = np.ascontiguousarray(data)
        walls.append((time.perf_counter() - w0) * 1000)
        cpus.append((time.process_time() - c0) * 1000)
    mid = RUNS // 2
    return {"wall_ms": sorted(walls)[mid], "cpu_ms": sorted(cpus)[mid]}, data


out = {}
for f in sys.argv[1:]:
    view, data = measure(f, "view")
    out[f] = {"view": view, "dtype": str(data.dtype), "shape": list(data.shape),
              "view_is_fortran_contiguous": bool(data.flags["F_CONTIGUOUS"])}
    for layout in ("fortran", "c_order"):
        out[f][layout], _ = measure(f, layout)
print(json.dumps(out))
