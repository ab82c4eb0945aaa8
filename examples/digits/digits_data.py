"""The one definition of the digits split, shared by prepare_data.py and train.py.

scikit-learn ships the 1797 8x8 digits inside the package, so nothing is downloaded.
"""
from __future__ import annotations

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

SPLIT_SEED = 20240601
"""Seed of the fixed 70/30 split: changing it changes every number downstream."""


def load_split() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Returns (x_train, y_train, x_heldout, y_heldout): x float32 [N,1,8,8] in [0,1], y int64."""
    digits = load_digits()
    x = (digits.images.astype(np.float32) / 16.0)[:, None, :, :]
    y = digits.target.astype(np.int64)
    x_tr, x_ho, y_tr, y_ho = train_test_split(x, y, test_size=0.3, random_state=SPLIT_SEED, stratify=y)
    return x_tr, y_tr, x_ho, y_ho


def nudge(x: np.ndarray) -> np.ndarray:
    """Returns x followed by copies shifted one pixel up, down, left and right (zero fill).

    The trick of scikit-learn's RBM example: five times the samples, all still plausible digits.
    """
    shifted = [x]
    for axis, step in ((2, -1), (2, 1), (3, -1), (3, 1)):
        s = np.roll(x, step, axis=axis)
        edge = [slice(None)] * 4
        edge[axis] = 0 if step == 1 else -1  # the row/column that wrapped around
        s[tuple(edge)] = 0.0
        shifted.append(s)
    return np.concatenate(shifted, axis=0)
