"""The InflateSeg model checkpoint (models/CHECKPOINT_FORMAT.md): safetensors read and write with json + torch only
(no safetensors package), and the checkpoint record: weights, AdamW state (`optim.m/v/step.*`) and `__metadata__`."""
import json
import struct
from dataclasses import dataclass, field
from datetime import datetime, timezone

import torch

MODEL_FORMAT = 'inflateseg-model/1'
OPTIM = 'optim.'
# Metadata values that hold JSON (the others are plain strings).
JSON_KEYS = ('config', 'inflation', 'train', 'step', 'class_names', 'intensity', 'orientation', 'history')
DTYPES = {'F32': torch.float32, 'F64': torch.float64, 'F16': torch.float16, 'I64': torch.int64, 'I32': torch.int32,
          'U8': torch.uint8, 'I8': torch.int8, 'I16': torch.int16, 'BF16': torch.bfloat16, 'BOOL': torch.bool}


def read_safetensors(path):
    """(tensors, metadata) of a .safetensors file; tensors own their memory, in the file's order."""
    with open(path, 'rb') as f:
        blob = f.read()
    if len(blob) < 8:
        raise ValueError(f'{path}: {len(blob)} bytes, too short for a safetensors file')
    n = struct.unpack('<Q', blob[:8])[0]
    if 8 + n > len(blob):
        raise ValueError(f'{path}: header of {n} bytes runs past the end of the file ({len(blob)} bytes)')
    header = json.loads(blob[8:8 + n])
    meta = header.pop('__metadata__', None) or {}
    data = memoryview(blob)[8 + n:]
    tensors = {}
    for key, v in header.items():
        if v['dtype'] not in DTYPES:
            raise ValueError(f'{path}: {key} has dtype {v["dtype"]}, expected one of {", ".join(DTYPES)}')
        begin, end = v['data_offsets']
        if not 0 <= begin <= end <= len(data):
            raise ValueError(f'{path}: {key} data offsets {begin}…{end} lie outside the {len(data)} data bytes')
        t = torch.frombuffer(bytearray(data[begin:end]), dtype=DTYPES[v['dtype']]) if end > begin else torch.empty(0, dtype=DTYPES[v['dtype']])
        if t.numel() != _numel(v['shape']):
            raise ValueError(f'{path}: {key} holds {t.numel()} values, shape {v["shape"]} needs {_numel(v["shape"])}')
        tensors[key] = t.reshape(v['shape'])
    return tensors, meta


def _numel(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def write_safetensors(path, tensors, metadata):
    """Writes float32 tensors (name → tensor, order kept) with string metadata; offsets 8-byte aligned."""
    header, chunks, offset = {}, [], 0
    for key, t in tensors.items():
        t = t.detach().to('cpu', torch.float32).contiguous()
        raw = t.numpy().tobytes()
        header[key] = {'dtype': 'F32', 'shape': list(t.shape), 'data_offsets': [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    header['__metadata__'] = {k: str(v) for k, v in metadata.items()}
    head = json.dumps(header, separators=(',', ':')).encode()
    head += b' ' * (-len(head) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(head)))
        f.write(head)
        for c in chunks:
            f.write(c)


@dataclass
class Checkpoint:
    """A checkpoint as a plain record: weights, AdamW state and what `__metadata__` says (JSON values parsed)."""
    weights: dict                     # encoder (timm names) and decoder (`decode_head.*`) tensors
    meta: dict                        # config, inflation, source, train, step, class_names, intensity, orientation, history, …
    optim: dict = field(default_factory=dict)  # `optim.m.<name>`, `optim.v.<name>`, `optim.step.<name>` tensors
    optim_step: int = 0               # AdamW's step count (metadata `optim_step`)

    @property
    def config(self):
        return self.meta['config']

    @property
    def step(self):
        return self.meta['step']


def load_checkpoint(path):
    """Reads an InflateSeg model checkpoint; every problem names the file and the key."""
    tensors, md = read_safetensors(path)
    if md.get('format') != MODEL_FORMAT:
        raise ValueError(f"{path}: not an InflateSeg model checkpoint (metadata format is {md.get('format')!r}, expected {MODEL_FORMAT!r})")
    meta = dict(md)
    for k in JSON_KEYS:
        if k not in md:
            raise ValueError(f"{path}: checkpoint metadata lacks '{k}'")
        try:
            meta[k] = json.loads(md[k])
        except json.JSONDecodeError as e:
            raise ValueError(f"{path}: checkpoint metadata '{k}' is not valid JSON ({e})") from e
    weights, optim = {}, {}
    for name, t in tensors.items():
        if t.dtype != torch.float32:
            raise ValueError(f'{path}: tensor {name} is {t.dtype}, expected float32')
        (optim if name.startswith(OPTIM) else weights)[name] = t
    if optim and 'optim_step' not in md:
        raise ValueError(f"{path}: optimiser tensors without 'optim_step' in the metadata")
    optim_step = json.loads(md['optim_step']) if optim else 0
    meta.pop('optim_step', None)
    return Checkpoint(weights=weights, meta=meta, optim=optim, optim_step=optim_step)


def save_checkpoint(path, ckpt):
    """Writes a checkpoint the app and the CLI import: weights, then optimiser state; metadata as the app writes it."""
    if any(k.startswith(OPTIM) for k in ckpt.weights):
        raise ValueError(f"checkpoint: weight names may not start with '{OPTIM}'")
    md = {}
    for k, v in ckpt.meta.items():
        md[k] = json.dumps(_nan_to_none(v), separators=(',', ':')) if k in JSON_KEYS else v
    md['format'] = MODEL_FORMAT
    md.setdefault('app_version', 'inflateseg-torch')
    md['created'] = datetime.now(timezone.utc).isoformat(timespec='milliseconds').replace('+00:00', 'Z')
    if ckpt.optim:
        md['optim_step'] = json.dumps(int(ckpt.optim_step))
    write_safetensors(path, {**ckpt.weights, **ckpt.optim}, md)


def _nan_to_none(v):
    """JSON has no NaN: the app writes it as null (a Dice with no voxels of the class) and reads null back as NaN."""
    if isinstance(v, float) and v != v:
        return None
    if isinstance(v, dict):
        return {k: _nan_to_none(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_nan_to_none(x) for x in v]
    return v
