"""Trains SmallCNN on the 70% digits split in a few seconds on CPU; writes the release artifact.

    python train.py [--epochs 6] [--out artifacts] [--shuffle-labels]

Writes <out>/model_best.pt ({"model": state_dict}, the epoch with the best validation accuracy)
and <out>/metrics.json ({"val_accuracy", "val_loss", "epochs", "train_seconds"}), validated on the
held-out 30% (originals). --shuffle-labels trains on permuted labels: a deliberately bad model
whose release modelship's acceptance gate stops.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from digits_data import load_split, nudge
from model_def import SmallCNN

SEED = 0


def evaluate(model: SmallCNN, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """Returns (accuracy, mean cross-entropy) of model on (x, y)."""
    model.eval()
    with torch.no_grad():
        logits = model(x)
        return float((logits.argmax(1) == y).float().mean()), float(F.cross_entropy(logits, y))


def main() -> None:
    """Parses flags, trains, and writes model_best.pt and metrics.json."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--out", default=str(Path(__file__).parent / "artifacts"))
    parser.add_argument("--shuffle-labels", action="store_true", help="train on permuted labels (a bad model)")
    parser.add_argument("--seed", type=int, default=SEED, help="initialisation seed (the data split stays fixed)")
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    x_tr, y_tr, x_va, y_va = load_split()
    # The same one-pixel nudges as the held-out data: the model learns to expect them.
    x_tr, y_tr = nudge(x_tr), np.tile(y_tr, 5)
    if args.shuffle_labels:
        y_tr = rng.permutation(y_tr)
    xt, yt = torch.from_numpy(x_tr), torch.from_numpy(y_tr)
    xv, yv = torch.from_numpy(x_va), torch.from_numpy(y_va)

    model = SmallCNN(in_ch=1, num_classes=10)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    best: tuple[float, float, dict] = (-1.0, 0.0, {})
    start = time.perf_counter()
    for epoch in range(args.epochs):
        model.train()
        for idx in torch.from_numpy(rng.permutation(len(xt))).split(32):
            opt.zero_grad()
            F.cross_entropy(model(xt[idx]), yt[idx]).backward()
            opt.step()
        acc, loss = evaluate(model, xv, yv)
        print(f"epoch {epoch + 1}/{args.epochs}: val_accuracy {acc:.4f} val_loss {loss:.4f}", flush=True)
        if acc > best[0]:
            best = (acc, loss, {k: v.detach().clone() for k, v in model.state_dict().items()})
    seconds = time.perf_counter() - start

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.save({"model": best[2]}, out / "model_best.pt")
    metrics = {"val_accuracy": best[0], "val_loss": best[1], "epochs": args.epochs, "train_seconds": round(seconds, 3)}
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    print(f"wrote {out / 'model_best.pt'} and {out / 'metrics.json'}: {metrics}")


if __name__ == "__main__":
    main()
