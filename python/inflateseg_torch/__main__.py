"""Command line: `python3 -m inflateseg_torch <command>`.

  info CKPT                      what a checkpoint holds (model, step, tensors)
  parity SPEC.json               the twin's logits against the app's (files written by test/unit/torch-twin.test.ts)
  train ...                      the trainer (see train.py; start it with torchrun for several processes)
  roundtrip IN OUT               read a checkpoint and write it back through this package (metadata round trip)
  bench [--size 128 --dim 192 --heads 3 --decoder unetr --threads 1 --reps 5]
                                 ms per training step of the twin (the trainer's step), shapes as bench/torch_step.py
"""
import json
import sys

import torch


def info(path):
    from .checkpoint import load_checkpoint
    from .model import count_params, model_from_checkpoint
    ckpt = load_checkpoint(path)
    model = model_from_checkpoint(ckpt, path)
    c, e = model.cfg, model.cfg.encoder
    print(f'{path}: {e.family} D {e.embed_dim} depth {e.depth} heads {e.num_heads} P {e.patch_size}, T {c.T}, {c.in_chans} channel(s), '
          f'{c.img_size} px, {c.num_classes} classes, {c.decoder} head w{c.decoder_width}, blocks {list(c.feature_blocks)}; '
          f'{count_params(model):,} parameters; step {ckpt.step}; optimiser state: {"step " + str(ckpt.optim_step) if ckpt.optim else "none"}')


def parity(spec_path):
    """For each case {checkpoint, input, logits, shape [B, T, H, W, C]}: max |twin − app| over the logits; prints JSON."""
    from .checkpoint import load_checkpoint
    from .model import model_from_checkpoint
    torch.set_num_threads(1)
    results = []
    for case in json.load(open(spec_path)):
        model = model_from_checkpoint(load_checkpoint(case['checkpoint']), case['checkpoint']).eval()
        B, T, H, W, C = case['shape']
        x = torch.from_numpy(_read_f32(case['input'])).reshape(B, T, H, W, C).permute(0, 4, 1, 2, 3)  # app layout → Conv3d layout
        with torch.no_grad():
            y = model(x).permute(0, 2, 3, 1)  # [B, H, W, K], the app's layout
        ref = torch.from_numpy(_read_f32(case['logits'])).reshape(y.shape)
        results.append({'name': case['name'], 'maxAbsDiff': (y - ref).abs().max().item(), 'maxAbsLogit': ref.abs().max().item(),
                        'shape': list(y.shape)})
    print(json.dumps(results))


def _read_f32(path):
    import numpy as np
    return np.fromfile(path, dtype='<f4').copy()


def roundtrip(src, dst):
    """Reads a checkpoint and writes it back (weights through the model, optimiser state and metadata as read)."""
    from .checkpoint import load_checkpoint, save_checkpoint
    from .model import model_from_checkpoint, state_dict_for_checkpoint
    ckpt = load_checkpoint(src)
    ckpt.weights = state_dict_for_checkpoint(model_from_checkpoint(ckpt, src))
    save_checkpoint(dst, ckpt)
    print(json.dumps({'step': ckpt.step, 'tensors': len(ckpt.weights) + len(ckpt.optim), 'meta': {k: ckpt.meta[k] for k in ('config', 'train', 'class_names', 'history')}}))


def bench(argv):
    """The trainer's step (model, seg_loss, clipping, AdamW with the app's groups) on random data, as bench/torch_step.py."""
    import argparse
    import statistics
    import time
    from .model import EncoderConfig, ModelConfig, SegModel
    from .train import make_optimizer, seg_loss
    ap = argparse.ArgumentParser(prog='inflateseg_torch bench')
    for k, v in (('size', 128), ('dim', 192), ('heads', 3), ('depth', 12), ('width', 64), ('T', 5), ('batch', 2), ('threads', 1), ('warmup', 2), ('reps', 5)):
        ap.add_argument(f'--{k}', type=int, default=v)
    ap.add_argument('--decoder', choices=('unetr', 'uper'), default='unetr')
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    enc = EncoderConfig(embed_dim=a.dim, depth=a.depth, num_heads=a.heads)
    blocks = tuple(max(1, round(a.depth * f)) for f in (1 / 3, 1 / 2, 2 / 3)) + (a.depth,)
    model = SegModel(ModelConfig(enc, T=a.T, in_chans=1, img_size=a.size, num_classes=8, decoder=a.decoder, decoder_width=a.width, feature_blocks=blocks))
    opt = make_optimizer(model, {'weightDecay': 0.05, 'layerDecay': 1}, a.depth)
    for g in opt.param_groups:
        g['lr'] = 1e-4
    trainable = [p for p in model.parameters() if p.requires_grad]
    x, y = torch.rand(a.batch, 1, a.T, a.size, a.size), torch.randint(0, 8, (a.batch, a.size, a.size))
    times = []
    for i in range(a.warmup + a.reps):
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = seg_loss(model(x), y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trainable, 1.0)
        opt.step()
        if i >= a.warmup:
            times.append((time.perf_counter() - t0) * 1000)
    print(f'inflateseg_torch twin, torch {torch.__version__} {a.threads} thread(s): ViT D {a.dim} depth {a.depth}, {a.size} px, T {a.T}, '
          f'batch {a.batch}, {a.decoder} head w{a.width}: median {statistics.median(times):.0f} ms/step (range {min(times):.0f}-{max(times):.0f}, {a.reps} steps)')


def main(argv):
    if not argv or argv[0] in ('-h', '--help', 'help'):
        print(__doc__)
        return 0 if argv else 2
    cmd, rest = argv[0], argv[1:]
    if cmd == 'info' and len(rest) == 1:
        info(rest[0])
    elif cmd == 'parity' and len(rest) == 1:
        parity(rest[0])
    elif cmd == 'roundtrip' and len(rest) == 2:
        roundtrip(*rest)
    elif cmd == 'bench':
        bench(rest)
    elif cmd == 'train':
        from .train import main as train_main
        return train_main(rest)
    else:
        print(f"inflateseg_torch: unknown command or wrong arguments: {' '.join(argv)}\n{__doc__}", file=sys.stderr)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
