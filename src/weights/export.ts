// The exported encoder file: a .safetensors with timm names, the inflated patch kernel in PyTorch Conv3d layout
// [D, C_in, T, P, P], and the encoder config in __metadata__ so the app (and PyTorch users) can load it back.
import { writeSafetensors } from './formats/safetensors.ts';
import type { HostTensor } from '../core/types.ts';
import type { EncoderSpec, InflateOptions, StateDict } from './types.ts';

export const ENCODER_FORMAT = 'inflateseg-encoder/1';

export interface EncoderRecord {
  spec: EncoderSpec;
  options: InflateOptions;
  source: string;
  spec2d?: EncoderSpec;
}

/** Writes the encoder; `extra.source` is the original file or repo. Metadata values are JSON strings. */
export function encodeEncoder(
  tensors: Array<{ name: string; shape: number[]; data: Float32Array }>,
  spec: EncoderSpec,
  options: InflateOptions,
  extra: { source: string; spec2d?: EncoderSpec },
): Uint8Array {
  const entries: Array<[string, HostTensor]> = tensors.map((t) => [t.name, { dtype: 'float32', shape: t.shape, data: t.data }]);
  return writeSafetensors(entries, {
    format: ENCODER_FORMAT,
    spec: JSON.stringify(spec),
    options: JSON.stringify(options),
    source: extra.source,
    ...(extra.spec2d ? { spec2d: JSON.stringify(extra.spec2d) } : {}),
  });
}

/** Reads the record back from a safetensors `__metadata__`; null when the file is not an InflateSeg encoder. */
export function decodeEncoderMetadata(metadata: Record<string, string>, file: string): EncoderRecord | null {
  if (metadata.format !== ENCODER_FORMAT) return null;
  try {
    return {
      spec: JSON.parse(metadata.spec) as EncoderSpec,
      options: JSON.parse(metadata.options) as InflateOptions,
      source: metadata.source ?? file,
      spec2d: metadata.spec2d ? (JSON.parse(metadata.spec2d) as EncoderSpec) : undefined,
    };
  } catch (err) {
    throw new Error(`${file}: InflateSeg encoder metadata is unreadable (${err instanceof Error ? err.message : String(err)})`, { cause: err });
  }
}

/** Checks an imported encoder's patch kernel against its recorded config: [D, C_in, T, P, P]. */
export function checkEncoderTensors(state: StateDict, rec: EncoderRecord, file: string) {
  const w = state.get('patch_embed.proj.weight');
  const { embedDim: D, patchSize: P } = rec.spec;
  // Video Swin keeps its temporal patch depth (2, or 1 after '2d'); T is then the slices per window, not the kernel's.
  const depth = rec.spec.family === 'videoswin' && rec.spec.swin ? rec.spec.swin.patchDepth : rec.options.T;
  const want = [D, rec.options.inChans, depth, P, P];
  if (!w) throw new Error(`${file}: patch_embed.proj.weight is missing`);
  if (w.shape.join() !== want.join()) throw new Error(`${file}: patch_embed.proj.weight is [${w.shape.join(', ')}] but the metadata describes [${want.join(', ')}]`);
}
