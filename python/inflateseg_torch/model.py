"""The model twin of src/model/: an inflated ViT encoder (ViT/DeiT/DINO with class and distillation tokens, BEiT with
relative position bias and layer scale) and the 'unetr' or 'uper' head, built from a checkpoint's `config`.
Attribute names ARE the checkpoint keys (timm's for the encoder, `decode_head.*` for the head), so loading is a
strict, rename-free `load_state_dict`. Input x is [B, C_in, T, H, W] (PyTorch's Conv3d layout); output the logits
[B, classes, H, W] of each window's centre slice.
"""
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class EncoderConfig:
    family: str = 'vit'          # 'vit', 'deit', 'dino', 'beit' (the layout the app converted)
    embed_dim: int = 192          # token width D
    depth: int = 12               # transformer blocks
    num_heads: int = 3            # attention heads (D divisible by it)
    mlp_ratio: float = 4.0        # MLP hidden = round(mlp_ratio · D)
    patch_size: int = 16          # in-plane patch P
    cls_token: bool = True        # a class token first
    dist_token: bool = False      # DeiT's distillation token after it
    qkv_bias: str = 'qkv'         # 'qkv' one bias, 'qv' BEiT's q_bias + v_bias (k has none), 'none'
    layer_scale: bool = False     # per-channel γ on both residual branches (ls1/ls2.gamma, BEiT gamma_1/2)
    abs_pos_embed: bool = True    # learned absolute position embedding (ViT, DeiT, DINO)
    rel_pos_bias: str = 'none'    # BEiT relative position bias: 'per-layer', 'shared' or 'none'
    norm_eps: float = 1e-6        # LayerNorm eps (1e-12 for Hugging Face ViTs)
    fc_norm: bool = False         # BEiT's fc_norm instead of the final norm (neither is used by segmentation)


@dataclass
class ModelConfig:
    encoder: EncoderConfig
    T: int = 5                    # slices per window = depth of the patch kernel
    in_chans: int = 1             # input channels (modalities)
    img_size: int = 224           # in-plane input side, a multiple of the patch size
    num_classes: int = 2          # classes including background
    decoder: str = 'unetr'        # 'unetr' (light 2D head) or 'uper' (UPerNet as in the paper)
    decoder_width: int = 64       # channels of the head
    feature_blocks: tuple = (4, 6, 8, 12)  # 1-based blocks feeding the head, shallow to deep

    @property
    def grid(self):
        return self.img_size // self.encoder.patch_size

    @staticmethod
    def from_json(c):
        """From a checkpoint's `config` metadata (src/model/config.ts ModelConfig)."""
        e = c['encoder']
        enc = EncoderConfig(
            family=e['family'], embed_dim=e['embedDim'], depth=e['depth'], num_heads=e['numHeads'], mlp_ratio=e['mlpRatio'],
            patch_size=e['patchSize'], cls_token=e['hasClsToken'], dist_token=e['hasDistToken'], qkv_bias=e['qkvBias'],
            layer_scale=e['layerScale'], abs_pos_embed=e['absPosEmbed'], rel_pos_bias=e['relPosBias'], norm_eps=e['normEps'],
            fc_norm=e['fcNorm'])
        cfg = ModelConfig(encoder=enc, T=c['T'], in_chans=c['inChans'], img_size=c['imgSize'], num_classes=c['numClasses'],
                          decoder=c.get('decoder', 'unetr'), decoder_width=c.get('decoderWidth', 64), feature_blocks=tuple(c['featureBlocks']))
        if cfg.img_size % enc.patch_size or enc.embed_dim % enc.num_heads:
            raise ValueError(f'model config: imgSize {cfg.img_size} must be a multiple of the patch {enc.patch_size}, embedDim {enc.embed_dim} of numHeads {enc.num_heads}')
        if cfg.decoder not in ('unetr', 'uper'):
            raise ValueError(f"model config: decoder must be 'unetr' or 'uper', found {cfg.decoder!r}")
        if len(cfg.feature_blocks) != 4 or not all(1 <= b <= enc.depth for b in cfg.feature_blocks):
            raise ValueError(f'model config: featureBlocks must be 4 blocks in 1…{enc.depth}, found {list(cfg.feature_blocks)}')
        if enc.rel_pos_bias != 'none' and (not enc.cls_token or enc.dist_token):
            raise ValueError('model config: relative position bias needs exactly one class token (BEiT index)')
        return cfg


# --- encoder ------------------------------------------------------------------------------------------------------

def relative_position_index(g):
    """BEiT's index [(g²+1)²] into a table of (2g−1)² + 3 rows: patch pairs by offset, then cls→token, token→cls, cls→cls."""
    ys, xs = torch.meshgrid(torch.arange(g), torch.arange(g), indexing='ij')
    coords = torch.stack([ys.flatten(), xs.flatten()])            # [2, g²]
    rel = coords[:, :, None] - coords[:, None, :] + (g - 1)        # [2, g², g²]
    rows = (2 * g - 1) ** 2 + 3
    index = torch.zeros(g * g + 1, g * g + 1, dtype=torch.long)
    index[1:, 1:] = rel[0] * (2 * g - 1) + rel[1]
    index[0, 1:] = rows - 3
    index[1:, 0] = rows - 2
    index[0, 0] = rows - 1
    return index.flatten()


class RelativePositionBias(nn.Module):
    """A table [(2g−1)² + 3, heads] gathered to a bias [heads, N, N] (BEiT)."""

    def __init__(self, g, heads):
        super().__init__()
        self.g = g
        self.relative_position_bias_table = nn.Parameter(torch.zeros((2 * g - 1) ** 2 + 3, heads))
        self.register_buffer('relative_position_index', relative_position_index(g), persistent=False)

    def forward(self):
        n = self.g * self.g + 1
        return self.relative_position_bias_table[self.relative_position_index].reshape(n, n, -1).permute(2, 0, 1)


class Attention(nn.Module):
    def __init__(self, d, heads, qkv_bias, rel_table_grid=None):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(d, 3 * d, bias=qkv_bias == 'qkv')
        if qkv_bias == 'qv':  # BEiT: q and v biases, k none
            self.q_bias = nn.Parameter(torch.zeros(d))
            self.v_bias = nn.Parameter(torch.zeros(d))
        self.proj = nn.Linear(d, d)
        if rel_table_grid is not None:  # a table per layer: blocks.i.attn.relative_position_bias_table
            self.g = rel_table_grid
            self.relative_position_bias_table = nn.Parameter(torch.zeros((2 * rel_table_grid - 1) ** 2 + 3, heads))
            self.register_buffer('relative_position_index', relative_position_index(rel_table_grid), persistent=False)

    def forward(self, x, rel_bias=None):
        b, n, d = x.shape
        bias = self.qkv.bias
        if hasattr(self, 'q_bias'):
            bias = torch.cat([self.q_bias, torch.zeros_like(self.v_bias), self.v_bias])
        q, k, v = F.linear(x, self.qkv.weight, bias).reshape(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        a = (q @ k.transpose(-2, -1)) * (d // self.heads) ** -0.5
        if hasattr(self, 'relative_position_bias_table'):
            rel_bias = self.relative_position_bias_table[self.relative_position_index].reshape(n, n, -1).permute(2, 0, 1)
        if rel_bias is not None:
            a = a + rel_bias
        return self.proj((a.softmax(-1) @ v).transpose(1, 2).reshape(b, n, d))


class Mlp(nn.Module):
    def __init__(self, d, hidden):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(d, hidden), nn.Linear(hidden, d)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))


class LayerScale(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.gamma = nn.Parameter(torch.ones(d))

    def forward(self, x):
        return x * self.gamma


class Block(nn.Module):
    """Pre-norm block: x += γ1·attn(LN1(x)); x += γ2·MLP(LN2(x)); γ as ls1/ls2.gamma (timm) or gamma_1/2 (BEiT)."""

    def __init__(self, e: EncoderConfig, g):
        super().__init__()
        d = e.embed_dim
        self.norm1, self.norm2 = nn.LayerNorm(d, eps=e.norm_eps), nn.LayerNorm(d, eps=e.norm_eps)
        self.attn = Attention(d, e.num_heads, e.qkv_bias, g if e.rel_pos_bias == 'per-layer' else None)
        self.mlp = Mlp(d, round(e.mlp_ratio * d))
        self.beit_gamma = e.layer_scale and e.family == 'beit'
        if self.beit_gamma:
            self.gamma_1, self.gamma_2 = nn.Parameter(torch.ones(d)), nn.Parameter(torch.ones(d))
        elif e.layer_scale:
            self.ls1, self.ls2 = LayerScale(d), LayerScale(d)

    def forward(self, x, rel_bias=None):
        a = self.attn(self.norm1(x), rel_bias)
        if self.beit_gamma:
            x = x + self.gamma_1 * a
            return x + self.gamma_2 * self.mlp(self.norm2(x))
        if hasattr(self, 'ls1'):
            x = x + self.ls1(a)
            return x + self.ls2(self.mlp(self.norm2(x)))
        x = x + a
        return x + self.mlp(self.norm2(x))


class PatchEmbed3d(nn.Module):
    """The inflated patch embedding: Conv3d with kernel = stride = (T, P, P), one token per in-plane patch, row-major."""

    def __init__(self, in_chans, d, T, P):
        super().__init__()
        self.proj = nn.Conv3d(in_chans, d, (T, P, P), stride=(T, P, P))

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)  # [B, g², D]


class SegModel(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        e, g = cfg.encoder, cfg.grid
        d = e.embed_dim
        self.prefix = int(e.cls_token) + int(e.dist_token)
        self.patch_embed = PatchEmbed3d(cfg.in_chans, d, cfg.T, e.patch_size)
        if e.cls_token:
            self.cls_token = nn.Parameter(torch.zeros(1, 1, d))
        if e.dist_token:
            self.dist_token = nn.Parameter(torch.zeros(1, 1, d))
        if e.abs_pos_embed:
            self.pos_embed = nn.Parameter(torch.zeros(1, self.prefix + g * g, d))
        if e.rel_pos_bias == 'shared':
            self.rel_pos_bias = RelativePositionBias(g, e.num_heads)
        self.blocks = nn.ModuleList(Block(e, g) for _ in range(e.depth))
        # NOTE: the final norm (or BEiT's fc_norm) is kept so that the checkpoint round-trips; the head taps raw block outputs.
        if e.fc_norm:
            self.fc_norm = nn.LayerNorm(d, eps=e.norm_eps)
        else:
            self.norm = nn.LayerNorm(d, eps=e.norm_eps)
        self.decode_head = UperHead(d, cfg.decoder_width, cfg.num_classes) if cfg.decoder == 'uper' else UnetrHead(d, cfg.decoder_width, cfg.num_classes)
        self.freeze_unused()

    def freeze_unused(self):
        """Parameters the forward never reads get no gradient (as the app's): the final norm, blocks past the last tap."""
        last = max(self.cfg.feature_blocks)
        for name, p in self.named_parameters():
            if name.startswith(('norm.', 'fc_norm.')) or (name.startswith('blocks.') and int(name.split('.')[1]) >= last):
                p.requires_grad_(False)

    def forward_intermediates(self, x, blocks):
        b = x.shape[0]
        t = self.patch_embed(x)
        prefix = [tok.expand(b, -1, -1) for tok in (getattr(self, 'cls_token', None), getattr(self, 'dist_token', None)) if tok is not None]
        if prefix:
            t = torch.cat([*prefix, t], 1)
        if hasattr(self, 'pos_embed'):
            t = t + self.pos_embed
        rel = self.rel_pos_bias() if hasattr(self, 'rel_pos_bias') else None
        outs = []
        for blk in self.blocks[:max(blocks)]:
            t = blk(t, rel)
            outs.append(t)
        return [outs[i - 1] for i in blocks]

    def forward(self, x):
        cfg = self.cfg
        if x.dim() != 5 or tuple(x.shape[1:]) != (cfg.in_chans, cfg.T, cfg.img_size, cfg.img_size):
            raise ValueError(f'model: input must be [B, C={cfg.in_chans}, T={cfg.T}, H={cfg.img_size}, W={cfg.img_size}], found {list(x.shape)}')
        g = cfg.grid
        feats = self.forward_intermediates(x, cfg.feature_blocks)
        maps = [f[:, self.prefix:].transpose(1, 2).reshape(x.shape[0], -1, g, g) for f in feats]
        return resize(self.decode_head(maps), cfg.img_size, cfg.img_size)


# --- heads --------------------------------------------------------------------------------------------------------

def resize(x, h, w):
    """Bilinear, align_corners=False (the app's resizeBilinear); identity when the size matches."""
    if x.shape[-2:] == (h, w):
        return x
    return F.interpolate(x, size=(h, w), mode='bilinear', align_corners=False)


def max_pool2(x):
    """nn.MaxPool2d(2, 2) in floor mode; a side of 1 is passed through (as src/model/ops.ts maxPool2)."""
    kh, kw = (2 if x.shape[-2] >= 2 else 1), (2 if x.shape[-1] >= 2 else 1)
    return x if kh == kw == 1 else F.max_pool2d(x, (kh, kw), (kh, kw))


def conv(cin, cout, k, bias=True):
    return nn.Conv2d(cin, cout, k, padding=k // 2, bias=bias)


def conv_t(cin, cout):
    return nn.ConvTranspose2d(cin, cout, 2, stride=2)


class UnetrHead(nn.Module):
    """src/model/decoder.ts: lateral 1×1 convs, map 0 up ×4 (two ConvT, GELU between), map 1 up ×2, map 3 pooled ×½,
    top-down fuse x = GELU(conv3×3(resize(x) + map j)), 1×1 classifier."""

    def __init__(self, d, width, classes):
        super().__init__()
        self.lateral = nn.ModuleList(conv(d, width, 1) for _ in range(4))
        self.up = nn.ModuleList([nn.ModuleList([conv_t(width, width), conv_t(width, width)]), nn.ModuleList([conv_t(width, width)])])
        self.fuse = nn.ModuleList(conv(width, width, 3) for _ in range(3))
        self.conv_seg = conv(width, classes, 1)

    def forward(self, maps):
        lat = [m(x) for m, x in zip(self.lateral, maps)]
        levels = [self.up[0][1](F.gelu(self.up[0][0](lat[0]))), self.up[1][0](lat[1]), lat[2], max_pool2(lat[3])]
        x = levels[3]
        for j in (2, 1, 0):
            x = F.gelu(self.fuse[j](resize(x, *levels[j].shape[-2:]) + levels[j]))
        return self.conv_seg(x)


class ConvModule(nn.Module):
    """mmseg's ConvModule as src/model/uper.ts has it: conv without bias, LayerNorm over channels (eps 1e-5), ReLU."""

    def __init__(self, cin, cout, k):
        super().__init__()
        self.conv = conv(cin, cout, k, bias=False)
        self.norm = nn.LayerNorm(cout, eps=1e-5)

    def forward(self, x):
        return F.relu(self.norm(self.conv(x).permute(0, 2, 3, 1)).permute(0, 3, 1, 2))


POOL_SCALES = (1, 2, 3, 6)


class UperHead(nn.Module):
    """src/model/uper.ts: neck (×4, ×2, ×1, ×½), pyramid pooling + bottleneck, FPN, fused bottleneck, classifier."""

    def __init__(self, d, width, classes):
        super().__init__()
        self.fpn1 = nn.Sequential(conv_t(d, d), nn.GELU(), conv_t(d, d))
        self.fpn2 = nn.Sequential(conv_t(d, d))
        self.psp_modules = nn.ModuleList(nn.Sequential(nn.AdaptiveAvgPool2d(s), ConvModule(d, width, 1)) for s in POOL_SCALES)
        self.bottleneck = ConvModule(d + len(POOL_SCALES) * width, width, 3)
        self.lateral_convs = nn.ModuleList(ConvModule(d, width, 1) for _ in range(3))
        self.fpn_convs = nn.ModuleList(ConvModule(width, width, 3) for _ in range(3))
        self.fpn_bottleneck = ConvModule(4 * width, width, 3)
        self.conv_seg = conv(width, classes, 1)

    def forward(self, maps):
        f = [self.fpn1(maps[0]), self.fpn2(maps[1]), maps[2], max_pool2(maps[3])]
        top = f[3]
        ppm = [resize(m(top), *top.shape[-2:]) for m in self.psp_modules]
        lat = [m(x) for m, x in zip(self.lateral_convs, f[:3])] + [self.bottleneck(torch.cat([top, *ppm], 1))]
        for i in (3, 2, 1):
            lat[i - 1] = lat[i - 1] + resize(lat[i], *lat[i - 1].shape[-2:])
        outs = [m(x) for m, x in zip(self.fpn_convs, lat[:3])] + [lat[3]]
        return self.conv_seg(self.fpn_bottleneck(torch.cat([resize(o, *outs[0].shape[-2:]) for o in outs], 1)))


# --- loading ------------------------------------------------------------------------------------------------------

def load_weights(model, weights, source='checkpoint'):
    """Strict: every model parameter present, every checkpoint tensor used, every shape equal; errors name the keys."""
    own = dict(model.named_parameters())
    missing = [k for k in own if k not in weights]
    unknown = [k for k in weights if k not in own]
    if missing or unknown:
        raise ValueError(f'{source}: weights do not match the model' + (f'; missing: {", ".join(missing[:20])}' if missing else '')
                         + (f'; unknown: {", ".join(unknown[:20])}' if unknown else ''))
    for k, p in own.items():
        if tuple(weights[k].shape) != tuple(p.shape):
            raise ValueError(f"{source}: '{k}' has shape {list(weights[k].shape)}, the model needs {list(p.shape)}")
    with torch.no_grad():
        for k, p in own.items():
            p.copy_(weights[k])
    return model


def model_from_checkpoint(ckpt, source='checkpoint'):
    """The model of a Checkpoint (checkpoint.load_checkpoint), weights loaded strictly."""
    return load_weights(SegModel(ModelConfig.from_json(ckpt.config)), ckpt.weights, source)


def state_dict_for_checkpoint(model):
    """Parameters under their checkpoint names (timm's and decode_head.*), float32 on the CPU."""
    return {k: p.detach().to('cpu', torch.float32).clone() for k, p in model.named_parameters()}


def count_params(model):
    return sum(p.numel() for p in model.parameters())


__all__ = ['EncoderConfig', 'ModelConfig', 'SegModel', 'load_weights', 'model_from_checkpoint', 'state_dict_for_checkpoint',
           'count_params', 'relative_position_index']
