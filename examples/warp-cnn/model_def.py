"""A spatial-transformer CNN: a small localisation net predicts an affine warp, ``F.affine_grid`` and
``F.grid_sample`` apply it, and a CNN classifies the warped image."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class WarpCNN(nn.Module):
    """Classifies grayscale images [N, 1, H, W] (H, W from 24 to 64) after warping them."""

    def __init__(self, num_classes: int = 4) -> None:
        super().__init__()
        self.localise = nn.Sequential(
            nn.Conv2d(1, 8, 5, stride=2, padding=2), nn.ReLU(), nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 6),
        )
        self.localise[-1].weight.data.zero_()
        self.localise[-1].bias.data.copy_(torch.tensor([1.0, 0, 0, 0, 1, 0]))  # start at the identity warp
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        )
        self.head = nn.Linear(32, num_classes)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        """Logits [N, classes]."""
        theta = self.localise(image).view(-1, 2, 3)
        grid = F.affine_grid(theta, list(image.shape), align_corners=False)
        warped = F.grid_sample(image, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
        return self.head(self.features(warped))
