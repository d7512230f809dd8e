#!/usr/bin/python3
# Writes the small checkpoint fixtures in test/fixtures/weights/formats/ and expected.json: what PyTorch (the
# independent reference) holds in each file. Run with Debian's python (torch 1.13, numpy):
#   /usr/bin/python3 scripts/make-format-fixtures.py            (re)write the fixtures
#   /usr/bin/python3 scripts/make-format-fixtures.py --verify F  read a .safetensors we wrote, by the spec, and print it
import argparse
import collections
import io
import json
import os
import pickle
import struct
import sys
import zipfile

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'weights', 'formats')
HOST = {torch.float32: 'float32', torch.float16: 'float32', torch.bfloat16: 'float32', torch.float64: 'float32',
        torch.int64: 'int32', torch.int32: 'int32', torch.uint8: 'uint8', torch.bool: 'uint8', torch.int8: 'int8',
        torch.int16: 'int16'}
ST_DTYPE = {torch.float32: 'F32', torch.float16: 'F16', torch.bfloat16: 'BF16', torch.float64: 'F64',
            torch.int64: 'I64', torch.int32: 'I32', torch.uint8: 'U8', torch.bool: 'BOOL'}
expected = {}


def summary(t):
    """Shape, host dtype, sum and the first values as float64, as the reader should return them."""
    v = t.detach().contiguous()
    v = v.float().double() if v.is_floating_point() else v.long()
    flat = v.flatten()
    return {'shape': list(t.shape), 'dtype': HOST[t.dtype], 'sum': float(flat.double().sum()) if flat.numel() else 0.0,
            'values': [float(x) for x in flat[:6].tolist()]}


def record(name, fmt, tensors, nested='top level', extras=(), metadata=None):
    expected[name] = {'format': fmt, 'nested': nested, 'extras': sorted(extras),
                      'tensors': {k: summary(t) for k, t in tensors.items()}, 'metadata': metadata or {}}


def save(name, obj, **kw):
    torch.save(obj, os.path.join(OUT, name), **kw)


def tensor_bytes(t):
    t = t.contiguous()
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().tobytes()
    return t.numpy().tobytes()


def write_safetensors(path, tensors, metadata=None, align=True):
    """By the spec: u64 LE header length, JSON header, data; offsets relative to the data section."""
    header, data, off = {}, [], 0
    if metadata:
        header['__metadata__'] = metadata
    for k, t in tensors.items():
        b = tensor_bytes(t)
        header[k] = {'dtype': ST_DTYPE[t.dtype], 'shape': list(t.shape), 'data_offsets': [off, off + len(b)]}
        data.append(b)
        off += len(b)
    h = json.dumps(header, separators=(',', ':')).encode()
    if align:
        h += b' ' * ((8 - len(h) % 8) % 8)
    elif len(h) % 8 == 0:
        h += b' '  # the misaligned variant: the data section starts off an 8-byte boundary
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)) + h + b''.join(data))


def verify(path):
    """Reads a safetensors file by the spec with numpy only, checks the coverage, prints each tensor."""
    raw = open(path, 'rb').read()
    n = struct.unpack('<Q', raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    meta = header.pop('__metadata__', {})
    np_dtype = {'F32': '<f4', 'F64': '<f8', 'I32': '<i4', 'I64': '<i8', 'U8': 'u1', 'I8': 'i1', 'I16': '<i2', 'U16': '<u2', 'U32': '<u4'}
    end = 0
    print('metadata', meta)
    for k, e in sorted(header.items(), key=lambda kv: kv[1]['data_offsets']):
        b, f = e['data_offsets']
        assert b == end, f'gap/overlap before {k}'
        end = f
        a = np.frombuffer(raw[8 + n + b:8 + n + f], dtype=np_dtype[e['dtype']]).reshape(e['shape'])
        print(k, e['dtype'], list(a.shape), float(a.astype(np.float64).sum()))
    assert 8 + n + end == len(raw), 'trailing bytes'
    print('ok', len(header), 'tensors')


def main():
    os.makedirs(OUT, exist_ok=True)
    g = torch.Generator().manual_seed(0)
    rnd = lambda *s: torch.randn(*s, generator=g)

    # 1. A plain OrderedDict: every dtype, a transposed and a strided view, storage shared with an offset, 0-d, empty.
    base = torch.arange(20, dtype=torch.float32) * 0.5 - 3
    wide = rnd(3, 6)
    plain = collections.OrderedDict([
        ('f32', rnd(3, 4)),
        ('f16', torch.tensor([[1.0, -2.5, 0.1], [65504.0, 6.1e-5, -0.0]], dtype=torch.float16)),
        ('bf16', torch.tensor([1.0, -3.140625, 1e-20, 3e38, 0.007], dtype=torch.bfloat16)),
        ('f64', torch.tensor([1.0 / 3, -2.0e-3], dtype=torch.float64)),
        ('i64', torch.tensor([0, -1, 2147483647, -2147483648], dtype=torch.int64)),
        ('u8', torch.tensor([0, 7, 255], dtype=torch.uint8)),
        ('bool', torch.tensor([True, False, True])),
        ('transposed', rnd(3, 4).t()),
        ('strided', wide[:, ::2]),
        ('shared_base', base),
        ('shared_view', base[5:15].view(2, 5)),
        ('scalar', torch.tensor(2.75)),
        ('empty', torch.zeros(0, 3)),
    ])
    assert not plain['transposed'].is_contiguous() and plain['shared_view'].storage_offset() == 5
    save('plain.pth', plain)
    record('plain.pth', 'torch-zip', plain)

    # 2. A training checkpoint: {'model': sd, 'epoch', 'args' (argparse.Namespace), numpy scalar, bytes}.
    sd = collections.OrderedDict([('cls_token', rnd(1, 1, 8)), ('blocks.0.norm1.weight', rnd(8)), ('head.weight', rnd(2, 8))])
    ns = argparse.Namespace(arch='vit_tiny', lr=5e-4, patch_size=16, tag=b'\x00\xff')
    save('nested.pth', {'model': sd, 'epoch': 3, 'args': ns, 'best_acc': np.float64(0.875), 'optimizer': {'state': {}, 'param_groups': [{'lr': 0.1}]}})
    record('nested.pth', 'torch-zip', sd, nested="['model']", extras=['epoch', 'args', 'best_acc', 'optimizer'])

    # 3. A DINO full checkpoint: student (DDP) and teacher, each a backbone plus a projection head.
    bb = collections.OrderedDict([('cls_token', rnd(1, 1, 8)), ('pos_embed', rnd(1, 5, 8)), ('blocks.0.attn.qkv.weight', rnd(24, 8))])
    head = collections.OrderedDict([('mlp.0.weight', rnd(4, 8)), ('last_layer.weight_g', rnd(1, 4))])
    teacher = collections.OrderedDict([(f'backbone.{k}', v) for k, v in bb.items()] + [(f'head.{k}', v) for k, v in head.items()])
    student = collections.OrderedDict([(f'module.{k}', v + 1) for k, v in teacher.items()])
    save('dino_full.pth', {'student': student, 'teacher': teacher, 'optimizer': {'state': {0: {'exp_avg': rnd(4)}}},
                           'epoch': 100, 'args': argparse.Namespace(arch='vit_small'), 'dino_loss': {'center': rnd(1, 4)}})
    record('dino_full.pth', 'torch-zip', bb, nested="['teacher']", extras=['student', 'optimizer', 'epoch', 'args', 'dino_loss'])

    # 4. DataParallel keys.
    mp = collections.OrderedDict([('norm.weight', rnd(8)), ('norm.bias', rnd(8))])
    save('module_prefix.pth', collections.OrderedDict((f'module.{k}', v) for k, v in mp.items()))
    record('module_prefix.pth', 'torch-zip', mp)

    # 5. A whole pickled module (torch.save(model)), with buffers (BatchNorm) and an int64 counter.
    torch.manual_seed(1)
    net = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))
    save('whole_module.pth', net)
    record('whole_module.pth', 'torch-zip', net.state_dict())

    # 6. Legacy (pre-1.6) serialisation (its bytes vary between runs: the storage keys are memory addresses),
    #    an int64 that does not fit int32, a TorchScript archive.
    save('legacy.pth', plain, _use_new_zipfile_serialization=False)
    save('int64_overflow.pth', {'ok': torch.tensor([1, 2]), 'big': torch.tensor([1, 2 ** 40])})
    torch.manual_seed(2)
    torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), os.path.join(OUT, 'torchscript.pt'))

    # 7. Big-endian: plain.pth rewritten with byteorder 'big', every storage byte-swapped and data.pkl deflated
    #    (python's zipfile does not align entries, so this also reads unaligned storages).
    be = collections.OrderedDict((k, plain[k]) for k in ['f32', 'f16', 'bf16', 'i64', 'transposed', 'shared_view', 'shared_base'])
    buf = io.BytesIO()
    torch.save(be, buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    prefix = src.namelist()[0].split('/')[0]
    pkl = src.read(f'{prefix}/data.pkl')
    itemsize_by_key = {}  # storage key → item size, from the persistent ids in data.pkl

    class Reader(pickle.Unpickler):
        def persistent_load(self, pid):
            itemsize_by_key[pid[2]] = {'FloatStorage': 4, 'HalfStorage': 2, 'BFloat16Storage': 2, 'LongStorage': 8}[pid[1].__name__]
            return None

        def find_class(self, module, name):
            if name == '_rebuild_tensor_v2':
                return lambda *a: None
            return super().find_class(module, name)
    Reader(io.BytesIO(pkl)).load()
    with zipfile.ZipFile(os.path.join(OUT, 'big_endian.pt'), 'w') as z:
        # torch 1.13 writes no byteorder record (torch ≥ 2.0 does); add one.
        z.writestr(zipfile.ZipInfo(f'{prefix}/byteorder', date_time=(2024, 1, 1, 0, 0, 0)), b'big')
        for info in src.infolist():
            data = src.read(info)
            key = info.filename.split('/')[-1]
            if key == 'byteorder':
                continue
            if '/data/' in info.filename:
                s = itemsize_by_key[key]
                data = np.frombuffer(data, dtype=f'<u{s}').astype(f'>u{s}').tobytes()
            fixed = zipfile.ZipInfo(info.filename, date_time=(2024, 1, 1, 0, 0, 0))  # deterministic bytes
            z.writestr(fixed, data, compress_type=zipfile.ZIP_DEFLATED if key == 'data.pkl' else zipfile.ZIP_STORED)
    record('big_endian.pt', 'torch-zip', be)

    # 8. safetensors written by hand: F32/F16/BF16/I64 with metadata; a misaligned variant; two shards with an index.
    st = collections.OrderedDict([('blocks.0.attn.qkv.weight', rnd(6, 2)), ('pos_embed', rnd(1, 3, 2).half()),
                                  ('cls_token', rnd(1, 1, 2).bfloat16()), ('steps', torch.tensor([3, -4, 5])),
                                  ('f64', torch.tensor([0.1, 0.2], dtype=torch.float64))])
    meta = {'format': 'pt', 'source': 'make-format-fixtures.py'}
    write_safetensors(os.path.join(OUT, 'model.safetensors'), st, meta)
    record('model.safetensors', 'safetensors', st, metadata=meta)
    write_safetensors(os.path.join(OUT, 'misaligned.safetensors'), st, meta, align=False)
    record('misaligned.safetensors', 'safetensors', st, metadata=meta)
    n = struct.unpack('<Q', open(os.path.join(OUT, 'misaligned.safetensors'), 'rb').read(8))[0]
    assert n % 8 != 0

    shard1 = collections.OrderedDict([('a.weight', rnd(2, 3)), ('a.bias', rnd(2))])
    shard2 = collections.OrderedDict([('b.weight', rnd(3, 2).half())])
    os.makedirs(os.path.join(OUT, 'sharded'), exist_ok=True)
    files = ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']
    write_safetensors(os.path.join(OUT, 'sharded', files[0]), shard1, {'format': 'pt'})
    write_safetensors(os.path.join(OUT, 'sharded', files[1]), shard2, {'format': 'pt'})
    wm = {k: files[0] for k in shard1} | {k: files[1] for k in shard2}
    with open(os.path.join(OUT, 'sharded', 'model.safetensors.index.json'), 'w') as f:
        size = sum(len(tensor_bytes(t)) for t in (shard1 | shard2).values())
        json.dump({'metadata': {'total_size': size}, 'weight_map': wm}, f, indent=2)
    record('sharded/model.safetensors.index.json', 'safetensors', shard1 | shard2, metadata={'format': 'pt', 'total_size': str(size)})

    # 9. Half and bfloat16 edge bit patterns: what torch makes of each, as float32 bit patterns (NaN, ±0, inf exact).
    f16_bits = [0x0000, 0x8000, 0x0001, 0x03ff, 0x0400, 0x3c00, 0xc000, 0x3555, 0x7bff, 0x7c00, 0xfc00, 0x7e00, 0x8001]
    bf16_bits = [0x0000, 0x8000, 0x0001, 0x007f, 0x0080, 0x3f80, 0xc049, 0x7f7f, 0x7f80, 0xff80, 0x7fc0, 0x8001]
    as16 = lambda bits: torch.tensor(np.array(bits, dtype=np.uint16).view(np.int16).astype(np.int64), dtype=torch.int16)
    f16 = as16(f16_bits).view(torch.float16)
    bf16 = as16(bf16_bits).view(torch.bfloat16)
    write_safetensors(os.path.join(OUT, 'edge16.safetensors'), collections.OrderedDict([('f16', f16), ('bf16', bf16)]))
    expected['edge16.safetensors'] = {
        'f16': {'bits': f16_bits, 'float32_bits': [x & 0xffffffff for x in f16.float().view(torch.int32).tolist()]},
        'bf16': {'bits': bf16_bits, 'float32_bits': [x & 0xffffffff for x in bf16.float().view(torch.int32).tolist()]},
    }

    with open(os.path.join(OUT, 'expected.json'), 'w') as f:
        json.dump({'generator': f'scripts/make-format-fixtures.py, torch {torch.__version__}', 'files': expected}, f, indent=1)
    total = sum(os.path.getsize(os.path.join(d, x)) for d, _, fs in os.walk(OUT) for x in fs)
    print(f'{len(expected)} entries, {total} bytes in {OUT}')


if __name__ == '__main__':
    if len(sys.argv) == 3 and sys.argv[1] == '--verify':
        verify(sys.argv[2])
    else:
        main()
