"""Trains MobileNetV3-small on synthetic gratings on the CPU in under a minute; writes the artifact.

    python train.py [--steps 300] [--out artifacts]

Writes <out>/model_best.pt ({"model": state_dict}), <out>/metrics.json ({"val_accuracy", ...}) and
data/heldout.npz (1000 uint8 images at 48 px with labels: parity and calibration data).
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from gratings_data import make_images
from model_def import GratingsMobileNet

HELDOUT_SEED = 12345


def recalibrate_batch_norm(model: torch.nn.Module, batch: int, seed: int, batches: int = 16) -> None:
    """Re-estimates every BatchNorm's running statistics as a plain average over fresh batches.

    torchvision's MobileNetV3 uses BN momentum 0.01, so a few hundred steps leave the running
    statistics near their initial values and the eval-mode model near chance.
    """
    for m in model.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.reset_running_stats()
            m.momentum = None  # cumulative moving average
    model.train()
    with torch.no_grad():
        for i in range(batches):
            x, _ = make_images(batch, (32, 48)[i % 2], seed=seed * 100_000 + 90_000 + i)
            model(x.float())


def main() -> None:
    """Parses flags, trains, and writes the checkpoint, metrics and held-out data."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--out", default=str(Path(__file__).parent / "artifacts"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(max(1, torch.get_num_threads()))

    model = GratingsMobileNet()
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    start = time.perf_counter()
    model.train()
    for step in range(args.steps):
        size = (32, 48)[step % 2]  # several sizes: the model serves dynamic H and W
        x, y = make_images(args.batch, size, seed=args.seed * 100_000 + step)
        opt.zero_grad()
        F.cross_entropy(model(x.float()), y).backward()
        opt.step()
        if (step + 1) % 100 == 0:
            print(f"step {step + 1}/{args.steps}", flush=True)
    recalibrate_batch_norm(model, args.batch, args.seed)
    seconds = time.perf_counter() - start

    xv, yv = make_images(1000, 48, seed=HELDOUT_SEED)
    model.eval()
    with torch.no_grad():
        logits = model(xv.float())
    metrics = {"val_accuracy": float((logits.argmax(1) == yv).float().mean()), "val_loss": float(F.cross_entropy(logits, yv)),
               "steps": args.steps, "train_seconds": round(seconds, 3)}
    out, data = Path(args.out), Path(__file__).parent / "data"
    out.mkdir(parents=True, exist_ok=True)
    data.mkdir(exist_ok=True)
    torch.save({"model": model.state_dict()}, out / "model_best.pt")
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    np.savez_compressed(data / "heldout.npz", x=xv.numpy(), y=yv.numpy())
    print(f"wrote {out / 'model_best.pt'}, {out / 'metrics.json'} and {data / 'heldout.npz'}: {metrics}")


if __name__ == "__main__":
    main()
