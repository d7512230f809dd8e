// The categorical colour map for label classes: 24 colours chosen to stay apart under common colour
// blindness, then a golden-angle hue walk in OKLCH.
// Index 0 (background) is drawn transparent by convention; classColor(0) is black only as a placeholder.

export type RGB = [number, number, number];

/** OKLCH (L 0–1, C, h in degrees) → 8-bit sRGB, or null when outside the sRGB gamut. */
export function oklchToSrgb(L: number, C: number, hDeg: number): RGB | null {
  const h = (hDeg * Math.PI) / 180;
  const a = C * Math.cos(h), b = C * Math.sin(h);
  // OKLab → LMS (cube roots) → linear sRGB, with the matrices that define OKLab (Ottosson 2020).
  const l = (L + 0.3963377774 * a + 0.2158037573 * b) ** 3;
  const m = (L - 0.1055613458 * a - 0.0638541728 * b) ** 3;
  const s = (L - 0.0894841775 * a - 1.291485548 * b) ** 3;
  const lin = [
    4.0767416621 * l - 3.3077115913 * m + 0.2309699292 * s,
    -1.2684380046 * l + 2.6097574011 * m - 0.3413193965 * s,
    -0.0041960863 * l - 0.7034186147 * m + 1.707614701 * s,
  ];
  if (lin.some((v) => v < -1e-6 || v > 1 + 1e-6)) return null;
  return lin.map((v) => {
    const c = Math.min(1, Math.max(0, v));
    const g = c <= 0.0031308 ? 12.92 * c : 1.055 * c ** (1 / 2.4) - 0.055;
    return Math.round(g * 255);
  }) as RGB;
}

// Linear-sRGB simulations of full deuteranopia and protanopia (Machado, Oliveira & Fernandes 2009, severity 1).
const DEUTAN = [0.367322, 0.860646, -0.227968, 0.280085, 0.672501, 0.047413, -0.01182, 0.04294, 0.968881];
const PROTAN = [0.152286, 1.052583, -0.204868, 0.114503, 0.786281, 0.099216, -0.003882, -0.048116, 1.051998];

const toLinear = (c: number) => { c /= 255; return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };

/** Linear sRGB → OKLab (Ottosson 2020). */
function oklab(r: number, g: number, b: number): [number, number, number] {
  const l = Math.cbrt(0.4122214708 * r + 0.5363325363 * g + 0.0514459929 * b);
  const m = Math.cbrt(0.2119034982 * r + 0.6806995451 * g + 0.1073969566 * b);
  const s = Math.cbrt(0.0883024619 * r + 0.2817188376 * g + 0.6299787005 * b);
  return [0.2104542553 * l + 0.793617785 * m - 0.0040720468 * s, 1.9779984951 * l - 2.428592205 * m + 0.4505937099 * s,
    0.0259040371 * l + 0.7827717662 * m - 0.808675766 * s];
}

/** OKLab coordinates of a colour as seen with normal vision, deuteranopia and protanopia (9 numbers). */
export function visionCoords(rgb: RGB): number[] {
  const [r, g, b] = rgb.map(toLinear);
  const out = [...oklab(r, g, b)];
  for (const M of [DEUTAN, PROTAN]) {
    const c = (i: number) => Math.min(1, Math.max(0, M[i] * r + M[i + 1] * g + M[i + 2] * b));
    out.push(...oklab(c(0), c(3), c(6)));
  }
  return out;
}

/** Smallest OKLab distance between two colours over normal, deuteranopic and protanopic vision. */
export function worstCaseDistance(p: number[], q: number[]): number {
  let worst = Infinity;
  for (let v = 0; v < 9; v += 3) worst = Math.min(worst, Math.hypot(p[v] - q[v], p[v + 1] - q[v + 1], p[v + 2] - q[v + 2]));
  return worst;
}

const CURATED = 24;
let curated: RGB[] | undefined;

/**
 * The first 24 class colours, chosen greedily: each is the candidate (OKLCH lightness 0.55–0.9, chroma
 * ≥ 0.09 so it stands out on a grey image) farthest, in the worst of normal / deuteranopic / protanopic
 * vision, from the colours already chosen. Deterministic; computed once on first use (a few ms).
 */
function curatedColors(): RGB[] {
  if (curated) return curated;
  const cands: { rgb: RGB; v: number[] }[] = [];
  for (const L of [0.55, 0.65, 0.75, 0.85, 0.92]) {
    for (let h = 0; h < 360; h += 10) {
      for (const C of [0.2, 0.16, 0.13, 0.1]) {
        const rgb = oklchToSrgb(L, C, h);
        if (rgb) { cands.push({ rgb, v: visionCoords(rgb) }); break; }
      }
    }
  }
  // Start from a strong orange-red (OKLCH 0.65, 0.2, 35°), then maximise the minimum distance.
  const first = oklchToSrgb(0.65, 0.2, 35)!;
  const chosen = [{ rgb: first, v: visionCoords(first) }];
  const nearest = cands.map((c) => worstCaseDistance(c.v, chosen[0].v));
  while (chosen.length < CURATED) {
    let best = 0;
    for (let i = 1; i < cands.length; i++) if (nearest[i] > nearest[best]) best = i;
    chosen.push(cands[best]);
    cands.forEach((c, i) => { nearest[i] = Math.min(nearest[i], worstCaseDistance(c.v, cands[best].v)); });
  }
  curated = chosen.map((c) => c.rgb);
  return curated;
}

const GOLDEN_ANGLE = 137.50776405003785;
const LIGHTNESS = [0.72, 0.56, 0.86];
const cache = new Map<number, RGB>();

/**
 * A distinct colour for class `index` (a non-negative integer), deterministic for every index. Classes
 * 1–24 use the curated set above; beyond that a golden-angle hue walk in OKLCH with lightness cycling.
 * Index 0 is background: renderers draw it transparent, and this returns [0, 0, 0] for it.
 */
export function classColor(index: number): RGB {
  if (!Number.isInteger(index) || index < 0) {
    throw new Error(`classColor: class index ${index} is not a non-negative integer.`);
  }
  if (index === 0) return [0, 0, 0];
  if (index <= CURATED) return [...curatedColors()[index - 1]];
  const hit = cache.get(index);
  if (hit) return [...hit];
  const step = index - 1;
  const hue = (40 + step * GOLDEN_ANGLE) % 360;
  const L = LIGHTNESS[step % LIGHTNESS.length];
  let rgb: RGB | null = null;
  // Largest chroma (up to 0.16) that stays inside sRGB at this lightness and hue.
  for (let C = 0.16; !rgb; C -= 0.005) rgb = oklchToSrgb(L, Math.max(C, 0), hue);
  if (cache.size < 4096) cache.set(index, rgb);
  return [...rgb];
}

/** 'background' for 0, 'class i' otherwise. */
export function defaultClassName(index: number): string {
  return index === 0 ? 'background' : `class ${index}`;
}
