"""Trains the two-head regressor with the Gaussian negative log-likelihood on synthetic data.

    python train.py [--steps 1500] [--out artifacts]

The target is a smooth function of the features and context with noise whose scale depends on the
context. Writes <out>/model_best.pt, <out>/metrics.json ({"val_rmse", "val_nll", ...}) and
data/heldout.npz (2000 samples: ``features``, ``context``, labels ``y``).
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from model_def import TwoHeadRegressor

HELDOUT_SEED = 777


def make_data(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Returns (features [n, 8], context [n, 4], y [n]), the same for the same seed."""
    g = torch.Generator().manual_seed(seed)
    f, c = torch.randn(n, 8, generator=g), torch.rand(n, 4, generator=g)
    clean = torch.sin(f[:, 0] * 1.5) + 0.5 * f[:, 1] * f[:, 2] + c[:, 0] * f[:, 3] - 0.3 * f[:, 4]
    noise = torch.randn(n, generator=g) * (0.05 + 0.5 * c[:, 1])
    return f, c, clean + noise


def main() -> None:
    """Parses flags, trains, and writes the checkpoint, metrics and held-out data."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--out", default=str(Path(__file__).parent / "artifacts"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    model = TwoHeadRegressor()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    f, c, y = make_data(20_000, seed=args.seed)
    start = time.perf_counter()
    for step in range(args.steps):
        idx = torch.randint(0, len(y), (256,))
        mean, log_var = model(f[idx], c[idx])
        opt.zero_grad()
        F.gaussian_nll_loss(mean[:, 0], y[idx], log_var[:, 0].exp()).backward()
        opt.step()
    seconds = time.perf_counter() - start
    fv, cv, yv = make_data(2000, seed=HELDOUT_SEED)
    with torch.no_grad():
        mean, log_var = model(fv, cv)
    metrics = {"val_rmse": float(((mean[:, 0] - yv) ** 2).mean().sqrt()),
               "val_nll": float(F.gaussian_nll_loss(mean[:, 0], yv, log_var[:, 0].exp())),
               "steps": args.steps, "train_seconds": round(seconds, 3)}
    out, data = Path(args.out), Path(__file__).parent / "data"
    out.mkdir(parents=True, exist_ok=True)
    data.mkdir(exist_ok=True)
    torch.save({"model": model.state_dict()}, out / "model_best.pt")
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    np.savez_compressed(data / "heldout.npz", features=fv.numpy(), context=cv.numpy(), y=yv.numpy())
    print(f"wrote {out / 'model_best.pt'}, {out / 'metrics.json'} and {data / 'heldout.npz'}: {metrics}")


if __name__ == "__main__":
    main()
