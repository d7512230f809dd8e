"""The training step of bench/train.ts in PyTorch on the CPU, same architecture and shapes: a ViT/16 encoder with the
3D patch embedding (Conv3d, kernel = stride = (T, 16, 16)), cls token + position embedding, pre-norm blocks, feature
taps at blocks round(depth * (1/3, 1/2, 2/3, 1)), the UNETR-style head of src/model/decoder.ts or the UPerNet head of
src/model/uper.ts (channel LayerNorm in its ConvModules, as ours), Dice + focal loss, AdamW (weight decay 0.05,
gradient clipping at norm 1 as the app's defaults). Prints ms per step (median of --reps after --warmup steps) and
the CPU's plain matmul GFLOP/s (best of 256², 512², 1024²).

Swin rows (dim:heads:size:decoder:swin:classes, e.g. 96:3:128:uper:swin:4): Swin-T (depths 2-2-6-2, heads 3-6-12-24,
window 7, the 3D patch kernel (T, 4, 4)) from the parity-tested reference test/reference/swin_torch.py (its forward
functions over a dict of parameters), the 4 stage maps into the app's UPerNet or UNETR head without neck.

Usage: /usr/bin/python3 bench/torch_step.py [--size 128] [--dim 192] [--heads 3] [--decoder unetr|uper] [--threads 2] [--reps 5]
       /usr/bin/python3 bench/torch_step.py --rows 192:3:128:unetr,384:6:224:uper,96:3:128:uper:swin:4 [--threads 1] --json
  --rows: several shapes (dim:heads:size:decoder[:swin:classes]) in one process; --json: one JSON object per line (bench/train.ts reads them).
"""
import json
import argparse
import os
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(d, eps=1e-6), nn.LayerNorm(d, eps=1e-6)
        self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.fc1, self.fc2 = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)
        self.heads = heads

    def attn(self, x):
        b, n, d = x.shape
        q, k, v = self.qkv(x).reshape(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        a = (q @ k.transpose(-2, -1) * (d // self.heads) ** -0.5).softmax(-1)
        return self.proj((a @ v).transpose(1, 2).reshape(b, n, d))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.fc2(F.gelu(self.fc1(self.norm2(x))))


class ConvModule(nn.Module):
    """mmseg's ConvModule as src/model/uper.ts has it: conv without bias, LayerNorm over channels, ReLU."""

    def __init__(self, cin, cout, k):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, padding=k // 2, bias=False)
        self.norm = nn.LayerNorm(cout, eps=1e-5)

    def forward(self, x):
        return F.relu(self.norm(self.conv(x).permute(0, 2, 3, 1)).permute(0, 3, 1, 2))


def resize(x, ref):
    return F.interpolate(x, size=ref.shape[-2:], mode='bilinear', align_corners=False)


class UperHead(nn.Module):
    """src/model/uper.ts: neck (x4, x2, x1, x1/2), pyramid pooling (1, 2, 3, 6) + bottleneck, FPN, fused bottleneck."""

    def __init__(self, d, width, classes):
        super().__init__()
        self.fpn1_0, self.fpn1_2, self.fpn2_0 = (nn.ConvTranspose2d(d, d, 2, 2) for _ in range(3))
        self.scales = (1, 2, 3, 6)
        self.psp = nn.ModuleList(ConvModule(d, width, 1) for _ in self.scales)
        self.bottleneck = ConvModule(d + len(self.scales) * width, width, 3)
        self.lateral = nn.ModuleList(ConvModule(d, width, 1) for _ in range(3))
        self.fpn = nn.ModuleList(ConvModule(width, width, 3) for _ in range(3))
        self.fpn_bottleneck = ConvModule(4 * width, width, 3)
        self.conv_seg = nn.Conv2d(width, classes, 1)

    def forward(self, maps):
        f = [self.fpn1_2(F.gelu(self.fpn1_0(maps[0]))), self.fpn2_0(maps[1]), maps[2], F.max_pool2d(maps[3], 2)]
        top = f[3]
        ppm = [resize(m(F.adaptive_avg_pool2d(top, s)), top) for m, s in zip(self.psp, self.scales)]
        lat = [m(x) for m, x in zip(self.lateral, f[:3])] + [self.bottleneck(torch.cat([top, *ppm], 1))]
        for i in (3, 2, 1):
            lat[i - 1] = lat[i - 1] + resize(lat[i], lat[i - 1])
        outs = [m(x) for m, x in zip(self.fpn, lat[:3])] + [lat[3]]
        return self.conv_seg(self.fpn_bottleneck(torch.cat([resize(o, outs[0]) for o in outs], 1)))


class Model(nn.Module):
    def __init__(self, d, heads, depth, size, t, width, classes, patch=16, decoder='unetr'):
        super().__init__()
        self.g = size // patch
        self.patch_embed = nn.Conv3d(1, d, (t, patch, patch), (t, patch, patch))
        self.cls_token = nn.Parameter(torch.zeros(1, 1, d))
        self.pos_embed = nn.Parameter(torch.randn(1, self.g * self.g + 1, d) * 0.02)
        self.blocks = nn.ModuleList(Block(d, heads) for _ in range(depth))
        self.taps = [max(1, round(depth * f)) for f in (1 / 3, 1 / 2, 2 / 3, 1)]
        self.uper = UperHead(d, width, classes) if decoder == 'uper' else None
        if self.uper is not None:
            return
        self.lateral = nn.ModuleList(nn.Conv2d(d, width, 1) for _ in range(4))
        self.up00, self.up01, self.up10 = (nn.ConvTranspose2d(width, width, 2, 2) for _ in range(3))
        self.fuse = nn.ModuleList(nn.Conv2d(width, width, 3, padding=1) for _ in range(3))
        self.conv_seg = nn.Conv2d(width, classes, 1)

    def forward(self, x):  # x [B, 1, T, H, W]
        b = x.shape[0]
        t = self.patch_embed(x).flatten(2).transpose(1, 2)  # [B, g², D]
        t = torch.cat([self.cls_token.expand(b, -1, -1), t], 1) + self.pos_embed
        outs = []
        for blk in self.blocks[: max(self.taps)]:
            t = blk(t)
            outs.append(t)
        feats = [outs[i - 1][:, 1:].transpose(1, 2).reshape(b, -1, self.g, self.g) for i in self.taps]
        if self.uper is not None:
            return F.interpolate(self.uper(feats), size=x.shape[-2:], mode='bilinear', align_corners=False)
        lat = [conv(f) for conv, f in zip(self.lateral, feats)]
        levels = [self.up01(F.gelu(self.up00(lat[0]))), self.up10(lat[1]), lat[2], F.max_pool2d(lat[3], 2)]
        y = levels[3]
        for j in (2, 1, 0):
            y = F.gelu(self.fuse[j](F.interpolate(y, size=levels[j].shape[-2:], mode='bilinear', align_corners=False) + levels[j]))
        return F.interpolate(self.conv_seg(y), size=x.shape[-2:], mode='bilinear', align_corners=False)


def dice_focal(logits, labels, gamma=2.0, smooth=1e-5):
    k = logits.shape[1]
    logp = logits.log_softmax(1)
    p = logp.exp()
    onehot = F.one_hot(labels, k).permute(0, 3, 1, 2).float()
    inter = (p * onehot).sum((2, 3))
    dice = 1 - ((2 * inter + smooth) / (p.sum((2, 3)) + onehot.sum((2, 3)) + smooth)).mean()
    logpt = (logp * onehot).sum(1)
    return dice - ((1 - logpt.exp()) ** gamma * logpt).mean()


def matmul_gflops(n=1024):
    a = torch.randn(n, n)
    a @ a
    ts = []
    for _ in range(3):
        t0 = time.perf_counter()
        a @ a
        ts.append(time.perf_counter() - t0)
    return 2 * n ** 3 / statistics.median(ts) / 1e9


def step_times(dim, heads, depth, size, t, batch, width, decoder, warmup, reps):
    """ms of each timed training step of one shape (after `warmup` untimed ones)."""
    torch.manual_seed(0)
    model = Model(dim, heads, depth, size, t, width, 8, decoder=decoder)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.05)
    x = torch.rand(batch, 1, t, size, size)
    y = torch.randint(0, 8, (batch, size, size))
    times = []
    for i in range(warmup + reps):
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = dice_focal(model(x), y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if i >= warmup:
            times.append((time.perf_counter() - t0) * 1000)
    return times


SWIN_T = {'depths': [2, 2, 6, 2], 'heads': [3, 6, 12, 24], 'window': [7, 7]}


class SwinModel(nn.Module):
    """Swin-T with a (T, 4, 4) patch kernel over 1 channel and the app's head over its 4 stage maps, as parameters of
    test/reference/swin_torch.py's functional forward (canonical names; weights normal 0.02, norms 1/0)."""

    def __init__(self, dim, size, t, width, classes, decoder):
        super().__init__()
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'reference'))
        import swin_torch  # noqa: E402 (the reference lives with the tests)
        self.ref = swin_torch
        self.cfg = {'family': 'swin', 'embed': dim, **SWIN_T, 'patch': 4, 'patch_depth': 1, 'mlp_ratio': 4, 'eps': 1e-5, 'decoder': decoder}
        shapes = {'patch_embed.proj.weight': (dim, 1, t, 4, 4), 'patch_embed.proj.bias': (dim,), 'patch_embed.norm.weight': (dim,), 'patch_embed.norm.bias': (dim,)}
        rows = 13 * 13
        for s_, depth in enumerate(SWIN_T['depths']):
            c = dim * 2 ** s_
            if s_ > 0:
                shapes.update({f'layers.{s_}.downsample.norm.weight': (2 * c,), f'layers.{s_}.downsample.norm.bias': (2 * c,), f'layers.{s_}.downsample.reduction.weight': (c, 2 * c)})
            for b in range(depth):
                p = f'layers.{s_}.blocks.{b}.'
                shapes.update({p + 'norm1.weight': (c,), p + 'norm1.bias': (c,), p + 'attn.qkv.weight': (3 * c, c), p + 'attn.qkv.bias': (3 * c,),
                               p + 'attn.relative_position_bias_table': (rows, SWIN_T['heads'][s_]), p + 'attn.proj.weight': (c, c), p + 'attn.proj.bias': (c,),
                               p + 'norm2.weight': (c,), p + 'norm2.bias': (c,), p + 'mlp.fc1.weight': (4 * c, c), p + 'mlp.fc1.bias': (4 * c,),
                               p + 'mlp.fc2.weight': (c, 4 * c), p + 'mlp.fc2.bias': (c,)})
            shapes.update({f'stage_norms.{s_}.weight': (c,), f'stage_norms.{s_}.bias': (c,)})
        dims = [dim * 2 ** i for i in range(4)]
        d = 'decode_head.'

        def conv_module(name, cout, cin, k):
            shapes.update({f'{name}.conv.weight': (cout, cin, k, k), f'{name}.norm.weight': (cout,), f'{name}.norm.bias': (cout,)})
        if decoder == 'uper':
            for i in range(4):
                conv_module(f'{d}psp_modules.{i}.1', width, dims[3], 1)
            conv_module(f'{d}bottleneck', width, dims[3] + 4 * width, 3)
            for i in range(3):
                conv_module(f'{d}lateral_convs.{i}', width, dims[i], 1)
                conv_module(f'{d}fpn_convs.{i}', width, width, 3)
            conv_module(f'{d}fpn_bottleneck', width, 4 * width, 3)
        else:
            for i in range(4):
                shapes.update({f'{d}lateral.{i}.weight': (width, dims[i], 1, 1), f'{d}lateral.{i}.bias': (width,)})
            for j in range(3):
                shapes.update({f'{d}fuse.{j}.weight': (width, width, 3, 3), f'{d}fuse.{j}.bias': (width,)})
        shapes.update({f'{d}conv_seg.weight': (classes, width, 1, 1), f'{d}conv_seg.bias': (classes,)})

        def init(k, shape):
            if k.endswith('norm.weight') or k.endswith('norm1.weight') or k.endswith('norm2.weight'):
                return torch.ones(shape)
            return torch.zeros(shape) if k.endswith('bias') else torch.randn(shape) * 0.02
        self.params = nn.ParameterDict({k.replace('.', '__'): nn.Parameter(init(k, sh)) for k, sh in shapes.items()})

    def forward(self, x):  # x [B, 1, T, H, W] as the ViT Model takes it
        P = {k.replace('__', '.'): v for k, v in self.params.items()}
        v = x.permute(0, 2, 3, 4, 1)  # the reference's [B, T, H, W, C]
        _, maps = self.ref.encoder(P, self.cfg, v)
        return self.ref.head(P, self.cfg, maps, tuple(x.shape[-2:]))


def swin_step_times(dim, size, t, batch, width, decoder, classes, warmup, reps):
    """ms of each timed training step of Swin-T (after `warmup` untimed ones), as step_times."""
    torch.manual_seed(0)
    model = SwinModel(dim, size, t, width, classes, decoder)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.05)
    x = torch.rand(batch, 1, t, size, size)
    y = torch.randint(0, classes, (batch, size, size))
    times = []
    for i in range(warmup + reps):
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = dice_focal(model(x), y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if i >= warmup:
            times.append((time.perf_counter() - t0) * 1000)
    return times


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--size', type=int, default=128)
    ap.add_argument('--dim', type=int, default=192)
    ap.add_argument('--heads', type=int, default=3)
    ap.add_argument('--depth', type=int, default=12)
    ap.add_argument('--width', type=int, default=64)
    ap.add_argument('--decoder', choices=('unetr', 'uper'), default='unetr')
    ap.add_argument('--rows', help='several shapes: dim:heads:size:decoder, comma-separated (overrides --dim/--heads/--size/--decoder)')
    ap.add_argument('--T', type=int, default=5)
    ap.add_argument('--batch', type=int, default=2)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--warmup', type=int, default=2)
    ap.add_argument('--reps', type=int, default=5)
    ap.add_argument('--json', action='store_true', help='one JSON object per line instead of text')
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    rows = [(a.dim, a.heads, a.size, a.decoder, 'vit', 8)]
    if a.rows:
        rows = []
        for r in a.rows.split(','):
            f = r.split(':')
            if len(f) not in (4, 6) or f[3] not in ('unetr', 'uper') or (len(f) == 6 and f[4] != 'swin'):
                ap.error(f'--rows {r}: expected dim:heads:size:decoder or dim:heads:size:decoder:swin:classes, decoder unetr or uper')
            rows.append((int(f[0]), int(f[1]), int(f[2]), f[3], 'swin' if len(f) == 6 else 'vit', int(f[5]) if len(f) == 6 else 8))
    mm = {n: matmul_gflops(n) for n in (256, 512, 1024)}
    if a.json:
        print(json.dumps({'kind': 'matmul', 'torch': torch.__version__, 'threads': a.threads, 'gflops': {str(n): g for n, g in mm.items()}, 'best': max(mm.values())}), flush=True)
    for dim, heads, size, decoder, arch, classes in rows:
        if arch == 'swin':
            times = swin_step_times(dim, size, a.T, a.batch, a.width, decoder, classes, a.warmup, a.reps)
        else:
            times = step_times(dim, heads, a.depth, size, a.T, a.batch, a.width, decoder, a.warmup, a.reps)
        med = statistics.median(times)
        if a.json:
            print(json.dumps({'kind': 'step', 'arch': arch, 'classes': classes, 'dim': dim, 'heads': heads, 'depth': a.depth, 'size': size, 'T': a.T, 'batch': a.batch, 'width': a.width,
                              'decoder': decoder, 'threads': a.threads, 'median_ms': med, 'min_ms': min(times), 'max_ms': max(times), 'reps': a.reps}), flush=True)
        else:
            what = f'Swin-T D {dim}, {classes} classes' if arch == 'swin' else f'ViT D {dim} depth {a.depth}'
            print(f'torch {torch.__version__} {a.threads} thread(s): {what}, {size} px, T {a.T}, batch {a.batch}, '
                  f'{decoder} head w{a.width}: median {med:.0f} ms/step (range {min(times):.0f}-{max(times):.0f}, {a.reps} steps)')
    if not a.json:
        print('matmul ' + ', '.join(f'{n}² {g:.1f}' for n, g in mm.items()) + f' GFLOP/s (best {max(mm.values()):.1f})')


if __name__ == '__main__':
    main()
