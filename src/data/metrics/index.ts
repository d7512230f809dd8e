// Public API of the evaluation metrics: Dice (per case and pooled), HD95 in mm (medpy's definition, exact EDT),
// and the assembly of per-slice predictions into a canonical label volume with its per-case metrics.
export { dice, diceCounts, diceFromCounts, emptyCounts, DiceAccumulator, type DiceCounts, type DiceResult, type Labels } from './dice.ts';
export {
  hd95, hausdorff, surfaceVoxels, directedSurfaceDistances, percentile,
  type HausdorffDefinition, type HausdorffOptions, type MaskLike,
} from './hd95.ts';
export { edtSquared } from './edt.ts';
export {
  assembleVolume, assembleFromProbs, evaluateCase,
  type CaseMetrics, type EvaluateOptions, type LabelGrid,
} from './assemble.ts';
