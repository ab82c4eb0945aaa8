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


class Lazy:
    """An input read when its batch is assembled (what a shared memory input is to the batcher)."""

    def __init__(self, value: np.ndarray, bad: bool = False) -> None:
        self.value, self.bad = value, bad
        self.shape, self.dtype = value.shape, value.dtype

    def read_into(self, out: np.ndarray) -> None:
        if self.bad:
            raise ValueError("inputs[0]: contains NaN or infinity")
        out[...] = self.value


class Instance:
    """An engine instance recording the batches it ran and their thread."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay, self.batches, self.threads, self.spans = delay, [], set(), []

    def run(self, feeds):
        import threading

        self.threads.add(threading.current_thread().name)
        self.batches.append(feeds["x"])
        start = time.monotonic()
        time.sleep(self.delay)
        self.spans.append((start, time.monotonic()))
        return {"y": feeds["x"].reshape(feeds["x"].shape[0], -1).sum(axis=1)}


def test_lazy_and_inline_inputs_stack_into_one_batch_and_a_bad_one_fails_alone():
    inst = Instance()
    blocker = Recorder(delay=0.2)
    b = DynamicBatcher([inst], max_batch_size=16, window_s=0.05)
    slow = DynamicBatcher(blocker, window_s=0.0)
    try:
        first = b.submit({"x": np.zeros((1, 3), np.float32)})  # occupies the worker while the others queue
        time.sleep(0.01)
        lazy, inline, bad = np.full((2, 3), 1, np.float32), np.full((1, 3), 2, np.float32), np.full((1, 3), 9, np.float32)
        futs = [b.submit({"x": Lazy(lazy)}), b.submit({"x": Lazy(bad, bad=True)}), b.submit({"x": inline})]
        assert futs[0].result(2)["y"].tolist() == [3.0, 3.0] and futs[2].result(2)["y"].tolist() == [6.0]
        with pytest.raises(ValueError, match="NaN"):
            futs[1].result(2)
        first.result(2)
        ran = inst.batches[-1]
        assert ran.shape == (3, 3) and ran.tolist() == [[1] * 3, [1] * 3, [2] * 3]  # the bad request's row left out
    finally:
        b.close()
        slow.close()


def test_each_instance_runs_batches_in_its_own_thread_at_once():
    instances = [Instance(delay=0.3), Instance(delay=0.3)]
    b = DynamicBatcher(instances, max_batch_size=1, window_s=0.0, name="b")
    try:
        assert b.instances == 2
        futs = [b.submit({"x": np.full((1, 2), i, np.float32)}) for i in range(4)]
        assert [f.result(3)["y"].tolist() for f in futs] == [[0.0], [2.0], [4.0], [6.0]]
        assert all(i.batches for i in instances) and sum(len(i.batches) for i in instances) == 4
        assert instances[0].threads.isdisjoint(instances[1].threads)
        (a0, a1), (b0, b1) = instances[0].spans[0], instances[1].spans[0]
        assert a0 < b1 and b0 < a1  # the instances' first batches ran at the same time
    finally:
        b.close()


def test_several_instances_never_run_a_request_twice():
    """With a batching window, only one instance gathers a batch at a time: two gathering at once
    both took the same head (a thread caller's future then failed in the second)."""
    instances = [Instance(delay=0.002) for _ in range(3)]
    b = DynamicBatcher(instances, max_batch_size=8, window_s=0.005, max_queue=1000)
    try:
        futs = []
        for i in range(300):  # arriving one by one, so a gathering instance waits for company
            futs.append(b.submit({"x": np.full((1, 2), i, np.float32)}))
            time.sleep(0.0001)
        assert [f.result(10)["y"].tolist() for f in futs] == [[2.0 * i] for i in range(300)]
        ran = sorted(int(v) for i in instances for batch in i.batches for v in batch[:, 0])
        assert ran == list(range(300))  # every request ran exactly once
        assert all(t.is_alive() for t in b._threads)
    finally:
        b.close()


class DeviceStacker:
    """An engine that stacks requests itself (as TensorRT does on the GPU) and finds one unusable."""

    stacks_on_device = True

    def __init__(self) -> None:
        self.calls: list[int] = []

    def run_parts(self, requests):
        self.calls.append(len(requests))
        parts = [r["x"] if isinstance(r["x"], np.ndarray) else r["x"].value for r in requests]
        problems = {i: ValueError("inputs[0]: contains NaN or infinity") for i, p in enumerate(parts) if not np.isfinite(p).all()}
        x = np.nan_to_num(np.concatenate(parts))
        return {"y": x.reshape(x.shape[0], -1).sum(axis=1)}, problems


def test_an_engine_that_stacks_on_the_device_gets_every_request_and_fails_only_the_bad_one():
    engine = DeviceStacker()
    b = DynamicBatcher([engine], max_batch_size=16, window_s=0.05)
    try:
        first = b.submit({"x": np.zeros((1, 3), np.float32)})
        time.sleep(0.01)
        bad = np.full((1, 3), np.nan, np.float32)
        futs = [b.submit({"x": Lazy(np.ones((2, 3), np.float32))}), b.submit({"x": Lazy(bad)}), b.submit({"x": np.full((1, 3), 2, np.float32)})]
        assert futs[0].result(2)["y"].tolist() == [3.0, 3.0] and futs[2].result(2)["y"].tolist() == [6.0]
        with pytest.raises(ValueError, match="NaN"):
            futs[1].result(2)
        first.result(2)
        assert engine.calls[-1] == 3  # the three queued requests in one batch, stacked by the engine
    finally:
        b.close()
