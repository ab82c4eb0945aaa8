"""Comparing outputs: shadow vs stable (top-1 agreement, max abs difference) and predictions vs
labels (live accuracy)."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Comparison:
    """Shadow vs stable for one request."""

    rows: int
    agreed: int | None  # None when the task has no top-1 (regression)
    max_abs: float


def top1(logits: np.ndarray) -> np.ndarray:
    """Index of the largest value on the last axis, one per row."""
    a = np.asarray(logits)
    return a.reshape(a.shape[0], -1).argmax(axis=1) if a.ndim > 1 else a.reshape(1, -1).argmax(axis=1)


def compare_outputs(stable: Mapping[str, np.ndarray], shadow: Mapping[str, np.ndarray], *, primary: str, classification: bool) -> Comparison:
    """Compares two output sets of one request. ``primary`` is the output whose top-1 is the class."""
    max_abs = 0.0
    for name, a in stable.items():
        b = shadow.get(name)
        if b is None or np.shape(a) != np.shape(b):
            return Comparison(rows=int(np.shape(a)[0]) if np.ndim(a) else 1, agreed=0 if classification else None, max_abs=float("inf"))
        if np.size(a):
            max_abs = max(max_abs, float(np.max(np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)))))
    p = np.asarray(stable[primary])
    rows = int(p.shape[0]) if p.ndim > 1 else 1
    agreed = int(np.sum(top1(p) == top1(shadow[primary]))) if classification else None
    return Comparison(rows=rows, agreed=agreed, max_abs=max_abs)


def count_correct(logits: np.ndarray, labels: Sequence[int]) -> tuple[int, int]:
    """(labelled rows, correct rows) of one answer; labels are one class index per row."""
    pred = top1(logits)
    n = min(len(pred), len(labels))
    return n, int(np.sum(pred[:n] == np.asarray(labels[:n])))
