// The weights worker's work as a plain async function: source → 2D state dict → timm names → inflated 3D encoder.
import { downloadRepoWeights, openHubCache } from '../weights/hub.ts';
import { readCheckpoint, readShardedSafetensors } from '../weights/formats/index.ts';
import { toCanonical as mapLayout } from '../weights/layouts/index.ts';
import { inflate } from '../weights/inflate/index.ts';
import { checkEncoderTensors, decodeEncoderMetadata } from '../weights/export.ts';
import type { EncoderSpec, InflateOptions, StateDict } from '../weights/types.ts';
import { MICRO_NAME, MICRO_VIT, microSpec, microState } from '../weights/micro.ts';
import type { LayoutHint } from '../weights/layouts/index.ts';
import type { ConvertOptions, ConvertPhase, ConvertedEncoder, TensorRecord, WeightsSource } from './weights.protocol.ts';
import { suggestImgSize } from '../train/defaults.ts';

export type ProgressFn = (phase: ConvertPhase, done: number, total: number, detail?: string) => void;

const WEIGHT_FILE = /\.(safetensors|pth|pt|bin|ckpt)$/i;

export async function convertEncoder(
  source: WeightsSource,
  given: ConvertOptions,
  hint: LayoutHint | undefined,
  signal: AbortSignal | undefined,
  onProgress: ProgressFn = () => {},
): Promise<ConvertedEncoder> {
  const t0 = performance.now();
  if (source.kind === 'micro') {
    const spec2d = microSpec();
    const options = sized(given, spec2d, true);
    const inflated = inflate(microState(MICRO_VIT, source.seed ?? 0), spec2d, options, (d, t) => onProgress('inflate', d, t));
    const notes = ['The built-in micro ViT is randomly initialised (not pre-trained): it is for trying the app, not for results.', ...inflated.notes];
    return pack(MICRO_NAME, 'built-in', spec2d, inflated.spec, options, inflated.state, { used: inflated.state.size, renamed: 0, dropped: [] }, notes, t0);
  }
  // --- gather the files -------------------------------------------------------------------------
  let files: Array<{ name: string; blob: Blob }>;
  let config: Record<string, unknown> | undefined;
  let sourceName: string;
  if (source.kind === 'hub') {
    sourceName = source.repo;
    const repo = await downloadRepoWeights(source.repo, {
      baseUrl: source.baseUrl,
      revision: source.revision,
      cache: await openHubCache(),
      signal,
      onProgress: (done, total, file) => onProgress('download', done, total, file),
    });
    files = repo.files.map((f) => ({ name: f.path, blob: f.blob }));
    config = repo.config;
  } else {
    files = source.files;
    sourceName = files.map((f) => f.name).join(' + ');
    const cfg = files.find((f) => /(^|\/)config\.json$/i.test(f.name));
    if (cfg) config = JSON.parse(await cfg.blob.text()) as Record<string, unknown>;
  }
  signal?.throwIfAborted();

  // --- read the tensors ---------------------------------------------------------------------------
  const index = files.find((f) => /\.index\.json$/i.test(f.name));
  const weights = files.filter((f) => WEIGHT_FILE.test(f.name));
  let tensors: StateDict;
  let format: string;
  let metadata: Record<string, string>;
  const notes: string[] = [];
  if (index) {
    const byName = new Map(files.map((f) => [f.name.split('/').pop()!, f.blob]));
    const open = async (shard: string) => {
      const b = byName.get(shard);
      if (!b) throw new Error(`shard ${shard} is missing; drop every shard together with the index`);
      return b;
    };
    const r = await readShardedSafetensors(JSON.parse(await index.blob.text()), open, index.name, { signal });
    tensors = r.tensors;
    metadata = r.metadata;
    format = 'safetensors (sharded)';
  } else {
    if (weights.length === 0) throw new Error(`${sourceName}: no checkpoint file (.safetensors, .pth, .pt, .bin) among the files`);
    if (weights.length > 1) throw new Error(`${sourceName}: ${weights.length} checkpoint files; drop one checkpoint at a time (or a sharded set with its model.safetensors.index.json)`);
    const w = weights[0];
    onProgress('read', 0, w.blob.size, w.name);
    const r = await readCheckpoint(w.blob, w.name, { signal, onProgress: (d: number, t: number) => onProgress('read', d, t, w.name) });
    tensors = r.tensors;
    format = r.format;
    metadata = r.metadata ?? {};
    notes.push(...r.notes);
  }
  signal?.throwIfAborted();

  // An encoder exported by InflateSeg is already inflated: load it as it is.
  const exported = decodeEncoderMetadata(metadata, sourceName);
  if (exported) {
    checkEncoderTensors(tensors, exported, sourceName);
    notes.push(`An InflateSeg encoder exported from ${exported.source} (${exported.spec.family}, ${exported.options.strategy}, T = ${exported.options.T}).`);
    if (exported.options.strategy !== given.strategy || exported.options.T !== given.T || exported.options.inChans !== given.inChans) {
      notes.push(`${sourceName} was exported inflated (${exported.options.strategy}, T = ${exported.options.T}, ${exported.options.inChans} channel(s)); it is loaded as it is, not inflated again.`);
    }
    return pack(sourceName, 'InflateSeg encoder (safetensors)', exported.spec2d ?? exported.spec, exported.spec, exported.options, tensors, { used: tensors.size, renamed: 0, dropped: [] }, notes, t0);
  }

  // --- map to timm names and check every key and shape --------------------------------------------
  onProgress('map', 0, 1);
  const mapped = mapLayout(tensors, sourceName, config, hint);
  signal?.throwIfAborted();

  // --- inflate ---------------------------------------------------------------------------------------
  const options = sized(given, mapped.spec, false);
  const inflated = inflate(mapped.state, mapped.spec, options, (d, t) => onProgress('inflate', d, t));
  notes.push(...inflated.notes);

  onProgress('pack', 0, 1);
  const report = { used: mapped.report.used.length, renamed: mapped.report.renamed.length, dropped: mapped.report.dropped };
  return pack(sourceName, format, mapped.spec, inflated.spec, options, inflated.state, report, notes, t0);
}

/** The inflation options with the size settled: `autoSize` picks it from the encoder and the data. */
function sized(given: ConvertOptions, spec2d: EncoderSpec, micro: boolean): InflateOptions {
  const { autoSize, ...options } = given;
  if (!autoSize) return options;
  const imgSize = suggestImgSize({ spec: spec2d, strategy: options.strategy, micro, plane: autoSize.plane });
  if (!spec2d.swin) return { ...options, imgSize };
  // Swin: the patch, then a 2×2 merging per later stage: the size must be a multiple of P·2^(stages−1) (32).
  const unit = spec2d.patchSize * 2 ** (spec2d.swin.depths.length - 1);
  return { ...options, imgSize: Math.max(unit, Math.round(imgSize / unit) * unit) };
}

/** Packs a state dict as float32 records for transfer. */
function pack(
  source: string, format: string, spec2d: EncoderSpec, spec: EncoderSpec, options: InflateOptions,
  state: StateDict, report: ConvertedEncoder['report'], notes: string[], t0: number,
): ConvertedEncoder {
  const tensors: TensorRecord[] = [];
  let params = 0;
  for (const [name, t] of state) {
    const data = t.data instanceof Float32Array ? t.data : Float32Array.from(t.data as ArrayLike<number>);
    tensors.push({ name, shape: [...t.shape], data });
    params += data.length;
  }
  return { source, format, spec2d, spec, options, tensors, params, report, notes, ms: performance.now() - t0 };
}

/** Buffers to transfer with a converted encoder (each distinct buffer once). */
export function transferables(e: ConvertedEncoder): ArrayBuffer[] {
  return [...new Set(e.tensors.map((t) => t.data.buffer as ArrayBuffer))];
}
