// Pairs dropped files into cases (image channels + optional label) by name and folder conventions:
// label suffixes (`_seg`, `_mask`, …), MSD / nnU-Net trees (imagesTr ↔ labelsTr, `_0000` channels). Pure.

/** A dropped file: `path` is relative to the dropped folder ('Task09/imagesTr/x.nii.gz'), or just the name. */
export interface DroppedFile {
  path: string;
  name: string;
}

export type FileKind = 'nifti' | 'lookup' | 'junk' | 'other';

/** One case proposed by pairing: image channel paths ordered by channel index, and an optional label path. */
export interface PairedCase {
  id: string;
  /** Image paths, one per channel, ordered by nnU-Net channel index (`_0000`, `_0001`, …). */
  images: string[];
  /** Convenience: `images[0]`. */
  image: string;
  label?: string;
}

export interface Pairing {
  cases: PairedCase[];
  /** Lookup / colour-table files (.txt, .lut, .json, .csv, .tsv). */
  lookups: string[];
  /** NIfTI label files that could not be attached to exactly one image (see `notes`). */
  unpaired: string[];
  /** Junk (`._x`, `.DS_Store`, `__MACOSX/`) and files of other types. */
  ignored: string[];
  notes: string[];
}

const NIFTI_RE = /\.nii(\.gz)?$/i;
const LOOKUP_RE = /\.(txt|lut|json|csv|tsv)$/i;
const LABEL_SUFFIX_RE = /(_seg|_label|_labels|_mask|_gt|-seg|\.seg)$/i;
const CHANNEL_RE = /^(.*)_(\d{4})$/;
const IMAGE_DIR_RE = /^(images|image|imgs|img)(.*)$/i;
const LABEL_DIR_RE = /^(labels|label|masks|segmentations|segs)(.*)$/i;
// NOTE: licence / readme files are .txt too, but never lookup tables.
const DOC_RE = /^(readme|license|licence|notice|copying|changelog|authors|citation)([._-]|$)/i;
const JUNK_NAMES = new Set(['.ds_store', 'thumbs.db', 'desktop.ini', '.localized']);

/** Classifies a file by name: Mac/Windows junk, NIfTI, lookup table, or something else. */
export function classifyFile(f: DroppedFile): FileKind {
  const lower = f.name.toLowerCase();
  if (lower.startsWith('._') || JUNK_NAMES.has(lower) || /(^|\/)__MACOSX\//.test(f.path)) return 'junk';
  if (NIFTI_RE.test(f.name)) return 'nifti';
  if (DOC_RE.test(f.name)) return 'other';
  if (LOOKUP_RE.test(f.name)) return 'lookup';
  return 'other';
}

/** File name without `.nii` / `.nii.gz`. */
export function niftiBaseName(name: string): string {
  return name.replace(NIFTI_RE, '');
}

/** The image base name a label file names (`brain_seg.nii.gz` → `brain`), or null when it has no label suffix. */
export function labelStem(name: string): string | null {
  const base = niftiBaseName(name);
  const m = LABEL_SUFFIX_RE.exec(base);
  return m ? base.slice(0, m.index) : null;
}

interface Entry {
  path: string;
  dir: string; // parent folder path ('' for loose files)
  base: string;
}

interface ImageGroup {
  dir: string;
  stem: string; // base without the channel suffix
  channels: { index: number; path: string }[];
  msdTag?: string; // lower-cased folder tag ('tr', 'ts', '') when the folder is an MSD-style image folder
}

interface LabelEntry extends Entry {
  keys: string[]; // lower-cased image stems this label may belong to
  msdTag?: string; // set when the label sits in an MSD-style label folder
}

function splitPath(path: string): { dir: string; folder: string } {
  const cut = path.lastIndexOf('/');
  const dir = cut < 0 ? '' : path.slice(0, cut);
  const parentCut = dir.lastIndexOf('/');
  return { dir, folder: dir.slice(parentCut + 1) };
}

function parentOf(dir: string): string {
  const cut = dir.lastIndexOf('/');
  return cut < 0 ? '' : dir.slice(0, cut);
}

/** Natural order: 'case_2' before 'case_10'. Deterministic, locale-free. */
export function naturalCompare(a: string, b: string): number {
  const ra = a.match(/\d+|\D+/g) ?? [];
  const rb = b.match(/\d+|\D+/g) ?? [];
  for (let i = 0; i < Math.min(ra.length, rb.length); i++) {
    const x = ra[i], y = rb[i];
    const nx = /^\d/.test(x), ny = /^\d/.test(y);
    if (nx && ny) {
      const d = Number(x) - Number(y);
      if (d !== 0) return d;
    }
    if (x !== y) return x < y ? -1 : 1;
  }
  return ra.length - rb.length;
}

/** Pairs dropped files into cases. See the file header and the rules in each step below. */
export function pairFiles(files: readonly DroppedFile[]): Pairing {
  const notes: string[] = [];
  const lookups: string[] = [];
  const ignored: string[] = [];
  const unpaired: string[] = [];
  const groups = new Map<string, ImageGroup>();
  const labels: LabelEntry[] = [];

  // 1. Classify; NIfTI files become labels (suffix or label folder) or image channels.
  for (const f of files) {
    const kind = classifyFile(f);
    if (kind === 'junk') { ignored.push(f.path); continue; }
    if (kind === 'lookup') { lookups.push(f.path); continue; }
    if (kind === 'other') {
      ignored.push(f.path);
      notes.push(DOC_RE.test(f.name) ? `${f.path}: documentation; ignored.`
        : `${f.path}: not a NIfTI (.nii, .nii.gz) or lookup file (.txt, .lut, .json, .csv, .tsv); ignored.`);
      continue;
    }
    const { dir, folder } = splitPath(f.path);
    const base = niftiBaseName(f.name);
    const suffix = LABEL_SUFFIX_RE.exec(base);
    const labelDir = LABEL_DIR_RE.exec(folder);
    if (suffix || labelDir) {
      const keys = [base.toLowerCase()];
      if (suffix) keys.unshift(base.slice(0, suffix.index).toLowerCase());
      labels.push({ path: f.path, dir, base, keys: suffix && !labelDir ? keys.slice(0, 1) : keys, msdTag: labelDir?.[2].toLowerCase() });
      continue;
    }
    const imageDir = IMAGE_DIR_RE.exec(folder);
    // NOTE: `_0000`-style channel suffixes are only read as channels inside MSD-style image folders;
    // loose 'scan_0001.nii.gz' files are as likely to be separate scans.
    const ch = imageDir ? CHANNEL_RE.exec(base) : null;
    const stem = ch ? ch[1] : base;
    const key = `${dir}\u0000${stem.toLowerCase()}`;
    let g = groups.get(key);
    if (!g) {
      g = { dir, stem, channels: [], msdTag: imageDir?.[2].toLowerCase() };
      groups.set(key, g);
    }
    const index = ch ? Number(ch[2]) : -1;
    if (g.channels.some((c) => c.index === index)) {
      // Same stem with and without a channel suffix, or a duplicate: keep it as a case of its own.
      const alt = `${key}\u0000${f.path}`;
      groups.set(alt, { dir, stem: base, channels: [{ index, path: f.path }], msdTag: g.msdTag });
      notes.push(`${f.path}: clashes with ${g.channels[0].path} as a channel of case '${stem}'; kept as a separate case.`);
    } else {
      g.channels.push({ index, path: f.path });
    }
  }

  const imageGroups = [...groups.values()];
  for (const g of imageGroups) {
    g.channels.sort((a, b) => a.index - b.index);
    const idx = g.channels.map((c) => c.index).filter((i) => i >= 0);
    if (idx.length > 0 && idx.some((v, i) => v !== i)) {
      notes.push(`${g.dir ? g.dir + '/' : ''}${g.stem}: channel files ${idx.map((i) => String(i).padStart(4, '0')).join(', ')} are not numbered 0000, 0001, … without gaps.`);
    }
  }

  // 2. Candidate images for each label, in two tiers:
  //    tier 1: same folder (suffix labels) or the matching MSD folder (labelsTr → imagesTr, same parent);
  //    tier 2: same stem anywhere (used only when tier 1 finds nothing and the stem is unique).
  const byStem = new Map<string, ImageGroup[]>();
  for (const g of imageGroups) {
    const s = g.stem.toLowerCase();
    byStem.set(s, [...(byStem.get(s) ?? []), g]);
  }
  const proposals = new Map<ImageGroup, { label: LabelEntry; tier: number }[]>();
  for (const l of labels) {
    const tier1 = new Set<ImageGroup>();
    const tier2 = new Set<ImageGroup>();
    for (const key of l.keys) {
      for (const g of byStem.get(key) ?? []) {
        const sameDir = g.dir === l.dir;
        const msd = l.msdTag !== undefined && g.msdTag === l.msdTag && parentOf(g.dir) === parentOf(l.dir);
        (sameDir || msd ? tier1 : tier2).add(g);
      }
    }
    const [cands, tier] = tier1.size > 0 ? [tier1, 1] : [tier2, 2];
    if (cands.size === 1) {
      const g = [...cands][0];
      proposals.set(g, [...(proposals.get(g) ?? []), { label: l, tier }]);
    } else {
      unpaired.push(l.path);
      notes.push(cands.size === 0
        ? `${l.path}: looks like a label but no image matches its name; left unpaired.`
        : `${l.path}: matches several images (${[...cands].map((g) => g.channels[0].path).join(', ')}); left unpaired — assign it by hand.`);
    }
  }

  // 3. Cases: each image group keeps the label proposed at the best tier, if there is exactly one.
  const stemCount = new Map<string, number>();
  for (const g of imageGroups) stemCount.set(g.stem.toLowerCase(), (stemCount.get(g.stem.toLowerCase()) ?? 0) + 1);
  const usedIds = new Set<string>();
  const cases: PairedCase[] = [];
  for (const g of imageGroups) {
    const images = g.channels.map((c) => c.path);
    let id = stemCount.get(g.stem.toLowerCase()) === 1 ? g.stem : (g.dir ? `${g.dir}/${g.stem}` : g.stem);
    for (let n = 2; usedIds.has(id); n++) id = `${g.stem} (${n})`;
    usedIds.add(id);
    const c: PairedCase = { id, images, image: images[0] };
    const props = proposals.get(g) ?? [];
    const best = Math.min(...props.map((p) => p.tier));
    const top = props.filter((p) => p.tier === best);
    for (const p of props) {
      if (p.tier !== best) {
        unpaired.push(p.label.path);
        notes.push(`${p.label.path}: ${images[0]} already has a closer label (${top.map((t) => t.label.path).join(', ')}); left unpaired.`);
      }
    }
    if (top.length === 1) c.label = top[0].label.path;
    else if (top.length > 1) {
      for (const p of top) unpaired.push(p.label.path);
      notes.push(`${images[0]}: several candidate labels (${top.map((p) => p.label.path).join(', ')}); left unpaired — assign one by hand.`);
    }
    cases.push(c);
  }
  cases.sort((a, b) => naturalCompare(a.id, b.id));
  unpaired.sort(naturalCompare);
  return { cases, lookups, unpaired, ignored, notes };
}

/** Returns new cases where `caseId` has `labelPath` as its label; the label is taken off any other case. */
export function assignLabel(cases: readonly PairedCase[], caseId: string, labelPath: string): PairedCase[] {
  if (!cases.some((c) => c.id === caseId)) {
    throw new Error(`assignLabel: no case with id '${caseId}' (cases: ${cases.map((c) => c.id).join(', ') || 'none'}).`);
  }
  if (cases.some((c) => c.images.includes(labelPath))) {
    throw new Error(`assignLabel: ${labelPath} is an image of a case; expected a label file.`);
  }
  return cases.map((c) => {
    if (c.id === caseId) return { ...c, label: labelPath };
    if (c.label === labelPath) return withoutLabel(c);
    return c;
  });
}

/** Returns new cases where `caseId` has no label. */
export function unassignLabel(cases: readonly PairedCase[], caseId: string): PairedCase[] {
  if (!cases.some((c) => c.id === caseId)) {
    throw new Error(`unassignLabel: no case with id '${caseId}'.`);
  }
  return cases.map((c) => (c.id === caseId ? withoutLabel(c) : c));
}

function withoutLabel(c: PairedCase): PairedCase {
  const { label: _label, ...rest } = c;
  return rest;
}
