"""Trains the tiny transformer on synthetic topic sequences on the CPU in seconds; writes the artifact.

    python train.py [--steps 300] [--out artifacts]

Writes <out>/model_best.pt, <out>/metrics.json and data/heldout.npz (1000 sequences of 32 tokens:
``input_ids``, ``attention_mask``, labels ``y``).
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from model_def import TinyTextClassifier
from text_data import make_batch

HELDOUT_SEED = 4242


def main() -> None:
    """Parses flags, trains, and writes the checkpoint, metrics and held-out data."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--out", default=str(Path(__file__).parent / "artifacts"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    model = TinyTextClassifier()
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3)
    start = time.perf_counter()
    model.train()
    for step in range(args.steps):
        ids, mask, y = make_batch(64, (16, 32, 48)[step % 3], seed=args.seed * 100_000 + step)
        opt.zero_grad()
        F.cross_entropy(model(ids, mask), y).backward()
        opt.step()
    seconds = time.perf_counter() - start
    ids, mask, y = make_batch(1000, 32, seed=HELDOUT_SEED)
    model.eval()
    with torch.no_grad():
        logits = model(ids, mask)
    metrics = {"val_accuracy": float((logits.argmax(1) == y).float().mean()), "val_loss": float(F.cross_entropy(logits, y)),
               "steps": args.steps, "train_seconds": round(seconds, 3)}
    out, data = Path(args.out), Path(__file__).parent / "data"
    out.mkdir(parents=True, exist_ok=True)
    data.mkdir(exist_ok=True)
    torch.save({"model": model.state_dict()}, out / "model_best.pt")
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    np.savez_compressed(data / "heldout.npz", input_ids=ids.numpy(), attention_mask=mask.numpy(), y=y.numpy())
    print(f"wrote {out / 'model_best.pt'}, {out / 'metrics.json'} and {data / 'heldout.npz'}: {metrics}")


if __name__ == "__main__":
    main()
