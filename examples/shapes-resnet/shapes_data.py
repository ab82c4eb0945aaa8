"""Synthetic images of ten kinds of shape and pattern, drawn with torch (on the GPU when there is one).

Deterministic for a seed; any size. The classes: disc, square, ring, cross, diamond, triangle,
horizontal stripes, vertical stripes, checkerboard, dot grid — each in a random colour on a random
background with a random light gradient, at a random place and scale. No pixel noise: the held-out
file compresses well enough to live in a model repository. Returns uint8 pixels N×3×S×S.
"""
from __future__ import annotations

import torch

CLASSES = ["disc", "square", "ring", "cross", "diamond", "triangle", "h-stripes", "v-stripes", "checkerboard", "dots"]


def _masks(xx: torch.Tensor, yy: torch.Tensor, cx, cy, r, f) -> torch.Tensor:
    """All ten class masks, [10, N, S, S] (bool), for per-sample centre, radius and frequency."""
    dx, dy = xx - cx, yy - cy
    d = torch.sqrt(dx * dx + dy * dy)
    adx, ady = dx.abs(), dy.abs()
    return torch.stack([
        d < r,
        torch.maximum(adx, ady) < r * 0.8,
        (d - r).abs() < r * 0.2,
        ((adx < r / 4) & (ady < r)) | ((ady < r / 4) & (adx < r)),
        adx + ady < r,
        (dy < r * 0.6) & (dy > -r) & (adx < (dy + r) * 0.55),
        torch.sin(yy * f) > 0,
        torch.sin(xx * f) > 0,
        torch.sin(xx * f) * torch.sin(yy * f) > 0,
        (torch.sin(xx * f) > 0.6) & (torch.sin(yy * f) > 0.6),
    ])


def make_images(n: int, size: int, seed: int, device: str = "cpu", batch: int = 256) -> tuple[torch.Tensor, torch.Tensor]:
    """Returns (uint8 images [n, 3, size, size], int64 labels [n]) on ``device``, the same for the same seed."""
    g = torch.Generator(device="cpu").manual_seed(seed)
    labels = torch.randint(0, len(CLASSES), (n,), generator=g)
    params = {
        "cx": torch.rand(n, generator=g) * 0.8 - 0.4,
        "cy": torch.rand(n, generator=g) * 0.8 - 0.4,
        "r": torch.rand(n, generator=g) * 0.3 + 0.25,
        "f": torch.rand(n, generator=g) * 10 + 8,
        "fg": torch.rand(n, 3, generator=g),
        "bg": torch.rand(n, 3, generator=g),
        "grad": torch.rand(n, 2, generator=g) * 0.4 - 0.2,
    }
    # Keep foreground and background apart: push the foreground away from the background colour.
    apart = params["fg"] - params["bg"]
    params["fg"] = (params["bg"] + torch.sign(apart + 1e-6) * (apart.abs() + 0.35)).clamp(0, 1)
    lin = torch.linspace(-1, 1, size, device=device)
    yy, xx = torch.meshgrid(lin, lin, indexing="ij")
    out = []
    for s in range(0, n, batch):
        e = min(n, s + batch)
        p = {k: v[s:e].to(device) for k, v in params.items()}
        view = lambda t: t.view(-1, 1, 1)  # noqa: E731
        masks = _masks(xx, yy, view(p["cx"]), view(p["cy"]), view(p["r"]), view(p["f"]))
        m = masks[labels[s:e].to(device), torch.arange(e - s, device=device)].unsqueeze(1).float()
        img = p["bg"].view(-1, 3, 1, 1) * (1 - m) + p["fg"].view(-1, 3, 1, 1) * m
        img = img + (p["grad"][:, 0].view(-1, 1, 1, 1) * xx + p["grad"][:, 1].view(-1, 1, 1, 1) * yy)
        out.append((img.clamp(0, 1) * 255).round().to(torch.uint8))
    return torch.cat(out), labels.to(device)
