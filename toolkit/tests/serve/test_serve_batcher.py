"""The batcher on its own: grouping by shape, batch limits, no busy-waiting, cancelled requests."""
from __future__ import annotations

import time

import numpy as np
import pytest

from modelship_toolkit.serve.batcher import BatcherClosed, DynamicBatcher, QueueFull


class Recorder:
    """A batch function that records the batch shapes it was given and echoes row sums."""

    def __init__(self, delay: float = 0.0) -> None:
        self.shapes: list[tuple] = []
        self.delay = delay

    def __call__(self, inputs):
        x = inputs["x"]
        self.shapes.append(x.shape)
        time.sleep(self.delay)
        return {"y": x.reshape(x.shape[0], -1).sum(axis=1)}


def test_groups_by_shape_and_respects_max_batch():
    rec = Recorder()
    b = DynamicBatcher(rec, max_batch_size=4, window_s=0.05)
    try:
        xs = [np.full((1, 2 + (i % 2)), i, np.float32) for i in range(10)]
        futs = [b.submit({"x": x}) for x in xs]
        for x, f in zip(xs, futs):
            assert f.result(2)["y"].tolist() == [x.sum()]
        assert all(s[0] <= 4 for s in rec.shapes)
        assert sorted(s[1] for s in rec.shapes) == [2, 2, 3, 3]  # 5+5 rows of each width: two batches each
    finally:
        b.close()


def test_worker_does_not_spin_while_idle():
    b = DynamicBatcher(Recorder(), window_s=0.01)
    try:
        b.submit({"x": np.zeros((1, 2), np.float32)}).result(2)
        cpu0 = time.process_time()
        time.sleep(0.5)
        assert time.process_time() - cpu0 < 0.05  # an idle batcher blocks on its condition
    finally:
        b.close()


def test_queue_bound_cancel_and_close():
    rec = Recorder(delay=0.2)
    b = DynamicBatcher(rec, max_batch_size=1, max_queue=2, window_s=0.0)
    try:
        first = b.submit({"x": np.zeros((1, 2), np.float32)})
        time.sleep(0.05)  # first is running
        a = b.submit({"x": np.ones((1, 2), np.float32)})
        b.submit({"x": np.ones((1, 2), np.float32)})
        with pytest.raises(QueueFull):
            b.submit({"x": np.ones((1, 2), np.float32)})
        assert a.cancel()  # a caller that gave up: never run
        first.result(2)
    finally:
        b.close()
    assert len(rec.shapes) == 2
    with pytest.raises(BatcherClosed):
        b.submit({"x": np.zeros((1, 2), np.float32)})


def test_batch_errors_reach_every_waiter():
    def boom(_):
        raise RuntimeError("engine exploded")

    b = DynamicBatcher(boom, window_s=0.02)
    try:
        futs = [b.submit({"x": np.zeros((1, 2), np.float32)}) for _ in range(3)]
        for f in futs:
            with pytest.raises(RuntimeError, match="engine exploded"):
                f.result(2)
    finally:
        b.close()


def test_a_lone_request_does_not_wait_out_the_window_and_a_burst_is_batched():
    rec = Recorder(delay=0.05)
    b = DynamicBatcher(rec, max_batch_size=8, window_s=0.5)
    try:
        one = {"x": np.ones((1, 2), np.float32)}
        t0 = time.perf_counter()
        for _ in range(3):
            b.submit(one).result(2)
        assert time.perf_counter() - t0 < 0.5  # 3 x 50 ms of work, not 3 windows of 500 ms
        assert [s[0] for s in rec.shapes] == [1, 1, 1]
        # A burst: requests queued together (and behind a running batch) run as one batch.
        futs = [b.submit(one) for _ in range(6)]
        for f in futs:
            assert f.result(2)["y"].tolist() == [2.0]
        assert max(s[0] for s in rec.shapes[3:]) > 1
    finally:
        b.close()
