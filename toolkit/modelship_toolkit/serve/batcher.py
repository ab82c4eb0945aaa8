"""Dynamic micro-batching: requests with the same non-batch shape are stacked along axis 0 and run
as one batch by a single worker thread.

The worker blocks on a condition variable (never polls): it wakes when a request arrives, takes
the oldest request as the head of the next batch, and waits until the head's batching window has
passed, the batch is full, or arrivals pause for ``ARRIVAL_GAP_S``, collecting requests whose shape
key matches the head's. When a whole
window passes with nobody else (sequential traffic), later heads run at once, until requests
queue together again: a lone client never pays the window on every request. Requests of
other shapes stay queued, in order, for the next batch. The queue is bounded (:class:`QueueFull`);
callers wait on a :class:`concurrent.futures.Future` with a timeout, and a request whose caller
gave up is dropped before it is run.
"""
from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from typing import Any

import numpy as np

Arrays = dict[str, np.ndarray]
RunBatch = Callable[[Arrays], Arrays]


#: A batch stops waiting for company when no request has arrived for this long (or its window ends).
ARRIVAL_GAP_S = 0.00025


class QueueFull(Exception):
    """The batcher's queue holds ``max_queue`` requests; try again shortly (HTTP 503)."""


class BatcherClosed(Exception):
    """The variant is being unloaded; route the request elsewhere."""


class _Item:
    """One queued request. ``future`` is a :class:`concurrent.futures.Future` for a thread caller,
    or, with ``loop`` set, an asyncio future of that event loop."""

    __slots__ = ("inputs", "key", "rows", "enqueued", "future", "loop")

    def __init__(self, inputs: Arrays, rows: int, future: Any, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self.inputs, self.key, self.rows, self.enqueued = inputs, shape_key(inputs), rows, time.monotonic()
        self.future, self.loop = future, loop

    def cancelled(self) -> bool:
        """The caller gave up (cancelled, or its deadline answered it)."""
        return self.future.done() if self.loop is not None else self.future.cancelled()

    def start(self) -> bool:
        """Marks the request running; False when its caller already gave up."""
        return not self.future.done() if self.loop is not None else self.future.set_running_or_notify_cancel()


def _rows(inputs: Mapping[str, np.ndarray]) -> int:
    return int(next(iter(inputs.values())).shape[0]) if inputs else 1


def shape_key(inputs: Mapping[str, np.ndarray]) -> tuple:
    """Requests are batchable together iff their keys are equal: per input, dtype and non-batch shape."""
    return tuple((name, a.dtype.str, a.shape[1:]) for name, a in sorted(inputs.items()))


class DynamicBatcher:
    """Batches requests for one backend.

    Args:
        run_batch: runs a stacked batch, returning outputs with the batch on axis 0.
        max_batch_size: most rows in one batch (a single larger request still runs alone).
        window_s: how long the head of a batch waits for company.
        max_queue: most queued requests; beyond it :meth:`submit` raises :class:`QueueFull`.
        batchable: False when the model has no dynamic batch dim (each request runs alone).
        on_batch: called after each batch with (rows, seconds) for metrics.
        name: thread name.
    """

    def __init__(
        self,
        run_batch: RunBatch,
        *,
        max_batch_size: int = 32,
        window_s: float = 0.005,
        max_queue: int = 256,
        batchable: bool = True,
        on_batch: Callable[[int, float], None] | None = None,
        name: str = "batcher",
    ) -> None:
        self._run = run_batch
        self.max_batch_size = max(1, max_batch_size)
        self.window_s = max(0.0, window_s)
        self.max_queue = max(1, max_queue)
        self.batchable = batchable
        self._on_batch = on_batch
        self._queue: deque[_Item] = deque()
        self._cond = threading.Condition()
        self._closed = False
        self._wait_for_company = True
        self._last_arrival = 0.0
        self._thread = threading.Thread(target=self._worker, name=name, daemon=True)
        self._thread.start()

    @property
    def depth(self) -> int:
        """Requests waiting (not yet running)."""
        return len(self._queue)

    def submit(self, inputs: Arrays) -> Future:
        """Queues one request; its future resolves to the request's slice of the batch outputs.

        Raises:
            QueueFull: when ``max_queue`` requests are waiting.
            BatcherClosed: after :meth:`close`.
        """
        return self._enqueue(_Item(dict(inputs), _rows(inputs), Future())).future

    def submit_async(self, inputs: Arrays) -> asyncio.Future:
        """:meth:`submit` for a caller on an event loop: the returned future belongs to the running
        loop, and a whole batch's answers reach the loop in one wake-up (not one per request).
        Cancelling it drops the request if its batch has not started."""
        loop = asyncio.get_running_loop()
        return self._enqueue(_Item(inputs, _rows(inputs), loop.create_future(), loop)).future

    def _enqueue(self, item: _Item) -> _Item:
        with self._cond:
            if self._closed:
                raise BatcherClosed("variant is being unloaded")
            if len(self._queue) >= self.max_queue:
                raise QueueFull(f"queue full ({self.max_queue} requests waiting)")
            self._queue.append(item)
            self._last_arrival = item.enqueued
            self._cond.notify()
        return item

    def close(self, *, wait: bool = True, timeout: float | None = 30.0) -> None:
        """Refuses new requests; queued ones still run. With ``wait``, joins the worker."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if wait and threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    # -- worker ---------------------------------------------------------------------------------

    def _take(self, head: _Item) -> tuple[list[_Item], int]:
        """Matching queued items for a batch led by ``head`` (caller holds the lock)."""
        batch, rows = [head], head.rows
        if not self.batchable:
            return batch, rows
        for it in self._queue:
            if it is head or it.key != head.key or it.cancelled():
                continue
            if rows + it.rows > self.max_batch_size:
                continue
            batch.append(it)
            rows += it.rows
            if rows >= self.max_batch_size:
                break
        return batch, rows

    def _next_batch(self) -> list[_Item] | None:
        with self._cond:
            while True:
                while self._queue and self._queue[0].cancelled():
                    self._queue.popleft()
                if self._queue:
                    break
                if self._closed:
                    return None
                self._cond.wait()
            head = self._queue[0]
            waits = self._wait_for_company
            window_end = head.enqueued + (self.window_s if waits else 0.0)
            while True:
                batch, rows = self._take(head)
                # The window ends early once arrivals pause: clients that all have a request in
                # flight send nothing more until they are answered.
                deadline = min(window_end, self._last_arrival + min(self.window_s, ARRIVAL_GAP_S))
                remaining = deadline - time.monotonic()
                if rows >= self.max_batch_size or remaining <= 0 or self._closed or not self.batchable:
                    break
                self._cond.wait(remaining)  # woken by a new request, or the window ends
            # Sequential traffic (a whole window passed and nobody came) stops paying the window;
            # company (requests queued together) brings it back.
            if len(batch) > 1:
                self._wait_for_company = True
            elif waits and self.window_s > 0:
                self._wait_for_company = False
            taken = {id(it) for it in batch}
            self._queue = deque(it for it in self._queue if id(it) not in taken and not it.cancelled())
            return batch

    def _worker(self) -> None:
        while True:
            batch = self._next_batch()
            if batch is None:
                return
            live = [it for it in batch if it.start()]
            if live:
                self._execute(live)

    def _execute(self, items: list[_Item]) -> None:
        t0 = time.perf_counter()
        rows = sum(it.rows for it in items)
        try:
            if len(items) == 1:
                stacked = items[0].inputs
            else:
                stacked = {name: np.concatenate([it.inputs[name] for it in items], axis=0) for name in items[0].inputs}
            outputs = self._run(stacked)
            for name, arr in outputs.items():
                if len(items) > 1 and (arr.ndim == 0 or arr.shape[0] != rows):
                    raise RuntimeError(f"output '{name}' has shape {list(arr.shape)}, expected {rows} rows on axis 0")
        except BaseException as e:  # noqa: BLE001 - every waiter must hear about it
            self._resolve(items, [e] * len(items), failed=True)
            return
        finally:
            if self._on_batch is not None:
                try:
                    self._on_batch(rows, time.perf_counter() - t0)
                except Exception:
                    pass
        off, results = 0, []
        for it in items:
            results.append({k: v[off:off + it.rows] for k, v in outputs.items()} if len(items) > 1 else outputs)
            off += it.rows
        self._resolve(items, results, failed=False)

    @staticmethod
    def _resolve(items: list[_Item], results: list, *, failed: bool) -> None:
        """Hands each item its result: thread callers' futures at once, each event loop's futures
        in one callback on that loop."""
        by_loop: dict[asyncio.AbstractEventLoop, list] = {}
        for it, r in zip(items, results):
            if it.loop is None:
                it.future.set_exception(r) if failed else it.future.set_result(r)
            else:
                by_loop.setdefault(it.loop, []).append((it.future, r))
        for loop, pairs in by_loop.items():
            try:
                loop.call_soon_threadsafe(_deliver, pairs, failed)
            except RuntimeError:  # the loop has closed: nobody waits any more
                pass


def _deliver(pairs: list, failed: bool) -> None:
    for fut, r in pairs:
        if not fut.done():
            fut.set_exception(r) if failed else fut.set_result(r)
