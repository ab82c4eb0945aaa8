"""The shapes-resnet example's model: a ResNet-18 (BasicBlock ×[2, 2, 2, 2], 64→512 channels).

It takes RGB pixels as float32 in 0..255 (N×3×H×W, any H/W from 64 up) and normalises them itself,
so a client sends images as they are. Global average pooling makes the logits independent of H/W.
Only layers that export at opset 17 and build in TensorRT without plugins: Conv2d, BatchNorm2d
(folded at export), ReLU, MaxPool2d, AdaptiveAvgPool2d, Linear.
"""
from __future__ import annotations

import torch
import torch.nn as nn


class BasicBlock(nn.Module):
    """Two 3×3 convolutions with batch norm and a residual connection (projected when the shape changes)."""

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.relu = nn.ReLU(inplace=True)
        self.down = None
        if stride != 1 or c_in != c_out:
            self.down = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Returns relu(F(x) + shortcut(x))."""
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + (x if self.down is None else self.down(x)))


class ResNet18(nn.Module):
    """ResNet-18 for images of any size (≥ 64 px).

    Args:
        num_classes: number of output logits.
        width: channels of the first stage (64 in the paper); each stage doubles it.
    """

    def __init__(self, num_classes: int = 10, width: int = 64) -> None:
        super().__init__()
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1) * 255)
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1) * 255)
        self.stem = nn.Sequential(
            nn.Conv2d(3, width, 7, 2, 3, bias=False), nn.BatchNorm2d(width), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1)
        )
        layers, c = [], width
        for i, blocks in enumerate([2, 2, 2, 2]):
            c_out = width * 2**i
            for b in range(blocks):
                layers.append(BasicBlock(c, c_out, 2 if (b == 0 and i > 0) else 1))
                c = c_out
        self.layers = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(c, num_classes)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        """Returns logits [N, num_classes] for pixels [N, 3, H, W] in 0..255."""
        x = (image - self.mean) / self.std
        x = self.layers(self.stem(x))
        return self.fc(self.pool(x).flatten(1))
