// The live slice prediction as the viewer draws it: one label volume buffer per case, on the canonical grid, that
// holds only the slice in view (the worker's slicePrediction written at its voxels), so that the slice canvas, its
// overlay modes and the readout work on it as on an evaluated whole-volume prediction.
import { useMemo, useRef } from 'react';
import { planeOf } from '../data/windows/window.ts';
import type { LiveSlice } from '../store/store.ts';
import type { Vec3 } from '../core/types.ts';

interface Buffer { caseId: string; data: Uint8Array; written: LiveSlice | null }

/** Writes (or with `clear`, zeroes) the voxels of one predicted slice in a canonical label volume. */
function writePlane(data: Uint8Array, dims: Vec3, s: LiveSlice, clear = false) {
  const p = planeOf(dims, s.axis);
  const st = [1, dims[0], dims[0] * dims[1]];
  const base = s.index * st[s.axis], sH = st[p.hAxis], sW = st[p.wAxis];
  for (let y = 0; y < s.H; y++) for (let x = 0; x < s.W; x++) data[base + y * sH + x * sW] = clear ? 0 : s.pred[y * s.W + x];
}

/**
 * The volume to draw for the slice in view (`axis`: canonical axis held fixed, `index` along it) and a version that
 * changes with its content; `volume` is undefined while the live prediction is of another slice (or case).
 */
export function useLiveVolume(caseId: string | undefined, dims: Vec3 | undefined, live: LiveSlice | undefined, axis: 0 | 1 | 2, index: number):
  { volume?: Uint8Array; version?: LiveSlice; maxLabel: number } {
  const buf = useRef<Buffer | null>(null);
  return useMemo(() => {
    if (!live || !caseId || !dims || live.caseId !== caseId || live.axis !== axis || live.index !== index) return { maxLabel: 0 };
    const p = planeOf(dims, axis);
    if (live.H !== p.H || live.W !== p.W) return { maxLabel: 0 }; // a reloaded case on another grid
    const n = dims[0] * dims[1] * dims[2];
    if (!buf.current || buf.current.caseId !== caseId || buf.current.data.length !== n) buf.current = { caseId, data: new Uint8Array(n), written: null };
    const b = buf.current;
    if (b.written !== live) {
      if (b.written) writePlane(b.data, dims, b.written, true);
      writePlane(b.data, dims, live);
      b.written = live;
    }
    let maxLabel = 0;
    for (let i = 0; i < live.pred.length; i++) if (live.pred[i] > maxLabel) maxLabel = live.pred[i];
    return { volume: b.data, version: live, maxLabel };
  }, [caseId, dims, live, axis, index]);
}
