// Property-based fuzzing of every reader of untrusted bytes (issue 15): real files from the repository, mutated by
// fast-check (bit flips, byte writes, extreme 32-bit words — most of them in the header —, truncation, insertion,
// duplicated ranges). Every outcome must be a value or one of our typed errors naming the file (FileError:
// NiftiError, CheckpointError, LookupError): never an untyped exception (TypeError, RangeError…), a hang, or memory
// beyond the stated bound. Seeded, so a failure repeats; fast-check prints the smallest failing input.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { FileError } from '../../src/core/errors.ts';
import { readNifti } from '../../src/nifti/index.ts';
import { gunzipHead } from '../../src/nifti/gzip.ts';
import { readCheckpoint } from '../../src/weights/formats/index.ts';
import { decodeModelCheckpoint, encodeModelCheckpoint } from '../../src/weights/checkpoint.ts';
import { parseLookupFile } from '../../src/data/lookup.ts';
import { makeConfig } from '../../src/model/config.ts';
import { microSpec } from '../../src/weights/micro.ts';
import { DEFAULT_TRAIN_CONFIG } from '../../src/workers/train.protocol.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const read = (p: string) => new Uint8Array(readFileSync(path.join(ROOT, p)));
const filesIn = (dir: string, re: RegExp) => readdirSync(path.join(ROOT, dir)).filter((n) => re.test(n)).map((n) => ({ name: n, bytes: read(`${dir}/${n}`) }));

// NOTE: FUZZ_SEED and FUZZ_SCALE explore further by hand (e.g. FUZZ_SEED=7 FUZZ_SCALE=10); CI runs seed 15 at scale 1.
const SEED = Number(process.env.FUZZ_SEED ?? 15);
const SCALE = Number(process.env.FUZZ_SCALE ?? 1);

/** The stated bound: no read of a file of n bytes holds more than 64 MiB + 1,100·n bytes of buffers (deflate's ~1032:1). */
const memoryBound = (n: number) => 64 * 2 ** 20 + 1100 * n;
/** A single read of a fixture-sized file must finish well within this (a hang shows as a timeout of the test). */
const SLOW_MS = 3000;

type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; value: number }
  | { kind: 'word'; at: number; value: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'repeat'; at: number; len: number };

/** Positions: half in the first 600 bytes (headers), half anywhere. */
const position = fc.oneof(fc.integer({ min: 0, max: 599 }), fc.nat());
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: position, bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('set' as const), at: position, value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('word' as const), at: position, value: fc.constantFrom(0, 1, 2, 8, 255, 348, 540, 0x7fff, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: position, bytes: fc.uint8Array({ minLength: 1, maxLength: 24 }) }),
  fc.record({ kind: fc.constant('repeat' as const), at: position, len: fc.integer({ min: 1, max: 64 }) }),
);
const mutations = fc.array(mutation, { minLength: 1, maxLength: 4 });

function mutate(base: Uint8Array, ms: Mutation[]): Uint8Array {
  let b = base.slice();
  for (const m of ms) {
    const at = b.length ? m.at % b.length : 0;
    switch (m.kind) {
      case 'flip': if (b.length) b[at] ^= 1 << m.bit; break;
      case 'set': if (b.length) b[at] = m.value; break;
      case 'word': for (let i = 0; i < 4 && at + i < b.length; i++) b[at + i] = (m.value >>> (8 * i)) & 0xff; break;
      case 'truncate': b = b.slice(0, at); break;
      case 'insert': b = new Uint8Array([...b.subarray(0, at), ...m.bytes, ...b.subarray(at)]); break;
      case 'repeat': b = new Uint8Array([...b.subarray(0, at + m.len), ...b.subarray(at, at + m.len), ...b.subarray(at + m.len)]); break;
    }
  }
  return b;
}

/** Runs one read: a value, or a FileError naming `name`; anything else (or too slow, or too much memory) fails. */
async function outcome(name: string, size: number, readIt: () => Promise<unknown>): Promise<'value' | 'error'> {
  const before = process.memoryUsage().arrayBuffers;
  const t0 = performance.now();
  let result: 'value' | 'error';
  try {
    await readIt();
    result = 'value';
  } catch (err) {
    if (!(err instanceof FileError)) throw new Error(`${name}: untyped ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`, { cause: err });
    expect(err.file).toBe(name);
    expect(err.message.startsWith(`${name}: `)).toBe(true);
    result = 'error';
  }
  const ms = performance.now() - t0;
  if (ms > SLOW_MS) throw new Error(`${name}: the read took ${ms.toFixed(0)} ms`);
  const grew = process.memoryUsage().arrayBuffers - before;
  if (grew > memoryBound(size)) throw new Error(`${name}: the read holds ${grew} bytes of buffers after it returned (bound ${memoryBound(size)})`);
  return result;
}

/** Fuzzes `readIt` over mutations of each seed file; returns how many reads gave values and errors. */
async function fuzz(seeds: Array<{ name: string; bytes: Uint8Array }>, numRuns: number, readIt: (bytes: Uint8Array, name: string) => Promise<unknown>) {
  const tally = { value: 0, error: 0 };
  for (const s of seeds) expect(await outcome(s.name, s.bytes.length, () => readIt(s.bytes, s.name))).toBe('value'); // the seeds themselves read
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 0, max: seeds.length - 1 }), mutations, async (i, ms) => {
      const bytes = mutate(seeds[i].bytes, ms);
      tally[await outcome(seeds[i].name, bytes.length, () => readIt(bytes, seeds[i].name))]++;
    }),
    { numRuns: Math.round(numRuns * SCALE), seed: SEED },
  );
  // Both outcomes occur: the mutations reach past the first check, and not every mutation is fatal.
  expect(tally.value).toBeGreaterThan(0);
  expect(tally.error).toBeGreaterThan(0);
  return tally;
}

describe('fuzzed readers: a value or a typed error naming the file, in bounded time and memory', () => {
  it('readNifti on 37 NIfTI fixtures (.nii and .nii.gz, NIfTI-1 and -2, both byte orders) and a bundled label map', async () => {
    const seeds = [...filesIn('test/fixtures/nifti', /\.nii(\.gz)?$/), { name: 'colin27_2mm_t1_seg.nii.gz', bytes: read('public/samples/colin27_2mm_t1_seg.nii.gz') }];
    const t = await fuzz(seeds, 3000, (b, name) => readNifti(b, name));
    console.log(`readNifti: ${t.value} values, ${t.error} errors`);
  }, 240_000);

  it('gunzipHead (the header peek before inflating) on gzip fixtures: bytes or a plain Error, never more than asked', async () => {
    const seeds = filesIn('test/fixtures/nifti', /\.gz$/);
    await fc.assert(fc.property(fc.integer({ min: 0, max: seeds.length - 1 }), mutations, fc.integer({ min: 1, max: 2048 }), (i, ms, n) => {
      const b = mutate(seeds[i].bytes, ms);
      try {
        expect(gunzipHead(b, n).length).toBeLessThanOrEqual(n);
      } catch (err) {
        // fflate's errors are plain Errors; readNifti turns them into a NiftiError (fuzzed above)
        expect(err instanceof Error && !(err instanceof TypeError) && !(err instanceof RangeError), String(err)).toBe(true);
      }
    }), { numRuns: Math.round(2000 * SCALE), seed: SEED });
  }, 120_000);

  it('readCheckpoint on safetensors, PyTorch zip and pickle fixtures', async () => {
    const seeds = [
      ...filesIn('test/fixtures/weights/formats', /\.(safetensors|pth|pt)$/).filter((f) => !/legacy|torchscript|int64_overflow/.test(f.name)),
      ...filesIn('test/fixtures/weights/layouts', /^(timm_vit|beit_original|dino_vitmicro4_checkpoint)\.(safetensors|pth)$/),
    ];
    const t = await fuzz(seeds, 2500, (b, name) => readCheckpoint(new Blob([b as Uint8Array<ArrayBuffer>]), name));
    console.log(`readCheckpoint: ${t.value} values, ${t.error} errors`);
  }, 240_000);

  it('decodeModelCheckpoint on a model checkpoint (metadata JSON, optimiser tensors)', async () => {
    const config = makeConfig({ encoder: microSpec({ embedDim: 8, depth: 1, numHeads: 2, patchSize: 4, grid: 2 }), numClasses: 2, T: 1, inChans: 1, imgSize: 8, decoderWidth: 4 });
    const weights = new Map([['cls_token', { dtype: 'float32' as const, shape: [1, 1, 8], data: new Float32Array(8).fill(0.5) }]]);
    const bytes = encodeModelCheckpoint({
      meta: {
        config, inflation: { strategy: 'center', T: 1, inChans: 1, imgSize: 8 }, source: 'fuzz', train: DEFAULT_TRAIN_CONFIG, step: 3, classNames: ['background', 'a'],
        intensity: {}, orientation: { space: 'RAS', axis: 2 }, history: { steps: [], validations: [] }, appVersion: 'test', created: '',
      },
      weights, optim: null,
    });
    const t = await fuzz([{ name: 'model.safetensors', bytes }], 1500, (b, name) => decodeModelCheckpoint(b.slice(), name));
    console.log(`decodeModelCheckpoint: ${t.value} values, ${t.error} errors`);
  }, 120_000);

  it('parseLookupFile on the bundled class lookups (AAL text, JSON), a FreeSurfer LUT, ITK-SNAP labels and a CSV', async () => {
    const fs = new TextEncoder().encode('#No. Label Name: R G B A\n0 Unknown 0 0 0 0\n2 Left-Cerebral-White-Matter 245 245 245 0\n17 Left-Hippocampus 220 216 20 0\n');
    const snap = new TextEncoder().encode('# ITK-SnAP Label Description File\n    0     0    0    0        0  0  0    "Clear Label"\n    1   255    0    0        1  1  1    "Liver"\n    2     0  255    0        1  1  1    "Spleen"\n');
    const csv = new TextEncoder().encode('index,name\n1,liver\n2,"spleen, accessory"\n3,kidney\n');
    const seeds = [
      ...['colin27_classes.txt', 'colin27_classes.json', 'itk_kmeans_classes.json'].map((n) => ({ name: n, bytes: read(`public/samples/${n}`) })),
      { name: 'FreeSurferColorLUT.txt', bytes: fs }, { name: 'labels.txt', bytes: snap }, { name: 'classes.csv', bytes: csv },
    ];
    const t = await fuzz(seeds, 3000, async (b, name) => parseLookupFile(b, name));
    console.log(`parseLookupFile: ${t.value} values, ${t.error} errors`);
  }, 120_000);
});
