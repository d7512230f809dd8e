"""Loads an InflateSeg model checkpoint in PyTorch with nothing but json + torch (no safetensors package needed),
builds the patch embedding as an nn.Conv3d from `patch_embed.proj.weight` [D, C_in, T, P, P], and compares its
tokens with the app's (scripts/checkpoint-patch-tokens.mts) on the same window.

Usage: npx tsx scripts/checkpoint-patch-tokens.mts model.safetensors /tmp/tokens.json
       /usr/bin/python3 scripts/check-checkpoint-torch.py model.safetensors /tmp/tokens.json
"""
import json
import math
import struct
import sys

import torch


def load_safetensors(path):
    """(tensors, metadata) of a float32 .safetensors file."""
    with open(path, 'rb') as f:
        n = struct.unpack('<Q', f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop('__metadata__', {})
    tensors = {}
    for key, v in header.items():
        begin, end = v['data_offsets']
        if v['dtype'] != 'F32':
            raise ValueError(f'{path}: {key} is {v["dtype"]}, expected F32')
        tensors[key] = torch.frombuffer(bytearray(data[begin:end]), dtype=torch.float32).reshape(v['shape'])
    return tensors, meta


def main(path, tokens_json):
    sd, meta = load_safetensors(path)
    config = json.loads(meta['config'])
    w, b = sd['patch_embed.proj.weight'], sd['patch_embed.proj.bias']
    conv = torch.nn.Conv3d(w.shape[1], w.shape[0], kernel_size=tuple(w.shape[2:]), stride=tuple(w.shape[2:]))
    with torch.no_grad():
        conv.weight.copy_(w)
        conv.bias.copy_(b)
    ref = json.load(open(tokens_json))
    T, S, C = ref['T'], ref['S'], ref['C']
    # The app's window is channels-last [1, T, S, S, C]; PyTorch's Conv3d takes [1, C, T, S, S].
    x = torch.tensor([math.sin(i * 0.37) * 0.5 + 0.5 for i in range(T * S * S * C)], dtype=torch.float32)
    x = x.reshape(1, T, S, S, C).permute(0, 4, 1, 2, 3)
    with torch.no_grad():
        tokens = conv(x).flatten(2).transpose(1, 2)  # [1, N, D], N = (S/P)^2: as many tokens as the 2D model
    diff = (tokens - torch.tensor(ref['tokens'])).abs().max().item()
    groups = {'encoder': 0, 'decoder': 0, 'optimiser': 0}
    for k in sd:
        groups['optimiser' if k.startswith('optim.') else 'decoder' if k.startswith('decode_head.') else 'encoder'] += 1
    print(f'{path}: {config["encoder"]["family"]} D {config["encoder"]["embedDim"]} depth {config["encoder"]["depth"]}, '
          f'T {config["T"]}, {config["imgSize"]} px, {config["numClasses"]} classes, step {meta["step"]}; tensors {groups}')
    print(f'patch tokens {tuple(tokens.shape)}: max |torch Conv3d - app| = {diff:.3g} (max |token| {tokens.abs().max().item():.3g})')
    if diff > 1e-4:
        sys.exit('MISMATCH')


if __name__ == '__main__':
    main(*sys.argv[1:3])
