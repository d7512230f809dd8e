"""Prints the PyTorch numbers hard-coded in src/weights/inflate/posembed.test.ts.

Run with Debian's interpreter (torch 1.13, numpy): /usr/bin/python3 test/reference/posembed_torch.py
Inputs are deterministic: value(t, c) = float32(sin(1.3 * t + 0.7 * c)) for row t, channel c,
the same expression the TypeScript test uses.
"""
import math

import numpy as np
import torch
import torch.nn.functional as F


def table(rows, cols):
    return np.array([[math.sin(1.3 * t + 0.7 * c) for c in range(cols)] for t in range(rows)], dtype=np.float32)


def fmt(name, x):
    flat = x.reshape(-1).tolist()
    print(f"  {name}: [" + ", ".join(f"{v:.8g}" for v in flat) + "],")


def grid_resize(grid_hwc, new_hw, antialias):
    h, w, c = grid_hwc.shape
    x = torch.from_numpy(grid_hwc).permute(2, 0, 1).unsqueeze(0)
    y = F.interpolate(x, size=new_hw, mode="bicubic", align_corners=False, antialias=antialias)
    return y[0].permute(1, 2, 0).numpy()


print(f"// torch {torch.__version__}")
# Absolute position embedding: 1 prefix token + 4x4 grid, D = 2. Only the grid rows are resampled.
pe = table(1 + 16, 2)
grid = pe[1:].reshape(4, 4, 2)
for hw in [(2, 2), (6, 6), (3, 5)]:
    fmt(f"pe_{hw[0]}x{hw[1]}", grid_resize(grid, hw, False))
for hw in [(2, 2), (6, 6)]:
    fmt(f"pe_aa_{hw[0]}x{hw[1]}", grid_resize(grid, hw, True))

# Relative position bias table, window 3x3: (2*3-1)^2 + 3 = 28 rows, 2 heads; plain bicubic of the 5x5 part.
rel = table(28, 2)
rel_grid = rel[:25].reshape(5, 5, 2)
for win in [(2, 2), (4, 4)]:
    fmt(f"rel_bicubic_{win[0]}x{win[1]}", grid_resize(rel_grid, (2 * win[0] - 1, 2 * win[1] - 1), False))


# BEiT geometric-grid resize, written from the published description (UniLM BEiT / timm
# resize_rel_pos_bias_table): geometric source offsets, linear interpolation at integer targets.
def geometric_coords(src, dst):
    half = src // 2
    left, right = 1.01, 1.5
    q = left
    while right - left > 1e-6:
        q = (left + right) / 2.0
        if (1.0 - q ** half) / (1.0 - q) > dst // 2:
            right = q
        else:
            left = q
    pos, cur = [], 1.0
    for i in range(half):
        pos.append(cur)
        cur += q ** (i + 1)
    return np.array([-p for p in reversed(pos)] + [0.0] + pos)


def linear_1d(points, values, targets):
    # values: [..., len(points)] along the last axis; clamp outside.
    return np.stack([np.interp(t, points, values_row) for values_row in values for t in targets]).reshape(values.shape[0], len(targets))


def geometric_resize(grid_hw_heads, dst_hw):
    h, w, heads = grid_hw_heads.shape
    ys, xs = geometric_coords(h, dst_hw[0]), geometric_coords(w, dst_hw[1])
    ty = np.arange(-(dst_hw[0] // 2), dst_hw[0] // 2 + 1, dtype=np.float64)
    tx = np.arange(-(dst_hw[1] // 2), dst_hw[1] // 2 + 1, dtype=np.float64)
    out = np.zeros((len(ty), len(tx), heads))
    for k in range(heads):
        z = grid_hw_heads[:, :, k].astype(np.float64)
        cols = linear_1d(xs, z, tx)  # [h, len(tx)]
        out[:, :, k] = linear_1d(ys, cols.T, ty).T
    return out


for win in [(2, 2), (4, 4)]:
    fmt(f"rel_geometric_{win[0]}x{win[1]}", geometric_resize(rel_grid, (2 * win[0] - 1, 2 * win[1] - 1)))
