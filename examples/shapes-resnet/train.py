"""Trains the ResNet-18 on synthetic shapes; writes the release artifact and the held-out data.

    python train.py [--steps 600] [--batch 128] [--out artifacts] [--device auto]

On a GPU (bf16 autocast, channels-last) the default 600 steps take well under a minute; on a CPU use a
smoke run (`--steps 3 --batch 8 --heldout 64`). Training images are drawn fresh each step at a
random size of 160–256 px (the manifest's H/W range), so the model works across the profile.

Writes <out>/model_best.pt ({"model": state_dict}), <out>/metrics.json ({"val_accuracy",
"val_loss", "steps", "train_seconds", "device"}) and data/heldout.npz (uint8 images at 224 px as
`x`, labels as `y`: the calibration and parity data of the manifest), evaluated on that file.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from model_def import ResNet18
from shapes_data import CLASSES, make_images

HELDOUT_SEED = 20261130
"""Seed of the held-out images (never used for training)."""

TRAIN_SIZES = (160, 192, 224, 256)


def evaluate(model: ResNet18, x: torch.Tensor, y: torch.Tensor, batch: int = 128) -> tuple[float, float]:
    """Returns (accuracy, mean cross-entropy) of ``model`` on uint8 images ``x`` with labels ``y``."""
    model.eval()
    correct, loss = 0, 0.0
    with torch.no_grad():
        for s in range(0, len(x), batch):
            logits = model(x[s : s + batch].float()).float()
            correct += int((logits.argmax(1) == y[s : s + batch]).sum())
            loss += float(F.cross_entropy(logits, y[s : s + batch], reduction="sum"))
    return correct / len(x), loss / len(x)


def main() -> None:
    """Parses flags, trains, writes the checkpoint, metrics and held-out data."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--heldout", type=int, default=1000, help="held-out images written to data/heldout.npz")
    parser.add_argument("--out", default=str(Path(__file__).parent / "artifacts"))
    parser.add_argument("--device", default="auto", help="auto (cuda when available), cuda or cpu")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    device = ("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" else args.device

    torch.manual_seed(args.seed)
    model = ResNet18(num_classes=len(CLASSES)).to(device).to(memory_format=torch.channels_last)
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, total_steps=max(args.steps, 1), pct_start=0.2)
    rng = np.random.default_rng(args.seed)
    start = time.perf_counter()
    for step in range(args.steps):
        model.train()
        size = int(rng.choice(TRAIN_SIZES))
        x, y = make_images(args.batch, size, seed=args.seed * 1_000_003 + step, device=device)
        amp = torch.autocast(device_type="cuda", dtype=torch.bfloat16) if device == "cuda" else contextlib.nullcontext()
        with amp:
            loss = F.cross_entropy(model(x.float().contiguous(memory_format=torch.channels_last)), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        if step % 50 == 0 or step == args.steps - 1:
            print(f"step {step + 1}/{args.steps} size {size}: loss {float(loss):.4f}", flush=True)
    seconds = time.perf_counter() - start

    model = model.float().to(memory_format=torch.contiguous_format)
    xv, yv = make_images(args.heldout, 224, seed=HELDOUT_SEED, device=device)
    acc, val_loss = evaluate(model, xv, yv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.save({"model": {k: v.cpu() for k, v in model.state_dict().items()}}, out / "model_best.pt")
    metrics = {"val_accuracy": acc, "val_loss": val_loss, "steps": args.steps, "train_seconds": round(seconds, 3), "device": device}
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    data = Path(__file__).parent / "data"
    data.mkdir(exist_ok=True)
    np.savez_compressed(data / "heldout.npz", x=xv.cpu().numpy(), y=yv.cpu().numpy())
    print(f"wrote {out / 'model_best.pt'}, {out / 'metrics.json'} and {data / 'heldout.npz'}: {metrics}")


if __name__ == "__main__":
    main()
