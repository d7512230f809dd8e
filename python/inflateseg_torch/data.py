"""The app's data path (src/data, src/nifti) in numpy: NIfTI pairs → RAS+ canonical volumes (nibabel's
as_closest_canonical, which the app's reader matches), intensity presets, windows of T slices clamped at the ends,
the sampler's split and foreground-favouring seeded draws, and the augmentation. The random streams are the app's
(mulberry32 seeded from (seed, step) as src/data/windows/rng.ts and sampler.ts), so batch k is the app's batch k up
to float rounding of the resampling.
"""
import json
import os
import re
from dataclasses import dataclass

import nibabel as nib
import numpy as np

# --- seeded random numbers (src/data/windows/rng.ts) ----------------------------------------------------------------

M32 = 0xFFFFFFFF


def _imul(a, b):
    return (a * b) & M32


def mix_seed(x):
    """splitmix32-style mixing of a 32-bit value (rng.ts mixSeed): an unsigned 32-bit integer."""
    z = (x + 0x9E3779B9) & M32
    z = _imul(z ^ (z >> 16), 0x85EBCA6B)
    z = _imul(z ^ (z >> 13), 0xC2B2AE35)
    return (z ^ (z >> 16)) & M32


class Rng:
    """mulberry32, bit for bit as rng.ts makeRng."""

    def __init__(self, seed):
        self.state = mix_seed(int(seed) & M32)

    def next(self):
        self.state = (self.state + 0x6D2B79F5) & M32
        t = self.state
        t = _imul(t ^ (t >> 15), t | 1)
        t ^= (t + _imul(t ^ (t >> 7), t | 61)) & M32
        return ((t ^ (t >> 14)) & M32) / 4294967296

    def uniform(self, low, high):
        return low + (high - low) * self.next()

    def int(self, n):
        return int(self.next() * n)

    def chance(self, p):
        return self.next() < p


# --- pairing (src/data/pairing.ts, the common cases) -----------------------------------------------------------------

NIFTI_RE = re.compile(r'\.nii(\.gz)?$', re.I)
LABEL_SUFFIX_RE = re.compile(r'(_seg|_label|_labels|_mask|_gt|-seg|\.seg)$', re.I)
CHANNEL_RE = re.compile(r'^(.*)_(\d{4})$')
LABEL_DIR_RE = re.compile(r'^(labels|label|masks|segmentations|segs)(.*)$', re.I)
IMAGE_DIR_RE = re.compile(r'^(images|image|imgs|img)(.*)$', re.I)


def nifti_base(name):
    return NIFTI_RE.sub('', os.path.basename(name))


def pair_files(paths):
    """Cases [{id, images: [...], label}] from NIfTI paths (folders are walked): `x` + `x_seg` (and the other label
    suffixes), MSD/nnU-Net `imagesTr/x_0000` + `labelsTr/x`. Unpaired images are kept without a label."""
    files = []
    for p in paths:
        if os.path.isdir(p):
            for root, _, names in os.walk(p):
                files += [os.path.join(root, n) for n in names if NIFTI_RE.search(n) and not n.startswith('._')]
        elif NIFTI_RE.search(p):
            files.append(p)
    images, labels = {}, {}
    for f in sorted(files):
        base, parent = nifti_base(f), os.path.basename(os.path.dirname(f))
        stem = LABEL_SUFFIX_RE.sub('', base)
        if LABEL_DIR_RE.match(parent):
            labels[base] = f
        elif stem != base:
            labels[stem] = f
        else:
            m = CHANNEL_RE.match(base) if IMAGE_DIR_RE.match(parent) or CHANNEL_RE.match(base) else None
            images.setdefault(m.group(1) if m else base, []).append(f)
    return [{'id': k, 'images': sorted(v), 'label': labels.get(k)} for k, v in sorted(images.items())]


def stable_hash(s):
    """FNV-1a over UTF-16 code units (src/data/cases.ts stableHash)."""
    b = s.encode('utf-16-le')
    h = 0x811C9DC5
    for i in range(0, len(b), 2):
        h = _imul(h ^ (b[i] | b[i + 1] << 8), 0x01000193)
    return h


def default_split(ids, val_fraction=0.2):
    """src/data/cases.ts defaultSplit: the ids with the smallest hashes validate (~val_fraction, ≥ 1, never all)."""
    split = {i: 'train' for i in ids}
    if len(ids) < 2 or val_fraction == 0:
        return split
    n_val = min(len(ids) - 1, max(1, round(len(ids) * val_fraction)))
    for i in sorted(ids, key=lambda i: (stable_hash(i), i))[:n_val]:
        split[i] = 'val'
    return split


# --- volumes -------------------------------------------------------------------------------------------------------

@dataclass
class Case:
    id: str
    image: np.ndarray      # [X, Y, Z, C] float32 on the RAS+ canonical grid
    label: np.ndarray      # [X, Y, Z] int32 (rounded)
    split: str = 'train'   # 'train' or 'val'


def read_canonical(path):
    """A NIfTI volume reoriented to the closest canonical RAS+ voxel order (scaling applied), as [X, Y, Z, C] float32."""
    img = nib.as_closest_canonical(nib.load(path))
    data = np.asanyarray(img.get_fdata(dtype=np.float32))
    if data.ndim == 3:
        data = data[..., None]
    if data.ndim != 4:
        raise ValueError(f'{path}: {data.ndim}-D data, expected 3-D (or 4-D channels)')
    return data, img.affine


def load_case(case_id, image_files, label_file, split='train'):
    parts = [read_canonical(f) for f in image_files]
    for (d, a), f in zip(parts[1:], image_files[1:]):
        if d.shape[:3] != parts[0][0].shape[:3] or not np.allclose(a, parts[0][1], atol=1e-3):
            raise ValueError(f'{f}: grid {d.shape[:3]} differs from {image_files[0]} {parts[0][0].shape[:3]}')
    image = np.concatenate([d for d, _ in parts], axis=3)
    lab, affine = read_canonical(label_file)
    if lab.shape[:3] != image.shape[:3] or not np.allclose(affine, parts[0][1], atol=1e-3):
        raise ValueError(f'{label_file}: label grid {lab.shape[:3]} differs from image {image_files[0]} grid {image.shape[:3]}')
    label = np.floor(lab[..., 0] + 0.5).astype(np.int32)  # Math.round
    return Case(case_id, image, label, split)


# --- intensity presets (src/data/intensity.ts) ------------------------------------------------------------------------

WINDOWS = {'ct-abdomen': (-175, 250), 'ct-brain': (0, 80), 'ct-bone': (-450, 1050), 'ct-lung': (-1350, 150), 'ct-soft-tissue': (-160, 240)}


def suggest_preset(image):
    """A CT window when the values look like Hounsfield units, else MRI percentiles (intensity.ts suggestPreset)."""
    d = image[np.isfinite(image)]
    if d.size == 0:
        return 'minmax'
    flat = image.reshape(-1, order='F') if image.shape[3] == 1 else np.concatenate([image[..., c].reshape(-1, order='F') for c in range(image.shape[3])])
    sample = flat[::max(1, flat.size // 10000)]
    looks_hu = -4000 <= d.min() <= -500 and d.max() <= 32767 and np.mean(sample <= -500) >= 0.005
    return 'ct-abdomen' if looks_hu else 'mri-percentile'


def channel_range(preset, channel):
    """(low, high) mapped to 0…1 for one channel's values (np.percentile's 'linear' is the app's definition)."""
    if preset in WINDOWS:
        return WINDOWS[preset]
    v = channel[np.isfinite(channel)].astype(np.float64)
    if preset == 'minmax':
        return float(v.min()), float(v.max())
    if preset == 'mri-percentile':
        low, high = np.percentile(v, [0.5, 99.5])
        return float(low), float(high)
    raise ValueError(f"unknown intensity preset '{preset}'; expected one of {', '.join([*WINDOWS, 'mri-percentile', 'minmax'])}")


def normalize(x, low, high):
    if not high > low:
        return (x > low).astype(np.float32)
    return np.clip((x.astype(np.float64) - low) * (1 / (high - low)), 0, 1).astype(np.float32)


# --- windows (src/data/windows/window.ts) ---------------------------------------------------------------------------

def plane_axes(axis):
    """(wAxis, hAxis): W along the lower remaining voxel axis, H along the higher (window.ts planeOf)."""
    w, h = [a for a in (0, 1, 2) if a != axis]
    return w, h


def image_slice(image, axis, s):
    """[H, W, C] of slice s across axis."""
    return np.take(image, s, axis=axis).transpose(1, 0, 2)


def label_slice(label, axis, s):
    return np.take(label, s, axis=axis).T


def window_indices(index, T, depth):
    half = (T - 1) // 2
    return [min(depth - 1, max(0, index + d)) for d in range(-half, half + 1)]


def slice_window(image, axis, index, T, ranges):
    """[T, H, W, C] normalised, slices index−⌊T/2⌋ … index+⌊T/2⌋ clamped (the edge slice repeats)."""
    planes = [image_slice(image, axis, i) for i in window_indices(index, T, image.shape[axis])]
    x = np.stack(planes)
    return np.stack([normalize(x[..., c], *ranges[c]) for c in range(x.shape[-1])], axis=-1)


# --- resampling (src/data/windows/resize.ts) ------------------------------------------------------------------------

def linear_taps(n_in, n_out):
    s = np.maximum(0, (np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5)
    i0 = np.minimum(np.floor(s).astype(np.int64), n_in - 1)
    return i0, np.minimum(i0 + 1, n_in - 1), s - i0


def resize_bilinear(x, out_h, out_w):
    """x [N, H, W, C] → [N, out_h, out_w, C], align_corners=False, no antialias, float64 arithmetic then float32."""
    _, h, w, _ = x.shape
    if (h, w) == (out_h, out_w):
        return x.astype(np.float32, copy=True)
    y0, y1, fy = linear_taps(h, out_h)
    x0, x1, fx = linear_taps(w, out_w)
    x = x.astype(np.float64)
    fx = fx[None, None, :, None]
    top = x[:, y0][:, :, x0] + fx * (x[:, y0][:, :, x1] - x[:, y0][:, :, x0])
    bottom = x[:, y1][:, :, x0] + fx * (x[:, y1][:, :, x1] - x[:, y1][:, :, x0])
    return (top + fy[None, :, None, None] * (bottom - top)).astype(np.float32)


def nearest_taps(n_in, n_out):
    return np.minimum(((2 * np.arange(n_out) + 1) * n_in) // (2 * n_out), n_in - 1)


def resize_nearest(y, out_h, out_w):
    """y [H, W] → [out_h, out_w], nearest with half-pixel centres."""
    return y[nearest_taps(y.shape[0], out_h)][:, nearest_taps(y.shape[1], out_w)]


# --- augmentation (src/data/windows/augment.ts) -----------------------------------------------------------------------

AUGMENT = {
    'off': None,
    'light': {'zoom': (0.5, 0.9, 1.1), 'flip_p': 0.0, 'rot90_p': 0.0, 'shift': (0.5, 0.1)},
    'paper': {'zoom': (1.0, 0.5, 2.0), 'flip_p': 0.1, 'rot90_p': 0.1, 'shift': (0.5, 0.1)},
}


def draw_augment(rng, opts, size):
    """The app's draw, consuming the same random values in the same order (augment.ts drawAugment)."""
    zp, zmin, zmax = opts['zoom']
    zoom_on = rng.chance(zp)
    z = rng.uniform(zmin, zmax)
    zoom = z if zoom_on else 1
    zoomed = max(1, int(np.floor(size * zoom)))
    crop_y, crop_x = rng.next(), rng.next()

    def offset(u):
        return int(np.floor(u * (zoomed - size + 1))) if zoomed >= size else -((size - zoomed) // 2)
    flips = [rng.chance(opts['flip_p']) for _ in range(3)]
    rot_on = rng.chance(opts['rot90_p'])
    k = 1 + rng.int(3)
    shift_on = rng.chance(opts['shift'][0])
    s = rng.uniform(-opts['shift'][1], opts['shift'][1])
    return {'zoomed': zoomed, 'oy': offset(crop_y), 'ox': offset(crop_x), 'flips': flips, 'rot90': k if rot_on else 0, 'shift': s if shift_on else 0.0}


def apply_augment(x, y, d):
    """x [T, S, S, C], y [S, S]: zoom, crop/pad (zeros, not shifted), flips, rot90 (numpy's, axes (H, W)), shift."""
    T, S, _, C = x.shape
    Z = d['zoomed']
    inside = np.ones((S, S), bool)
    if Z != S or d['oy'] or d['ox']:
        zi = x if Z == S else resize_bilinear(x, Z, Z)
        zl = y if Z == S else resize_nearest(y, Z, Z)
        img, lab, inside = np.zeros_like(x), np.zeros_like(y), np.zeros((S, S), bool)
        r0, c0 = max(0, -d['oy']), max(0, -d['ox'])
        r1, c1 = min(S, Z - d['oy']), min(S, Z - d['ox'])
        img[:, r0:r1, c0:c1] = zi[:, r0 + d['oy']:r1 + d['oy'], c0 + d['ox']:c1 + d['ox']]
        lab[r0:r1, c0:c1] = zl[r0 + d['oy']:r1 + d['oy'], c0 + d['ox']:c1 + d['ox']]
        inside[r0:r1, c0:c1] = True
        x, y = img, lab
    # Output pixel (r, c) reads source (a, b): rot90 first in the map, then flips (augment.ts planeMap).
    fh, fw = d['flips'][1], d['flips'][2]
    if fh:
        x, y, inside = x[:, ::-1], y[::-1], inside[::-1]
    if fw:
        x, y, inside = x[:, :, ::-1], y[:, ::-1], inside[:, ::-1]
    if d['rot90']:
        x, y, inside = np.rot90(x, d['rot90'], axes=(1, 2)), np.rot90(y, d['rot90']), np.rot90(inside, d['rot90'])
    if d['flips'][0]:
        x = x[::-1]
    x = x + np.where(inside, np.float32(d['shift']), np.float32(0))[None, :, :, None]
    return np.ascontiguousarray(x, dtype=np.float32), np.ascontiguousarray(y)


# --- split (src/data/windows/sampler.ts) ------------------------------------------------------------------------------

def class_counts_per_slice(label, axis):
    K = max(1, int(label.max()) + 1)
    v = np.maximum(label, 0)
    counts = np.zeros((label.shape[axis], K), np.int64)
    for c in range(K):
        counts[:, c] = (v == c).sum(axis=tuple(a for a in (0, 1, 2) if a != axis))
    return counts


def spread_slabs(label, axis, n, T, k):
    """k slabs of ⌈n/k⌉ slices spread over the labelled extent, ⌊T/2⌋ gaps; None when they do not fit (sampler.ts)."""
    counts = class_counts_per_slice(label, axis)
    depth, K = counts.shape
    g, width = T // 2, max(1, -(-n // k))
    fg = np.nonzero(counts[:, 1:].sum(1) > 0)[0]
    first, last = (int(fg[0]), int(fg[-1])) if fg.size else (0, depth - 1)
    extent = last - first + 1
    starts = []
    for j in range(k):
        centre = first + (j + 0.5) * extent / k
        start = min(depth - width, max(0, int(np.floor(centre - width / 2 + 0.5))))
        if starts and start < starts[-1] + width + 2 * g + 1:
            return None
        starts.append(start)
    role = np.zeros(depth, np.int8)  # 0 train, 1 gap, 2 val
    for s in starts:
        role[max(0, s - g):min(depth, s + width + g)] = np.maximum(role[max(0, s - g):min(depth, s + width + g)], 1)
        role[s:s + width] = 2
    present = counts > 0
    if (role == 0).sum() < depth / 2 or present[role == 0].any(0).sum() < present.any(0).sum():
        return None
    return starts, width, role


def validation_slab(label, axis, n, T):
    """One slab of n slices, T-slice gaps, keeping every label value in training where possible (sampler.ts)."""
    counts = class_counts_per_slice(label, axis)
    depth, K = counts.shape
    prefix = np.concatenate([np.zeros((1, K), np.int64), np.cumsum(counts, 0)])
    best = None
    for start in range(0, depth - n + 1):
        a, b = max(0, start - T), min(depth, start + n + T)
        if a + (depth - b) < max(1, n):
            continue
        classes = int(((prefix[start + n] - prefix[start]) > 0).sum())
        train_classes = int(((prefix[a] + prefix[depth] - prefix[b]) > 0).sum())
        if best is None or train_classes > best[2] or (train_classes == best[2] and classes >= best[1]):
            best = (start, classes, train_classes)
    return None if best is None else best[0]


# --- sampler ----------------------------------------------------------------------------------------------------------

class Sampler:
    """Training batches as a pure function of (seed, step), validation windows in case/slice order (sampler.ts)."""

    def __init__(self, cases, axis, T, size, batch, seed, augment='light', presets=None, fg_fraction=0.7, val_fraction=0.2, val_slabs=3):
        self.cases = {c.id: c for c in cases}
        self.axis, self.T, self.size, self.batch, self.seed = axis, T, size, batch, seed
        self.aug = AUGMENT[augment]
        self.fg_fraction = fg_fraction
        self.channels = cases[0].image.shape[3]
        self.presets, self.ranges, self.notes = {}, {}, []
        for c in cases:
            preset = (presets or {}).get(c.id) or suggest_preset(c.image)
            self.presets[c.id] = preset
            self.ranges[c.id] = [channel_range(preset, c.image[..., k]) for k in range(self.channels)]
        self.train, self.val = [], []
        train_cases = [c for c in cases if c.split == 'train']
        val_cases = [c for c in cases if c.split == 'val']
        if not train_cases:
            raise ValueError('sampler: no training case (every case has split "val")')
        if not val_cases and len(cases) == 1:
            c = cases[0]
            depth = c.label.shape[axis]
            n = max(1, round(val_fraction * depth))
            role = self._single_case_roles(c, n)
            self.train = [(c.id, i) for i in range(depth) if role[i] == 0]
            self.val = [(c.id, i) for i in range(depth) if role[i] == 2]
            self.notes.append(f'{c.id} is the only labelled case: {len(self.val)} of {depth} slices along axis {axis} held out for validation')
        else:
            self.train = [(c.id, i) for c in train_cases for i in range(c.label.shape[axis])]
            self.val = [(c.id, i) for c in val_cases for i in range(c.label.shape[axis])]
        fg = {c.id: (c.label > 0).sum(axis=tuple(a for a in (0, 1, 2) if a != axis)) for c in cases}
        self.with_fg = [r for r in self.train if fg[r[0]][r[1]] > 0]

    def _single_case_roles(self, c, n):
        spread = spread_slabs(c.label, self.axis, n, self.T, 3)
        if spread:
            return spread[2]
        start = validation_slab(c.label, self.axis, n, self.T)
        if start is None:
            raise ValueError(f'sampler: {c.id} has too few slices along axis {self.axis} to hold out {n} with a gap of {self.T}')
        depth = c.label.shape[self.axis]
        return [2 if start <= i < start + n else 0 if (i < start - self.T or i >= start + n + self.T) else 1 for i in range(depth)]

    def window(self, ref, rng=None):
        """(x [T, S, S, C], y [S, S]) of one slice, resized, augmented when an rng is given."""
        c = self.cases[ref[0]]
        x = slice_window(c.image, self.axis, ref[1], self.T, self.ranges[c.id])
        x = resize_bilinear(x, self.size, self.size)
        y = resize_nearest(label_slice(c.label, self.axis, ref[1]), self.size, self.size)
        if rng is not None and self.aug:
            x, y = apply_augment(x, y, draw_augment(rng, self.aug, self.size))
        return x, y

    def refs_at(self, step):
        """The windows of training batch `step` and the stream that augments them (seeded from (seed, step))."""
        rng = Rng(mix_seed(self.seed & M32) ^ mix_seed((step + 0x51ED27) & M32))
        refs = []
        for _ in range(self.batch):
            pool = self.with_fg if self.with_fg and rng.chance(self.fg_fraction) else self.train
            refs.append(pool[rng.int(len(pool))])
        return refs, rng

    def batch_at(self, step, part=slice(None)):
        """Training batch `step` as (x [B, C, T, S, S], y [B, S, S]) numpy arrays; `part` picks this process's windows.
        NOTE: every window is drawn and augmented in order (one stream per batch), then the part is kept."""
        refs, rng = self.refs_at(step)
        pairs = [self.window(r, rng) for r in refs]
        xs = np.stack([p[0] for p in pairs])[part]
        ys = np.stack([p[1] for p in pairs])[part]
        return xs.transpose(0, 4, 1, 2, 3).copy(), ys.astype(np.int64)

    def validation(self, batch):
        for i in range(0, len(self.val), batch):
            pairs = [self.window(r) for r in self.val[i:i + batch]]
            yield np.stack([p[0] for p in pairs]).transpose(0, 4, 1, 2, 3).copy(), np.stack([p[1] for p in pairs]).astype(np.int64)


def read_manifest(path):
    """The dataset manifest of `inflateseg export-torch`: cases with image files, label file and split (paths relative to it)."""
    with open(path) as f:
        m = json.load(f)
    root = os.path.dirname(os.path.abspath(path))
    cases = []
    for c in m['cases']:
        resolve = lambda p: p if os.path.isabs(p) else os.path.join(root, p)  # noqa: E731
        cases.append({'id': c['id'], 'images': [resolve(p) for p in c['images']], 'label': resolve(c['label']), 'split': c.get('split', 'train')})
    return cases
