"""A heteroscedastic regression model: two float inputs (per-item features and a shared context)
and two outputs, the prediction and the log-variance of its error."""
from __future__ import annotations

import torch
from torch import nn


class TwoHeadRegressor(nn.Module):
    """MLP trunk over [features, context]; a prediction head and a log-variance head."""

    def __init__(self, features: int = 8, context: int = 4, hidden: int = 64) -> None:
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(features + context, hidden), nn.GELU(), nn.Linear(hidden, hidden), nn.GELU())
        self.mean = nn.Linear(hidden, 1)
        self.log_var = nn.Linear(hidden, 1)

    def forward(self, features: torch.Tensor, context: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(prediction [N, 1], log_variance [N, 1])."""
        h = self.trunk(torch.cat([features, context], dim=1))
        return self.mean(h), self.log_var(h)
