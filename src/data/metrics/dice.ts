// Per-class Dice on integer label maps: one-pass counts (|P∩G|, |P|, |G| per class), Dice from counts, and a
// pooled accumulator that sums counts over volumes or slices before dividing (as the reference pools them).

/** Label values: any integer array-like (typed arrays from the NIfTI reader or a model's argmax). */
export type Labels = ArrayLike<number>;

/** Per-class voxel counts; Float64Array so sums over many volumes stay exact (integers up to 2⁵³). */
export interface DiceCounts {
  /** |P ∩ G| per class: voxels where prediction and ground truth are both c. */
  intersection: Float64Array;
  /** |P| per class: voxels predicted c. */
  pred: Float64Array;
  /** |G| per class: voxels whose ground truth is c. */
  gt: Float64Array;
}

export interface DiceResult {
  /**
   * Dice per class c = 0 … numClasses−1: 2|P∩G| / (|P| + |G|). NaN means "absent": the class is in neither the
   * prediction nor the ground truth, so Dice is undefined (0/0) — reported as absent, never as 1 or 0.
   * A class predicted but not in the ground truth scores 0.
   */
  perClass: number[];
  /**
   * Mean of perClass over the foreground classes (c ≥ 1) present in the ground truth (|G| > 0); NaN when the
   * ground truth has no foreground. NOTE: classes predicted but absent from the ground truth score 0 in
   * perClass but are not in this mean (the usual per-volume convention; the pooled accumulator sees them
   * only when some other volume has them).
   */
  mean: number;
  /** Foreground classes counted in `mean` (present in the ground truth). */
  meanOver: number[];
}

function checkClasses(numClasses: number): void {
  if (!(Number.isInteger(numClasses) && numClasses >= 1 && numClasses <= 65536)) {
    throw new Error(`dice: numClasses = ${numClasses}, expected an integer in 1…65536.`);
  }
}

/** Zeroed counts for numClasses classes. */
export function emptyCounts(numClasses: number): DiceCounts {
  checkClasses(numClasses);
  return { intersection: new Float64Array(numClasses), pred: new Float64Array(numClasses), gt: new Float64Array(numClasses) };
}

function badLabel(which: string, at: number, value: number, numClasses: number): Error {
  return new Error(`dice: ${which}[${at}] = ${value}; expected an integer label in 0…${numClasses - 1}.`);
}

/**
 * Adds the counts of one prediction / ground-truth pair (same grid, same length) into `into` (or fresh counts)
 * in one pass. Labels must be integers in 0 … numClasses−1; anything else throws with its index and value.
 */
export function diceCounts(pred: Labels, gt: Labels, numClasses: number, into?: DiceCounts): DiceCounts {
  const counts = into ?? emptyCounts(numClasses);
  checkClasses(numClasses);
  if (counts.pred.length !== numClasses) throw new Error(`dice: counts hold ${counts.pred.length} classes, expected ${numClasses}.`);
  if (pred.length !== gt.length) throw new Error(`dice: prediction has ${pred.length} voxels, ground truth ${gt.length}; expected the same grid.`);
  // Histograms in 32-bit integers for the pass (one volume has < 2³² voxels), added to the float64 totals after.
  const inter = new Uint32Array(numClasses), np = new Uint32Array(numClasses), ng = new Uint32Array(numClasses);
  for (let i = 0; i < pred.length; i++) {
    const p = pred[i], g = gt[i];
    // NOTE: x >>> 0 === x holds exactly for integers in 0 … 2³²−1 (rejects negatives, fractions, NaN).
    if (p >>> 0 !== p || p >= numClasses) throw badLabel('prediction', i, p, numClasses);
    if (g >>> 0 !== g || g >= numClasses) throw badLabel('ground truth', i, g, numClasses);
    np[p]++;
    ng[g]++;
    if (p === g) inter[p]++;
  }
  for (let c = 0; c < numClasses; c++) {
    counts.intersection[c] += inter[c];
    counts.pred[c] += np[c];
    counts.gt[c] += ng[c];
  }
  return counts;
}

/** Dice per class and the foreground mean from counts (see DiceResult for the conventions). */
export function diceFromCounts(counts: DiceCounts): DiceResult {
  const k = counts.pred.length;
  const perClass: number[] = [];
  const meanOver: number[] = [];
  let sum = 0;
  for (let c = 0; c < k; c++) {
    const denom = counts.pred[c] + counts.gt[c];
    perClass.push(denom === 0 ? NaN : (2 * counts.intersection[c]) / denom);
    if (c >= 1 && counts.gt[c] > 0) {
      meanOver.push(c);
      sum += perClass[c];
    }
  }
  return { perClass, mean: meanOver.length ? sum / meanOver.length : NaN, meanOver };
}

/** Dice of one prediction against its ground truth (same grid). */
export function dice(pred: Labels, gt: Labels, numClasses: number): DiceResult {
  return diceFromCounts(diceCounts(pred, gt, numClasses));
}

/**
 * Pooled Dice: intersections and sizes are summed over every add() (volumes, or slices as the reference pools
 * its validation slices), and Dice is taken once from the sums. Not the mean of per-volume Dice.
 */
export class DiceAccumulator {
  readonly numClasses: number;
  private counts: DiceCounts;
  /** Number of add()/addCounts() calls since construction or reset(). */
  items = 0;

  constructor(numClasses: number) {
    this.numClasses = numClasses;
    this.counts = emptyCounts(numClasses);
  }

  /** Adds one prediction / ground-truth pair (any grid; the two must match each other). */
  add(pred: Labels, gt: Labels): this {
    diceCounts(pred, gt, this.numClasses, this.counts);
    this.items++;
    return this;
  }

  /** Adds counts computed elsewhere (e.g. evaluateCase's, or another worker's accumulator). */
  addCounts(counts: DiceCounts): this {
    if (counts.pred.length !== this.numClasses) throw new Error(`DiceAccumulator: counts hold ${counts.pred.length} classes, expected ${this.numClasses}.`);
    for (let c = 0; c < this.numClasses; c++) {
      this.counts.intersection[c] += counts.intersection[c];
      this.counts.pred[c] += counts.pred[c];
      this.counts.gt[c] += counts.gt[c];
    }
    this.items++;
    return this;
  }

  /** A copy of the pooled counts. */
  totals(): DiceCounts {
    const { intersection, pred, gt } = this.counts;
    return { intersection: intersection.slice(), pred: pred.slice(), gt: gt.slice() };
  }

  /** Pooled Dice per class and the mean over foreground classes present in the pooled ground truth. */
  result(): DiceResult {
    return diceFromCounts(this.counts);
  }

  reset(): void {
    this.counts = emptyCounts(this.numClasses);
    this.items = 0;
  }
}
