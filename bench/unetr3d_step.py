"""The volume model's training step (bench/unetr3d.ts) in PyTorch on the CPU: the parity-tested reference
test/reference/unetr3d_torch.py (UNETR as MONAI's, perceptron embedding, res blocks, instance norm), Dice + CE,
AdamW (lr 1e-4, weight decay 1e-5: MONAI's BTCV recipe), batch 1, random input and labels.
Prints one JSON object per config: ms per step (median of --reps after --warmup).

Usage: /usr/bin/python3 bench/unetr3d_step.py --configs '<json list of VolumeModelConfig>' [--threads 1] [--reps 3] [--warmup 1]
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "reference"))
from unetr3d_torch import UNETR, dice_ce  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--configs", required=True)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    for c in json.loads(a.configs):
        model = UNETR(c)
        opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=1e-5)
        x = torch.randn(1, c["inChans"], *c["crop"])
        y = torch.randint(0, c["numClasses"], (1, *c["crop"]))
        times = []
        for i in range(a.warmup + a.reps):
            t0 = time.perf_counter()
            opt.zero_grad(set_to_none=True)
            loss = dice_ce(model(x), y, c["numClasses"])
            loss.backward()
            opt.step()
            dt = (time.perf_counter() - t0) * 1000
            if i >= a.warmup:
                times.append(dt)
        print(json.dumps({"preset": c.get("label", c.get("preset")), "torch": torch.__version__, "threads": a.threads, "ms": times, "medianMs": statistics.median(times), "loss": float(loss)}), flush=True)


if __name__ == "__main__":
    main()
