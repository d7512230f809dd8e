// inflate(): a pre-trained 2D encoder state → the 3D (or '2d' / 'scratch') encoder state of METHOD.md.
// Only the patch kernel, pos_embed and BEiT bias tables are computed; every other tensor is passed through as is.
import type { HostTensor } from '../../core/types.ts';
import { isHierarchical, type EncoderSpec, type InflateOptions, type InflationStrategy, type StateDict } from '../types.ts';
import { initState } from './init.ts';
import { inflatePatchKernel, inflateVideoKernel } from './patch.ts';
import { resamplePosEmbed, resampleRelPosBias, type Grid, type RelPosResizeMode } from './posembed.ts';

export { greyToChannels, inflateKernel, inflatePatchKernel, inflateVideoKernel, rgbToGrey, type InflateMode } from './patch.ts';
export { relativePositionIndex, relPosTableRows, resamplePosEmbed, resampleRelPosBias, type Grid, type RelPosResizeMode } from './posembed.ts';
export { initState, initTensor, makeRng, truncNormal, type Rng } from './init.ts';

/** InflateOptions plus the two resampling choices (both default to what the notes in posembed.ts explain). */
export interface InflateOptionsExt extends InflateOptions {
  /** PyTorch's antialias flag for the bicubic pos_embed resize (default true: timm's resample_abs_pos_embed default). */
  posEmbedAntialias?: boolean;
  /** How BEiT relative position bias tables are resized (default 'beit-geometric', timm's BEiT filter). */
  relPosResize?: RelPosResizeMode;
}

export interface InflateResult {
  state: StateDict;
  /** The spec of the returned state: inChans, grid, T, inflation updated; a shared BEiT table became per-layer. */
  spec: EncoderSpec;
  /** What was done, one line per change, for the UI and logs. */
  notes: string[];
}

const STRATEGIES: readonly InflationStrategy[] = ['center', 'average', '2d', 'scratch'];
const SHARED_REL = 'rel_pos_bias.relative_position_bias_table';
const REL_LEAF = '.attn.relative_position_bias_table';
const shapeStr = (t: HostTensor): string => `[${t.shape.join(', ')}]`;

function checkOptions(spec: EncoderSpec, opts: InflateOptions): { T: number; grid: Grid } {
  if (!STRATEGIES.includes(opts.strategy)) {
    throw new Error(`inflate: strategy must be one of ${STRATEGIES.join(', ')}, found '${String(opts.strategy)}'`);
  }
  if (!Number.isInteger(opts.inChans) || opts.inChans < 1) throw new Error(`inflate: inChans must be an integer ≥ 1, found ${opts.inChans}`);
  const T = opts.strategy === '2d' ? 1 : opts.T;
  if (!Number.isInteger(T) || T < 1) throw new Error(`inflate: T (slices per window) must be an integer ≥ 1, found ${opts.T}`);
  const P = spec.patchSize;
  if (!Number.isInteger(opts.imgSize) || opts.imgSize < P || opts.imgSize % P !== 0) {
    throw new Error(`inflate: imgSize must be a positive multiple of the patch size ${P}, found ${opts.imgSize}`);
  }
  if (spec.swin) {
    // Swin: the patch, then one 2×2 merging per later stage, so every stage's map stays whole.
    const unit = P * 2 ** (spec.swin.depths.length - 1);
    if (opts.imgSize % unit !== 0) {
      throw new Error(`inflate: imgSize must be a multiple of ${unit} for a ${spec.family} encoder (patch ${P}, then ${spec.swin.depths.length - 1} 2×2 patch mergings), found ${opts.imgSize}`);
    }
  }
  return { T, grid: [opts.imgSize / P, opts.imgSize / P] };
}

function checkKernel(w: HostTensor, spec: EncoderSpec): void {
  if (spec.family === 'videoswin') {
    const [d, c, pd, ph, pw] = w.shape;
    if (w.shape.length !== 5 || d !== spec.embedDim || (c !== 3 && c !== 1) || pd !== spec.swin?.patchDepth || ph !== spec.patchSize || pw !== spec.patchSize) {
      throw new Error(
        `inflate: a Video Swin patch_embed.proj.weight must be [${spec.embedDim}, 3, ${spec.swin?.patchDepth}, ${spec.patchSize}, ${spec.patchSize}] (or 1 channel), found ${shapeStr(w)}`,
      );
    }
    return;
  }
  const [d, c, ph, pw] = w.shape;
  if (w.shape.length !== 4 || d !== spec.embedDim || (c !== 3 && c !== 1) || ph !== spec.patchSize || pw !== spec.patchSize) {
    throw new Error(
      `inflate: patch_embed.proj.weight must be a 2D kernel [${spec.embedDim}, 3, ${spec.patchSize}, ${spec.patchSize}] (or 1 channel), found ${shapeStr(w)}`,
    );
  }
}

/** A fresh copy of a tensor's data (for the shared BEiT table, so that layers never alias one array). */
const copyOf = (t: HostTensor): HostTensor => ({ dtype: t.dtype, shape: [...t.shape], data: t.data.slice() });

/**
 * Inflates a pre-trained 2D encoder state (canonical timm names) for the chosen strategy.
 * Swin (hierarchical): the patch kernel exactly as ViT; no pos_embed; the window bias tables and everything else
 * passed through. Video Swin: see inflateVideoKernel — 'center' and 'average' give the same state (the pre-trained
 * temporal taps kept, T slices per window), '2d' sums the taps (T = 1, patch depth 1), 'scratch' re-initialises the
 * 'center' architecture. ViT families:
 * - patch_embed.proj.weight [D, 3, P, P] → [D, C_in, T, P, P] ('center' / 'average'; '2d' → T = 1), bias unchanged;
 * - pos_embed resampled to the grid imgSize / P (class/dist entries kept apart);
 * - BEiT: a shared table is first copied to every layer, then each layer's table is resized to the new grid;
 *   stored relative_position_index buffers are dropped (rebuild them with relativePositionIndex);
 * - classifier heads (head.*, head_dist.*) dropped; fc_norm and norm kept (they belong to the encoder);
 * - everything else passed through: the same HostTensor objects, no copies;
 * - 'scratch': the same keys and shapes, every tensor freshly initialised from opts.seed (default 0).
 * onProgress(done, total) is called once per input key.
 */
export function inflate(
  state: StateDict,
  spec: EncoderSpec,
  opts: InflateOptionsExt,
  onProgress?: (done: number, total: number) => void,
): InflateResult {
  const { T, grid } = checkOptions(spec, opts);
  const notes: string[] = [];
  const out: StateDict = new Map();
  const prefix = (spec.hasClsToken ? 1 : 0) + (spec.hasDistToken ? 1 : 0);
  const relMode = opts.relPosResize ?? 'beit-geometric';
  const kernelMode = opts.strategy === 'average' ? 'average' : 'center';
  const dropped: string[] = [];
  const total = state.size;
  let done = 0;

  const resizeRel = (key: string, table: HostTensor): HostTensor => {
    const t = resampleRelPosBias(table, spec.grid, grid, relMode);
    if (t !== table) notes.push(`${key}: ${shapeStr(table)} → ${shapeStr(t)} (${relMode})`);
    return t;
  };

  const kernel = state.get('patch_embed.proj.weight');
  if (!kernel) throw new Error("inflate: the state has no 'patch_embed.proj.weight'");
  checkKernel(kernel, spec);
  const hierarchical = isHierarchical(spec.family);
  if (hierarchical && !spec.swin) throw new Error(`inflate: a ${spec.family} spec needs its swin field (depths, heads, window, patchDepth)`);
  const video = spec.family === 'videoswin';

  for (const [key, t] of state) {
    if (key.startsWith('head.') || key.startsWith('head_dist.') || key.endsWith('.relative_position_index') || key.endsWith('.attn_mask')) {
      dropped.push(key);
    } else if (key === 'patch_embed.proj.weight' && video) {
      // Video Swin: the kernel is already 3D (temporal patch Pd); only the colour steps apply, '2d' sums the taps.
      const w = inflateVideoKernel(t, opts.inChans, opts.strategy === '2d');
      const how = opts.strategy === 'scratch' ? 'shape only' : opts.strategy === '2d' ? `2d: the ${spec.swin!.patchDepth} temporal taps summed, T = 1` : `temporal taps kept as pre-trained (${opts.strategy} = the same kernel for Video Swin), T = ${T} slices`;
      notes.push(`patch_embed.proj.weight: ${shapeStr(t)} → ${shapeStr(w)} (${how}, C_in = ${opts.inChans})`);
      out.set(key, w);
    } else if (key.endsWith(REL_LEAF) && hierarchical) {
      out.set(key, t); // Swin window tables: the window does not depend on the input size
    } else if (key === 'patch_embed.proj.weight') {
      const w = inflatePatchKernel(t, opts.inChans, T, kernelMode);
      const how = opts.strategy === 'scratch' ? 'shape only' : opts.strategy === '2d' ? '2d, T = 1' : `${kernelMode}, T = ${T}`;
      notes.push(`patch_embed.proj.weight: ${shapeStr(t)} → ${shapeStr(w)} (${how}, C_in = ${opts.inChans})`);
      out.set(key, w);
    } else if (key === 'pos_embed') {
      const pe = resamplePosEmbed(t, prefix, spec.grid, grid, { antialias: opts.posEmbedAntialias ?? true });
      if (pe !== t) notes.push(`pos_embed: grid ${spec.grid.join('×')} → ${grid.join('×')} (bicubic${opts.posEmbedAntialias ?? true ? ', antialias as timm' : ''})`);
      out.set(key, pe);
    } else if (key === SHARED_REL) {
      const resized = resizeRel(key, t);
      for (let i = 0; i < spec.depth; i++) {
        const layerKey = `blocks.${i}${REL_LEAF}`;
        if (state.has(layerKey)) throw new Error(`inflate: both the shared '${SHARED_REL}' and the per-layer '${layerKey}' are present`);
        out.set(layerKey, copyOf(resized));
      }
      notes.push(`${SHARED_REL}: shared table copied to blocks.0–${spec.depth - 1}`);
    } else if (key.endsWith(REL_LEAF)) {
      out.set(key, resizeRel(key, t));
    } else {
      out.set(key, t);
    }
    onProgress?.(++done, total);
  }
  if (dropped.length) notes.push(`dropped (not part of the encoder or rebuilt): ${dropped.join(', ')}`);

  let result = out;
  if (opts.strategy === 'scratch') {
    const seed = opts.seed ?? 0;
    result = initState(out, spec.family, seed);
    notes.push(`scratch: all ${result.size} tensors freshly initialised (timm rules, seed ${seed})`);
  }
  const newSpec: EncoderSpec = {
    ...spec,
    inChans: opts.inChans,
    grid,
    T,
    inflation: opts.strategy,
    relPosBias: state.has(SHARED_REL) ? 'per-layer' : spec.relPosBias,
  };
  // Video Swin '2d': the collapsed kernel has one temporal tap.
  if (spec.swin) newSpec.swin = { ...spec.swin, patchDepth: video && opts.strategy === '2d' ? 1 : spec.swin.patchDepth };
  return { state: result, spec: newSpec, notes };
}
