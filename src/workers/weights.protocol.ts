// Typed messages between the main thread and the weights worker (read → map to timm names → inflate).
import type { EncoderSpec, InflateOptions } from '../weights/types.ts';
import type { LayoutHint } from '../weights/layouts/index.ts';

/** Where the 2D checkpoint comes from. */
export type WeightsSource =
  | { kind: 'files'; files: Array<{ name: string; blob: Blob }> }
  | { kind: 'hub'; repo: string; baseUrl: string; revision?: string }
  /** The built-in micro ViT (src/weights/micro.ts): random timm init, nothing to download, for a quick try. */
  | { kind: 'micro'; seed?: number };

export type ConvertPhase = 'download' | 'read' | 'map' | 'inflate' | 'pack';

export interface TensorRecord {
  name: string;
  shape: number[];
  data: Float32Array;
}

/** A converted (inflated) encoder, ready for the model: tensors under timm names, 3D patch kernel. */
export interface ConvertedEncoder {
  /** File name(s) or repo id. */
  source: string;
  format: string;
  /** The checkpoint as found (2D). */
  spec2d: EncoderSpec;
  /** The encoder after inflation. */
  spec: EncoderSpec;
  options: InflateOptions;
  tensors: TensorRecord[];
  params: number;
  report: { used: number; renamed: number; dropped: Array<{ key: string; reason: string }> };
  notes: string[];
  ms: number;
}

/**
 * Inflation options for a conversion. With `autoSize`, `imgSize` is chosen once the checkpoint's patch size and
 * native grid are known (src/train/defaults.ts suggestImgSize: the data's in-plane size within the encoder's range).
 */
export type ConvertOptions = InflateOptions & { autoSize?: { plane?: [number, number] } };

export type WeightsRequest =
  | { type: 'convert'; id: number; source: WeightsSource; options: ConvertOptions; hint?: LayoutHint }
  | { type: 'cancel'; id: number };

export type WeightsEvent =
  | { type: 'progress'; id: number; phase: ConvertPhase; done: number; total: number; detail?: string }
  | { type: 'converted'; id: number; result: ConvertedEncoder }
  | { type: 'failed'; id: number; message: string; cancelled: boolean };
