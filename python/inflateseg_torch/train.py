"""Continue an InflateSeg run in PyTorch, on one process or many:

    torchrun --nproc_per_node 2 -m inflateseg_torch.train --checkpoint model.safetensors --manifest dataset.json --steps 4000 --out out.safetensors

DistributedDataParallel (gloo on CPUs, NCCL on GPUs); each step draws the app's global batch (train.batch windows,
the app's seeded draws) and each process takes its share, so N processes compute the gradient of the same batch.
AdamW continues from the checkpoint's optimiser state with the app's update (src/train/optim/adamw.ts =
torch.optim.AdamW: decoupled decay, none on biases/norms/tokens/position tables/layer scale, global-norm clipping),
the schedule of src/train/optim/schedule.ts, and the checkpoint is written back in the app's format, history appended.
"""
import argparse
import math
import os
import re
import time

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F

from .checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from .data import Sampler, default_split, load_case, pair_files, read_manifest
from .model import model_from_checkpoint, state_dict_for_checkpoint

# --- schedule and parameter groups (schedule.ts, groups.ts) -------------------------------------------------------------


def lr_at(step, base_lr, total_steps, warmup, decay='linear', min_lr=0.0):
    # 1) linear warm-up: the update of step 0 has lr 0 (Hugging Face's get_linear_schedule_with_warmup)
    if step < warmup:
        return base_lr * step / warmup
    # 2) past the end of the run: the floor
    if step >= total_steps:
        return min_lr
    # 3) decay from base_lr to min_lr
    p = (step - warmup) / (total_steps - warmup)
    coeff = 1 - p if decay == 'linear' else 0.5 * (1 + math.cos(math.pi * p))
    return min_lr + coeff * (base_lr - min_lr)


NORM_SEGMENT = re.compile(r'^(.*norm.*|gn\d*|ln\d*|bn\d*|ln_\w+)$', re.I)
NO_DECAY_LEAF = re.compile(r'(^|_)bias$|^gamma(_\d+)?$')
NO_DECAY_PARAM = re.compile(r'^(pos_embed|absolute_pos_embed|cls_token|dist_token|mask_token|relative_position_bias_table)$')


def decays(name):
    """No decay for biases, norms, tokens, position tables and layer-scale gammas (groups.ts defaultDecay)."""
    *parents, leaf = name.split('.')
    if NO_DECAY_LEAF.search(leaf) or NO_DECAY_PARAM.match(leaf):
        return False
    return not any(NORM_SEGMENT.match(s) for s in parents)


def layer_multiplier(name, depth, decay):
    """Layer-wise lr decay: decay^(depth + 1 − layer), layer 0 for embeddings, i + 1 for blocks.i (groups.ts)."""
    if decay >= 1:
        return 1.0
    layer = depth + 1
    if re.match(r'^(patch_embed\.|pos_embed$|cls_token$|dist_token$|mask_token$|absolute_pos_embed$)', name):
        layer = 0
    elif m := re.match(r'^blocks\.(\d+)\.', name):
        layer = int(m.group(1)) + 1
    return decay ** (depth + 1 - layer)


def make_optimizer(model, train_cfg, depth):
    """torch.optim.AdamW, betas (0.9, 0.999), eps 1e-8; one parameter group per (weight decay, lr multiplier), each
    group listing its parameters' names (for the app's per-name optimiser state)."""
    groups = {}
    for name, p in model.named_parameters():
        if p.requires_grad:
            key = (train_cfg['weightDecay'] if decays(name) else 0.0, layer_multiplier(name, depth, train_cfg.get('layerDecay', 1)))
            g = groups.setdefault(key, {'params': [], 'names': [], 'weight_decay': key[0], 'lr_mult': key[1]})
            g['params'].append(p)
            g['names'].append(name)
    return torch.optim.AdamW(list(groups.values()), lr=0.0, betas=(0.9, 0.999), eps=1e-8)


def named_params(opt):
    return [(n, p) for g in opt.param_groups for n, p in zip(g['names'], g['params'])]


def load_optimizer_state(opt, optim, device):
    """The app's `optim.m/v/step.<name>` tensors into AdamW's state (exp_avg, exp_avg_sq, step); absent names start afresh."""
    for name, p in named_params(opt):
        if f'optim.m.{name}' not in optim:
            continue
        m, v, t = optim[f'optim.m.{name}'], optim[f'optim.v.{name}'], optim[f'optim.step.{name}']
        if m.shape != p.shape or v.shape != p.shape:
            raise ValueError(f'optimiser state of {name}: m {list(m.shape)}, v {list(v.shape)}, the parameter {list(p.shape)}')
        opt.state[p] = {'step': torch.tensor(float(t.item())), 'exp_avg': m.to(device).clone(), 'exp_avg_sq': v.to(device).clone()}


def optimizer_state(opt):
    out = {}
    for name, p in named_params(opt):
        s = opt.state.get(p)
        if s:
            out[f'optim.m.{name}'] = s['exp_avg'].detach().cpu().float().clone()
            out[f'optim.v.{name}'] = s['exp_avg_sq'].detach().cpu().float().clone()
            out[f'optim.step.{name}'] = torch.tensor(float(s['step']), dtype=torch.float32)
    return out


# --- loss and metrics (src/model/losses.ts, src/data/metrics/dice.ts) ---------------------------------------------------

def seg_loss(logits, labels, kind='dice-focal', ignore_background=False, gamma=2.0, smooth=1e-5):
    """logits [B, K, H, W], labels [B, H, W]: soft Dice per sample and class + softmax focal (or CE), as the app's."""
    k = logits.shape[1]
    logp = logits.log_softmax(1)
    onehot = F.one_hot(labels, k).permute(0, 3, 1, 2).to(logits.dtype)
    logpt = (logp * onehot).sum(1)
    if kind == 'ce':
        return -logpt.mean()
    p = logp.exp()
    inter, denom = (p * onehot).sum((2, 3)), p.sum((2, 3)) + onehot.sum((2, 3))
    if ignore_background:
        inter, denom = inter[:, 1:], denom[:, 1:]
    dice = 1 - ((2 * inter + smooth) / (denom + smooth)).mean()
    if kind == 'dice-ce':
        return dice - logpt.mean()
    return dice - ((1 - logpt.exp()) ** gamma * logpt).mean()


def dice_counts(pred, gt, k):
    inter = np.bincount(gt[pred == gt].ravel(), minlength=k)[:k]
    return inter, np.bincount(pred.ravel(), minlength=k)[:k], np.bincount(gt.ravel(), minlength=k)[:k]


def dice_from_counts(inter, pred, gt):
    """Pooled Dice per class (NaN when neither has the class) and the mean over foreground classes in the ground truth."""
    denom = pred + gt
    per = [float(2 * i / d) if d else float('nan') for i, d in zip(inter, denom)]
    over = [per[c] for c in range(1, len(per)) if gt[c] > 0]
    return per, (sum(over) / len(over) if over else float('nan'))


# --- data ---------------------------------------------------------------------------------------------------------

def load_cases(args, log):
    if args.manifest:
        entries = read_manifest(args.manifest)
    else:
        entries = [e for e in pair_files(args.data) if e['label']]
        split = default_split([e['id'] for e in entries], args.val_fraction)
        for e in entries:
            e['split'] = split[e['id']]
    if not entries:
        raise SystemExit('no labelled case: give --manifest (written by inflateseg export-torch) or image + label files')
    cases = [load_case(e['id'], e['images'], e['label'], e.get('split', 'train')) for e in entries]
    log(f'{len(cases)} case(s): {sum(c.split == "train" for c in cases)} training, {sum(c.split == "val" for c in cases)} validation')
    return cases


# --- the run ------------------------------------------------------------------------------------------------------

def parse_args(argv):
    ap = argparse.ArgumentParser(prog='inflateseg_torch.train', description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--checkpoint', required=True, help='model.safetensors written by the app, the CLI or this trainer')
    ap.add_argument('--manifest', help='dataset.json of inflateseg export-torch (cases, files, split)')
    ap.add_argument('data', nargs='*', help='images and label maps instead of --manifest (paired as the app does)')
    ap.add_argument('--steps', type=int, required=True, help='optimiser steps in total (counted from the checkpoint\'s step)')
    ap.add_argument('--out', required=True, help='where to write the checkpoint (.safetensors)')
    ap.add_argument('--batch', type=int, help='windows per step over all processes (default: the checkpoint\'s train.batch)')
    ap.add_argument('--lr', type=float, help='peak learning rate (default: the checkpoint\'s)')
    ap.add_argument('--val-every', type=int, help='validate every N steps (0: at the end only; default: the checkpoint\'s)')
    ap.add_argument('--val-fraction', type=float, default=0.2, help='share of cases validated on without a manifest')
    ap.add_argument('--threads', type=int, default=0, help='torch threads per process (0: torch\'s default)')
    ap.add_argument('--device', default='auto', help='auto (cuda when there is one), cpu or cuda')
    ap.add_argument('--no-optimizer-state', action='store_true', help='leave the AdamW state out of the written checkpoint')
    return ap.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    # --- processes ------------------------------------------------------------------------------------------------
    world = int(os.environ.get('WORLD_SIZE', '1'))
    rank = int(os.environ.get('RANK', '0'))
    local = int(os.environ.get('LOCAL_RANK', '0'))
    use_cuda = args.device == 'cuda' or (args.device == 'auto' and torch.cuda.is_available())
    device = torch.device(f'cuda:{local}' if use_cuda else 'cpu')
    if use_cuda:
        torch.cuda.set_device(device)
    if args.threads:
        torch.set_num_threads(args.threads)
    if world > 1:
        dist.init_process_group('nccl' if use_cuda else 'gloo')
    log = (lambda s: print(s, flush=True)) if rank == 0 else (lambda s: None)

    # --- model, optimiser, data -------------------------------------------------------------------------------------
    ckpt = load_checkpoint(args.checkpoint)
    cfg = dict(ckpt.meta['train'])
    for k, v in (('batch', args.batch), ('lr', args.lr), ('valEvery', args.val_every)):
        if v is not None:
            cfg[k] = v
    cfg['steps'] = args.steps
    start = ckpt.step
    if args.steps <= start:
        raise SystemExit(f'--steps {args.steps}: {args.checkpoint} is already at step {start}; set --steps above it')
    if cfg['batch'] % world:
        raise SystemExit(f'batch {cfg["batch"]} is not divisible by the {world} processes (each takes an equal share)')
    model = model_from_checkpoint(ckpt, args.checkpoint).to(device)
    mc = model.cfg
    opt = make_optimizer(model, cfg, mc.encoder.depth)
    if ckpt.optim:
        load_optimizer_state(opt, ckpt.optim, device)
    ddp = torch.nn.parallel.DistributedDataParallel(model, device_ids=[local] if use_cuda else None) if world > 1 else model
    cases = load_cases(args, log)
    want = ckpt.config['inChans']
    if cases[0].image.shape[3] != want:
        raise SystemExit(f'{args.checkpoint} takes {want} channel(s) but {cases[0].id} has {cases[0].image.shape[3]}')
    sampler = Sampler(cases, axis=cfg['axis'], T=mc.T, size=mc.img_size, batch=cfg['batch'], seed=cfg['seed'], augment=cfg.get('augment', 'off'),
                      presets=ckpt.meta.get('intensity') or None)
    for n in sampler.notes:
        log(f'note: {n}')
    warmup = min(cfg['warmupSteps'], max(0, cfg['steps'] - 1))
    history = ckpt.meta['history']
    history['steps'] = [s for s in history['steps'] if s['step'] <= start]
    history['validations'] = [v for v in history['validations'] if v['step'] <= start]
    share = cfg['batch'] // world
    log(f'training steps {start + 1}…{cfg["steps"]} on {world} process(es) ({device.type}), batch {cfg["batch"]}, lr {cfg["lr"]}, '
        f'{mc.img_size} px, T = {mc.T}, {mc.decoder} head')

    def validate(step):
        model.eval()
        k = mc.num_classes
        counts = [np.zeros(k, np.int64) for _ in range(3)]
        with torch.no_grad():
            for x, y in sampler.validation(max(1, cfg['batch'])):
                pred = model(torch.from_numpy(x).to(device)).argmax(1).cpu().numpy()
                for acc, c in zip(counts, dice_counts(pred, y, k)):
                    acc += c
        model.train()
        per, mean = dice_from_counts(*counts)
        history['validations'].append({'step': step, 'dice': per, 'meanDice': mean})
        log(f'validation at step {step}: mean Dice {mean:.4f}')

    # --- forward, backward, update ----------------------------------------------------------------------------------
    model.train()
    trainable = [p for p in model.parameters() if p.requires_grad]
    for step in range(start, cfg['steps']):
        t0 = time.perf_counter()
        x, y = sampler.batch_at(step, slice(rank * share, (rank + 1) * share))
        lr = lr_at(step, cfg['lr'], max(1, cfg['steps']), warmup, cfg.get('schedule', 'linear'))
        for g in opt.param_groups:
            g['lr'] = lr * g['lr_mult']
        opt.zero_grad(set_to_none=True)
        loss = seg_loss(ddp(torch.from_numpy(x).to(device)), torch.from_numpy(y).to(device), cfg.get('loss', 'dice-focal'), cfg.get('ignoreBackground', False))
        loss.backward()
        if cfg.get('clip', 1) > 0:
            torch.nn.utils.clip_grad_norm_(trainable, cfg['clip'])
        opt.step()
        # --- log ------------------------------------------------------------------------------------------------------
        value = loss.detach()
        if world > 1:
            dist.all_reduce(value)
            value /= world
        ms = (time.perf_counter() - t0) * 1000
        history['steps'].append({'step': step + 1, 'loss': value.item(), 'lr': lr, 'ms': ms, 'samplesPerSec': cfg['batch'] * 1000 / ms,
                                 'numTensors': 0, 'numBytes': 0})
        log(f'step {step + 1}/{cfg["steps"]}  loss {value.item():.4f}  lr {lr:.3g}  {ms:.0f} ms')
        if not math.isfinite(value.item()):
            raise SystemExit(f'the loss became {value.item()} at step {step + 1}: lower the learning rate (now {cfg["lr"]})')
        # --- evaluate -------------------------------------------------------------------------------------------------
        if rank == 0 and ((cfg['valEvery'] > 0 and (step + 1) % cfg['valEvery'] == 0) or step + 1 == cfg['steps']):
            validate(step + 1)

    # --- write the checkpoint (rank 0) ------------------------------------------------------------------------------
    if rank == 0:
        meta = dict(ckpt.meta)
        meta.update(train=cfg, step=cfg['steps'], history=history, intensity=sampler.presets)
        out = Checkpoint(weights=state_dict_for_checkpoint(model), meta=meta,
                         optim={} if args.no_optimizer_state else optimizer_state(opt), optim_step=cfg['steps'])
        save_checkpoint(args.out, out)
        log(f'wrote {args.out} (step {cfg["steps"]})')
    if world > 1:
        dist.barrier()
        dist.destroy_process_group()
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
