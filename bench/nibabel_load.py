#!/usr/bin/python3
"""Reference timing for bench/run.ts: nibabel load + as_closest_canonical of the given .nii.gz files.

Run with Debian's /usr/bin/python3 (python3-nibabel). Prints one JSON line: {file: median_ms}.
"""
import json
import sys
import time

import nibabel as nib
import numpy as np

out = {}
for f in sys.argv[1:]:
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        img = nib.as_closest_canonical(nib.load(f))
        np.asanyarray(img.dataobj)  # force the read and the reorientation of the voxels
        times.append((time.perf_counter() - t0) * 1000)
    out[f] = sorted(times)[1]
print(json.dumps(out))
