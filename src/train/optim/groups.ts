// Parameter groups by name: which parameters get weight decay, and layer-wise learning-rate decay multipliers
// (BEiT-style fine-tuning). Pure functions of parameter names (timm canonical keys, decoder under decode_head.*).

/** A segment of a dotted name that marks a normalisation layer: norm, norm1, fc_norm, LayerNorm, gn, ln, bn… */
const NORM_SEGMENT = /^(.*norm.*|gn\d*|ln\d*|bn\d*|ln_\w+)$/i;
/** Leaf segments without decay: biases (incl. BEiT q_bias/v_bias) and layer-scale gammas. */
const NO_DECAY_LEAF = /(^|_)bias$|^gamma(_\d+)?$/;
/** Whole parameters without decay: tokens, position embeddings, relative position bias tables. */
const NO_DECAY_PARAM = /^(pos_embed|absolute_pos_embed|cls_token|dist_token|mask_token|relative_position_bias_table)$/;

/**
 * The default weight-decay predicate: true for weights that decay (METHOD: "no decay on biases and norms").
 * No decay for biases, every parameter of a norm layer (`norm`, `blocks.i.norm1/norm2`, `fc_norm`, decoder
 * `*.norm`, `gn`/`ln`/`bn`), `pos_embed`, `cls_token`, `dist_token`, `mask_token`, every
 * `relative_position_bias_table`, and layer-scale gammas (`ls1.gamma`, `gamma_1` …).
 * NOTE: timm also skips every 1-D parameter; by name this covers all 1-D parameters of our models.
 */
export function defaultDecay(name: string): boolean {
  const segments = name.split('.');
  const leaf = segments[segments.length - 1];
  if (NO_DECAY_LEAF.test(leaf) || NO_DECAY_PARAM.test(leaf)) return false;
  // A norm layer's own parameters: any segment before the leaf names a norm (ls1 is layer scale, not a norm).
  if (segments.slice(0, -1).some((s) => NORM_SEGMENT.test(s))) return false;
  return true;
}

/** Names whose parameters sit below the first block (layer 0 in BEiT's numbering). */
const EMBEDDING = /^(patch_embed\.|pos_embed$|cls_token$|dist_token$|mask_token$|absolute_pos_embed$)/;
const BLOCK = /^blocks\.(\d+)\./;
/** Swin: layers.{s}.blocks.{b}.* (groups 1, 2) or layers.{s}.downsample.* (group 1 only). */
const SWIN_LAYER = /^layers\.(\d+)\.(?:blocks\.(\d+)\.|downsample\.)/;

/**
 * Layer-wise lr decay: multiplier decay^(depth + 1 − layer) with layer 0 for the embeddings (patch_embed,
 * pos_embed, cls/dist/mask tokens), i + 1 for `blocks.i.*`, and depth + 1 (multiplier 1) for everything else:
 * the final norm, a shared `rel_pos_bias` table (as in BEiT) and the decoder.
 * So blocks.i → decay^(depth − i), embeddings → decay^(depth + 1), decoder → 1.
 * Swin / Video Swin (`swinDepths` given, depth = their sum): `layers.{s}.blocks.{b}` is block Σ_{k<s} d_k + b, and the
 * patch merging `layers.{s}.downsample` (s ≥ 1) shares the layer of the last block of stage s − 1 (as the Swin
 * fine-tuning recipes number it, where the merging ends stage s − 1); stage_norms and the decoder get multiplier 1.
 */
export function layerDecayMultipliers(names: Iterable<string>, depth: number, decay: number, swinDepths?: readonly number[]): Map<string, number> {
  if (!(Number.isInteger(depth) && depth >= 1)) throw new Error(`layerDecayMultipliers: depth ${depth}, expected an integer ≥ 1.`);
  if (!(decay > 0 && decay <= 1)) throw new Error(`layerDecayMultipliers: decay ${decay}, expected 0 < decay ≤ 1.`);
  const out = new Map<string, number>();
  const stageStart = (swinDepths ?? []).map((_, st) => (swinDepths ?? []).slice(0, st).reduce((a, d) => a + d, 0));
  for (const name of names) {
    const sw = swinDepths ? SWIN_LAYER.exec(name) : null;
    const b = swinDepths ? null : BLOCK.exec(name);
    let layer = depth + 1;
    if (EMBEDDING.test(name)) layer = 0;
    else if (sw) {
      const st = Number(sw[1]);
      if (st >= stageStart.length) throw new Error(`layerDecayMultipliers: ${name} is in stage ${st}, but there are ${stageStart.length} stages.`);
      layer = sw[2] === undefined ? stageStart[st] : stageStart[st] + Number(sw[2]) + 1;
      if (layer > depth) throw new Error(`layerDecayMultipliers: ${name} is block ${layer - 1}, but depth is ${depth}.`);
    }
    else if (b) {
      const i = Number(b[1]);
      if (i >= depth) throw new Error(`layerDecayMultipliers: ${name} is block ${i}, but depth is ${depth}.`);
      layer = i + 1;
    }
    out.set(name, decay ** (depth + 1 - layer));
  }
  return out;
}
