"""Trains the spatial-transformer CNN on synthetic glyphs on the CPU in seconds; writes the artifact.

    python train.py [--steps 900] [--out artifacts]

Writes <out>/model_best.pt, <out>/metrics.json and data/heldout.npz (1000 images at 32 px, labels y).
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from glyph_data import make_glyphs
from model_def import WarpCNN

HELDOUT_SEED = 9090


def main() -> None:
    """Parses flags, trains, and writes the checkpoint, metrics and held-out data."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=900)
    parser.add_argument("--out", default=str(Path(__file__).parent / "artifacts"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    model = WarpCNN()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    start = time.perf_counter()
    model.train()
    for step in range(args.steps):
        x, y = make_glyphs(64, (24, 32, 48)[step % 3], seed=args.seed * 100_000 + step)
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    seconds = time.perf_counter() - start
    xv, yv = make_glyphs(1000, 32, seed=HELDOUT_SEED)
    model.eval()
    with torch.no_grad():
        logits = model(xv)
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
