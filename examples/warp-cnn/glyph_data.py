"""Synthetic grayscale glyphs: disc, square, cross and ring, at a random place, scale and rotation
on a dark background with noise. Deterministic for a seed; any size. Returns float32 pixels 0..1."""
from __future__ import annotations

import torch

CLASSES = ["disc", "square", "cross", "ring"]


def make_glyphs(n: int, size: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Returns (images float32 [n, 1, size, size], labels int64 [n]), the same for the same seed."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, len(CLASSES), (n,), generator=g)
    cx, cy = (torch.rand(n, generator=g) - 0.5) * 0.8, (torch.rand(n, generator=g) - 0.5) * 0.8
    r = torch.rand(n, generator=g) * 0.25 + 0.2
    a = torch.rand(n, generator=g) * 3.14159
    lin = torch.linspace(-1, 1, size)
    yy, xx = torch.meshgrid(lin, lin, indexing="ij")
    v = lambda t: t.view(-1, 1, 1)  # noqa: E731
    dx, dy = xx - v(cx), yy - v(cy)
    u, w = dx * v(torch.cos(a)) + dy * v(torch.sin(a)), -dx * v(torch.sin(a)) + dy * v(torch.cos(a))
    d = torch.sqrt(u * u + w * w)
    masks = torch.stack([
        d < v(r),
        torch.maximum(u.abs(), w.abs()) < v(r) * 0.8,
        ((u.abs() < v(r) / 4) & (w.abs() < v(r))) | ((w.abs() < v(r) / 4) & (u.abs() < v(r))),
        (d - v(r)).abs() < v(r) * 0.2,
    ])
    m = masks[labels, torch.arange(n)].float()
    img = 0.1 + 0.8 * m + torch.randn(m.shape, generator=g) * 0.05
    return img.clamp(0, 1).unsqueeze(1), labels
