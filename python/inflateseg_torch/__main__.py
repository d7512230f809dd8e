"""Command line: `python3 -m inflateseg_torch <command>`.

  info CKPT                      what a checkpoint holds (model, step, tensors)
  parity SPEC.json               the twin's logits against the app's (files written by test/unit/torch-twin.test.ts)
  train ...                      the trainer (see train.py; start it with torchrun for several processes)
  roundtrip IN OUT               read a checkpoint and write it back through this package (metadata round trip)
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
    elif cmd == 'train':
        from .train import main as train_main
        return train_main(rest)
    else:
        print(f"inflateseg_torch: unknown command or wrong arguments: {' '.join(argv)}\n{__doc__}", file=sys.stderr)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
