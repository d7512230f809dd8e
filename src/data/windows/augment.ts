// Seeded training augmentations of a window [T, S, S, C] and its centre label [S, S], applied consistently:
// random zoom with crop/pad back to S, flips, rot90, intensity shift (METHOD.md "Data"). Pure, typed arrays.
import { resizeBilinear, resizeNearest } from './resize.ts';
import type { Rng } from './rng.ts';

export interface AugmentOptions {
  /** Random isotropic in-plane zoom by z ~ U(min, max) with probability p, then random crop / centred pad back to S. */
  zoom: { p: number; min: number; max: number };
  /** Probability of a flip along each of depth (slice order), H and W, drawn independently. */
  flipP: number;
  /** Probability of an in-plane rotation by k·90°, k uniform in {1, 2, 3}. */
  rot90P: number;
  /** With probability p, add one offset ~ U(−max, max) to every image value (not clipped). */
  shift: { p: number; max: number };
}

/**
 * The reference pipeline's settings (TransSeg data.py, MONAI): zoom 0.5–2 always, flips p 0.1 per axis,
 * rot90 p 0.1 (max_k 3), intensity shift ±0.1 with p 0.5.
 */
export const DEFAULT_AUGMENT: Readonly<AugmentOptions> = {
  zoom: { p: 1, min: 0.5, max: 2 },
  flipP: 0.1,
  rot90P: 0.1,
  shift: { p: 0.5, max: 0.1 },
};

/**
 * For short runs (the app's quick try, a few thousand steps): a mild zoom (0.9–1.1, p 0.5) and the intensity shift,
 * no flips or quarter turns. NOTE: measured on the bundled Colin27 2 mm sample with the micro ViT (bench/RESULTS.md,
 * "Defaults that learn"): the reference's zoom 0.5–2 on every draw held validation Dice near 0.35 after 1,600 steps,
 * where this reached 0.6; strong augmentation pays off over long runs, not in the first minutes.
 */
export const LIGHT_AUGMENT: Readonly<AugmentOptions> = {
  zoom: { p: 0.5, min: 0.9, max: 1.1 },
  flipP: 0,
  rot90P: 0,
  shift: { p: 0.5, max: 0.1 },
};

/** How much a run augments: none, LIGHT_AUGMENT, or the reference's DEFAULT_AUGMENT. */
export type AugmentLevel = 'off' | 'light' | 'paper';

export const AUGMENT_LEVELS: readonly AugmentLevel[] = ['off', 'light', 'paper'];

/** The sampler's augmentation options for a level (false: none). */
export function augmentFor(level: AugmentLevel): AugmentOptions | false {
  return level === 'off' ? false : level === 'light' ? LIGHT_AUGMENT : DEFAULT_AUGMENT;
}

/** Every augmentation switched off: `augment` returns copies of its inputs. */
export const NO_AUGMENT: Readonly<AugmentOptions> = {
  zoom: { p: 0, min: 1, max: 1 },
  flipP: 0,
  rot90P: 0,
  shift: { p: 0, max: 0 },
};

/** One draw of the random parameters (pure data: log it, replay it with `applyAugment`). */
export interface AugmentDraw {
  /** Zoom factor (1 = none) and the zoomed side length Z = max(1, ⌊S·zoom⌋). */
  zoom: number;
  zoomed: number;
  /** Zoomed-image row/column shown at output (0, 0): ≥ 0 crops, < 0 pads (centred, zeros). */
  offsetY: number;
  offsetX: number;
  /** Flips along [depth, H, W]. */
  flips: [boolean, boolean, boolean];
  /** Quarter turns counter-clockwise in the (H, W) plane, as numpy's rot90(k, axes=(0, 1)). */
  rot90: 0 | 1 | 2 | 3;
  /** Added to every image value. */
  shift: number;
}

export interface WindowShape {
  T: number;
  /** In-plane side S (the window is square after resizing). */
  size: number;
  C: number;
}

/**
 * Draws the parameters. The same number of random values is consumed whatever the options, so switching one
 * augmentation off leaves the draws of the others unchanged.
 */
export function drawAugment(rng: Rng, opts: AugmentOptions, size: number): AugmentDraw {
  const zoomOn = rng.chance(opts.zoom.p);
  const z = rng.uniform(opts.zoom.min, opts.zoom.max);
  const zoom = zoomOn ? z : 1;
  const zoomed = Math.max(1, Math.floor(size * zoom));
  const cropY = rng.next(), cropX = rng.next();
  // NOTE: a larger image is cropped at a random place (RandSpatialCrop); a smaller one is padded
  // symmetrically, the odd pixel after (SpatialPad 'symmetric'), as in the reference pipeline.
  const offset = (u: number) => (zoomed >= size ? Math.floor(u * (zoomed - size + 1)) : -Math.floor((size - zoomed) / 2));
  const flips: [boolean, boolean, boolean] = [rng.chance(opts.flipP), rng.chance(opts.flipP), rng.chance(opts.flipP)];
  const rotOn = rng.chance(opts.rot90P);
  const k = 1 + rng.int(3);
  const shiftOn = rng.chance(opts.shift.p);
  const s = rng.uniform(-opts.shift.max, opts.shift.max);
  return {
    zoom, zoomed, offsetY: offset(cropY), offsetX: offset(cropX), flips,
    rot90: (rotOn ? k : 0) as AugmentDraw['rot90'], shift: shiftOn ? s : 0,
  };
}

/** Source pixel (in the zoomed-and-cropped S×S image) of every output pixel after flips (H, W) then rot90. */
function planeMap(size: number, flipH: boolean, flipW: boolean, k: number): Int32Array {
  const map = new Int32Array(size * size);
  const e = size - 1;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      // rot90 (numpy, counter-clockwise): out[y][x] = in[x][e−y]; twice: in[e−y][e−x]; thrice: in[e−x][y].
      let a = y, b = x;
      if (k === 1) { a = x; b = e - y; } else if (k === 2) { a = e - y; b = e - x; } else if (k === 3) { a = e - x; b = y; }
      if (flipH) a = e - a;
      if (flipW) b = e - b;
      map[y * size + x] = a * size + b;
    }
  }
  return map;
}

/**
 * Applies a draw to an image window x [T, S, S, C] and its label y [S, S]; returns new arrays. Order as the
 * reference: zoom, crop/pad, flips, rot90, shift (padding is zero in image and label and is not shifted).
 */
export function applyAugment(
  x: Float32Array, y: Int32Array, shape: WindowShape, d: AugmentDraw,
): { x: Float32Array; y: Int32Array } {
  const { T, size: S, C } = shape;
  if (x.length !== T * S * S * C) throw new Error(`applyAugment: image has ${x.length} values, expected T·S·S·C = ${T * S * S * C}.`);
  if (y.length !== S * S) throw new Error(`applyAugment: label has ${y.length} values, expected S·S = ${S * S}.`);
  // 1. zoom (bilinear image, nearest label) and crop/pad back to S×S
  let img = x, lab = y;
  let inside: Uint8Array | null = null; // 1 where the zoomed image covers the output, 0 in the padding
  if (d.zoomed !== S || d.offsetY !== 0 || d.offsetX !== 0) {
    const Z = d.zoomed;
    const zi = Z === S ? x : resizeBilinear(x, [T, S, S, C], Z, Z);
    const zl = Z === S ? y : resizeNearest(y, [1, S, S, 1], Z, Z);
    img = new Float32Array(x.length);
    lab = new Int32Array(y.length);
    inside = new Uint8Array(S * S);
    for (let r = 0; r < S; r++) {
      const sr = r + d.offsetY;
      if (sr < 0 || sr >= Z) continue;
      for (let c = 0; c < S; c++) {
        const sc = c + d.offsetX;
        if (sc < 0 || sc >= Z) continue;
        lab[r * S + c] = zl[sr * Z + sc];
        inside[r * S + c] = 1;
        for (let t = 0; t < T; t++) {
          const o = ((t * S + r) * S + c) * C, s = ((t * Z + sr) * Z + sc) * C;
          for (let k = 0; k < C; k++) img[o + k] = zi[s + k];
        }
      }
    }
  }
  // 2. flips along depth, H, W, then rot90 in the (H, W) plane, as one gather
  const map = planeMap(S, d.flips[1], d.flips[2], d.rot90);
  const outX = new Float32Array(x.length);
  const outY = new Int32Array(y.length);
  for (let q = 0; q < S * S; q++) outY[q] = lab[map[q]];
  for (let t = 0; t < T; t++) {
    const st = d.flips[0] ? T - 1 - t : t;
    for (let q = 0; q < S * S; q++) {
      const o = (t * S * S + q) * C, s = (st * S * S + map[q]) * C;
      // 3. intensity shift; NOTE: the padding stays 0, as the reference pads after shifting
      const shift = inside && !inside[map[q]] ? 0 : d.shift;
      for (let k = 0; k < C; k++) outX[o + k] = img[s + k] + shift;
    }
  }
  return { x: outX, y: outY };
}

/** Draws parameters from `rng` and applies them. */
export function augment(
  x: Float32Array, y: Int32Array, shape: WindowShape, rng: Rng, opts: AugmentOptions = DEFAULT_AUGMENT,
): { x: Float32Array; y: Int32Array; draw: AugmentDraw } {
  const draw = drawAugment(rng, opts, shape.size);
  return { ...applyAugment(x, y, shape, draw), draw };
}
