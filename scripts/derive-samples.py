#!/usr/bin/python3
"""Derive InflateSeg's bundled sample volumes from unpacked Debian packages.

Run with Debian's system Python, which has nibabel, numpy and scipy
(a pyenv/venv ``python3`` on PATH usually does not):

    bash scripts/fetch-debs.sh                      # -> .cache/debs/x
    /usr/bin/python3 scripts/derive-samples.py .cache/debs/x [OUT_DIR]

EXTRACTED_DIR is the folder that ``dpkg-deb -x`` unpacked mricron-data and
insighttoolkit5-examples into; OUT_DIR defaults to public/samples.

Outputs (all NIfTI-1, gzip with mtime 0, so every run gives the same bytes):
  colin27_t1.nii.gz / colin27_t1_seg.nii.gz          Colin27 (MRIcron ch2bet), 1 mm,
                                                     AAL merged into 7 lobar classes
  colin27_2mm_t1.nii.gz / colin27_2mm_t1_seg.nii.gz  the same on a 2 mm grid
  colin27_classes.txt / colin27_classes.json         class index -> name
  aal_to_class.tsv                                   all 116 AAL regions -> class
  itk_kmeans_t1.nii.gz / itk_kmeans_t1_seg.nii.gz    ITK KmeansTest T1 + k-means labels
  itk_kmeans_classes.json
  index.json                                         manifest read by the app
  NOTICE.md                                          provenance, licences, SHA-256
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import sys
import textwrap
from pathlib import Path

import nibabel as nib
import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent

MRICRON_TEMPLATES = "usr/share/mricron/templates"
ITK_DATA = "usr/share/doc/insighttoolkit5-examples/examples/Data"
COPYRIGHTS = {
    "mricron-data": "usr/share/doc/mricron-data/copyright",
    "insighttoolkit5-examples": "usr/share/doc/insighttoolkit5-examples/copyright",
}

# --------------------------------------------------------------------------
# AAL (116 regions) -> 7 classes
# --------------------------------------------------------------------------
CLASSES = [
    (0, "background"),
    (1, "frontal"),
    (2, "parietal"),
    (3, "temporal"),
    (4, "occipital"),
    (5, "limbic_insula"),
    (6, "subcortical"),
    (7, "cerebellum"),
]
CLASS_NAME = dict(CLASSES)

# Name prefix -> class. Every AAL name must match exactly one prefix.
# The grouping follows the lobe digit of AAL's own region codes (third column
# of aal.nii.txt: 2xxx frontal incl. central region, 3xxx insula, 4xxx limbic,
# 5xxx occipital, 6xxx parietal, 7xxx subcortical grey nuclei, 8xxx temporal,
# 9xxx cerebellum + vermis), with insula and limbic merged into one class.
# Deliberate choices:
#   * Fusiform (code 54xx) -> occipital, as AAL itself groups it, although the
#     gyrus spans the ventral temporo-occipital surface.
#   * Olfactory (code 25xx, in AAL's frontal group) -> limbic_insula: it is
#     olfactory/rhinencephalic cortex, not frontal neocortex.
#   * Precentral, Rolandic_Oper, Supp_Motor_Area -> frontal (AAL 2xxx);
#     Postcentral, Paracentral_Lobule -> parietal (AAL 6xxx);
#     Heschl -> temporal (AAL 8xxx).
PREFIX_TO_CLASS = [
    ("Precentral", 1), ("Frontal_", 1), ("Rolandic_Oper", 1),
    ("Supp_Motor_Area", 1), ("Rectus", 1),
    ("Postcentral", 2), ("Parietal_", 2), ("SupraMarginal", 2), ("Angular", 2),
    ("Precuneus", 2), ("Paracentral_Lobule", 2),
    ("Heschl", 3), ("Temporal_", 3),
    ("Calcarine", 4), ("Cuneus", 4), ("Lingual", 4), ("Occipital_", 4),
    ("Fusiform", 4),
    ("Insula", 5), ("Cingulum_", 5), ("Hippocampus", 5), ("ParaHippocampal", 5),
    ("Amygdala", 5), ("Olfactory", 5),
    ("Caudate", 6), ("Putamen", 6), ("Pallidum", 6), ("Thalamus", 6),
    ("Cerebelum_", 7), ("Vermis_", 7),
]
# AAL code lobe digit -> class, used to cross-check the prefix table.
CODE_DIGIT_TO_CLASS = {2: 1, 3: 5, 4: 5, 5: 4, 6: 2, 7: 6, 8: 3, 9: 7}
CODE_EXCEPTIONS = {"Olfactory"}  # prefixes that deliberately differ from the code digit


def read_aal_names(path: Path) -> list[tuple[int, str, int]]:
    rows = []
    for line in path.read_text(encoding="ascii").splitlines():  # file has CRLF endings
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 3:
            raise ValueError(f"{path}: unexpected line {line!r}")
        rows.append((int(parts[0]), parts[1], int(parts[2])))
    return rows


def aal_class_table(rows):
    table = []
    for idx, name, code in rows:
        hits = [(p, c) for p, c in PREFIX_TO_CLASS if name.startswith(p)]
        assert len(hits) == 1, f"AAL region {idx} {name}: matched {hits}, need exactly one"
        prefix, cls = hits[0]
        by_code = CODE_DIGIT_TO_CLASS[code // 1000]
        assert cls == by_code or prefix in CODE_EXCEPTIONS, (
            f"AAL region {name} (code {code}): prefix says {cls}, code says {by_code}")
        table.append((idx, name, code, cls))
    assert [t[0] for t in table] == list(range(1, 117)), "expected AAL indices 1..116"
    return table


# --------------------------------------------------------------------------
# NIfTI writing (deterministic)
# --------------------------------------------------------------------------
def make_header(src_hdr, dtype, *, copy_forms: bool, descrip: str):
    """Fresh NIfTI-1 header carrying over only geometry from src_hdr."""
    hdr = nib.Nifti1Header()
    hdr.set_data_dtype(dtype)
    hdr.set_xyzt_units("mm")
    hdr["descrip"] = descrip.encode("ascii")[:79]
    if copy_forms:
        # copy the stored fields verbatim, so qform and sform stay bit-identical
        for key in ("pixdim", "qform_code", "sform_code", "quatern_b", "quatern_c",
                    "quatern_d", "qoffset_x", "qoffset_y", "qoffset_z",
                    "srow_x", "srow_y", "srow_z"):
            hdr[key] = src_hdr[key]
        hdr["pixdim"][4:] = 0
    return hdr


def nifti_bytes(data: np.ndarray, hdr) -> bytes:
    img = nib.Nifti1Image(np.ascontiguousarray(data), None, header=hdr)
    img.header.set_slope_inter(1.0, 0.0)
    img.header["cal_min"] = 0
    img.header["cal_max"] = 0
    raw = img.to_bytes()
    return gzip.compress(raw, compresslevel=9, mtime=0)


def write_nifti(path: Path, data: np.ndarray, hdr, expect_affine: np.ndarray):
    blob = nifti_bytes(data, hdr)
    path.write_bytes(blob)
    # round-trip check
    back = nib.load(str(path))
    assert back.shape == data.shape, (path, back.shape)
    assert back.get_data_dtype() == data.dtype, (path, back.get_data_dtype())
    assert np.array_equal(np.asanyarray(back.dataobj), data), path
    assert np.allclose(back.affine, expect_affine, atol=1e-5), (path, back.affine)
    return back


# --------------------------------------------------------------------------
# 2 mm downsampling (2x2x2 blocks; odd edges padded and excluded from stats)
# --------------------------------------------------------------------------
def blocks(a: np.ndarray, fill):
    pad = [(0, s % 2) for s in a.shape]
    p = np.pad(a, pad, constant_values=fill)
    n = [s // 2 for s in p.shape]
    # -> (nx, ny, nz, 8)
    b = p.reshape(n[0], 2, n[1], 2, n[2], 2).transpose(0, 2, 4, 1, 3, 5)
    return b.reshape(n[0], n[1], n[2], 8)


def downsample_image(img: np.ndarray) -> np.ndarray:
    valid = blocks(np.ones(img.shape, bool), False)
    vals = blocks(img.astype(np.float64), 0.0)
    mean = vals.sum(-1) / valid.sum(-1)
    return np.clip(np.rint(mean), 0, 255).astype(np.uint8)


def downsample_labels(lab: np.ndarray, n_classes: int) -> np.ndarray:
    b = blocks(lab.astype(np.int16), -1)  # -1 marks padding, never counted
    counts = np.stack([(b == c).sum(-1) for c in range(n_classes)], axis=-1)
    # majority vote; ties go to the lowest-numbered *foreground* class, and to
    # background only if it strictly wins (so thin structures are not eroded)
    order = list(range(1, n_classes)) + [0]
    reordered = counts[..., order]
    win = np.argmax(reordered, axis=-1)  # first maximum in `order`
    return np.asarray(order, np.uint8)[win]


def affine_2mm(aff: np.ndarray) -> np.ndarray:
    # new voxel i covers old voxels 2i, 2i+1: centre at old index 2i + 0.5
    s = np.diag([2.0, 2.0, 2.0, 1.0])
    s[:3, 3] = 0.5
    return aff @ s


# --------------------------------------------------------------------------
def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def class_counts(lab: np.ndarray, names: dict[int, str]) -> list[tuple[int, str, int]]:
    vals, cnt = np.unique(lab, return_counts=True)
    d = dict(zip(vals.tolist(), cnt.tolist()))
    return [(k, names.get(k, f"label_{k}"), d.get(k, 0)) for k in sorted(set(names) | set(d))]


def print_counts(title, rows, voxel_ml):
    print(f"  {title}")
    for k, name, n in rows:
        print(f"    {k:>2} {name:<15} {n:>9} voxels  {n * voxel_ml:9.1f} ml")


def deb_versions(extracted: Path) -> dict[str, str]:
    """Package -> version, from the .deb file names beside the extracted folder
    (fetch-debs.sh layout) or, failing that, from the Debian changelog."""
    out = {}
    for pkg in COPYRIGHTS:
        debs = sorted(extracted.parent.glob(f"{pkg}_*.deb"))
        if debs:
            out[pkg] = debs[-1].name
            continue
        ch = extracted / f"usr/share/doc/{pkg}/changelog.Debian.gz"
        first = gzip.decompress(ch.read_bytes()).decode("utf-8").splitlines()[0]
        m = re.match(rf"{re.escape(pkg)} \(([^)]+)\)", first) or re.match(r"\S+ \(([^)]+)\)", first)
        out[pkg] = f"{pkg}_{m.group(1)}_all.deb" if m else f"{pkg} (version unknown)"
    return out


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__)
        return 2
    src = Path(argv[1]).resolve()
    out = Path(argv[2]).resolve() if len(argv) > 2 else REPO_ROOT / "public" / "samples"
    out.mkdir(parents=True, exist_ok=True)
    tdir, idir = src / MRICRON_TEMPLATES, src / ITK_DATA
    for p in (tdir / "ch2bet.nii.gz", tdir / "aal.nii.gz", tdir / "aal.nii.txt",
              idir / "KmeansTest_T1UCharRaw.nii.gz", idir / "KmeansTest_T1RawSkullStrip.nii.gz",
              idir / "KmeansTest_T1KmeansPrelimSegmentation.nii.gz"):
        if not p.is_file():
            sys.exit(f"missing input {p}\nrun: bash scripts/fetch-debs.sh, then pass its .../x folder")
    print(f"nibabel {nib.__version__}, numpy {np.__version__}, python {sys.version.split()[0]}")
    print(f"inputs:  {src}\noutputs: {out}\n")
    notes: list[str] = []

    # ---------------- Colin27 + AAL ----------------
    t1_img = nib.load(str(tdir / "ch2bet.nii.gz"))
    aal_img = nib.load(str(tdir / "aal.nii.gz"))
    t1 = np.asanyarray(t1_img.dataobj)
    aal = np.asanyarray(aal_img.dataobj)
    aff = t1_img.affine.copy()
    assert t1.dtype == np.uint8, t1.dtype
    assert t1_img.header.get_sform(coded=True)[1] > 0
    print(f"ch2bet: shape {t1.shape} {t1.dtype} zooms {t1_img.header.get_zooms()} "
          f"axcodes {''.join(nib.aff2axcodes(aff))} qform_code {int(t1_img.header['qform_code'])} "
          f"sform_code {int(t1_img.header['sform_code'])} range {t1.min()}..{t1.max()}")
    print(f"aal:    shape {aal.shape} {aal.dtype} axcodes {''.join(nib.aff2axcodes(aal_img.affine))} "
          f"labels {int(aal.min())}..{int(aal.max())} ({len(np.unique(aal)) - 1} regions present)")
    if aal.shape == t1.shape and np.allclose(aal_img.affine, aff, atol=1e-6):
        print("aal grid == ch2bet grid (shape and affine): no resampling")
        notes.append("The AAL volume is on exactly the ch2bet grid (same shape and affine); "
                     "labels were used voxel for voxel, without resampling.")
    else:
        from scipy.ndimage import affine_transform
        print("aal grid != ch2bet grid: resampling AAL labels by nearest neighbour onto the T1 grid")
        vox2vox = np.linalg.inv(aal_img.affine) @ aff
        aal = affine_transform(aal, vox2vox[:3, :3], vox2vox[:3, 3], output_shape=t1.shape,
                               order=0, mode="constant", cval=0).astype(np.uint8)
        notes.append("The AAL volume was NOT on the ch2bet grid; its labels were resampled by "
                     "nearest neighbour onto the ch2bet grid.")

    rows = read_aal_names(tdir / "aal.nii.txt")
    table = aal_class_table(rows)
    lut = np.zeros(256, np.uint8)
    for idx, _name, _code, cls in table:
        lut[idx] = cls
    assert set(np.unique(aal).tolist()) <= set(range(117)), "AAL has labels outside 0..116"
    seg = lut[aal]

    # AAL was drawn on the (non-extracted) MNI single-subject brain and reaches
    # 1-4 mm past ch2bet's tighter brain mask at the cortical surface. Labels on
    # zero-intensity voxels would be invisible "tissue", so they are cleared.
    brain = t1 > 0
    outside = int(((aal > 0) & ~brain).sum())
    unlabelled = int((brain & (aal == 0)).sum())
    n_aal = int((aal > 0).sum())
    print(f"AAL-labelled voxels outside ch2bet brain mask (T1 == 0): {outside} of {n_aal} "
          f"({100 * outside / n_aal:.1f}%) -> set to background; brain voxels with no AAL label "
          f"(white matter, CSF): {unlabelled} of {int(brain.sum())}")
    seg[~brain] = 0
    notes.append(f"AAL reaches past ch2bet's brain mask at the cortical surface: {outside} of "
                 f"{n_aal} AAL-labelled voxels ({100 * outside / n_aal:.1f}%) have T1 = 0; those "
                 f"were set to background, so labels only lie on voxels with signal.")

    with open(out / "aal_to_class.tsv", "w", encoding="ascii", newline="\n") as f:
        f.write("aal_index\taal_name\taal_code\tclass_index\tclass_name\n")
        for idx, name, code, cls in table:
            f.write(f"{idx}\t{name}\t{code}\t{cls}\t{CLASS_NAME[cls]}\n")
    with open(out / "colin27_classes.txt", "w", encoding="ascii", newline="\n") as f:
        for k, name in CLASSES:
            f.write(f"{k} {name}\n")
    (out / "colin27_classes.json").write_text(
        json.dumps({str(k): n for k, n in CLASSES}, indent=2) + "\n", encoding="ascii")

    # qform: source has qform_code 0 and only an sform (code 4, MNI); we store the
    # same affine in both so readers that only look at the qform agree.
    def colin_header(shape, affine, zooms, descrip):
        hdr = make_header(t1_img.header, np.uint8, copy_forms=False, descrip=descrip)
        code = int(t1_img.header["sform_code"])
        hdr.set_data_shape(shape)
        hdr.set_zooms(zooms)
        hdr.set_qform(affine, code=code)
        hdr.set_sform(affine, code=code)
        return hdr

    write_nifti(out / "colin27_t1.nii.gz", t1,
                colin_header(t1.shape, aff, (1.0, 1.0, 1.0), "Colin27 ch2bet (MRIcron), InflateSeg sample"), aff)
    write_nifti(out / "colin27_t1_seg.nii.gz", seg,
                colin_header(seg.shape, aff, (1.0, 1.0, 1.0), "AAL merged to 7 classes, InflateSeg"), aff)

    t1_2 = downsample_image(t1)
    seg_2 = downsample_labels(seg, len(CLASSES))
    aff2 = affine_2mm(aff)
    # exact check: each 2 mm voxel centre is the mean of its 1 mm voxels' centres
    for ijk in [(0, 0, 0), (45, 54, 45), (89, 107, 89)]:
        old = [aff @ np.array([2 * ijk[0] + a, 2 * ijk[1] + b, 2 * ijk[2] + c, 1.0])
               for a in (0, 1) for b in (0, 1) for c in (0, 1)]
        assert np.allclose(np.mean(old, axis=0), aff2 @ np.array([*ijk, 1.0]))
    # centre of the brain (intensity-weighted centroid) in mm, both grids
    def centroid_mm(vol, affine):
        w = vol.astype(np.float64)
        idx = np.indices(vol.shape).reshape(3, -1)
        c = (idx * w.reshape(-1)).sum(1) / w.sum()
        return (affine @ np.append(c, 1.0))[:3]
    c1, c2 = centroid_mm(t1, aff), centroid_mm(t1_2, aff2)
    print(f"brain centroid 1 mm grid: {np.round(c1, 2)} mm; 2 mm grid: {np.round(c2, 2)} mm; "
          f"|diff| {np.linalg.norm(c1 - c2):.3f} mm")
    assert np.linalg.norm(c1 - c2) < 0.5
    for k in range(1, len(CLASSES)):
        a, b = centroid_mm(seg == k, aff), centroid_mm(seg_2 == k, aff2)
        assert np.linalg.norm(a - b) < 1.5, (k, a, b)
    write_nifti(out / "colin27_2mm_t1.nii.gz", t1_2,
                colin_header(t1_2.shape, aff2, (2.0, 2.0, 2.0), "Colin27 ch2bet 2mm block mean, InflateSeg"), aff2)
    write_nifti(out / "colin27_2mm_t1_seg.nii.gz", seg_2,
                colin_header(seg_2.shape, aff2, (2.0, 2.0, 2.0), "AAL 7 classes 2mm majority, InflateSeg"), aff2)

    # ---------------- ITK k-means pair ----------------
    ki = nib.load(str(idir / "KmeansTest_T1UCharRaw.nii.gz"))
    kl = nib.load(str(idir / "KmeansTest_T1KmeansPrelimSegmentation.nii.gz"))
    kimg = np.asanyarray(ki.dataobj)
    klab = np.asanyarray(kl.dataobj)
    assert ki.shape == kl.shape, (ki.shape, kl.shape)
    assert np.array_equal(ki.affine, kl.affine), "ITK image/label affines differ"
    for key in ("qform_code", "sform_code", "quatern_b", "quatern_c", "quatern_d",
                "qoffset_x", "qoffset_y", "qoffset_z", "srow_x", "srow_y", "srow_z", "pixdim"):
        assert np.array_equal(ki.header[key], kl.header[key]), f"ITK headers differ in {key}"
    qf, qc = ki.header.get_qform(coded=True)
    sf, sc = ki.header.get_sform(coded=True)
    print(f"\nITK T1: shape {ki.shape} stored {ki.get_data_dtype()} range {kimg.min()}..{kimg.max()} "
          f"zooms {ki.header.get_zooms()} axcodes {''.join(nib.aff2axcodes(ki.affine))} "
          f"qform_code {qc} sform_code {sc}; max |qform - sform| {np.abs(qf - sf).max():.2e}")
    assert kimg.min() >= 0 and kimg.max() <= 255 and np.array_equal(kimg, np.round(kimg))
    kimg8 = kimg.astype(np.uint8)  # lossless: stored as int16 but values are 0..255
    klab8 = klab.astype(np.uint8)
    assert np.array_equal(klab8, klab)
    labels_present = np.unique(klab8).tolist()
    print(f"ITK k-means labels present: {labels_present}")
    for k in labels_present:
        m = klab8 == k
        print(f"    label {k}: {int(m.sum()):>7} voxels, T1 mean {kimg8[m].mean():6.1f} "
              f"(range {kimg8[m].min()}..{kimg8[m].max()})")
    # Describe the clusters from facts checked here: with ITK's skull-strip mask
    # (KmeansTest_T1RawSkullStrip, nonzero = brain), clusters 1-3 lie entirely
    # outside the brain and 4-6 entirely inside, each triple in ascending mean T1.
    # Label 0 is only a handful of voxels inside the brain; air is cluster 1.
    strip = np.asanyarray(nib.load(str(idir / "KmeansTest_T1RawSkullStrip.nii.gz")).dataobj) > 0
    assert labels_present == list(range(7)), labels_present
    means = {k: float(kimg8[klab8 == k].mean()) for k in labels_present}
    assert all(not strip[klab8 == k].any() for k in (1, 2, 3)), "clusters 1-3 not all outside"
    assert all(strip[klab8 == k].all() for k in (0, 4, 5, 6)), "clusters 0,4-6 not all inside"
    assert means[1] < means[2] < means[3] and means[4] < means[5] < means[6]
    itk_names = {0: "background", 1: "nonbrain_dark", 2: "nonbrain_mid", 3: "nonbrain_bright",
                 4: "brain_dark", 5: "brain_mid", 6: "brain_bright"}
    print(f"ITK label 0 ('background' by convention): {int((klab8 == 0).sum())} voxels, all inside "
          f"the skull-strip mask; cluster 1 (mean T1 {means[1]:.1f}) is the air")
    (out / "itk_kmeans_classes.json").write_text(
        json.dumps({str(k): v for k, v in sorted(itk_names.items())}, indent=2) + "\n",
        encoding="ascii")
    write_nifti(out / "itk_kmeans_t1.nii.gz", kimg8,
                make_header(ki.header, np.uint8, copy_forms=True,
                            descrip="ITK KmeansTest_T1UCharRaw, InflateSeg sample"), ki.affine)
    write_nifti(out / "itk_kmeans_t1_seg.nii.gz", klab8,
                make_header(kl.header, np.uint8, copy_forms=True,
                            descrip="ITK KmeansTest_T1KmeansPrelimSegmentation"), kl.affine)
    for name in ("itk_kmeans_t1.nii.gz", "itk_kmeans_t1_seg.nii.gz"):
        h = nib.load(str(out / name)).header
        assert np.array_equal(h.get_qform(), qf) and np.array_equal(h.get_sform(), sf), name

    # ---------------- manifest ----------------
    def geom(shape, affine):
        zooms = np.sqrt((affine[:3, :3] ** 2).sum(0))
        return list(map(int, shape)), [round(float(z), 6) for z in zooms]

    cases = []
    s, z = geom(t1_2.shape, aff2)
    cases.append(dict(
        id="colin27_2mm", title="Colin27 brain, 2 mm (AAL lobes)",
        image="colin27_2mm_t1.nii.gz", label="colin27_2mm_t1_seg.nii.gz",
        classes="colin27_classes.json",
        description="Colin27 single-subject T1 (MRIcron ch2bet, brain-extracted) averaged to 2 mm; "
                    "labels: the 116 AAL regions merged into 7 lobar classes, 2 mm majority vote. "
                    "Loads fastest.",
        shape=s, spacing=z, modality="MR T1", source="Debian mricron-data"))
    s, z = geom(t1.shape, aff)
    cases.append(dict(
        id="colin27", title="Colin27 brain, 1 mm (AAL lobes)",
        image="colin27_t1.nii.gz", label="colin27_t1_seg.nii.gz",
        classes="colin27_classes.json",
        description="Colin27 single-subject T1 (MRIcron ch2bet, brain-extracted), full 1 mm "
                    "resolution; labels: the 116 AAL regions merged into 7 lobar classes.",
        shape=s, spacing=z, modality="MR T1", source="Debian mricron-data"))
    s, z = geom(kimg8.shape, ki.affine)
    cases.append(dict(
        id="itk_kmeans", title="ITK k-means head T1",
        image="itk_kmeans_t1.nii.gz", label="itk_kmeans_t1_seg.nii.gz",
        classes="itk_kmeans_classes.json",
        description="Head T1 from ITK's example data with ITK's preliminary k-means "
                    "intensity segmentation (labels are intensity clusters, not anatomy: 1-3 outside the brain, "
                    "4-6 inside, each in ascending T1 intensity; label 1 is the air).",
        shape=s, spacing=z, modality="MR T1", source="Debian insighttoolkit5-examples"))
    (out / "index.json").write_text(json.dumps({"cases": cases}, indent=2) + "\n", encoding="ascii")

    # ---------------- summary ----------------
    print("\nclass voxel counts")
    print_counts("colin27_t1_seg (1 mm, 1 ml = 1000 voxels)", class_counts(seg, CLASS_NAME), 1e-3)
    print_counts("colin27_2mm_t1_seg (2 mm)", class_counts(seg_2, CLASS_NAME), 8e-3)
    print_counts("itk_kmeans_t1_seg (2x2x3 mm)", class_counts(klab8, itk_names), 12e-3)

    nib_ver = nib.__version__
    debs = deb_versions(src)
    outputs = ["colin27_2mm_t1.nii.gz", "colin27_2mm_t1_seg.nii.gz", "colin27_t1.nii.gz",
               "colin27_t1_seg.nii.gz", "colin27_classes.txt", "colin27_classes.json",
               "aal_to_class.tsv", "itk_kmeans_t1.nii.gz", "itk_kmeans_t1_seg.nii.gz",
               "itk_kmeans_classes.json", "index.json"]
    write_notice(out, debs, table, notes, outputs, nib_ver, labels_present)
    print("\nfiles")
    total = 0
    for name in outputs + ["NOTICE.md"]:
        n = (out / name).stat().st_size
        total += n
        print(f"  {n:>9}  {name}")
    print(f"  {total:>9}  total ({total / 2**20:.2f} MiB)")
    return 0


def write_notice(out: Path, debs, table, notes, outputs, nib_ver, itk_labels):
    by_class: dict[int, list[str]] = {}
    for _idx, name, _code, cls in table:
        base = re.sub(r"_(L|R)$", "", name)
        lst = by_class.setdefault(cls, [])
        if base not in lst:
            lst.append(base)
    merge_rows = "\n".join(
        f"| {k} | {CLASS_NAME[k]} | {sum(1 for t in table if t[3] == k)} | {', '.join(by_class[k])} |"
        for k in range(1, len(CLASSES)))
    sums = "\n".join(f"    {sha256(out / n)}  {n}" for n in outputs)
    text = NOTICE_TEMPLATE.format(
        mricron_deb=debs["mricron-data"], itk_deb=debs["insighttoolkit5-examples"],
        merge_rows=merge_rows,
        grid_note="\n".join(textwrap.fill(n, 78, initial_indent="* ", subsequent_indent="  ")
                            for n in notes), sums=sums, nib_ver=nib_ver,
        itk_labels=", ".join(map(str, itk_labels)))
    (out / "NOTICE.md").write_text(text, encoding="utf-8")


NOTICE_TEMPLATE = """\
# Sample data: provenance and licences

The volumes in this folder are derived, by `scripts/derive-samples.py`, from two
Debian packages. Nothing here was drawn or edited by hand.

Regenerate (Debian/Ubuntu with apt; the script needs Debian's `/usr/bin/python3`
with `python3-nibabel`, `python3-numpy`, `python3-scipy`):

    bash scripts/fetch-debs.sh && /usr/bin/python3 scripts/derive-samples.py .cache/debs/x

Output is byte-for-byte reproducible (gzip written with mtime 0; produced with
nibabel {nib_ver}); compare against the checksums at the end.

## Sources

| Debian package (file) | Path inside the package | Used for |
|---|---|---|
| `{mricron_deb}` | `/usr/share/mricron/templates/ch2bet.nii.gz` | `colin27_t1`, `colin27_2mm_t1` |
| `{mricron_deb}` | `/usr/share/mricron/templates/aal.nii.gz`, `aal.nii.txt` | `colin27_*_seg`, `aal_to_class.tsv` |
| `{itk_deb}` | `/usr/share/doc/insighttoolkit5-examples/examples/Data/KmeansTest_T1UCharRaw.nii.gz` | `itk_kmeans_t1` |
| `{itk_deb}` | `/usr/share/doc/insighttoolkit5-examples/examples/Data/KmeansTest_T1KmeansPrelimSegmentation.nii.gz` | `itk_kmeans_t1_seg` |

Upstream:

* **Colin27 ("ch2bet")** -- the brain-extracted version of the Colin27
  single-subject T1 average (MRIcron's "ch2" template) as distributed with
  **MRIcron** by **Chris Rorden** (https://github.com/neurolabusc/MRIcron).
  Colin27 itself: C. J. Holmes et al., "Enhancement of MR images using
  registration for signal averaging", *J Comput Assist Tomogr* 22(2):324-333,
  1998.
* **AAL atlas** -- Automated Anatomical Labeling, 116 regions, in the copy
  shipped with MRIcron. Reference: N. Tzourio-Mazoyer et al., "Automated
  anatomical labeling of activations in SPM using a macroscopic anatomical
  parcellation of the MNI MRI single-subject brain", *NeuroImage* 15(1):273-289,
  2002.
* **ITK example data** -- `Examples/Data` of the **Insight Toolkit (ITK)** 5.2,
  https://itk.org/.

## Licences (as stated in the Debian copyright files)

**mricron-data** (`/usr/share/doc/mricron-data/copyright`): the file has no
stanza specific to the templates; the catch-all stanza `Files: *` reads
`Copyright: Copyright 2006-2010, Chris Rorden`, `License: BSD-3-clause`. The
BSD-3-clause text there requires that redistributions of source code retain the
copyright notice, the list of conditions and the disclaimer; that
redistributions in binary form reproduce them in the documentation and/or other
materials provided with the distribution; and that neither the names of the
copyright owners nor the name of the project (MRIcron) be used to endorse or
promote derived products without specific prior written permission. It is
provided "AS IS", without warranties. The AAL atlas is not given a separate
stanza in that file.

**insighttoolkit5-examples** (`/usr/share/doc/insighttoolkit5-examples/copyright`):
the catch-all stanza `Files: *` reads `Copyright: Copyright 1999-2019 Insight
Software Consortium / Copyright 2020 NumFOCUS`, `License: Apache-2.0` (full text
in `/usr/share/common-licenses/Apache-2.0` on Debian, and at
https://www.apache.org/licenses/LICENSE-2.0). Its section 4 lets you
redistribute the work or derivative works provided that you give recipients a
copy of the licence, make modified files carry prominent notices that you
changed them (see "What the script changed" below), and retain the copyright,
patent, trademark and attribution notices. The example data files have no
separate stanza. The file's header paragraph also states "Debian ITK is
Licensed under the GPL" (version 2 or, at your option, any later version),
giving as the reason that Debian distributes ITK linked with the GPL-licensed
FFTW libraries; it does not say whether that covers the example data.

When redistributing these files, keep this NOTICE with them: it carries the
copyright notices above and describes the changes.

## What the script changed

* **Colin27 T1, 1 mm** (`colin27_t1.nii.gz`): voxel data (uint8,
  181x217x181, 1 mm) unchanged. Header rewritten: the source has only an sform
  (code 4, MNI) and qform_code 0; the same affine is now stored in both qform
  and sform (code 4), units set to mm, description replaced. Orientation RAS.
* **AAL -> 7 classes** (`colin27_t1_seg.nii.gz`, uint8): each of the 116 AAL
  regions maps to exactly one class (asserted); the full table is
  `aal_to_class.tsv`, class names are in `colin27_classes.txt` / `.json`.
  The grouping follows the lobe digit of AAL's own region codes (2xxx frontal,
  3xxx insula, 4xxx limbic, 5xxx occipital, 6xxx parietal, 7xxx subcortical,
  8xxx temporal, 9xxx cerebellum), with insula and limbic merged, and one
  exception: **Olfactory** (AAL code 25xx, frontal group) is put in
  limbic_insula. **Fusiform** stays occipital, as in AAL's codes (54xx). AAL
  labels grey matter only, so white matter and CSF are background (0).
{grid_note}

| class | name | AAL regions | AAL names (L/R merged) |
|---|---|---|---|
{merge_rows}

* **2 mm versions** (`colin27_2mm_*`): grid 91x109x91 at 2 mm. Each 2 mm voxel
  covers a 2x2x2 block of 1 mm voxels (the odd last slice in each axis is
  padded, and the padding is not counted). Image: mean of the block, rounded to
  uint8. Labels: majority vote of the block; ties go to the lowest-numbered
  foreground class (background wins only outright). Affine: scaled by 2 with the
  origin moved by half a 1 mm voxel, so every 2 mm voxel centre is the centre of
  its block in world mm (checked by the script, and the brain centroid agrees to
  well under 0.5 mm).
* **ITK pair** (`itk_kmeans_t1*.nii.gz`): 128x128x62, 2x2x3 mm. The T1 is stored
  as int16 in the source but holds only 0..255; it is stored as uint8 here
  (lossless). Labels (values {itk_labels}) unchanged, uint8. qform (code 2)
  and sform (code 1) copied field for field from the source headers (they differ
  by a rotation of under 0.001 in matrix terms; the sform is the exact
  axis-aligned one). The labels are k-means intensity clusters, not anatomy.
  Checked against ITK's `KmeansTest_T1RawSkullStrip.nii.gz` brain mask,
  clusters 1-3 lie entirely outside the brain and 4-6 entirely inside, each
  triple in ascending mean T1 intensity; `itk_kmeans_classes.json` names them
  accordingly (`nonbrain_dark/mid/bright`, `brain_dark/mid/bright`). Label 0
  is called `background` by convention but is only 126 voxels inside the
  brain; the air around the head is cluster 1 (72% of the volume).
* All outputs are NIfTI-1 single files, gzip-compressed with a fixed mtime.

## SHA-256

{sums}
"""


if __name__ == "__main__":
    sys.exit(main(sys.argv))
