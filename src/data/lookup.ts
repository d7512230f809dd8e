// Parsers for class lookup files (index → name, optional colour): AAL/MRIcron text, FreeSurfer ColorLUT,
// ITK-SNAP label descriptions, CSV/TSV with a header, JSON (MSD dataset.json and plain maps), binary .lut.
import { FileError } from '../core/errors.ts';
import type { RGB } from './palette.ts';

export type LookupFormat = 'aal' | 'freesurfer' | 'itksnap' | 'index-name' | 'table' | 'json' | 'mricron-lut';

export interface LookupTable {
  format: LookupFormat;
  names: Record<number, string>;
  colors?: Record<number, RGB>;
  /** Things skipped or overridden while parsing (duplicate indices, nnU-Net region entries, …). */
  notes: string[];
}

const FORMATS = [
  'AAL / MRIcron text ("1 Precentral_L 2001": index name [code])',
  'FreeSurfer ColorLUT ("17 Left-Hippocampus 220 216 20 0": index name R G B A; # comments)',
  'ITK-SNAP label description ("1 255 0 0 1 1 1 \\"Label 1\\"")',
  'CSV/TSV with a header row naming an index column (index, label, value, id) and a name column',
  'plain "index name" lines (space, tab or comma separated)',
  'JSON: {"1": "liver"}, {"liver": 1}, ["background", "liver"], or MSD dataset.json {"labels": {...}}',
];

/** A class lookup file this app cannot read; `message` starts with the file name. */
export class LookupError extends FileError {
  override name = 'LookupError';
}

function unknownFormat(fileName: string, why: string): LookupError {
  return new LookupError(fileName, `not a class lookup this app reads: ${why}. Formats understood:\n- ${FORMATS.join('\n- ')}`);
}

const INT_RE = /^[+-]?\d+$/;
const isByte = (s: string) => INT_RE.test(s) && Number(s) >= 0 && Number(s) <= 255;

class Builder {
  names: Record<number, string> = {};
  colors: Record<number, RGB> = {};
  notes: string[] = [];
  constructor(readonly fileName: string) {}
  add(index: number, name: string, color?: RGB): void {
    if (!Number.isSafeInteger(index)) throw unknownFormat(this.fileName, `index ${index} is not an integer`);
    if (index in this.names) this.notes.push(`${this.fileName}: index ${index} appears twice; '${name}' replaces '${this.names[index]}'.`);
    this.names[index] = name;
    if (color) this.colors[index] = color;
  }
  done(format: LookupFormat): LookupTable {
    if (Object.keys(this.names).length === 0) throw unknownFormat(this.fileName, 'no class entries found');
    const t: LookupTable = { format, names: this.names, notes: this.notes };
    if (Object.keys(this.colors).length > 0) t.colors = this.colors;
    return t;
  }
}

/** Parses a text lookup file, detecting its format. Throws naming the file and the formats understood. */
export function parseLookup(text: string, fileName: string): LookupTable {
  const body = text.replace(/^\uFEFF/, '');
  const trimmed = body.trim();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) return parseJsonLookup(trimmed, fileName);
  const lines = body.split(/\r\n|\r|\n/).map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  if (lines.length === 0) throw unknownFormat(fileName, 'the file has no entries');
  const b = new Builder(fileName);

  // ITK-SNAP: IDX R G B A VIS MSH "LABEL"
  const itk = /^(-?\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+([\d.]+)\s+(\d+)\s+(\d+)\s+"(.*)"$/;
  if (lines.every((l) => itk.test(l))) {
    for (const l of lines) {
      const m = itk.exec(l)!;
      b.add(Number(m[1]), m[8], [Number(m[2]), Number(m[3]), Number(m[4])]);
    }
    return b.done('itksnap');
  }

  const delim = lines.some((l) => l.includes('\t')) ? '\t' : lines[0].includes(',') ? ',' : lines[0].includes(';') ? ';' : 'space';
  const rows = lines.map((l) => (delim === 'space' ? l.split(/\s+/) : splitDelimited(l, delim)));
  if (!INT_RE.test(rows[0][0])) return parseHeaderTable(rows, fileName);

  const bad = rows.findIndex((r) => !INT_RE.test(r[0]) || r.length < 2);
  if (bad >= 0) throw unknownFormat(fileName, `entry ${bad + 1} ("${lines[bad]}") does not start with an integer index followed by a name`);
  if (delim === 'space') {
    // FreeSurfer: index name R G B A (names have no spaces; the last four fields are 0–255).
    if (rows.every((r) => r.length >= 6 && r.slice(-4).every(isByte))) {
      for (const r of rows) b.add(Number(r[0]), r.slice(1, -4).join(' '), r.slice(-4, -1).map(Number) as RGB);
      return b.done('freesurfer');
    }
    // AAL / MRIcron: index name code. NOTE: the third column (e.g. 2001) is the atlas' own region code,
    // not a colour; it is dropped.
    if (rows.every((r) => r.length === 3 && INT_RE.test(r[2]))) {
      for (const r of rows) b.add(Number(r[0]), r[1]);
      return b.done('aal');
    }
    for (const r of rows) b.add(Number(r[0]), r.slice(1).join(' '));
    return b.done('index-name');
  }
  // Delimited without a header: index, name[, R, G, B]
  for (const r of rows) {
    const rgb = r.length >= 5 && r.slice(2, 5).every(isByte) ? (r.slice(2, 5).map(Number) as RGB) : undefined;
    b.add(Number(r[0]), r[1], rgb);
  }
  return b.done('index-name');
}

/** Splits one CSV/TSV line; double-quoted fields may contain the delimiter and "" for a quote. */
function splitDelimited(line: string, delim: string): string[] {
  const out: string[] = [];
  let cur = '', quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') { cur += '"'; i++; }
      else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"' && cur.trim() === '') { quoted = true; cur = ''; }
    else if (ch === delim) { out.push(cur.trim()); cur = ''; }
    else cur += ch;
  }
  out.push(cur.trim());
  return out;
}

const INDEX_COLS = ['index', 'idx', 'label', 'value', 'id', 'label_id', 'labelid', 'label_value', 'labelvalue',
  'class_id', 'classid', 'intensity', 'number', 'no', 'key', 'grayvalue'];
const NAME_COLS = ['name', 'label_name', 'labelname', 'structure', 'structure_name', 'region', 'region_name',
  'class', 'class_name', 'classname', 'label', 'description', 'roi', 'roi_name', 'tissue', 'abbreviation'];

function parseHeaderTable(rows: string[][], fileName: string): LookupTable {
  const header = rows[0].map((h) => h.toLowerCase().replace(/[\s-]+/g, '_'));
  const data = rows.slice(1).filter((r) => r.some((f) => f !== ''));
  const column = (j: number) => data.map((r) => r[j] ?? '');
  const allInt = (j: number) => data.length > 0 && column(j).every((v) => INT_RE.test(v));
  const pick = (names: string[], ok: (j: number) => boolean) => {
    for (const n of names) {
      const j = header.indexOf(n);
      if (j >= 0 && ok(j)) return j;
    }
    return -1;
  };
  const iIdx = pick(INDEX_COLS, allInt);
  let iName = pick(NAME_COLS, (j) => j !== iIdx);
  if (iName < 0) iName = header.findIndex((_, j) => j !== iIdx && column(j).some((v) => v !== '' && !/^[-+.\deE]+$/.test(v)));
  if (iIdx < 0 || iName < 0) {
    throw unknownFormat(fileName, `the header row (${rows[0].join(', ')}) has no integer index column and name column`);
  }
  const col = (...names: string[]) => header.findIndex((h) => names.includes(h));
  const [ir, ig, ib] = [col('r', 'red'), col('g', 'green'), col('b', 'blue')];
  const iHex = col('color', 'colour', 'hex', 'rgb');
  const b = new Builder(fileName);
  for (const r of data) {
    let rgb: RGB | undefined;
    if (ir >= 0 && ig >= 0 && ib >= 0 && [r[ir], r[ig], r[ib]].every((v) => v !== undefined && isByte(v))) {
      rgb = [Number(r[ir]), Number(r[ig]), Number(r[ib])];
    } else if (iHex >= 0 && r[iHex]) rgb = parseColor(r[iHex]);
    b.add(Number(r[iIdx]), r[iName] ?? '', rgb);
  }
  return b.done('table');
}

/** '#rrggbb', 'rrggbb', 'r g b' or 'r,g,b' → RGB, or undefined. */
function parseColor(s: string): RGB | undefined {
  const hex = /^#?([0-9a-f]{6})$/i.exec(s.trim());
  if (hex) return [0, 2, 4].map((o) => parseInt(hex[1].slice(o, o + 2), 16)) as RGB;
  const parts = s.trim().split(/[\s,]+/);
  return parts.length === 3 && parts.every(isByte) ? (parts.map(Number) as RGB) : undefined;
}

function colorOf(v: unknown): RGB | undefined {
  if (Array.isArray(v) && v.length >= 3 && v.slice(0, 3).every((x) => Number.isInteger(x) && x >= 0 && x <= 255)) {
    return [v[0], v[1], v[2]];
  }
  return typeof v === 'string' ? parseColor(v) : undefined;
}

function parseJsonLookup(text: string, fileName: string): LookupTable {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new LookupError(fileName, `invalid JSON (${(err as Error).message}).`, { cause: err });
  }
  const b = new Builder(fileName);
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (isObj(json) && 'labels' in json) json = json.labels; // MSD / nnU-Net dataset.json
  const entry = (index: number, v: unknown) => {
    if (typeof v === 'string') return b.add(index, v);
    if (isObj(v)) {
      const name = v.name ?? v.label_name ?? v.label ?? v.class;
      if (typeof name === 'string') return b.add(index, name, colorOf(v.color ?? v.colour ?? v.rgb));
    }
    throw unknownFormat(fileName, `entry ${index} is ${JSON.stringify(v)}, expected a name`);
  };
  if (Array.isArray(json)) {
    json.forEach((v, i) => {
      if (isObj(v)) {
        const idx = v.index ?? v.value ?? v.id ?? (typeof v.label === 'number' ? v.label : undefined);
        return entry(Number.isInteger(idx) ? (idx as number) : i, v);
      }
      return entry(i, v);
    });
    return b.done('json');
  }
  if (!isObj(json)) throw unknownFormat(fileName, 'the JSON is neither an object nor an array');
  const keys = Object.keys(json);
  if (keys.length > 0 && keys.every((k) => INT_RE.test(k))) {
    for (const k of keys) entry(Number(k), json[k]);
    return b.done('json');
  }
  // Inverted form (nnU-Net v2): {"background": 0, "liver": 1}; region entries map to arrays.
  const intList = (v: unknown) => Array.isArray(v) && v.every((x) => Number.isInteger(x));
  if (keys.some((k) => Number.isInteger(json[k])) && keys.every((k) => Number.isInteger(json[k]) || intList(json[k]))) {
    for (const k of keys) {
      const v = json[k];
      if (Array.isArray(v)) b.notes.push(`${fileName}: '${k}' is a region of labels ${JSON.stringify(v)}; skipped.`);
      else b.add(v as number, k);
    }
    return b.done('json');
  }
  throw unknownFormat(fileName, `the JSON object (keys ${keys.slice(0, 5).join(', ')}${keys.length > 5 ? ', …' : ''}) maps neither indices to names nor names to indices`);
}

/** MRIcron's binary .lut: 768 bytes, 256 red then 256 green then 256 blue values → colours of indices 0–255. */
export function parseBinaryLut(bytes: Uint8Array, fileName = 'binary .lut'): { colors: Record<number, RGB> } {
  if (bytes.length !== 768) {
    throw new LookupError(fileName, `a binary .lut has 768 bytes (256 R, 256 G, 256 B), this one has ${bytes.length}.`);
  }
  const colors: Record<number, RGB> = {};
  for (let i = 0; i < 256; i++) colors[i] = [bytes[i], bytes[256 + i], bytes[512 + i]];
  return { colors };
}

/**
 * Parses a lookup file from its bytes: a 768-byte `.lut` is MRIcron's binary colour table, anything else
 * is decoded as UTF-8 text and given to `parseLookup`.
 */
export function parseLookupFile(bytes: Uint8Array, fileName: string): LookupTable {
  if (/\.lut$/i.test(fileName) && bytes.length === 768) {
    return { format: 'mricron-lut', names: {}, colors: parseBinaryLut(bytes, fileName).colors, notes: [] };
  }
  return parseLookup(new TextDecoder('utf-8').decode(bytes), fileName);
}
