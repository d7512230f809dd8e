"""The training step of bench/train.ts in PyTorch on the CPU, same architecture and shapes: a ViT/16 encoder with the
3D patch embedding (Conv3d, kernel = stride = (T, 16, 16)), cls token + position embedding, pre-norm blocks, feature
taps at blocks round(depth * (1/3, 1/2, 2/3, 1)), the UNETR-style head of src/model/decoder.ts, Dice + focal loss,
AdamW. Prints ms per step (median of --reps after --warmup steps) and the CPU's plain matmul GFLOP/s.

Usage: /usr/bin/python3 bench/torch_step.py [--size 128] [--dim 192] [--heads 3] [--threads 2] [--reps 5]
"""
import argparse
import statistics
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


class Model(nn.Module):
    def __init__(self, d, heads, depth, size, t, width, classes, patch=16):
        super().__init__()
        self.g = size // patch
        self.patch_embed = nn.Conv3d(1, d, (t, patch, patch), (t, patch, patch))
        self.cls_token = nn.Parameter(torch.zeros(1, 1, d))
        self.pos_embed = nn.Parameter(torch.randn(1, self.g * self.g + 1, d) * 0.02)
        self.blocks = nn.ModuleList(Block(d, heads) for _ in range(depth))
        self.taps = [max(1, round(depth * f)) for f in (1 / 3, 1 / 2, 2 / 3, 1)]
        self.lateral = nn.ModuleList(nn.Conv2d(d, width, 1) for _ in range(4))
        self.up00, self.up01, self.up10 = (nn.ConvTranspose2d(width, width, 2, 2) for _ in range(3))
        self.fuse = nn.ModuleList(nn.Conv2d(width, width, 3, padding=1) for _ in range(3))
        self.conv_seg = nn.Conv2d(width, classes, 1)

    def forward(self, x):  # x [B, 1, T, H, W]
        b = x.shape[0]
        t = self.patch_embed(x).flatten(2).transpose(1, 2)  # [B, g², D]
        t = torch.cat([self.cls_token.expand(b, -1, -1), t], 1) + self.pos_embed
        feats = []
        for i, blk in enumerate(self.blocks[: max(self.taps)]):
            t = blk(t)
            if i + 1 in self.taps:
                feats.append(t[:, 1:].transpose(1, 2).reshape(b, -1, self.g, self.g))
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--size', type=int, default=128)
    ap.add_argument('--dim', type=int, default=192)
    ap.add_argument('--heads', type=int, default=3)
    ap.add_argument('--depth', type=int, default=12)
    ap.add_argument('--width', type=int, default=64)
    ap.add_argument('--T', type=int, default=5)
    ap.add_argument('--batch', type=int, default=2)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--warmup', type=int, default=2)
    ap.add_argument('--reps', type=int, default=5)
    a = ap.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(a.threads)
    model = Model(a.dim, a.heads, a.depth, a.size, a.T, a.width, 8)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.05)
    x = torch.rand(a.batch, 1, a.T, a.size, a.size)
    y = torch.randint(0, 8, (a.batch, a.size, a.size))
    times = []
    for i in range(a.warmup + a.reps):
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = dice_focal(model(x), y)
        loss.backward()
        opt.step()
        if i >= a.warmup:
            times.append((time.perf_counter() - t0) * 1000)
    print(f'torch {torch.__version__} {a.threads} thread(s): ViT D {a.dim} depth {a.depth}, {a.size} px, T {a.T}, batch {a.batch}, '
          f'UNETR head w{a.width}: median {statistics.median(times):.0f} ms/step (range {min(times):.0f}-{max(times):.0f}, {a.reps} steps); '
          f'matmul 1024² {matmul_gflops():.1f} GFLOP/s')


if __name__ == '__main__':
    main()
