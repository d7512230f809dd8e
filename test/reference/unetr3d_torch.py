"""PyTorch reference of the volume model (UNETR over 3D crops) for src/model/volume's parity tests.

Written from the published definitions (Hatamizadeh et al., "UNETR: Transformers for 3D Medical Image
Segmentation", WACV 2022; MONAI's documented UNETR / ViT / UnetResBlock / UnetrPrUpBlock / UnetrUpBlock
behaviour), without MONAI (not installed). Module names reproduce MONAI's state-dict names so that a state
dict of this model loads strictly into monai.networks.nets.UNETR(proj_type='perceptron', norm_name='instance',
res_block=True, conv_block=True) and back.

Run with Debian's interpreter (torch 1.13): /usr/bin/python3 test/reference/unetr3d_torch.py SPEC.json
SPEC: {"config": VolumeModelConfig, "data": "in.bin", "tensors": [{"name", "shape", "offset"}],  (float32, offsets in values)
       "out": "out.bin", "grads": [param names]}
Tensors: every parameter by its name, "x" [B, D, H, W, C] (channels last, as the app), "labels" [B, D, H, W]
(class indices as float), and op inputs "t" [B, N, hidden] (tokens), "z" [B, d, h, w, 2F] (a map for the
transposed conv), "u" [B, 2d, 2h, 2w, F] (the skip of decoder2).
Writes out.bin and prints a JSON manifest of the outputs (channels last): "logits", each op's output, "loss"
(Dice + CE as MONAI's DiceCELoss(to_onehot_y, softmax)), "grad:x" and "grad:<param>".
"""
import json
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

EPS = 1e-5  # nn.InstanceNorm3d and nn.LayerNorm defaults
SLOPE = 0.01  # LeakyReLU negative slope of MONAI's UnetResBlock


class Wrapped(nn.Module):
    """A layer held under the attribute `conv` (MONAI's Convolution wrapper; gives the '.conv.' in the names)."""

    def __init__(self, layer):
        super().__init__()
        self.conv = layer

    def forward(self, x):
        return self.conv(x)


def conv3(cin, cout, k):
    return Wrapped(nn.Conv3d(cin, cout, k, stride=1, padding=k // 2, bias=False))


def up2(cin, cout):
    return Wrapped(nn.ConvTranspose3d(cin, cout, 2, stride=2, bias=False))


class ResBlock(nn.Module):
    """Two 3x3x3 convs with instance norm and LeakyReLU; a 1x1x1 conv + norm on the residual when widths differ."""

    def __init__(self, cin, cout):
        super().__init__()
        self.conv1 = conv3(cin, cout, 3)
        self.conv2 = conv3(cout, cout, 3)
        if cin != cout:
            self.conv3 = conv3(cin, cout, 1)

    def forward(self, x):
        y = F.leaky_relu(F.instance_norm(self.conv1(x), eps=EPS), SLOPE)
        y = F.instance_norm(self.conv2(y), eps=EPS)
        r = F.instance_norm(self.conv3(x), eps=EPS) if hasattr(self, "conv3") else x
        return F.leaky_relu(y + r, SLOPE)


class BasicBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.layer = ResBlock(cin, cout)

    def forward(self, x):
        return self.layer(x)


class PrUp(nn.Module):
    """Token map -> an initial x2 transposed conv, then `layers` x (x2 transposed conv, ResBlock)."""

    def __init__(self, hidden, cout, layers):
        super().__init__()
        self.transp_conv_init = up2(hidden, cout)
        self.blocks = nn.ModuleList([nn.Sequential(up2(cout, cout), ResBlock(cout, cout)) for _ in range(layers)])

    def forward(self, x):
        x = self.transp_conv_init(x)
        for b in self.blocks:
            x = b(x)
        return x


class Up(nn.Module):
    """x2 transposed conv, concatenate the skip after it (channels), ResBlock(2 out -> out)."""

    def __init__(self, cin, cout):
        super().__init__()
        self.transp_conv = up2(cin, cout)
        self.conv_block = ResBlock(2 * cout, cout)

    def forward(self, x, skip):
        return self.conv_block(torch.cat([self.transp_conv(x), skip], dim=1))


class Attention(nn.Module):
    def __init__(self, hidden, heads):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(hidden, 3 * hidden, bias=False)
        self.out_proj = nn.Linear(hidden, hidden)

    def forward(self, x):
        b, n, d = x.shape
        hd = d // self.heads
        qkv = self.qkv(x).reshape(b, n, 3, self.heads, hd).permute(2, 0, 3, 1, 4)  # columns (q|k|v, head, d)
        q, k, v = qkv[0], qkv[1], qkv[2]
        a = torch.softmax(q @ k.transpose(-1, -2) * hd ** -0.5, dim=-1)
        return self.out_proj((a @ v).transpose(1, 2).reshape(b, n, d))


class Mlp(nn.Module):
    def __init__(self, hidden, mlp):
        super().__init__()
        self.linear1 = nn.Linear(hidden, mlp)
        self.linear2 = nn.Linear(mlp, hidden)

    def forward(self, x):
        return self.linear2(F.gelu(self.linear1(x)))


class Block(nn.Module):
    def __init__(self, hidden, mlp, heads):
        super().__init__()
        self.mlp = Mlp(hidden, mlp)
        self.norm1 = nn.LayerNorm(hidden, eps=EPS)
        self.attn = Attention(hidden, heads)
        self.norm2 = nn.LayerNorm(hidden, eps=EPS)

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class Patchify(nn.Module):
    """[B, C, D, H, W] -> [B, tokens (d, h, w row-major), P^3 C] with each patch flattened (p_d, p_h, p_w, c)."""

    def __init__(self, p):
        super().__init__()
        self.p = p

    def forward(self, x):
        b, c, d, h, w = x.shape
        p = self.p
        x = x.reshape(b, c, d // p, p, h // p, p, w // p, p)
        x = x.permute(0, 2, 4, 6, 3, 5, 7, 1)  # b, gd, gh, gw, pd, ph, pw, c
        return x.reshape(b, (d // p) * (h // p) * (w // p), p * p * p * c)


class PatchEmbedding(nn.Module):
    def __init__(self, cin, p, tokens, hidden):
        super().__init__()
        self.patch_embeddings = nn.Sequential(Patchify(p), nn.Linear(p * p * p * cin, hidden))
        self.position_embeddings = nn.Parameter(torch.zeros(1, tokens, hidden))

    def forward(self, x):
        return self.patch_embeddings(x) + self.position_embeddings


class ViT(nn.Module):
    def __init__(self, c):
        super().__init__()
        g = [s // c["patch"] for s in c["crop"]]
        self.patch_embedding = PatchEmbedding(c["inChans"], c["patch"], g[0] * g[1] * g[2], c["hiddenSize"])
        self.blocks = nn.ModuleList([Block(c["hiddenSize"], c["mlpDim"], c["numHeads"]) for _ in range(c["depth"])])
        self.norm = nn.LayerNorm(c["hiddenSize"], eps=EPS)

    def forward(self, x):
        t = self.patch_embedding(x)
        outs = []
        for b in self.blocks:
            t = b(t)
            outs.append(t)
        return self.norm(t), outs


class UNETR(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        h, f = c["hiddenSize"], c["featureSize"]
        self.grid = [s // c["patch"] for s in c["crop"]]
        self.vit = ViT(c)
        self.encoder1 = BasicBlock(c["inChans"], f)
        self.encoder2 = PrUp(h, 2 * f, 2)
        self.encoder3 = PrUp(h, 4 * f, 1)
        self.encoder4 = PrUp(h, 8 * f, 0)
        self.decoder5 = Up(h, 8 * f)
        self.decoder4 = Up(8 * f, 4 * f)
        self.decoder3 = Up(4 * f, 2 * f)
        self.decoder2 = Up(2 * f, f)
        self.out = Wrapped(Wrapped(nn.Conv3d(f, c["numClasses"], 1, bias=True)))

    def to_map(self, t):
        return t.reshape(t.shape[0], *self.grid, t.shape[2]).permute(0, 4, 1, 2, 3)

    def forward(self, x):
        last, outs = self.vit(x)
        s = [self.to_map(outs[i]) for i in self.c["skipBlocks"]]
        enc1 = self.encoder1(x)
        enc2, enc3, enc4 = self.encoder2(s[0]), self.encoder3(s[1]), self.encoder4(s[2])
        d = self.decoder5(self.to_map(last), enc4)
        d = self.decoder4(d, enc3)
        d = self.decoder3(d, enc2)
        return self.out(self.decoder2(d, enc1))


def dice_ce(logits, labels, k):
    """MONAI DiceCELoss(to_onehot_y=True, softmax=True): mean over (sample, class) of 1 - (2I + s)/(P + Y + s), s = 1e-5, + mean CE."""
    onehot = F.one_hot(labels.long(), k).permute(0, 4, 1, 2, 3).float()
    p = torch.softmax(logits, dim=1)
    dims = (2, 3, 4)
    dice = 1 - ((2 * (p * onehot).sum(dims) + EPS) / (p.sum(dims) + onehot.sum(dims) + EPS)).mean()
    return dice + F.cross_entropy(logits, labels.long())


def cl(t):  # channels first -> channels last
    return t.permute(0, *range(2, t.dim()), 1) if t.dim() == 5 else t


def cf(t):  # channels last -> channels first
    return t.permute(0, 4, 1, 2, 3).contiguous()


def main():
    spec = json.load(open(sys.argv[1]))
    c = spec["config"]
    raw = np.fromfile(spec["data"], dtype=np.float32)
    ts = {e["name"]: torch.from_numpy(raw[e["offset"]: e["offset"] + int(np.prod(e["shape"]))].reshape(e["shape"]).copy()) for e in spec["tensors"]}
    torch.set_default_dtype(torch.float32)
    model = UNETR(c)
    state = {k: v for k, v in ts.items() if k in dict(model.state_dict())}
    model.load_state_dict(state, strict=True)
    x = cf(ts["x"]).requires_grad_(True)
    out = {}
    logits = model(x)
    loss = dice_ce(logits, ts["labels"], c["numClasses"])
    names = spec.get("grads", [])
    params = dict(model.named_parameters())
    grads = torch.autograd.grad(loss, [x] + [params[n] for n in names])
    out["logits"] = cl(logits)
    out["loss"] = loss.reshape(1)
    out["grad:x"] = cl(grads[0])
    for n, g in zip(names, grads[1:]):
        out["grad:" + n] = g
    with torch.no_grad():
        xs = cf(ts["x"])
        out["op:patch_embedding"] = model.vit.patch_embedding(xs)
        out["op:block0"] = model.vit.blocks[0](ts["t"])
        out["op:instance_norm"] = cl(F.instance_norm(cf(ts["z"]), eps=EPS))
        out["op:conv3x3x3"] = cl(model.encoder1.layer.conv1(xs))
        out["op:conv1x1x1"] = cl(model.decoder2.conv_block.conv3(cf(ts["u2"])))
        out["op:transp_conv"] = cl(model.decoder2.transp_conv(cf(ts["z"])))
        out["op:res_block"] = cl(model.encoder1(xs))
        out["op:up_block"] = cl(model.decoder2(cf(ts["z"]), cf(ts["u"])))
    manifest, chunks, off = [], [], 0
    for k, v in out.items():
        a = v.detach().contiguous().numpy().astype(np.float32).reshape(-1)
        manifest.append({"name": k, "shape": list(v.shape), "offset": off})
        chunks.append(a)
        off += a.size
    np.concatenate(chunks).tofile(spec["out"])
    print(json.dumps({"torch": torch.__version__, "outputs": manifest}))


if __name__ == "__main__":
    main()
