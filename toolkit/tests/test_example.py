"""The digits example: its held-out file and the model it trains."""
from __future__ import annotations

import json
import sys

import numpy as np
from toolkit_helpers import EXAMPLE


def test_heldout_file_is_what_prepare_data_writes():
    sys.path.insert(0, str(EXAMPLE))
    from digits_data import load_split, nudge

    with np.load(EXAMPLE / "data" / "heldout.npz") as f:
        x, y = f["x"], f["y"]
    assert x.dtype == np.float32 and y.dtype == np.int64
    assert x.shape[1:] == (1, 8, 8) and len(x) == len(y) >= 2500
    assert 0.0 <= x.min() and x.max() <= 1.0
    _, _, x_ho, y_ho = load_split()
    np.testing.assert_array_equal(x, nudge(x_ho))
    np.testing.assert_array_equal(y, np.tile(y_ho, 5))


def test_trained_model_meets_its_acceptance(repo):
    metrics = json.loads((repo / "artifacts" / "metrics.json").read_text())
    assert metrics["val_accuracy"] >= 0.90
    assert set(metrics) == {"val_accuracy", "val_loss", "epochs", "train_seconds"}
