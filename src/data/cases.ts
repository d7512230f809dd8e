// Cases for training: the case record, the deterministic train/validation split, and the check that an
// image and its label share one voxel grid and that the label is a single-channel integer map. Pure.
import type { Mat4 } from '../core/types.ts';
import type { Volume } from '../nifti/types.ts';
import type { PairedCase } from './pairing.ts';

export type Split = 'train' | 'val';

export interface Case {
  id: string;
  /** Image paths (relative to the dropped folder), one per channel. */
  imagePaths: string[];
  /** File names of `imagePaths`. */
  imageNames: string[];
  labelPath?: string;
  labelName?: string;
  /** Only labelled cases are trained or validated on; unlabelled cases keep 'train' and are skipped. */
  split: Split;
}

const baseName = (p: string) => p.slice(p.lastIndexOf('/') + 1);

/** FNV-1a 32-bit hash of a string's UTF-16 code units: stable across runs, platforms and sessions. */
export function stableHash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/**
 * Deterministic default split: the ids with the smallest hashes go to validation, ~`valFraction` of them
 * (rounded, at least 1 when there are 2 or more ids, never all). Adding ids can move at most a few
 * boundary ids; the same set of ids always gives the same split, in any order.
 */
export function defaultSplit(ids: readonly string[], valFraction = 0.2): { splits: Record<string, Split>; notes: string[] } {
  if (!(valFraction >= 0 && valFraction < 1)) throw new Error(`defaultSplit: valFraction ${valFraction} is not in [0, 1).`);
  const unique = [...new Set(ids)];
  if (unique.length !== ids.length) throw new Error(`defaultSplit: case ids are not unique (${ids.length} ids, ${unique.length} distinct).`);
  const splits: Record<string, Split> = {};
  const notes: string[] = [];
  for (const id of ids) splits[id] = 'train';
  if (ids.length === 1) {
    notes.push(`Only one labelled case (${ids[0]}): it is used for training and there is no validation case.`);
    return { splits, notes };
  }
  if (ids.length === 0 || valFraction === 0) return { splits, notes };
  const nVal = Math.min(ids.length - 1, Math.max(1, Math.round(ids.length * valFraction)));
  const ranked = [...ids].sort((a, b) => stableHash(a) - stableHash(b) || (a < b ? -1 : a > b ? 1 : 0));
  for (const id of ranked.slice(0, nVal)) splits[id] = 'val';
  return { splits, notes };
}

/** Cases from a pairing, with the default split drawn over the labelled cases. */
export function casesFromPairing(cases: readonly PairedCase[], valFraction = 0.2): { cases: Case[]; notes: string[] } {
  const labelled = cases.filter((c) => c.label !== undefined).map((c) => c.id);
  const { splits, notes } = defaultSplit(labelled, valFraction);
  return {
    cases: cases.map((c) => {
      const out: Case = { id: c.id, imagePaths: [...c.images], imageNames: c.images.map(baseName), split: splits[c.id] ?? 'train' };
      if (c.label !== undefined) {
        out.labelPath = c.label;
        out.labelName = baseName(c.label);
      }
      return out;
    }),
    notes,
  };
}

/** Returns new cases with `id` moved to `split`. */
export function setSplit(cases: readonly Case[], id: string, split: Split): Case[] {
  if (!cases.some((c) => c.id === id)) throw new Error(`setSplit: no case with id '${id}'.`);
  if (split !== 'train' && split !== 'val') throw new Error(`setSplit: split '${String(split)}' is not 'train' or 'val'.`);
  return cases.map((c) => (c.id === id ? { ...c, split } : c));
}

const dimsText = (d: readonly number[]) => d.join('×');

/** World position (mm) of voxel (i, j, k) under a row-major affine. */
function apply(m: Mat4, i: number, j: number, k: number): [number, number, number] {
  return [0, 1, 2].map((r) => m[4 * r] * i + m[4 * r + 1] * j + m[4 * r + 2] * k + m[4 * r + 3]) as [number, number, number];
}

/**
 * Largest distance (mm) between where the two affines put the same voxel, over a grid of `dims`.
 * The distance is a convex function of (i, j, k), so its maximum is at one of the 8 corners.
 */
export function maxAffineDifferenceMm(a: Mat4, b: Mat4, dims: readonly number[]): number {
  let worst = 0;
  for (const i of [0, dims[0] - 1]) for (const j of [0, dims[1] - 1]) for (const k of [0, dims[2] - 1]) {
    const p = apply(a, i, j, k), q = apply(b, i, j, k);
    worst = Math.max(worst, Math.hypot(p[0] - q[0], p[1] - q[1], p[2] - q[2]));
  }
  return worst;
}

/**
 * nnU-Net-style channel files (x_0000, x_0001, …) of one case as the channels of one volume (channel-major data).
 * Every part must be on the first part's grid (same dims, voxel positions within `tolMm`).
 */
export function stackChannels(parts: readonly Volume[], tolMm = 1e-3): Volume {
  const first = parts[0];
  if (!first) throw new Error('stackChannels: no volumes');
  for (const b of parts.slice(1)) {
    if (first.dims.some((d, i) => d !== b.dims[i]) || !(maxAffineDifferenceMm(first.affine, b.affine, first.dims) <= tolMm)) {
      throw new Error(`${b.name}: channel grid ${dimsText(b.dims)} (${b.axcodes}) differs from ${first.name} ${dimsText(first.dims)} (${first.axcodes}); the channels of a case must share one grid`);
    }
  }
  const n = first.dims[0] * first.dims[1] * first.dims[2];
  const data = new Float32Array(n * parts.length);
  parts.forEach((p, c) => data.set(p.data.subarray(0, n), c * n));
  return { ...first, channels: parts.length, data, name: parts.map((p) => p.name).join(' + ') };
}

/**
 * What is wrong with `label` as the label map of `image`, or null when it fits: dims differ, affines differ
 * by more than `tolMm` anywhere on the grid, more than one channel, or a negative / fractional value.
 */
export function gridProblem(image: Volume, label: Volume, tolMm = 1e-3): string | null {
  if (image.dims.some((d, a) => d !== label.dims[a])) {
    return `label ${label.name} is ${dimsText(label.dims)} but image ${image.name} is ${dimsText(image.dims)}; expected the same voxel grid.`;
  }
  const diff = maxAffineDifferenceMm(image.affine, label.affine, image.dims);
  if (!(diff <= tolMm)) {
    return `label ${label.name} is not on the grid of image ${image.name}: voxel positions differ by up to ${formatMm(diff)} mm `
      + `(tolerance ${tolMm} mm; label ${label.axcodes}, image ${image.axcodes}).`;
  }
  if (label.channels > 1) {
    return `label ${label.name} has ${label.channels} channels (4th axis); expected a single 3D label map.`;
  }
  const bad = firstBadLabelValue(label);
  if (bad) {
    const [nx, ny] = label.dims;
    const at = `(${bad.index % nx}, ${Math.floor(bad.index / nx) % ny}, ${Math.floor(bad.index / (nx * ny))})`;
    return `label ${label.name} has ${bad.value < 0 ? 'negative' : 'non-integer'} value ${bad.value} at voxel ${at}; expected non-negative integer class indices.`;
  }
  return null;
}

/** Throws `gridProblem`'s message when the label does not fit the image. */
export function checkSameGrid(image: Volume, label: Volume, tolMm = 1e-3): void {
  const problem = gridProblem(image, label, tolMm);
  if (problem) throw new Error(problem);
}

function formatMm(x: number): string {
  return x >= 0.1 ? x.toFixed(2) : x.toPrecision(2);
}

function firstBadLabelValue(label: Volume): { index: number; value: number } | null {
  const { data } = label;
  if (data instanceof Uint8Array || data instanceof Uint16Array || data instanceof Uint32Array) return null;
  const isFloat = data instanceof Float32Array || data instanceof Float64Array;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v < 0 || (isFloat && v !== Math.floor(v))) return { index: i, value: v };
  }
  return null;
}
