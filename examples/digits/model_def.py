"""The digits example's model: the seed checklist's SmallCNN, sized for 1x8x8 scikit-learn digits.

Only ONNX-friendly layers (Conv2d, SiLU, ReLU, AdaptiveAvgPool2d, Linear): every one exports at
opset 17 and builds in TensorRT and ONNX Runtime without plugins.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F


class SmallCNN(nn.Module):
    """Two 3x3 convolutions, global average pooling and a linear classifier.

    Args:
        in_ch: input channels (1 for the grey 8x8 digits).
        num_classes: number of output logits.
    """

    def __init__(self, in_ch: int = 1, num_classes: int = 10) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_ch, 32, 3, padding=1)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(64, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Returns logits of shape [batch, num_classes] for x of shape [batch, in_ch, H, W]."""
        x = F.silu(self.conv1(x))
        x = F.relu(self.conv2(x))
        x = self.pool(x).flatten(1)
        return self.fc(x)
