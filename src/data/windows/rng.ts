// Seeded pseudo-random numbers for sampling and augmentation: mulberry32 behind a small typed API.
// Pure and deterministic per seed; never Math.random.

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform in [low, high). */
  uniform(low: number, high: number): number;
  /** Uniform integer in 0 … n−1 (n ≥ 1). */
  int(n: number): number;
  /** True with probability p. */
  chance(p: number): boolean;
  /** A new, independent generator seeded from this one (for per-sample streams). */
  fork(): Rng;
}

/** splitmix32-style mixing of a 32-bit value: spreads nearby seeds (0, 1, 2 …) across the state space. */
export function mixSeed(x: number): number {
  let z = (x + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** A mulberry32 generator. Any finite number is accepted as a seed (its low 32 bits after mixing). */
export function makeRng(seed: number): Rng {
  if (!Number.isFinite(seed)) throw new Error(`makeRng: seed ${seed} is not a finite number.`);
  let state = mixSeed(Math.trunc(seed) | 0);
  const next = (): number => {
    state = (state + 0x6d2b79f5) | 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    uniform: (low, high) => low + (high - low) * next(),
    int: (n) => {
      if (!(Number.isInteger(n) && n >= 1)) throw new Error(`Rng.int: n = ${n}, expected an integer ≥ 1.`);
      return Math.floor(next() * n);
    },
    chance: (p) => next() < p,
    fork: () => makeRng((next() * 4294967296) | 0),
  };
}
