// Voxel reordering for toCanonical / fromCanonical: a signed axis permutation applied to a voxel array, as
// contiguous row or plane copies (TypedArray.set), native reversals, blocked transposes, or in place for pure flips.
import { allocVoxels, dtypeOf, type VoxelArray } from '../core/types.ts';

/**
 * One axis of the output, fastest first: `length` voxels, and the signed step in the input between neighbours
 * along it. out[Σ pₐ·(Π_{b<a} length_b)] = in[start + Σ pₐ·stepₐ].
 */
export interface AxisMap {
  length: number;
  step: number;
}

/** Side of the square tiles of the blocked transpose (elements): 2 × 32 lines of ≤ 8 bytes stay in L1. */
const TILE = 32;
/** Rows shorter than this are copied element by element (a native call per short row costs more). */
const SHORT_ROW = 16;

type Bits = Uint8Array | Uint16Array | Uint32Array | Float64Array;

/**
 * The same memory as an array of raw elements of the same width, so the loops below see at most four array kinds
 * (they stay fast in V8) and copy bits, not values. NOTE: Float64Array for 8-byte elements: set() and reverse()
 * move bytes; only the short-row and transpose loops read and write doubles, where a NaN payload may change (no
 * NaN reaches them from readNifti, which zeroes non-finite values).
 */
function asBits(a: VoxelArray): Bits {
  switch (a.BYTES_PER_ELEMENT) {
    case 1: return new Uint8Array(a.buffer, a.byteOffset, a.length);
    case 2: return new Uint16Array(a.buffer, a.byteOffset, a.length);
    case 4: return new Uint32Array(a.buffer, a.byteOffset, a.length);
    default: return new Float64Array(a.buffer, a.byteOffset, a.length);
  }
}

/**
 * Drops length-1 axes and merges neighbours that walk the input as one longer axis (step of the slower one =
 * step · length of the faster one: e.g. two flipped axes of an LPS volume are one reversed plane). Always returns
 * 4 axes (padded with length 1) and the total count.
 */
function simplify(axes: AxisMap[]): AxisMap[] {
  const out: AxisMap[] = [];
  for (const a of axes) {
    if (a.length === 1) continue;
    const last = out[out.length - 1];
    if (last && a.step === last.step * last.length) last.length *= a.length;
    else out.push({ ...a });
  }
  if (out.length === 0) out.push({ length: 1, step: 1 });
  while (out.length < 4) out.push({ length: 1, step: 0 });
  return out;
}

/** True when the map only flips axes (each output position's source is in the same place or its mirror). */
function isPureFlip(axes: AxisMap[]): boolean {
  let stride = 1;
  for (const a of axes) {
    if (a.length > 1 && Math.abs(a.step) !== stride) return false;
    stride *= a.length;
  }
  return true;
}

/**
 * Gathers `src` into a new array of the same type laid out as `axes` describe (fastest first; their lengths
 * multiply to src.length). `src` is not modified.
 */
export function reorderCopy(src: VoxelArray, axes: AxisMap[], start: number): VoxelArray {
  const out = allocVoxels(dtypeOf(src), src.length);
  gather(asBits(out), asBits(src), simplify(axes), start);
  return out;
}

/**
 * As reorderCopy, but pure flips (isPureFlip) are done inside `data` itself, which is returned; any other map
 * falls back to a copy. For callers that own `data` and drop the original order.
 */
export function reorderInPlace(data: VoxelArray, axes: AxisMap[], start: number): VoxelArray {
  if (!isPureFlip(axes)) return reorderCopy(data, axes, start);
  flipInPlace(asBits(data), simplify(axes), start);
  return data;
}

function gather(out: Bits, src: Bits, axes: AxisMap[], start: number): void {
  const [a0, a1, a2, a3] = axes;
  const n0 = a0.length;
  const s0 = a0.step;
  if (s0 !== 1 && s0 !== -1) {
    transpose(out, src, axes, start);
    return;
  }
  let at = 0;
  for (let p3 = 0; p3 < a3.length; p3++) {
    for (let p2 = 0; p2 < a2.length; p2++) {
      let from = start + p3 * a3.step + p2 * a2.step;
      for (let p1 = 0; p1 < a1.length; p1++, from += a1.step, at += n0) {
        if (s0 === 1) {
          out.set(src.subarray(from, from + n0), at); // contiguous in the input: one memcpy
        } else if (n0 >= SHORT_ROW) {
          const row = out.subarray(at, at + n0); // reversed in the input: copy, then reverse natively
          row.set(src.subarray(from - n0 + 1, from + 1));
          row.reverse();
        } else {
          for (let p0 = 0, f = from; p0 < n0; p0++, f--) out[at + p0] = src[f];
        }
      }
    }
  }
}

/**
 * The output's fastest axis is not the input's: square tiles over the output's axis 0 and the output axis that
 * walks the input most closely (smallest |step|), so both the strided reads and the writes stay in cache.
 */
function transpose(out: Bits, src: Bits, axes: AxisMap[], start: number): void {
  let q = 1;
  for (let a = 2; a < 4; a++) if (axes[a].length > 1 && Math.abs(axes[a].step) < Math.abs(axes[q].step)) q = a;
  const outStride = [1, 0, 0, 0];
  for (let a = 1; a < 4; a++) outStride[a] = outStride[a - 1] * axes[a - 1].length;
  const others = [1, 2, 3].filter((a) => a !== q);
  const [r, t] = [axes[others[0]], axes[others[1]]];
  const [or, ot] = [outStride[others[0]], outStride[others[1]]];
  const n0 = axes[0].length;
  const s0 = axes[0].step;
  const nq = axes[q].length;
  const sq = axes[q].step;
  const oq = outStride[q];
  for (let pt = 0; pt < t.length; pt++) {
    for (let pr = 0; pr < r.length; pr++) {
      const fromBase = start + pt * t.step + pr * r.step;
      const atBase = pt * ot + pr * or;
      for (let qb = 0; qb < nq; qb += TILE) {
        const qe = Math.min(nq, qb + TILE);
        for (let b0 = 0; b0 < n0; b0 += TILE) {
          const e0 = Math.min(n0, b0 + TILE);
          for (let pq = qb; pq < qe; pq++) {
            let from = fromBase + pq * sq + b0 * s0;
            let at = atBase + pq * oq + b0;
            for (let p0 = b0; p0 < e0; p0++, from += s0) out[at++] = src[from];
          }
        }
      }
    }
  }
}

/**
 * Pure flips in place: every output row (axis 0) takes the input row at the mirrored outer position, reversed
 * when axis 0 flips. Rows are each other's mirrors, so each pair is swapped once (through a one-row buffer).
 */
function flipInPlace(data: Bits, axes: AxisMap[], start: number): void {
  const [a0, a1, a2, a3] = axes;
  const n0 = a0.length;
  const reversed = a0.step === -1;
  const tmp = new (data.constructor as new (n: number) => Bits)(n0);
  let at = 0;
  for (let p3 = 0; p3 < a3.length; p3++) {
    for (let p2 = 0; p2 < a2.length; p2++) {
      let from = start + p3 * a3.step + p2 * a2.step;
      for (let p1 = 0; p1 < a1.length; p1++, from += a1.step, at += n0) {
        const base = reversed ? from - n0 + 1 : from; // lowest index of the source row
        if (base < at) continue; // this pair was swapped when its partner came up
        const row = data.subarray(at, at + n0);
        if (base === at) {
          if (reversed) row.reverse();
          continue;
        }
        const partner = data.subarray(base, base + n0);
        tmp.set(row);
        row.set(partner);
        partner.set(tmp);
        if (reversed) {
          row.reverse();
          partner.reverse();
        }
      }
    }
  }
}
