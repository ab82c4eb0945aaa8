"""The traffic generator sends samples in a shuffled order, so an analysis window's samples are a
fair draw from the file and not a run of neighbours (a file like the digits hold-out set keeps the
shifted copies of each sample in blocks, where a model's errors cluster)."""
from __future__ import annotations

import numpy as np

from modelship_toolkit.traffic.generator import send_order


def test_a_seeded_shuffle_of_every_sample():
    order = send_order(2700, 0)
    assert sorted(order.tolist()) == list(range(2700))
    assert np.array_equal(order, send_order(2700, 0))
    assert not np.array_equal(order, send_order(2700, 1))


def test_a_short_window_spans_the_whole_file():
    # 120 consecutive requests (2 s at 60 requests/s) reach across the file, not into one block of it.
    window = send_order(2700, 0)[:120]
    assert window.max() - window.min() > 2000
    assert len(np.unique(window // 540)) == 5  # a sample from each of the five shifted copies


def test_file_order_when_asked():
    assert send_order(5, None).tolist() == [0, 1, 2, 3, 4]
