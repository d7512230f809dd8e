// safetensors: F16/BF16 edge values, writer → reader round trips, every malformed header the reader must refuse,
// sharded indexes, progress, abort, and reading a Blob by slices.
import { describe, expect, it } from 'vitest';
import type { HostTensor } from '../../core/types.ts';
import { bfloat16ToFloat, halfToFloat } from './dtypes.ts';
import { CheckpointError } from './errors.ts';
import { parseSafetensorsHeader, readSafetensors, readShardedSafetensors, writeSafetensors } from './safetensors.ts';
import { buildSafetensors, fixtureBlob, fixtureBytes, FIXTURES, float32Bits } from './testutil.ts';
import { readFileSync } from 'node:fs';

const f32 = (shape: number[], values: number[]): HostTensor => ({ dtype: 'float32', shape, data: Float32Array.from(values) });
const u16Bytes = (bits: number[]) => new Uint8Array(Uint16Array.from(bits).buffer);

describe('half and bfloat16', () => {
  it('half: subnormals, normals, ±0, ±inf, NaN (hand-computed)', () => {
    expect(halfToFloat(0x0001)).toBe(2 ** -24); // 5.960464477539063e-8, smallest subnormal
    expect(halfToFloat(0x03ff)).toBe(1023 * 2 ** -24); // 6.097555160522461e-5, largest subnormal
    expect(halfToFloat(0x0400)).toBe(2 ** -14); // smallest normal
    expect(halfToFloat(0x3c00)).toBe(1);
    expect(halfToFloat(0xc000)).toBe(-2);
    expect(halfToFloat(0x3555)).toBe(0.333251953125);
    expect(halfToFloat(0x7bff)).toBe(65504);
    expect(halfToFloat(0x7c00)).toBe(Infinity);
    expect(halfToFloat(0xfc00)).toBe(-Infinity);
    expect(halfToFloat(0x7e00)).toBeNaN();
    expect(Object.is(halfToFloat(0x8000), -0)).toBe(true);
    expect(halfToFloat(0x8001)).toBe(-(2 ** -24));
  });

  it('bfloat16: the top half of a float32 (hand-computed)', () => {
    expect(bfloat16ToFloat(0x0001)).toBe(2 ** -133); // 9.183549615799121e-41, subnormal
    expect(bfloat16ToFloat(0x3f80)).toBe(1);
    expect(bfloat16ToFloat(0xc049)).toBe(-3.140625);
    expect(bfloat16ToFloat(0x7f7f)).toBe(3.3895313892515355e38);
    expect(bfloat16ToFloat(0x7f80)).toBe(Infinity);
    expect(bfloat16ToFloat(0xff80)).toBe(-Infinity);
    expect(bfloat16ToFloat(0x7fc0)).toBeNaN();
    expect(Object.is(bfloat16ToFloat(0x8000), -0)).toBe(true);
  });

  it('edge16.safetensors matches what torch makes of every bit pattern', async () => {
    const want = JSON.parse(readFileSync(FIXTURES + 'expected.json', 'utf8')).files['edge16.safetensors'];
    const { tensors } = await readSafetensors(fixtureBytes('edge16.safetensors'), 'edge16.safetensors');
    for (const key of ['f16', 'bf16']) {
      const got = tensors.get(key)!.data as Float32Array;
      const bits = float32Bits(got);
      (want[key].float32_bits as number[]).forEach((b, i) => {
        if ((b & 0x7f800000) === 0x7f800000 && (b & 0x7fffff) !== 0) expect(got[i], `${key}[${i}]`).toBeNaN();
        else expect(bits[i], `${key}[${i}]`).toBe(b);
      });
    }
  });

  it('decoding an odd-offset F16 tensor (misaligned view) gives the same values', async () => {
    const header = `${JSON.stringify({ h: { dtype: 'F16', shape: [3], data_offsets: [0, 6] } })} `;
    const file = buildSafetensors(header, u16Bytes([0x3c00, 0x0001, 0xfc00]));
    expect(file.length % 2).toBe(1); // 8 + 55-byte header: the data starts at an odd offset
    const { tensors } = await readSafetensors(file, 'h.safetensors');
    expect([...tensors.get('h')!.data]).toEqual([1, 2 ** -24, -Infinity]);
  });
});

describe('writeSafetensors → readSafetensors', () => {
  const tensors: Array<[string, HostTensor]> = [
    ['patch_embed.proj.weight', f32([2, 3, 1, 1], [0.5, -1, 2, 3.25, -0, 1e-30])],
    ['10', f32([1], [7])], // integer-like names keep their place (JSON objects would move them first)
    ['2', f32([], [3])],
    ['ids', { dtype: 'int32', shape: [3], data: Int32Array.from([-5, 0, 2 ** 31 - 1]) }],
    ['mask', { dtype: 'uint8', shape: [2, 2], data: Uint8Array.from([0, 1, 1, 255]) }],
    ['i8', { dtype: 'int8', shape: [2], data: Int8Array.from([-128, 127]) }],
    ['i16', { dtype: 'int16', shape: [1], data: Int16Array.from([-300]) }],
    ['u16', { dtype: 'uint16', shape: [1], data: Uint16Array.from([65535]) }],
    ['u32', { dtype: 'uint32', shape: [1], data: Uint32Array.from([4e9]) }],
    ['empty', f32([0, 4], [])],
  ];
  const meta = { format: 'inflateseg-encoder/1', spec: JSON.stringify({ embedDim: 192 }), note: 'ünïcödé' };

  it('is identical, in order, with the metadata, and 8-byte aligned', async () => {
    const bytes = writeSafetensors(tensors, meta);
    const header = parseSafetensorsHeader(bytes, 'rt.safetensors');
    expect(header.dataStart % 8).toBe(0);
    const r = await readSafetensors(new Blob([bytes as Uint8Array<ArrayBuffer>]), 'rt.safetensors');
    expect(r.metadata).toEqual(meta);
    expect([...r.tensors.keys()]).toEqual(tensors.map(([k]) => k));
    for (const [k, t] of tensors) expect(r.tensors.get(k), k).toEqual(t);
    expect(Object.is(r.tensors.get('patch_embed.proj.weight')!.data[4], -0)).toBe(true);
  });

  it('accepts a StateDict, writes no __metadata__ when there is none, and float64 reads back as float32', async () => {
    const bytes = writeSafetensors(new Map([['d', { dtype: 'float64', shape: [2], data: Float64Array.from([0.1, -2]) } as HostTensor]]));
    expect(new TextDecoder().decode(bytes.subarray(8, 40))).not.toContain('__metadata__');
    const r = await readSafetensors(bytes, 'd.safetensors');
    expect(r.tensors.get('d')).toEqual({ dtype: 'float32', shape: [2], data: Float32Array.from([0.1, -2]) });
    expect(r.notes).toEqual(['d.safetensors: float64 tensors converted to float32']);
  });

  it('aligned float32 tensors of a Uint8Array are views, not copies', async () => {
    const bytes = writeSafetensors(tensors);
    const r = await readSafetensors(bytes, 'v.safetensors');
    expect(r.tensors.get('patch_embed.proj.weight')!.data.buffer).toBe(bytes.buffer);
    const mis = fixtureBytes('misaligned.safetensors');
    const m = await readSafetensors(mis, 'misaligned.safetensors');
    expect(m.tensors.get('blocks.0.attn.qkv.weight')!.data.buffer).not.toBe(mis.buffer); // copied to align
  });

  it('refuses what it cannot write faithfully', () => {
    expect(() => writeSafetensors([['a', f32([2], [1])]])).toThrow("model.safetensors: tensor 'a': shape [2] holds 2 elements but the data has 1");
    expect(() => writeSafetensors([['a', f32([1], [1])], ['a', f32([1], [1])]])).toThrow(/'a': given more than once/);
    expect(() => writeSafetensors([['a', { dtype: 'int32', shape: [1], data: Float32Array.from([1]) }]])).toThrow(/dtype says int32 but the data is a Float32Array/);
    expect(() => writeSafetensors([['__metadata__', f32([1], [1])]])).toThrow(/not a valid tensor name/);
    expect(() => writeSafetensors([], { epoch: 3 } as unknown as Record<string, string>, 'x.safetensors')).toThrow(
      "x.safetensors: metadata 'epoch' is 3; safetensors metadata values must be strings",
    );
  });
});

describe('malformed safetensors', () => {
  const F32x2 = { dtype: 'F32', shape: [2], data_offsets: [0, 8] };
  const bad = (bytes: Uint8Array) => readSafetensors(bytes, 'vit.safetensors');
  const good = fixtureBytes('model.safetensors');

  it('header cut', async () => {
    await expect(bad(good.subarray(0, 40))).rejects.toThrow(/^vit\.safetensors: header claims \d+ bytes but only 32 follow the length — truncated\?$/);
    await expect(bad(good.subarray(0, 5))).rejects.toThrow('vit.safetensors: file is 5 bytes; a safetensors file starts with an 8-byte header length — truncated?');
  });

  it('data cut', async () => {
    await expect(bad(good.subarray(0, good.length - 4))).rejects.toThrow(
      /^vit\.safetensors: tensor 'f64' claims bytes 88…104 but the data section holds 100 bytes — truncated\?$/,
    );
  });

  it('absurd header length', async () => {
    await expect(bad(buildSafetensors({}, undefined, 2n ** 40n))).rejects.toThrow(/header length 1,099,511,627,776 bytes is absurd \(limit 104,857,600\)/);
  });

  it('bad JSON, not an object, not UTF-8', async () => {
    await expect(bad(buildSafetensors('{"a": {"dtype": '))).rejects.toThrow(/vit\.safetensors: the header is not valid JSON/);
    await expect(bad(buildSafetensors('[1, 2]'))).rejects.toThrow(/the header must be a JSON object/);
    const latin = buildSafetensors('{"\u00e9":1}');
    latin.set([0x22, 0xe9, 0x22, 0x3a, 0x31, 0x7d, 0x20], 9);
    await expect(bad(latin)).rejects.toThrow(/the header is not valid UTF-8/);
  });

  it('unknown dtype', async () => {
    await expect(bad(buildSafetensors({ w: { dtype: 'F8_E4M3', shape: [2], data_offsets: [0, 2] } }, new Uint8Array(2)))).rejects.toThrow(
      /tensor 'w': unknown or unsupported dtype "F8_E4M3" \(supported: BOOL, U8,/,
    );
  });

  it('overlapping offsets, gaps and trailing bytes', async () => {
    await expect(bad(buildSafetensors({ a: F32x2, b: { ...F32x2, data_offsets: [4, 12] } }, new Uint8Array(12)))).rejects.toThrow(
      "vit.safetensors: tensors 'a' and 'b' overlap: 'b' starts at byte 4 but 'a' ends at 8",
    );
    await expect(bad(buildSafetensors({ a: F32x2, b: { ...F32x2, data_offsets: [12, 20] } }, new Uint8Array(20)))).rejects.toThrow(
      "vit.safetensors: gap: bytes 8…12 of the data section belong to no tensor (before 'b')",
    );
    await expect(bad(buildSafetensors({ a: F32x2 }, new Uint8Array(10)))).rejects.toThrow(/holds 10 bytes but the tensors cover only 8 — extra bytes at the end/);
  });

  it('shape / bytes mismatch and bad shapes', async () => {
    await expect(bad(buildSafetensors({ a: { ...F32x2, shape: [3] } }, new Uint8Array(8)))).rejects.toThrow(
      "vit.safetensors: tensor 'a': shape [3] of F32 needs 12 bytes but data_offsets [0, 8] span 8",
    );
    await expect(bad(buildSafetensors({ a: { ...F32x2, shape: [-2] } }, new Uint8Array(8)))).rejects.toThrow(/shape \[-2\] is not a list of non-negative integers/);
    await expect(bad(buildSafetensors({ a: { ...F32x2, data_offsets: [8, 0] } }, new Uint8Array(8)))).rejects.toThrow(/data_offsets \[8,0\] is not \[begin, end\]/);
    await expect(bad(buildSafetensors({ a: 5 }))).rejects.toThrow(/tensor 'a': expected an object/);
  });

  it('duplicate keys and non-string metadata', async () => {
    const dup = '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}';
    await expect(bad(buildSafetensors(dup, new Uint8Array(8)))).rejects.toThrow("vit.safetensors: the header lists 'a' more than once");
    await expect(bad(buildSafetensors({ __metadata__: { epoch: 3 } }))).rejects.toThrow("vit.safetensors: __metadata__ 'epoch' is 3; metadata values must be strings");
  });

  it('every error is a CheckpointError carrying the file', async () => {
    const err = await bad(good.subarray(0, 40)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CheckpointError);
    expect((err as CheckpointError).file).toBe('vit.safetensors');
  });
});

describe('reading', () => {
  it('progress is monotonic and ends at the total; keep skips tensors', async () => {
    const calls: Array<[number, number]> = [];
    const r = await readSafetensors(fixtureBlob('model.safetensors'), 'm', { onProgress: (d, t) => calls.push([d, t]) });
    expect(r.tensors.size).toBe(5);
    const total = calls[0][1];
    expect(total).toBe(fixtureBytes('model.safetensors').length);
    for (let i = 1; i < calls.length; i++) expect(calls[i][0]).toBeGreaterThanOrEqual(calls[i - 1][0]);
    expect(calls.at(-1)).toEqual([total, total]);
    expect(calls.every(([, t]) => t === total)).toBe(true);

    const some: Array<[number, number]> = [];
    const k = await readSafetensors(fixtureBlob('model.safetensors'), 'm', { keep: (key) => key !== 'f64', onProgress: (d, t) => some.push([d, t]) });
    expect([...k.tensors.keys()]).not.toContain('f64');
    expect(some.at(-1)).toEqual([total - 16, total - 16]);
  });

  it('abort rejects with an AbortError, before or during the read', async () => {
    const before = new AbortController();
    before.abort();
    await expect(readSafetensors(fixtureBlob('model.safetensors'), 'm.safetensors', { signal: before.signal })).rejects.toMatchObject({ name: 'AbortError' });
    const during = new AbortController();
    let n = 0;
    const err = await readSafetensors(fixtureBlob('model.safetensors'), 'm.safetensors', {
      signal: during.signal,
      onProgress: () => ++n === 2 && during.abort(),
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'AbortError', message: 'm.safetensors: reading was aborted' });
    expect(n).toBe(2);
  });

  it('a Blob is read by slices no larger than the header or one tensor', async () => {
    const sizes: number[] = [];
    class Counting extends Blob {
      override slice(start?: number, end?: number, type?: string): Blob {
        sizes.push((end ?? this.size) - (start ?? 0));
        return super.slice(start, end, type);
      }
    }
    const big = writeSafetensors([['a', f32([1000], new Array(1000).fill(1))], ['b', f32([1000], new Array(1000).fill(2))]]);
    const r = await readSafetensors(new Counting([big as Uint8Array<ArrayBuffer>]), 'big.safetensors');
    expect(r.tensors.size).toBe(2);
    expect(Math.max(...sizes)).toBe(4000);
    expect(sizes.reduce((a, b) => a + b, 0)).toBeLessThan(big.length + 8 + 1);
  });
});

describe('sharded', () => {
  const shards = new Map(['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors'].map((f) => [f, fixtureBlob(`sharded/${f}`)]));
  const open = async (f: string) => {
    const b = shards.get(f);
    if (!b) throw new Error(`no file ${f}`);
    return b;
  };
  const index = JSON.parse(readFileSync(FIXTURES + 'sharded/model.safetensors.index.json', 'utf8'));

  it('progress across shards ends at the total', async () => {
    const calls: Array<[number, number]> = [];
    const r = await readShardedSafetensors(index, open, 'index.json', { onProgress: (d, t) => calls.push([d, t]) });
    expect([...r.tensors.keys()]).toEqual(['a.weight', 'a.bias', 'b.weight']);
    const total = [...shards.values()].reduce((s, b) => s + b.size, 0);
    expect(calls.at(-1)).toEqual([total, total]);
  });

  it('a key missing from its shard, an unexpected key, a missing shard, a bad index', async () => {
    const wm = index.weight_map as Record<string, string>;
    await expect(readShardedSafetensors({ weight_map: { ...wm, 'c.weight': 'model-00002-of-00002.safetensors' } }, open, 'index.json')).rejects.toThrow(
      "model-00002-of-00002.safetensors: index.json maps 'c.weight' to this shard but it does not hold them",
    );
    const { ['a.bias']: _gone, ...fewer } = wm;
    await expect(readShardedSafetensors({ weight_map: fewer }, open, 'index.json')).rejects.toThrow(
      "model-00001-of-00002.safetensors: holds 'a.bias' (not in the weight map) — unexpected by index.json",
    );
    await expect(readShardedSafetensors({ weight_map: { ...wm, 'a.bias': 'model-00002-of-00002.safetensors' } }, open, 'index.json')).rejects.toThrow(
      /holds 'a\.bias' \(mapped to 'model-00002-of-00002\.safetensors'\)|maps 'a\.bias' to this shard/,
    );
    await expect(readShardedSafetensors({ weight_map: { x: 'model-00003-of-00003.safetensors' } }, open, 'index.json')).rejects.toThrow(
      "index.json: could not open shard 'model-00003-of-00003.safetensors' named in the weight map: no file model-00003-of-00003.safetensors",
    );
    await expect(readShardedSafetensors({} as never, open, 'index.json')).rejects.toThrow('index.json: expected {"weight_map": {tensor name: shard file name}}');
  });
});
