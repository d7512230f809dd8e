// Typed messages between the main thread and the NIfTI worker (decompress, parse, reorient, summarise).
import type { Mat4, Vec3 } from '../core/types.ts';
import type { AffineSource, Volume } from '../nifti/types.ts';

export type VolumeRole = 'image' | 'label';

export type LoadPhase = 'reading' | 'decompressing' | 'parsing' | 'reorienting' | 'summarising';

/** Intensity summary computed in the worker so the page never scans a volume. */
export interface ImageSummary {
  min: number;
  max: number;
  /** 0.5 and 99.5 percentiles of channel 0 (of the voxels above the minimum when it is mostly background): the default display window. */
  p005: number;
  p995: number;
  /** 'ct' when values look like Hounsfield units. */
  modality: 'ct' | 'mr';
}

export interface LabelSummary {
  /** Label values present, ascending (0 included when present). */
  classes: number[];
  /** Voxel count of each entry of `classes`. */
  counts: number[];
}

export interface LoadedVolume {
  /** The volume in closest-canonical RAS+ voxel order. */
  volume: Volume;
  /** The grid as stored in the file, so predictions can be written back on it. */
  source: { dims: Vec3; axcodes: string; affine: Mat4; affineSource: AffineSource };
  role: VolumeRole;
  image?: ImageSummary;
  label?: LabelSummary;
  /** Worker time from file to summary, in ms. */
  ms: number;
}

export type NiftiRequest = { type: 'load'; id: number; file: Blob; name: string; role: VolumeRole };

export type NiftiEvent =
  | { type: 'progress'; id: number; phase: LoadPhase }
  | { type: 'loaded'; id: number; result: LoadedVolume }
  | { type: 'failed'; id: number; name: string; message: string };
