// The NIfTI worker's work as a plain async function (file → canonical volume + summary), testable in Node.
import { readNifti, toCanonical } from '../nifti/index.ts';
import { labelStats } from '../data/labels.ts';
import { percentiles } from '../data/intensity.ts';
import type { LoadPhase, LoadedVolume, VolumeRole, ImageSummary } from './nifti.protocol.ts';
import type { Volume } from '../nifti/types.ts';
import type { VoxelArray } from '../core/types.ts';

export async function loadVolume(
  file: Blob,
  name: string,
  role: VolumeRole,
  onPhase: (p: LoadPhase) => void = () => {},
): Promise<LoadedVolume> {
  const t0 = performance.now();
  onPhase('reading');
  const bytes = new Uint8Array(await file.arrayBuffer());
  onPhase('parsing');
  const stored = await readNifti(bytes, name);
  onPhase('reorienting');
  // stored.data is not used again (only its grid below), so pure flips may happen in place: no second volume.
  const volume = toCanonical(stored, { inPlace: true });
  onPhase('summarising');
  const source = { dims: stored.dims, axcodes: stored.axcodes, affine: stored.affine, affineSource: stored.affineSource };
  const result: LoadedVolume = { volume, source, role, ms: 0 };
  if (role === 'label') {
    const s = labelStats(volume);
    result.label = { classes: s.classes, counts: s.classes.map((c) => s.counts[c] ?? 0) };
  } else {
    result.image = summariseImage(volume);
  }
  result.ms = performance.now() - t0;
  return result;
}

/**
 * The voxels the display window is computed from.
 * NOTE: skull-stripped or masked volumes are mostly exact background (their minimum); percentiles over the whole
 * volume then saturate the tissue. When the minimum fills more than 10 % of the volume, use the voxels above it.
 */
function displaySample(data: VoxelArray, min: number): VoxelArray {
  let atMin = 0;
  for (let i = 0; i < data.length; i++) if (data[i] === min) atMin++;
  if (atMin <= data.length * 0.1 || atMin === data.length) return data;
  const out = new (data.constructor as new (n: number) => VoxelArray)(data.length - atMin);
  let o = 0;
  for (let i = 0; i < data.length; i++) if (data[i] !== min) out[o++] = data[i];
  return out;
}

function summariseImage(v: Volume): ImageSummary {
  const n = v.dims[0] * v.dims[1] * v.dims[2];
  const ch0 = v.channels > 1 ? v.data.subarray(0, n) : v.data;
  let min = Infinity, max = -Infinity;
  for (let i = 0; i < ch0.length; i++) {
    const x = ch0[i];
    if (x < min) min = x;
    if (x > max) max = x;
  }
  const [p005, p995] = percentiles(displaySample(ch0, min), [0.5, 99.5]);
  // NOTE: heuristic — CT stores air near −1000 HU; MR intensities are non-negative.
  const modality = min <= -500 && max > 100 ? 'ct' : 'mr';
  return { min, max, p005, p995, modality };
}
