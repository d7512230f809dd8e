#!/usr/bin/python3
# Writes deterministic MICRO ViT checkpoints in every source layout (timm, DINO, BEiT, Hugging Face) plus a ResNet
# negative, and a float64 reference forward of each, to test/fixtures/weights/layouts/. Run: /usr/bin/python3 scripts/make-weight-fixtures.py
# (Debian's python: torch 1.13 + numpy). Modules are written here with the real checkpoint key names; timm is not used.
import json
import math
import os
import re
import struct

import numpy as np
import torch
from torch import nn

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'weights', 'layouts')
D, DEPTH, HEADS, P, IMG, MLP, CLASSES = 24, 2, 2, 4, 16, 48, 5  # micro: grid 4×4, mlp ratio 2, head dim 12
G = IMG // P
TIMM_EPS, HF_EPS = 1e-6, 1e-12


# --- building blocks (attribute names ARE the checkpoint keys) -------------------------------------------------
class LayerScale(nn.Module):
    def __init__(self):
        super().__init__()
        self.gamma = nn.Parameter(torch.ones(D))


class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(D, MLP), nn.Linear(MLP, D)


class PatchEmbed(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Conv2d(3, D, P, P)


def rel_index(gh, gw):
    """BEiT relative position index [N+1, N+1] (N = gh·gw, token 0 = cls), written from the definition."""
    n, size = gh * gw, (2 * gh - 1) * (2 * gw - 1) + 3
    idx = torch.zeros(n + 1, n + 1, dtype=torch.int64)
    for i in range(n):
        for j in range(n):
            dr, dc = i // gw - j // gw + gh - 1, i % gw - j % gw + gw - 1
            idx[i + 1, j + 1] = dr * (2 * gw - 1) + dc
    idx[0, 1:] = size - 3  # cls (query) → patch tokens
    idx[1:, 0] = size - 2  # patch tokens (query) → cls
    idx[0, 0] = size - 1   # cls → cls
    return idx


class RelPosBias(nn.Module):
    def __init__(self):
        super().__init__()
        self.relative_position_bias_table = nn.Parameter(torch.zeros((2 * G - 1) ** 2 + 3, HEADS))
        self.register_buffer('relative_position_index', rel_index(G, G))

    def bias(self):  # [heads, N+1, N+1]
        n = G * G + 1
        return self.relative_position_bias_table[self.relative_position_index.view(-1)].view(n, n, -1).permute(2, 0, 1)


def attend(q, k, v, bias=None):
    """q, k, v: [B, N, D] → multi-head softmax(q·kᵀ·hd^-0.5 + bias)·v, heads concatenated back to [B, N, D]."""
    b, n, _ = q.shape
    q, k, v = (t.reshape(b, n, HEADS, D // HEADS).transpose(1, 2) for t in (q, k, v))
    a = (q * (D // HEADS) ** -0.5) @ k.transpose(-2, -1)
    if bias is not None:
        a = a + bias.unsqueeze(0)
    return (a.softmax(-1) @ v).transpose(1, 2).reshape(b, n, D)


class TimmAttention(nn.Module):
    def __init__(self, beit=False, per_layer_rel=False):
        super().__init__()
        self.qkv = nn.Linear(D, 3 * D, bias=not beit)
        if beit:
            self.q_bias, self.v_bias = nn.Parameter(torch.zeros(D)), nn.Parameter(torch.zeros(D))
        if per_layer_rel:
            self.relative_position_bias_table = nn.Parameter(torch.zeros((2 * G - 1) ** 2 + 3, HEADS))
            self.register_buffer('relative_position_index', rel_index(G, G))
        self.proj = nn.Linear(D, D)
        self.beit, self.per_layer_rel = beit, per_layer_rel

    def forward(self, x, shared_bias=None):
        bias = self.qkv.bias if not self.beit else torch.cat((self.q_bias, torch.zeros_like(self.q_bias), self.v_bias))
        q, k, v = nn.functional.linear(x, self.qkv.weight, bias).chunk(3, dim=-1)
        rel = shared_bias
        if self.per_layer_rel:
            n = G * G + 1
            rel = self.relative_position_bias_table[self.relative_position_index.view(-1)].view(n, n, -1).permute(2, 0, 1)
        return self.proj(attend(q, k, v, rel))


class TimmBlock(nn.Module):
    def __init__(self, ls=None, beit=False, per_layer_rel=False):
        super().__init__()
        self.norm1 = nn.LayerNorm(D, eps=TIMM_EPS)
        self.attn = TimmAttention(beit, per_layer_rel)
        self.norm2 = nn.LayerNorm(D, eps=TIMM_EPS)
        self.mlp = Mlp()
        self.ls = ls
        if ls == 'timm':
            self.ls1, self.ls2 = LayerScale(), LayerScale()
        elif ls == 'beit':
            self.gamma_1, self.gamma_2 = nn.Parameter(torch.ones(D)), nn.Parameter(torch.ones(D))

    def forward(self, x, shared_bias=None):
        s1 = self.ls1.gamma if self.ls == 'timm' else self.gamma_1 if self.ls == 'beit' else 1.0
        s2 = self.ls2.gamma if self.ls == 'timm' else self.gamma_2 if self.ls == 'beit' else 1.0
        x = x + s1 * self.attn(self.norm1(x), shared_bias)
        mlp = self.mlp
        return x + s2 * mlp.fc2(nn.functional.gelu(mlp.fc1(self.norm2(x))))


class TimmViT(nn.Module):
    """timm VisionTransformer / VisionTransformerDistilled / Beit and the DINO and BEiT original releases."""

    def __init__(self, dist=False, ls=None, beit=False, rel=None, pos=True, norm='norm', head='head', mask=False):
        super().__init__()
        self.patch_embed = PatchEmbed()
        self.cls_token = nn.Parameter(torch.zeros(1, 1, D))
        if dist:
            self.dist_token = nn.Parameter(torch.zeros(1, 1, D))
        if mask:
            self.mask_token = nn.Parameter(torch.zeros(1, 1, D))
        self.prefix = 2 if dist else 1
        if pos:
            self.pos_embed = nn.Parameter(torch.zeros(1, self.prefix + G * G, D))
        if rel == 'shared':
            self.rel_pos_bias = RelPosBias()
        self.blocks = nn.ModuleList([TimmBlock(ls, beit, rel == 'per-layer') for _ in range(DEPTH)])
        self.norm_kind = norm
        if norm == 'norm':
            self.norm = nn.LayerNorm(D, eps=TIMM_EPS)
        else:
            self.fc_norm = nn.LayerNorm(D, eps=TIMM_EPS)
        if head == 'head':
            self.head = nn.Linear(D, CLASSES)
            if dist:
                self.head_dist = nn.Linear(D, CLASSES)
        elif head == 'lm_head':
            self.lm_head = nn.Linear(D, 7)

    def forward(self, img):
        x = self.patch_embed.proj(img).flatten(2).transpose(1, 2)
        pre = [self.cls_token] + ([self.dist_token] if self.prefix == 2 else [])
        x = torch.cat([t.expand(x.shape[0], -1, -1) for t in pre] + [x], dim=1)
        if hasattr(self, 'pos_embed'):
            x = x + self.pos_embed
        shared = self.rel_pos_bias.bias() if hasattr(self, 'rel_pos_bias') else None
        for blk in self.blocks:
            x = blk(x, shared)
        if self.norm_kind == 'norm':
            return self.norm(x), None
        return x, self.fc_norm(x[:, self.prefix:].mean(1))  # BEiT: no final norm; fc_norm on the mean patch token


class DinoHead(nn.Module):
    def __init__(self):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(D, 16), nn.GELU(), nn.Linear(16, 16), nn.GELU(), nn.Linear(16, 8))
        self.last_layer = nn.utils.weight_norm(nn.Linear(8, 10, bias=False))


class DinoWrapper(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone, self.head = TimmViT(head=None), DinoHead()


# --- Hugging Face ViT / DeiT ------------------------------------------------------------------------------------
class HFSelf(nn.Module):
    def __init__(self):
        super().__init__()
        self.query, self.key, self.value = nn.Linear(D, D), nn.Linear(D, D), nn.Linear(D, D)


class HFDense(nn.Module):
    def __init__(self, i, o):
        super().__init__()
        self.dense = nn.Linear(i, o)


class HFAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.attention, self.output = HFSelf(), HFDense(D, D)


class HFLayer(nn.Module):
    def __init__(self, eps):
        super().__init__()
        self.attention, self.intermediate, self.output = HFAttention(), HFDense(D, MLP), HFDense(MLP, D)
        self.layernorm_before, self.layernorm_after = nn.LayerNorm(D, eps=eps), nn.LayerNorm(D, eps=eps)

    def forward(self, x):
        h = self.layernorm_before(x)
        s = self.attention.attention
        x = x + self.attention.output.dense(attend(s.query(h), s.key(h), s.value(h)))
        return x + self.output.dense(nn.functional.gelu(self.intermediate.dense(self.layernorm_after(x))))


class HFPatch(nn.Module):
    def __init__(self):
        super().__init__()
        self.projection = nn.Conv2d(3, D, P, P)


class HFEmbeddings(nn.Module):
    def __init__(self, dist):
        super().__init__()
        self.cls_token = nn.Parameter(torch.zeros(1, 1, D))
        if dist:
            self.distillation_token = nn.Parameter(torch.zeros(1, 1, D))
        self.position_embeddings = nn.Parameter(torch.zeros(1, G * G + (2 if dist else 1), D))
        self.patch_embeddings = HFPatch()


class HFEncoder(nn.Module):
    def __init__(self, eps):
        super().__init__()
        self.layer = nn.ModuleList([HFLayer(eps) for _ in range(DEPTH)])


class HFModel(nn.Module):
    def __init__(self, dist, eps):
        super().__init__()
        self.embeddings, self.encoder, self.layernorm = HFEmbeddings(dist), HFEncoder(eps), nn.LayerNorm(D, eps=eps)

    def forward(self, img):
        e = self.embeddings
        x = e.patch_embeddings.projection(img).flatten(2).transpose(1, 2)
        pre = [e.cls_token] + ([e.distillation_token] if hasattr(e, 'distillation_token') else [])
        x = torch.cat([t.expand(x.shape[0], -1, -1) for t in pre] + [x], dim=1) + e.position_embeddings
        for layer in self.encoder.layer:
            x = layer(x)
        return self.layernorm(x), None


class HFViTForImageClassification(nn.Module):
    def __init__(self):
        super().__init__()
        self.vit, self.classifier = HFModel(False, HF_EPS), nn.Linear(D, CLASSES)
        self.forward = self.vit.forward


class HFDeiTWithTeacher(nn.Module):
    def __init__(self):
        super().__init__()
        self.deit = HFModel(True, HF_EPS)
        self.cls_classifier, self.distillation_classifier = nn.Linear(D, CLASSES), nn.Linear(D, CLASSES)
        self.forward = self.deit.forward


class ResNetLike(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(3, 8, 3, bias=False), nn.BatchNorm2d(8)
        self.layer1 = nn.ModuleList([nn.ModuleDict({'conv1': nn.Conv2d(8, 8, 3, bias=False), 'bn1': nn.BatchNorm2d(8)})])
        self.fc = nn.Linear(8, CLASSES)


# --- filling, writing ----------------------------------------------------------------------------------------
def fill(model, seed):
    """Seeded, non-trivial values: biases ≠ 0, norms ≠ 1, layer-scale gammas in [0.5, 1.5), random bias tables."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters()):
            r = torch.randn(p.shape, generator=g)
            leaf = name.rsplit('.', 1)[-1]
            if p.ndim == 1 and ('norm' in name or 'layernorm' in name) and leaf == 'weight':
                p.copy_(1 + 0.1 * r)
            elif leaf in ('gamma', 'gamma_1', 'gamma_2'):
                p.copy_(0.5 + torch.rand(p.shape, generator=g))
            elif p.ndim >= 2 and leaf.startswith('weight'):
                p.copy_(r / math.sqrt(p[0].numel()))
            else:  # biases, tokens, position embeddings, relative position bias tables
                p.copy_(0.3 * r)
    return model


def flatten(obj, prefix=''):
    """Nested dicts of tensors → one flat {dotted.key: tensor} (how a checkpoint reader presents a .pth)."""
    out = {}
    for k, v in obj.items():
        if isinstance(v, dict):
            out.update(flatten(v, f'{prefix}{k}.'))
        elif torch.is_tensor(v):
            out[prefix + k] = v
    return out


def write_safetensors(path, sd):
    """The safetensors format, by hand: u64 LE header length, JSON header (space-padded to 8 bytes), raw LE data."""
    codes = {torch.float32: 'F32', torch.int64: 'I64'}
    header, blobs, off = {'__metadata__': {'format': 'pt'}}, [], 0
    for k, t in sd.items():
        a = t.detach().cpu().contiguous().numpy()
        b = a.astype(a.dtype.newbyteorder('<')).tobytes()
        header[k] = {'dtype': codes[t.dtype], 'shape': list(t.shape), 'data_offsets': [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(',', ':')).encode()
    h += b' ' * (-len(h) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)) + h + b''.join(blobs))


def r7(a):
    return [float(f'{x:.7g}') for x in np.asarray(a, dtype=np.float64).ravel()]


def reference(name, model, spec, forward, image):
    with torch.no_grad():
        tokens, pooled = model.double()(image.double())
    model.float()
    ref = {'name': name, 'spec': spec, 'forward': forward,
           'input': {'shape': list(image.shape), 'data': r7(image)},
           'tokens': {'shape': list(tokens.shape), 'data': r7(tokens)}}
    if pooled is not None:
        ref['pooled'] = {'shape': list(pooled.shape), 'data': r7(pooled)}
    with open(os.path.join(OUT, name + '.ref.json'), 'w') as f:
        json.dump(ref, f, separators=(',', ':'))


def spec_of(**kw):
    base = dict(family='vit', layout='timm', embedDim=D, depth=DEPTH, numHeads=HEADS, mlpRatio=MLP / D, patchSize=P,
                inChans=3, grid=[G, G], hasClsToken=True, hasDistToken=False, qkvBias='qkv', layerScale=False,
                absPosEmbed=True, relPosBias='none', normEps=TIMM_EPS, fcNorm=False)
    base.update(kw)
    return base


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if f.endswith(('.safetensors', '.pth', '.bin', '.json')):
            os.remove(os.path.join(OUT, f))
    image = torch.randn(1, 3, IMG, IMG, generator=torch.Generator().manual_seed(1234))
    manifest = {}

    def emit(name, model, spec, native=None, wrap=None, test_sd=None, fwd=None, config=None, ref_model=None):
        sd = model.state_dict()
        test_sd = test_sd if test_sd is not None else (flatten(wrap(sd)) if wrap else dict(sd))
        write_safetensors(os.path.join(OUT, name + '.safetensors'), test_sd)
        files = [name + '.safetensors']
        if native:
            torch.save(wrap(sd) if wrap else sd, os.path.join(OUT, native))
            files.append(native)
        if config is not None:
            with open(os.path.join(OUT, name + '.config.json'), 'w') as f:
                json.dump(config, f, indent=1)
            files.append(name + '.config.json')
        if spec is not None:
            reference(name, ref_model or model, spec, fwd, image)
            files.append(name + '.ref.json')
        manifest[name] = {'files': files, 'keys': len(test_sd)}

    timm_fwd = {'normEps': TIMM_EPS, 'tokens': 'after the final norm'}
    emit('timm_vit', fill(TimmViT(ls='timm'), 1), spec_of(layerScale=True), native='timm_vit.pth', fwd=timm_fwd)
    emit('timm_deit_distilled', fill(TimmViT(dist=True), 2), spec_of(family='deit', hasDistToken=True), fwd=dict(timm_fwd, order='[cls, dist, patches]'))
    emit('dino_vitmicro4_pretrain', fill(TimmViT(head=None), 3), spec_of(family='dino', layout='dino-original'),
         native='dino_vitmicro4_pretrain.pth', fwd=timm_fwd)
    teacher, student = fill(DinoWrapper(), 4), fill(DinoWrapper(), 5)
    full = {'student': {'module.' + k: v for k, v in student.state_dict().items()}, 'teacher': teacher.state_dict(),
            'epoch': 1}
    torch.save(full, os.path.join(OUT, 'dino_vitmicro4_checkpoint.pth'))
    emit('dino_vitmicro4_checkpoint', teacher, spec_of(family='dino', layout='dino-original'),
         test_sd=flatten(full), ref_model=teacher.backbone, fwd=dict(timm_fwd, weights='teacher.backbone'))
    manifest['dino_vitmicro4_checkpoint']['files'].append('dino_vitmicro4_checkpoint.pth')
    emit('beit_timm', fill(TimmViT(ls='beit', beit=True, rel='per-layer', pos=False, norm='fc_norm'), 6),
         spec_of(family='beit', qkvBias='qv', layerScale=True, absPosEmbed=False, relPosBias='per-layer', fcNorm=True),
         fwd=dict(timm_fwd, tokens='last block output (no final norm: norm is Identity when fc_norm is used)',
                  pooled='fc_norm(mean of patch tokens)'))
    emit('beit_original', fill(TimmViT(ls='beit', beit=True, rel='shared', pos=False, head='lm_head', mask=True), 7),
         spec_of(family='beit', layout='beit-original', qkvBias='qv', layerScale=True, absPosEmbed=False,
                 relPosBias='shared'),
         native='beit_original.pth', wrap=lambda sd: {'model': sd}, fwd=dict(timm_fwd, relPosBias='shared table'))
    hf_cfg = dict(architectures=['ViTForImageClassification'], model_type='vit', hidden_size=D, num_hidden_layers=DEPTH,
                  num_attention_heads=HEADS, intermediate_size=MLP, hidden_act='gelu', layer_norm_eps=HF_EPS,
                  image_size=IMG, patch_size=P, num_channels=3, qkv_bias=True)
    hf_fwd = {'normEps': HF_EPS, 'tokens': 'after the final layernorm (vit.layernorm / deit.layernorm)'}
    emit('hf_vit', fill(HFViTForImageClassification(), 8), spec_of(layout='hf-vit', normEps=HF_EPS),
         native='hf_vit.pytorch_model.bin', config=hf_cfg, fwd=hf_fwd)
    deit_cfg = {k: v for k, v in hf_cfg.items() if k != 'layer_norm_eps'}  # default 1e-12 applies
    deit_cfg.update(architectures=['DeiTForImageClassificationWithTeacher'], model_type='deit')
    emit('hf_deit', fill(HFDeiTWithTeacher(), 9),
         spec_of(family='deit', layout='hf-deit', hasDistToken=True, normEps=HF_EPS),
         native='hf_deit.pytorch_model.bin', config=deit_cfg, fwd=dict(hf_fwd, order='[cls, dist, patches]'))
    emit('resnet_like', fill(ResNetLike(), 10), None, native='resnet_like.pth')
    emit_swin(manifest)
    with open(os.path.join(OUT, 'manifest.json'), 'w') as f:
        json.dump({'micro': dict(embedDim=D, depth=DEPTH, numHeads=HEADS, patchSize=P, imgSize=IMG, mlpHidden=MLP,
                                 classes=CLASSES), 'fixtures': manifest}, f, indent=1)
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print(f'wrote {len(os.listdir(OUT))} files, {total} bytes to {os.path.normpath(OUT)}')


# --- Swin and Video Swin (issue 13) ------------------------------------------------------------------------------
# One canonical micro state per family (timm >= 0.9 names, see models/CANONICAL_KEYS.md), filled from a seed; every
# layout is that same state under the layout's own names (and wrappers, buffers, heads), so every layout must map back
# to identical values. The renamings below are written from each release's published key names, not from our TS maps.
SW_C, SW_DEPTHS, SW_HEADS, SW_MLP, SW_IMG, SW_CLASSES = 4, [2, 2, 1, 1], [1, 1, 2, 2], 2, 32, 5
SW_WIN2, SW_WIN3, SW_PD = 2, [2, 2, 2], 2  # 2D window 2x2 (9 table rows); 3D window 2x2x2 (27 rows); temporal patch 2


def swin_canonical(video, seed):
    """Canonical micro Swin (video=False) or Video Swin (video=True) state: name -> tensor, seeded, non-trivial."""
    g = torch.Generator().manual_seed(seed)
    shapes = [('patch_embed.proj.weight', [SW_C, 3] + ([SW_PD] if video else []) + [P, P]), ('patch_embed.proj.bias', [SW_C]),
              ('patch_embed.norm.weight', [SW_C]), ('patch_embed.norm.bias', [SW_C])]
    rows = (2 * SW_WIN3[0] - 1) * (2 * SW_WIN3[1] - 1) * (2 * SW_WIN3[2] - 1) if video else (2 * SW_WIN2 - 1) ** 2
    for s, (depth, heads) in enumerate(zip(SW_DEPTHS, SW_HEADS)):
        c = SW_C * 2 ** s
        if s > 0:  # merging at the START of stage s (timm >= 0.9): LayerNorm(4C_{s-1}), Linear(4C_{s-1} -> C_s, no bias)
            shapes += [(f'layers.{s}.downsample.norm.weight', [2 * c]), (f'layers.{s}.downsample.norm.bias', [2 * c]),
                       (f'layers.{s}.downsample.reduction.weight', [c, 2 * c])]
        for b in range(depth):
            k = f'layers.{s}.blocks.{b}.'
            shapes += [(k + 'norm1.weight', [c]), (k + 'norm1.bias', [c]), (k + 'attn.qkv.weight', [3 * c, c]),
                       (k + 'attn.qkv.bias', [3 * c]), (k + 'attn.relative_position_bias_table', [rows, heads]),
                       (k + 'attn.proj.weight', [c, c]), (k + 'attn.proj.bias', [c]), (k + 'norm2.weight', [c]),
                       (k + 'norm2.bias', [c]), (k + 'mlp.fc1.weight', [SW_MLP * c, c]), (k + 'mlp.fc1.bias', [SW_MLP * c]),
                       (k + 'mlp.fc2.weight', [c, SW_MLP * c]), (k + 'mlp.fc2.bias', [c])]
    last = SW_C * 2 ** (len(SW_DEPTHS) - 1)
    shapes += [('norm.weight', [last]), ('norm.bias', [last]), ('head.weight', [SW_CLASSES, last]), ('head.bias', [SW_CLASSES])]
    out = {}
    for name, shape in shapes:
        r = torch.randn(shape, generator=g)
        leaf = name.rsplit('.', 1)[-1]
        if len(shape) == 1 and 'norm' in name and leaf == 'weight':
            out[name] = 1 + 0.1 * r
        elif len(shape) >= 2 and leaf == 'weight':
            out[name] = r / math.sqrt(r[0].numel())
        else:  # biases and relative position bias tables
            out[name] = 0.3 * r
    return out


def swin_rel_index(win):
    """relative_position_index [N, N] of a window (2D or 3D), N = its volume, row-major offsets (a buffer to drop)."""
    coords = torch.stack(torch.meshgrid(*[torch.arange(w) for w in win], indexing='ij')).flatten(1)
    rel = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0)
    idx = torch.zeros(rel.shape[:2], dtype=torch.int64)
    for a, w in enumerate(win):
        idx = idx * (2 * w - 1) + rel[:, :, a] + w - 1
    return idx


def swin_attn_mask(grid, win):
    """The original release's attn_mask buffer of a shifted block [nW, N, N] (0 / -100), only its shape matters."""
    nw = (grid // win) ** 2
    return torch.zeros(nw, win * win, win * win)


def to_end_of_stage(sd):
    """timm >= 0.9 -> original release names: the merging that starts stage s is stored at the end of stage s-1."""
    out = {}
    for k, v in sd.items():
        m = re.match(r'layers\.(\d+)\.downsample\.(.*)$', k)
        out[f'layers.{int(m.group(1)) - 1}.downsample.{m.group(2)}' if m else k] = v
    return out


def with_buffers(sd, video, masks):
    """Adds the persistent buffers of the original releases: relative_position_index per block, attn_mask (2D,
    shifted blocks where the stage grid exceeds the window)."""
    out = {}
    for k, v in sd.items():
        out[k] = v
        m = re.match(r'layers\.(\d+)\.blocks\.(\d+)\.attn\.relative_position_bias_table$', k)
        if m:
            s, b = int(m.group(1)), int(m.group(2))
            out[k.replace('relative_position_bias_table', 'relative_position_index')] = swin_rel_index(SW_WIN3 if video else [SW_WIN2, SW_WIN2])
            grid = SW_IMG // P // 2 ** s
            if masks and b % 2 == 1 and grid > SW_WIN2:
                out[f'layers.{s}.blocks.{b}.attn_mask'] = swin_attn_mask(grid, SW_WIN2)
    return out


def hf_swin(sd):
    """Hugging Face SwinForImageClassification names (q, k, v split; merging at the end of stage s-1)."""
    out = {}
    for k, v in to_end_of_stage(sd).items():
        m = re.match(r'layers\.(\d+)\.blocks\.(\d+)\.(.*)$', k)
        if m:
            pre, leaf = f'swin.encoder.layers.{m.group(1)}.blocks.{m.group(2)}.', m.group(3)
            if leaf.startswith('attn.qkv.'):
                for part, t in zip(('query', 'key', 'value'), v.chunk(3, 0)):
                    out[pre + 'attention.self.' + part + leaf[len('attn.qkv'):]] = t.clone()
                continue
            if leaf == 'attn.relative_position_bias_table':
                out[pre + 'attention.self.relative_position_bias_table'] = v
                out[pre + 'attention.self.relative_position_index'] = swin_rel_index([SW_WIN2, SW_WIN2])
                continue
            name = {'norm1': 'layernorm_before', 'attn.proj': 'attention.output.dense', 'norm2': 'layernorm_after',
                    'mlp.fc1': 'intermediate.dense', 'mlp.fc2': 'output.dense'}[leaf.rsplit('.', 1)[0]]
            out[pre + name + '.' + leaf.rsplit('.', 1)[1]] = v
            continue
        m = re.match(r'layers\.(\d+)\.downsample\.(.*)$', k)
        if m:
            out[f'swin.encoder.layers.{m.group(1)}.downsample.{m.group(2)}'] = v
            continue
        name = {'patch_embed.proj': 'swin.embeddings.patch_embeddings.projection', 'patch_embed.norm': 'swin.embeddings.norm',
                'norm': 'swin.layernorm', 'head': 'classifier'}[k.rsplit('.', 1)[0]]
        out[name + '.' + k.rsplit('.', 1)[1]] = v
    return out


def torchvision_swin3d(sd):
    """torchvision SwinTransformer3d names: features.{2s} = stage s's blocks, features.{2s+1} = the merging after it,
    mlp.0 / mlp.3 (torchvision's MLP: Linear, GELU, Dropout, Linear, Dropout)."""
    out = {}
    for k, v in to_end_of_stage(sd).items():
        m = re.match(r'layers\.(\d+)\.blocks\.(\d+)\.(.*)$', k)
        if m:
            leaf = m.group(3).replace('mlp.fc1.', 'mlp.0.').replace('mlp.fc2.', 'mlp.3.')
            out[f'features.{2 * int(m.group(1))}.{m.group(2)}.{leaf}'] = v
            if leaf == 'attn.relative_position_bias_table':
                out[f'features.{2 * int(m.group(1))}.{m.group(2)}.attn.relative_position_index'] = swin_rel_index(SW_WIN3)
            continue
        m = re.match(r'layers\.(\d+)\.downsample\.(.*)$', k)
        out[f'features.{2 * int(m.group(1)) + 1}.{m.group(2)}' if m else k] = v
    return out


def torchvision_swin(sd):
    """torchvision 2D SwinTransformer names: features.0 = [Conv2d, Permute, LayerNorm], features.{2s+1} = stage s's
    blocks, features.{2s+2} = the merging after it, mlp.0 / mlp.3, relative_position_index flattened [N*N]."""
    out = {}
    for k, v in to_end_of_stage(sd).items():
        m = re.match(r'layers\.(\d+)\.blocks\.(\d+)\.(.*)$', k)
        if m:
            leaf = m.group(3).replace('mlp.fc1.', 'mlp.0.').replace('mlp.fc2.', 'mlp.3.')
            out[f'features.{2 * int(m.group(1)) + 1}.{m.group(2)}.{leaf}'] = v
            if leaf == 'attn.relative_position_bias_table':
                out[f'features.{2 * int(m.group(1)) + 1}.{m.group(2)}.attn.relative_position_index'] = swin_rel_index([SW_WIN2, SW_WIN2]).flatten()
            continue
        m = re.match(r'layers\.(\d+)\.downsample\.(.*)$', k)
        if m:
            out[f'features.{2 * int(m.group(1)) + 2}.{m.group(2)}'] = v
            continue
        name = {'patch_embed.proj': 'features.0.0', 'patch_embed.norm': 'features.0.2'}.get(k.rsplit('.', 1)[0])
        out[name + '.' + k.rsplit('.', 1)[1] if name else k] = v
    return out


def emit_swin(manifest):
    def save(name, test_sd, native=None, obj=None, config=None, note=''):
        write_safetensors(os.path.join(OUT, name + '.safetensors'), test_sd)
        files = [name + '.safetensors']
        if native:
            torch.save(obj, os.path.join(OUT, native))
            files.append(native)
        if config is not None:
            with open(os.path.join(OUT, name + '.config.json'), 'w') as f:
                json.dump(config, f, indent=1)
            files.append(name + '.config.json')
        manifest[name] = {'files': files, 'keys': len(test_sd), 'note': note}

    swin = swin_canonical(False, 21)
    timm09 = {k.replace('head.', 'head.fc.'): v for k, v in swin.items()}  # timm >= 0.9: ClassifierHead 'head.fc'
    timm_cfg = {'architecture': 'swin_micro_patch4_window2_32', 'num_classes': SW_CLASSES, 'num_features': SW_C * 8,
                'model_args': {'embed_dim': SW_C, 'depths': SW_DEPTHS, 'num_heads': SW_HEADS, 'window_size': SW_WIN2,
                               'mlp_ratio': SW_MLP},
                'pretrained_cfg': {'tag': 'micro', 'input_size': [3, SW_IMG, SW_IMG], 'license': 'mit'}}
    save('swin_timm', timm09, config=timm_cfg, note='timm >= 0.9 names (the canonical ones), head.fc')
    legacy = with_buffers(to_end_of_stage(swin), False, True)
    save('swin_timm_legacy', legacy, note='timm < 0.9: merging at the end of stage s-1, attn_mask and relative_position_index buffers')
    save('swin_original', flatten({'model': legacy}), native='swin_micro_patch4_window2_32.pth', obj={'model': legacy},
         note="the Swin release: {'model': ...}, original names and buffers")
    hf = hf_swin(swin)
    hf_cfg = dict(architectures=['SwinForImageClassification'], model_type='swin', image_size=SW_IMG, patch_size=P,
                  num_channels=3, embed_dim=SW_C, depths=SW_DEPTHS, num_heads=SW_HEADS, window_size=SW_WIN2,
                  mlp_ratio=float(SW_MLP), qkv_bias=True, hidden_act='gelu', use_absolute_embeddings=False,
                  layer_norm_eps=1e-5)
    save('hf_swin', hf, native='hf_swin.pytorch_model.bin', obj=hf, config=hf_cfg, note='SwinForImageClassification')
    tv2 = torchvision_swin(swin)
    save('torchvision_swin', tv2, native='torchvision_swin.pth', obj=tv2, note='torchvision SwinTransformer (swin_t/s/b)')

    video = swin_canonical(True, 22)
    mm = {'backbone.' + k: v for k, v in with_buffers(to_end_of_stage({k: v for k, v in video.items() if not k.startswith('head.')}), True, False).items()}
    mm['cls_head.fc_cls.weight'], mm['cls_head.fc_cls.bias'] = video['head.weight'], video['head.bias']
    mm_obj = {'meta': {'epoch': 30, 'iter': 1200, 'mmcv_version': '1.3.1'}, 'state_dict': mm}
    save('videoswin_original', flatten({'state_dict': mm}), native='swin_micro_patch244_window222_kinetics.pth', obj=mm_obj,
         note="mmaction: {'meta', 'state_dict'}, backbone. prefix, cls_head, relative_position_index buffers")
    tv = torchvision_swin3d(video)
    save('torchvision_swin3d', tv, native='torchvision_swin3d.pth', obj=tv, note='torchvision SwinTransformer3d')
    manifest['swin_micro'] = {'embedDim': SW_C, 'depths': SW_DEPTHS, 'heads': SW_HEADS, 'mlpRatio': SW_MLP,
                              'patchSize': P, 'window2d': [SW_WIN2, SW_WIN2], 'window3d': SW_WIN3, 'patchDepth': SW_PD,
                              'imgSize': SW_IMG}


if __name__ == '__main__':
    main()
