"""torchvision's MobileNetV3-small for 0..255 RGB pixels of any size from 32 to 128 px."""
from __future__ import annotations

import torch
from torchvision.models import mobilenet_v3_small


class GratingsMobileNet(torch.nn.Module):
    """MobileNetV3-small (hardswish, squeeze-excitation, batch norm) that normalises its pixels itself."""

    def __init__(self, num_classes: int = 4) -> None:
        super().__init__()
        self.net = mobilenet_v3_small(num_classes=num_classes)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        """Logits [N, classes] for float pixels 0..255 [N, 3, H, W]."""
        return self.net(image / 127.5 - 1.0)
