"""Synthetic colour images of oriented gratings: four classes, one per orientation (0°, 45°, 90°, 135°).

Each image is a sine grating at its class's orientation with a random frequency, phase, colour pair
and contrast, plus a little pixel noise. Deterministic for a seed; any size. Returns uint8 pixels
N×3×S×S and int64 labels.
"""
from __future__ import annotations

import math

import torch

CLASSES = 4


def make_images(n: int, size: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Returns (uint8 images [n, 3, size, size], int64 labels [n]), the same for the same seed."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, CLASSES, (n,), generator=g)
    angle = labels.float() * (math.pi / CLASSES) + (torch.rand(n, generator=g) - 0.5) * 0.1
    freq = torch.rand(n, generator=g) * 6 + 4
    phase = torch.rand(n, generator=g) * 2 * math.pi
    a, b = torch.rand(n, 3, generator=g), torch.rand(n, 3, generator=g)
    lin = torch.linspace(-1, 1, size)
    yy, xx = torch.meshgrid(lin, lin, indexing="ij")
    view = lambda t: t.view(-1, 1, 1)  # noqa: E731
    wave = torch.sin((xx * view(torch.cos(angle)) + yy * view(torch.sin(angle))) * view(freq) * math.pi + view(phase))
    m = (wave.unsqueeze(1) + 1) / 2
    img = a.view(-1, 3, 1, 1) * m + b.view(-1, 3, 1, 1) * (1 - m)
    img = img + torch.randn(img.shape, generator=g) * 0.03
    return (img.clamp(0, 1) * 255).round().to(torch.uint8), labels
