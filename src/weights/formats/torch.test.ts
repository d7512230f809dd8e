// PyTorch zip checkpoints: what the reader tells about unwrapping, keep/progress/abort, and every bad input
// (truncated zip, zip without data.pkl, legacy and TorchScript files, storages missing or too short, int64 overflow).
import { describe, expect, it } from 'vitest';
import { CheckpointError } from './errors.ts';
import { byteSource } from './source.ts';
import { readTorchCheckpoint } from './torch.ts';
import { buildZip, fixtureBlob, fixtureBytes } from './testutil.ts';
import { readZipDirectory, readZipEntry } from './zip.ts';

/** The entries of a fixture, for rebuilding it with changes. */
async function entriesOf(name: string): Promise<Array<[string, Uint8Array]>> {
  const src = byteSource(fixtureBytes(name));
  const dir = await readZipDirectory(src, name);
  return Promise.all(dir.map(async (e) => [e.name, (await readZipEntry(src, e, name)).slice()] as [string, Uint8Array]));
}

describe('unwrapping', () => {
  it('DINO: teacher preferred, backbone prefix stripped, head dropped, all said', async () => {
    const r = await readTorchCheckpoint(fixtureBlob('dino_full.pth'), 'dino.pth');
    expect(r.nested).toBe("['teacher']");
    expect([...r.tensors.keys()]).toEqual(['cls_token', 'pos_embed', 'blocks.0.attn.qkv.weight']);
    expect(r.notes.join('\n')).toMatch(/using 'teacher' \(as DINO's evaluation does\)/);
    expect(r.notes.join('\n')).toMatch(/dropped 2 head tensors \('head\.mlp\.0\.weight', 'head\.last_layer\.weight_g'\)/);
  });

  it("module. prefix, a whole pickled nn.Module", async () => {
    const m = await readTorchCheckpoint(fixtureBlob('module_prefix.pth'), 'm.pth');
    expect(m.notes).toEqual(["m.pth: removed the 'module.' prefix (DataParallel) from every key"]);
    const w = await readTorchCheckpoint(fixtureBlob('whole_module.pth'), 'w.pth');
    expect(w.notes[0]).toMatch(/a whole pickled module \(torch\.nn\.modules\.container\.Sequential\)/);
  });

  it('nested training checkpoint: extras listed, the optimizer never read', async () => {
    const calls: Array<[number, number]> = [];
    const r = await readTorchCheckpoint(fixtureBlob('nested.pth'), 'n.pth', { onProgress: (d, t) => calls.push([d, t]) });
    expect(r.nested).toBe("['model']");
    expect(r.extras).toEqual(['epoch', 'args', 'best_acc', 'optimizer']);
    expect(r.tensors.size).toBe(3);
    expect(calls.at(-1)![0]).toBe(calls.at(-1)![1]);
  });

  it('shared storage with an offset, transposed and strided views are materialised row-major', async () => {
    const r = await readTorchCheckpoint(fixtureBytes('plain.pth'), 'p.pth');
    const base = r.tensors.get('shared_base')!.data;
    expect([...r.tensors.get('shared_view')!.data]).toEqual([...base.subarray(5, 15)]);
    expect(r.tensors.get('transposed')!.shape).toEqual([4, 3]);
    expect(r.tensors.get('scalar')).toEqual({ dtype: 'float32', shape: [], data: Float32Array.from([2.75]) });
    expect(r.notes).toEqual(['p.pth: float64 tensors converted to float32', 'p.pth: int64 tensors narrowed to int32 (all values fit)']);
  });
});

describe('reading', () => {
  it('keep reads only the storages asked for; progress monotonic to the total', async () => {
    const all: Array<[number, number]> = [];
    await readTorchCheckpoint(fixtureBlob('plain.pth'), 'p.pth', { onProgress: (d, t) => all.push([d, t]) });
    for (let i = 1; i < all.length; i++) expect(all[i][0]).toBeGreaterThanOrEqual(all[i - 1][0]);
    expect(all.at(-1)![0]).toBe(all[0][1]);
    const some: Array<[number, number]> = [];
    const r = await readTorchCheckpoint(fixtureBlob('plain.pth'), 'p.pth', { keep: (k) => k === 'f32', onProgress: (d, t) => some.push([d, t]) });
    expect([...r.tensors.keys()]).toEqual(['f32']);
    const pkl = some[0][0];
    expect(some.at(-1)).toEqual([pkl + 48, pkl + 48]); // data.pkl, then only the 12 floats of 'f32'
  });

  it('zip64 end records are followed when the classic ones are saturated', async () => {
    // torch.save always writes zip64 end records; saturate the classic fields so the reader must use them.
    const bytes = fixtureBytes('plain.pth').slice();
    const v = new DataView(bytes.buffer);
    const eocd = bytes.length - 22;
    expect(v.getUint32(eocd, true)).toBe(0x06054b50);
    v.setUint16(eocd + 8, 0xffff, true);
    v.setUint16(eocd + 10, 0xffff, true);
    v.setUint32(eocd + 12, 0xffffffff, true);
    v.setUint32(eocd + 16, 0xffffffff, true);
    const r = await readTorchCheckpoint(bytes, 'z64.pth');
    expect(r.tensors.size).toBe(13);
  });

  it('a Blob is read by slices: the end records, the directory, then one entry at a time', async () => {
    const sizes: number[] = [];
    class Counting extends Blob {
      override slice(start?: number, end?: number, type?: string): Blob {
        sizes.push((end ?? this.size) - (start ?? 0));
        return super.slice(start, end, type);
      }
    }
    const bytes = fixtureBytes('dino_full.pth');
    await readTorchCheckpoint(new Counting([bytes as Uint8Array<ArrayBuffer>]), 'd.pth');
    expect(sizes[1]).toBe(bytes.length); // the tail search reads up to 64 KiB from the end: here the whole small file
    expect(Math.max(...sizes.slice(2))).toBeLessThan(2000);
  });

  it('abort rejects with an AbortError', async () => {
    const c = new AbortController();
    const err = await readTorchCheckpoint(fixtureBlob('plain.pth'), 'p.pth', { signal: c.signal, onProgress: () => c.abort() }).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'AbortError', message: 'p.pth: reading was aborted' });
  });
});

describe('bad input', () => {
  it('legacy (pre-1.6) pickle', async () => {
    await expect(readTorchCheckpoint(fixtureBlob('legacy.pth'), 'old.pth')).rejects.toThrow(
      'old.pth: legacy (pre-1.6) PyTorch pickle — re-save with torch.save(obj, path, _use_new_zipfile_serialization=True) or convert to safetensors',
    );
    await expect(readTorchCheckpoint(new Uint8Array([0x80, 0x04, 0x95]), 'p.pkl')).rejects.toThrow(/p\.pkl: a plain Python pickle, not a torch\.save zip/);
  });

  it('TorchScript archive', async () => {
    await expect(readTorchCheckpoint(fixtureBlob('torchscript.pt'), 'ts.pt')).rejects.toThrow(/ts\.pt: a TorchScript archive \(torch\.jit\.save\) — in Python, torch\.jit\.load/);
  });

  it('truncated zip', async () => {
    const bytes = fixtureBytes('plain.pth');
    await expect(readTorchCheckpoint(bytes.subarray(0, bytes.length - 30), 'cut.pth')).rejects.toThrow(
      'cut.pth: no zip end-of-central-directory record — the file is truncated or not a zip',
    );
    // The directory survives but points past the end of the file (a zip cut and re-closed by a broken copy).
    const zip = buildZip(await entriesOf('plain.pth'));
    const dirStart = new DataView(zip.buffer).getUint32(zip.length - 6, true);
    new DataView(zip.buffer).setUint32(dirStart + 42, zip.length + 100, true); // the first entry's local header offset
    await expect(readTorchCheckpoint(zip, 'cut.pth')).rejects.toThrow(
      `cut.pth: the local header of zip entry 'plain/data.pkl' lies at bytes ${(zip.length + 100).toLocaleString('en-US')}…`,
    );
  });

  it('zip without data.pkl lists its entries; .npz is named', async () => {
    await expect(readTorchCheckpoint(buildZip([['weights/readme.txt', 'hi'], ['weights/w.bin', 'xx']]), 'w.pth')).rejects.toThrow(
      "w.pth: a zip without data.pkl, not a PyTorch checkpoint; its entries: 'weights/readme.txt', 'weights/w.bin'",
    );
    await expect(readTorchCheckpoint(buildZip([['arr_0.npy', 'x']]), 'a.npz')).rejects.toThrow(/a NumPy \.npz archive/);
  });

  it('unknown pickle opcode in data.pkl', async () => {
    const zip = buildZip([['ckpt/data.pkl', new Uint8Array([0x80, 0x02, 0x7d, 0x69, 0x2e])]]);
    await expect(readTorchCheckpoint(zip, 'x.pth')).rejects.toThrow("x.pth: ckpt/data.pkl: unsupported pickle opcode 0x69 'i' (INST) at byte 3");
  });

  it('a storage missing or too short', async () => {
    const entries = await entriesOf('module_prefix.pth');
    const missing = entries.filter(([n]) => !n.endsWith('/data/0'));
    await expect(readTorchCheckpoint(buildZip(missing), 'm.pth')).rejects.toThrow(/m\.pth: tensor 'norm\.weight': its storage module_prefix\/data\/0 is missing from the archive/);
    const short = entries.map(([n, b]): [string, Uint8Array] => [n, n.endsWith('/data/0') ? b.subarray(0, 8) : b]);
    await expect(readTorchCheckpoint(buildZip(short), 'm.pth')).rejects.toThrow(
      "m.pth: tensor 'norm.weight' [8] (stride [1], offset 0) reaches element 8 but its storage module_prefix/data/0 holds 2 F32 elements — truncated?",
    );
  });

  it('int64 out of int32 range names the key; skipping it loads the rest', async () => {
    const err = await readTorchCheckpoint(fixtureBlob('int64_overflow.pth'), 'i.pth').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CheckpointError);
    expect((err as Error).message).toBe("i.pth: tensor 'big': element 1 is 1099511627776, outside the int32 range it is converted to");
    const r = await readTorchCheckpoint(fixtureBlob('int64_overflow.pth'), 'i.pth', { keep: (k) => k !== 'big' });
    expect(r.tensors.get('ok')).toEqual({ dtype: 'int32', shape: [2], data: Int32Array.from([1, 2]) });
  });

  it('a pickle with no tensors, or not a dict', async () => {
    // {'epoch': 3}
    const noTensors = new Uint8Array([0x80, 0x02, 0x7d, 0x58, 5, 0, 0, 0, ...new TextEncoder().encode('epoch'), 0x4b, 3, 0x73, 0x2e]);
    await expect(readTorchCheckpoint(buildZip([['a/data.pkl', noTensors]]), 'e.pth')).rejects.toThrow("e.pth: no tensors found; keys: 'epoch'");
    await expect(readTorchCheckpoint(buildZip([['a/data.pkl', new Uint8Array([0x80, 0x02, 0x4b, 1, 0x2e])]]), 'e.pth')).rejects.toThrow(
      'e.pth: expected a dict of tensors, found a number',
    );
  });
});

describe('crafted pickles: refused with a message, never a stack overflow or a hang', () => {
  const enc = new TextEncoder();
  /** BINUNICODE: 'X', 4-byte little-endian length, UTF-8. */
  const str = (s: string) => { const b = enc.encode(s); return [0x58, b.length & 0xff, (b.length >> 8) & 0xff, 0, 0, ...b]; };
  const GLOBAL_MODULE = [0x63, ...enc.encode('torch.nn.modules.module\nModule\n')];
  /** GLOBAL Module, EMPTY_TUPLE, NEWOBJ: a fresh module object on the stack. */
  const newModule = [...GLOBAL_MODULE, 0x29, 0x81];
  const pth = (pkl: number[]) => buildZip([['ckpt/data.pkl', new Uint8Array([0x80, 0x02, ...pkl, 0x2e])]]);

  it('a module that contains itself (a memo reference back to it)', async () => {
    // m = Module(); m.__dict__ = {'_modules': {'child': m}}
    const pkl = [...newModule, 0x71, 0, 0x7d, ...str('_modules'), 0x7d, ...str('child'), 0x68, 0, 0x73, 0x73, 0x62];
    await expect(readTorchCheckpoint(pth(pkl), 'cyclic.pth')).rejects.toThrow("cyclic.pth: the pickled module at 'child' contains itself — a corrupt or crafted checkpoint");
  });

  it('modules nested 20,000 deep', async () => {
    // Innermost first: cur = Module(); then 20,000 times: put cur in memo 1, pop, outer = Module(); outer.__dict__ = {'_modules': {'c': cur}}.
    const pkl: number[] = [...newModule];
    for (let i = 0; i < 20_000; i++) pkl.push(0x71, 1, 0x30, ...newModule, 0x7d, ...str('_modules'), 0x7d, ...str('c'), 0x68, 1, 0x73, 0x73, 0x62);
    await expect(readTorchCheckpoint(pth(pkl), 'deep.pth')).rejects.toThrow('deep.pth: pickled modules nest deeper than 1000 levels — a corrupt or crafted checkpoint');
  });

  it('a wrapper dict that holds itself', async () => {
    // d = {}; d['model'] = d
    const pkl = [0x7d, 0x71, 0, ...str('model'), 0x68, 0, 0x73];
    await expect(readTorchCheckpoint(pth(pkl), 'self.pth')).rejects.toThrow("self.pth: the wrapper dicts refer back to themselves at ['model'] — a corrupt or crafted checkpoint");
  });

  it('wrapper dicts nested 5,000 deep', async () => {
    // Innermost {} first, then 5,000 times: d = {'model': d}.
    const pkl: number[] = [0x7d];
    for (let i = 0; i < 5000; i++) pkl.push(0x71, 1, 0x30, 0x7d, ...str('model'), 0x68, 1, 0x73);
    await expect(readTorchCheckpoint(pth(pkl), 'nest.pth')).rejects.toThrow('nest.pth: the wrapper dicts nest deeper than 1000 levels — a corrupt or crafted checkpoint');
  });
});
