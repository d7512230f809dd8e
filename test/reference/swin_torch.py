"""Reference forward of the Swin (Liu et al. 2021) and Video Swin (Liu et al. 2022) segmentation encoders with the
app's two heads, written from the papers' definitions in PyTorch (1.13, Debian's /usr/bin/python3), for parity tests
of src/model/swin. No timm / mmseg / torchvision code.

  /usr/bin/python3 test/reference/swin_torch.py CASES.json

CASES.json: one case or a list of them; a case is {"config": {...}, "weights": "w.safetensors", "input": "x.f32", "out": "dir", "grads": [names]?}
  config: family ('swin' | 'videoswin'), embed, depths, heads, window ([Wh, Ww] | [Wd, Wh, Ww]), patch (4),
          patch_depth (1 | 2), mlp_ratio, eps, T, in_chans, img, batch, decoder ('unetr' | 'uper'), width, classes
  weights: canonical (timm >= 0.9 Swin) names + stage_norms.{s} + decode_head.* (the app's names), float32
  input: raw float32 [B, T, H, W, C] (the app's layout)
Writes raw float32, channels last: stage{s}.f32 [B, D', H_s, W_s, C_s] (before the stage norms), map{s}.f32
[B, H_s, W_s, C_s] (stage norm, centre temporal token), logits.f32 [B, H, W, K]; with "grads": the gradient of
L = sum(logits * R), R[i] = cos(0.7 i) over the logits in that layout, for each named parameter: grad.{name}.f32.

The forward, per the papers:
  - 3D patch partition: Conv3d, kernel = stride = (kd, 4, 4); kd = T (Swin: the inflated kernel spans the window, one
    temporal token) or 2 (Video Swin; the T slices zero-padded at the end to a multiple of 2); then LayerNorm.
  - Stage s (s >= 1 starts with patch merging: the 2x2 in-plane neighbours x[0::2, 0::2], x[1::2, 0::2],
    x[0::2, 1::2], x[1::2, 1::2] concatenated, LayerNorm(4C), Linear(4C -> 2C, no bias)), then blocks
    x = x + W-MSA(LN(x)), x = x + MLP(LN(x)); odd blocks use shifted windows.
  - Window / shift per axis: window = min(W, n), shift = W // 2 on odd blocks unless n <= W (then 0). LN'd tokens
    zero-padded at the end of each axis to a multiple of the window; cyclic shift by -shift (torch.roll); the mask
    marks the regions slice(0, -w), slice(-w, -s), slice(-s, None) of the padded grid along every axis (Video Swin's
    construction: with s = 0 the last slice covers the whole axis); pairs in different regions get -100.
  - Attention per window: softmax(q k^T / sqrt(d) + B + mask) v, B gathered from the full table
    [(2Wd-1)(2Wh-1)(2Ww-1), heads] at the relative offsets of the (clipped) window; reverse shift; crop.
  - Taps: each stage's output through stage_norms.{s}, at temporal token (T // 2) // kd.
"""
import json
import math
import os
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F


def read_safetensors(path):
    with open(path, 'rb') as f:
        raw = f.read()
    (n,) = struct.unpack('<Q', raw[:8])
    header = json.loads(raw[8:8 + n])
    base = 8 + n
    out = {}
    for k, v in header.items():
        if k == '__metadata__':
            continue
        assert v['dtype'] == 'F32', f'{k}: only F32 tensors, found {v["dtype"]}'
        a, b = v['data_offsets']
        out[k] = torch.from_numpy(np.frombuffer(raw[base + a:base + b], dtype='<f4').copy()).reshape(v['shape'])
    return out


def layer_norm(x, w, b, eps):
    return F.layer_norm(x, (x.shape[-1],), w, b, eps)


def rel_bias(table, win, full):
    """[heads, N, N] from the full table at the offsets between the positions of a win-sized window."""
    wd, wh, ww = win
    Wd, Wh, Ww = full
    pos = torch.stack(torch.meshgrid(torch.arange(wd), torch.arange(wh), torch.arange(ww), indexing='ij')).reshape(3, -1)
    rel = pos[:, :, None] - pos[:, None, :]  # [3, N, N]: query minus key
    idx = (rel[0] + Wd - 1) * (2 * Wh - 1) * (2 * Ww - 1) + (rel[1] + Wh - 1) * (2 * Ww - 1) + (rel[2] + Ww - 1)
    n = idx.shape[0]
    return table[idx.reshape(-1)].reshape(n, n, -1).permute(2, 0, 1)


def windows(x, win):
    """[B, Dp, Hp, Wp, C] -> [B * nW, N, C], windows raster over (d, h, w)."""
    b, d, h, w, c = x.shape
    wd, wh, ww = win
    x = x.view(b, d // wd, wd, h // wh, wh, w // ww, ww, c).permute(0, 1, 3, 5, 2, 4, 6, 7)
    return x.reshape(-1, wd * wh * ww, c)


def unwindows(x, b, padded, win):
    d, h, w = padded
    wd, wh, ww = win
    c = x.shape[-1]
    x = x.view(b, d // wd, h // wh, w // ww, wd, wh, ww, c).permute(0, 1, 4, 2, 5, 3, 6, 7)
    return x.reshape(b, d, h, w, c)


def shift_mask(padded, win, shift):
    img = torch.zeros(padded)
    cnt = 0
    spans = [(slice(0, -w), slice(-w, -s), slice(-s, None)) for w, s in zip(win, shift)]
    for sd in spans[0]:
        for sh in spans[1]:
            for sw in spans[2]:
                img[sd, sh, sw] = cnt
                cnt += 1
    lab = windows(img[None, :, :, :, None], win).squeeze(-1)  # [nW, N]
    m = lab[:, None, :] - lab[:, :, None]
    return m.masked_fill(m != 0, -100.0).masked_fill(m == 0, 0.0)


def block(P, p, x, heads, full, b_index, eps):
    B, D, H, W, C = x.shape
    grid = (D, H, W)
    win = tuple(min(f, n) for f, n in zip(full, grid))
    shift = tuple(f // 2 if (b_index % 2 == 1 and n > f) else 0 for f, n in zip(full, grid))
    padded = tuple(math.ceil(n / w) * w for n, w in zip(grid, win))
    h = layer_norm(x, P[p + 'norm1.weight'], P[p + 'norm1.bias'], eps)
    h = F.pad(h, (0, 0, 0, padded[2] - W, 0, padded[1] - H, 0, padded[0] - D))
    if any(shift):
        h = torch.roll(h, shifts=tuple(-s for s in shift), dims=(1, 2, 3))
    t = windows(h, win)
    nwin, n, _ = t.shape
    hd = C // heads
    qkv = F.linear(t, P[p + 'attn.qkv.weight'], P[p + 'attn.qkv.bias']).reshape(nwin, n, 3, heads, hd).permute(2, 0, 3, 1, 4)
    q, k, v = qkv[0] * hd ** -0.5, qkv[1], qkv[2]
    a = q @ k.transpose(-2, -1) + rel_bias(P[p + 'attn.relative_position_bias_table'], win, full)[None]
    if any(shift):
        m = shift_mask(padded, win, shift)
        a = (a.view(B, -1, heads, n, n) + m[None, :, None]).view(-1, heads, n, n)
    o = (a.softmax(-1) @ v).transpose(1, 2).reshape(nwin, n, C)
    o = unwindows(F.linear(o, P[p + 'attn.proj.weight'], P[p + 'attn.proj.bias']), B, padded, win)
    if any(shift):
        o = torch.roll(o, shifts=shift, dims=(1, 2, 3))
    x = x + o[:, :D, :H, :W]
    y = layer_norm(x, P[p + 'norm2.weight'], P[p + 'norm2.bias'], eps)
    return x + F.linear(F.gelu(F.linear(y, P[p + 'mlp.fc1.weight'], P[p + 'mlp.fc1.bias'])), P[p + 'mlp.fc2.weight'], P[p + 'mlp.fc2.bias'])


def merge(P, p, x, eps):
    cat = torch.cat([x[:, :, 0::2, 0::2], x[:, :, 1::2, 0::2], x[:, :, 0::2, 1::2], x[:, :, 1::2, 1::2]], -1)
    return F.linear(layer_norm(cat, P[p + 'norm.weight'], P[p + 'norm.bias'], eps), P[p + 'reduction.weight'])


def encoder(P, cfg, x):
    """x [B, T, H, W, C] -> (raw stage outputs [B, D', H_s, W_s, C_s], tapped maps [B, C_s, H_s, W_s])."""
    eps = cfg['eps']
    T = x.shape[1]
    kd = T if cfg['patch_depth'] == 1 else cfg['patch_depth']
    Dt = -(-T // kd)
    v = x.permute(0, 4, 1, 2, 3)  # [B, C, T, H, W]
    v = F.pad(v, (0, 0, 0, 0, 0, Dt * kd - T))
    t = F.conv3d(v, P['patch_embed.proj.weight'], P['patch_embed.proj.bias'], stride=(kd, cfg['patch'], cfg['patch']))
    t = layer_norm(t.permute(0, 2, 3, 4, 1), P['patch_embed.norm.weight'], P['patch_embed.norm.bias'], eps)
    full = tuple(cfg['window']) if len(cfg['window']) == 3 else (1, *cfg['window'])
    centre = (T // 2) // kd
    stages, maps = [], []
    for s, depth in enumerate(cfg['depths']):
        if s > 0:
            t = merge(P, f'layers.{s}.downsample.', t, eps)
        for b in range(depth):
            t = block(P, f'layers.{s}.blocks.{b}.', t, cfg['heads'][s], full, b, eps)
        stages.append(t)
        m = layer_norm(t[:, centre], P[f'stage_norms.{s}.weight'], P[f'stage_norms.{s}.bias'], eps)
        maps.append(m.permute(0, 3, 1, 2))
    return stages, maps


def conv(P, name, x, bias=True):
    w = P[name + '.weight']
    return F.conv2d(x, w, P[name + '.bias'] if bias else None, padding=w.shape[-1] // 2)


def conv_module(P, name, x):
    y = conv(P, name + '.conv', x, bias=False)
    return F.relu(layer_norm(y.permute(0, 2, 3, 1), P[name + '.norm.weight'], P[name + '.norm.bias'], 1e-5).permute(0, 3, 1, 2))


def resize(x, size):
    return F.interpolate(x, size=size, mode='bilinear', align_corners=False)


def head(P, cfg, maps, size):
    """The app's heads over maps at strides 4, 8, 16, 32 (no neck): 'unetr' (lateral 1x1, top-down 3x3 fuse with GELU)
    or 'uper' (PPM on the last map + bottleneck, 1x1 laterals, FPN, 3x3 fpn convs, fused bottleneck); ConvModules
    are conv (no bias) + LayerNorm over channels (eps 1e-5) + ReLU; then conv_seg and bilinear to the input size."""
    d = 'decode_head.'
    if cfg['decoder'] == 'unetr':
        lat = [conv(P, f'{d}lateral.{i}', m) for i, m in enumerate(maps)]
        x = lat[3]
        for j in (2, 1, 0):
            x = F.gelu(conv(P, f'{d}fuse.{j}', resize(x, lat[j].shape[-2:]) + lat[j]))
    else:
        top = maps[3]
        ppm = [resize(conv_module(P, f'{d}psp_modules.{i}.1', F.adaptive_avg_pool2d(top, s)), top.shape[-2:]) for i, s in enumerate((1, 2, 3, 6))]
        lat = [conv_module(P, f'{d}lateral_convs.{i}', maps[i]) for i in range(3)]
        lat.append(conv_module(P, f'{d}bottleneck', torch.cat([top, *ppm], 1)))
        for i in (3, 2, 1):
            lat[i - 1] = lat[i - 1] + resize(lat[i], lat[i - 1].shape[-2:])
        outs = [conv_module(P, f'{d}fpn_convs.{i}', lat[i]) for i in range(3)] + [lat[3]]
        x = conv_module(P, f'{d}fpn_bottleneck', torch.cat([resize(o, outs[0].shape[-2:]) for o in outs], 1))
    return resize(conv(P, f'{d}conv_seg', x), size)


def main(case_path):
    with open(case_path) as f:
        cases = json.load(f)
    for case in cases if isinstance(cases, list) else [cases]:
        run_case(case)


def run_case(case):
    cfg = case['config']
    torch.set_default_dtype(torch.float32)
    P = read_safetensors(case['weights'])
    names = case.get('grads') or []
    for n in names:
        P[n].requires_grad_(True)
    shape = (cfg['batch'], cfg['T'], cfg['img'], cfg['img'], cfg['in_chans'])
    x = torch.from_numpy(np.fromfile(case['input'], dtype='<f4').reshape(shape))
    stages, maps = encoder(P, cfg, x)
    logits = head(P, cfg, maps, (cfg['img'], cfg['img'])).permute(0, 2, 3, 1).contiguous()
    out = case['out']
    os.makedirs(out, exist_ok=True)
    for s, t in enumerate(stages):
        t.detach().numpy().astype('<f4').tofile(os.path.join(out, f'stage{s}.f32'))
    for s, m in enumerate(maps):
        m.detach().permute(0, 2, 3, 1).numpy().astype('<f4').tofile(os.path.join(out, f'map{s}.f32'))
    logits.detach().numpy().astype('<f4').tofile(os.path.join(out, 'logits.f32'))
    if names:
        r = torch.cos(0.7 * torch.arange(logits.numel(), dtype=torch.float64)).float().reshape(logits.shape)
        (logits * r).sum().backward()
        for n in names:
            P[n].grad.numpy().astype('<f4').tofile(os.path.join(out, f'grad.{n}.f32'))
    print(json.dumps({'stages': [list(t.shape) for t in stages], 'logits': list(logits.shape)}))


if __name__ == '__main__':
    main(sys.argv[1])
