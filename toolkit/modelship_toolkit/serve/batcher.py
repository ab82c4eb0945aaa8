"""Dynamic micro-batching: requests with the same non-batch shape are stacked along axis 0 and run
as one batch by a worker thread — one per engine instance, each taking the next batch when it is
free (several TensorRT execution contexts on one GPU overlap one batch's copies with another's
compute).

The worker blocks on a condition variable (never polls): it wakes when a request arrives, takes
the oldest request as the head of the next batch, and waits until the head's batching window has
passed, the batch is full, or arrivals pause for ``ARRIVAL_GAP_S``, collecting requests whose shape
key matches the head's. When a whole
window passes with nobody else (sequential traffic), later heads run at once, until requests
queue together again: a lone client never pays the window on every request. Requests of
other shapes stay queued, in order, for the next batch. The queue is bounded (:class:`QueueFull`);
callers wait on a :class:`concurrent.futures.Future` with a timeout, and a request whose caller
gave up is dropped before it is run.

A batch is assembled in its worker thread (or, for an engine that stacks it on the GPU, by the
engine there). An input may be a :class:`LazyInput` (bytes in a shared memory region) that is
read straight into its rows there; one that cannot be read fails its own request, not the batch.
"""
from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from typing import Any, Protocol

import numpy as np

Arrays = dict[str, np.ndarray]
RunBatch = Callable[[Arrays], Arrays]


class LazyInput(Protocol):
    """An input whose bytes are read when its batch is assembled (see serve/shm.py)."""

    shape: tuple[int, ...]
    dtype: np.dtype

    def read_into(self, out: np.ndarray) -> None:
        """Fills ``out`` (this shape and dtype); raises ``ValueError`` for bad data."""
        ...


class BatchWorker(Protocol):
    """One engine instance: what a worker thread runs its batches on. It may instead stack the
    requests itself (``stacks_on_device`` true): ``run_parts([inputs per request]) -> (outputs,
    {request index: error})``."""

    def run(self, feeds: Arrays) -> Arrays:
        """Runs a stacked batch; outputs have the batch on axis 0."""
        ...


class _CallableWorker:
    def __init__(self, fn: RunBatch) -> None:
        self.run = fn


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


def _rows(inputs: Mapping[str, Any]) -> int:
    return int(next(iter(inputs.values())).shape[0]) if inputs else 1


def shape_key(inputs: Mapping[str, Any]) -> tuple:
    """Requests are batchable together iff their keys are equal: per input, dtype and non-batch shape."""
    return tuple((name, a.dtype.str, a.shape[1:]) for name, a in sorted(inputs.items()))


class DynamicBatcher:
    """Batches requests for one backend.

    Args:
        run_batch: runs a stacked batch, returning outputs with the batch on axis 0; or a list of
            engine instances (:class:`BatchWorker`), each run by a worker thread of its own.
        max_batch_size: most rows in one batch (a single larger request still runs alone).
        window_s: how long the head of a batch waits for company.
        max_queue: most queued requests; beyond it :meth:`submit` raises :class:`QueueFull`.
        batchable: False when the model has no dynamic batch dim (each request runs alone).
        on_batch: called after each batch with (rows, seconds) for metrics.
        name: thread name.
    """

    def __init__(
        self,
        run_batch: RunBatch | Sequence[BatchWorker],
        *,
        max_batch_size: int = 32,
        window_s: float = 0.005,
        max_queue: int = 256,
        batchable: bool = True,
        on_batch: Callable[[int, float], None] | None = None,
        name: str = "batcher",
    ) -> None:
        workers = [_CallableWorker(run_batch)] if callable(run_batch) else list(run_batch)
        if not workers:
            raise ValueError("a batcher needs at least one engine instance")
        self.max_batch_size = max(1, max_batch_size)
        self.window_s = max(0.0, window_s)
        self.max_queue = max(1, max_queue)
        self.batchable = batchable
        self._on_batch = on_batch
        self._queue: deque[_Item] = deque()
        self._cond = threading.Condition()
        self._closed = False
        self._wait_for_company = True
        self._forming = False
        self._last_arrival = 0.0
        self._threads = [threading.Thread(target=self._worker, args=(w,), name=f"{name}-{i}" if i else name, daemon=True)
                         for i, w in enumerate(workers)]
        for t in self._threads:
            t.start()

    @property
    def instances(self) -> int:
        """Engine instances (worker threads) running batches."""
        return len(self._threads)

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
            self._cond.notify_all()  # the worker gathering a batch, or an idle one
        return item

    def close(self, *, wait: bool = True, timeout: float | None = 30.0) -> None:
        """Refuses new requests; queued ones still run. With ``wait``, joins the workers."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if wait:
            end = None if timeout is None else time.monotonic() + timeout
            for t in self._threads:
                if t is not threading.current_thread():
                    t.join(None if end is None else max(0.0, end - time.monotonic()))

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
                if self._queue and not self._forming:
                    break
                if self._closed and not self._queue:
                    return None
                self._cond.wait()
            # One worker at a time gathers a batch; the others wait for the next head (two
            # gathering at once would both take the head while the lock is released in the wait).
            self._forming = True
            try:
                return self._gather()
            finally:
                self._forming = False
                self._cond.notify_all()

    def _gather(self) -> list[_Item]:
        """The batch led by the queue's head (caller holds the lock and is the one gathering)."""
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

    def _worker(self, worker: BatchWorker) -> None:
        while True:
            batch = self._next_batch()
            if batch is None:
                return
            live = [it for it in batch if it.start()]
            if live:
                self._execute(worker, live)

    def _execute(self, worker: BatchWorker, items: list[_Item]) -> None:
        t0 = time.perf_counter()
        rows = sum(it.rows for it in items)
        try:
            if getattr(worker, "stacks_on_device", False):
                outputs, problems = worker.run_parts([it.inputs for it in items])  # type: ignore[attr-defined]
            else:
                problems = {}
                items, stacked = self._assemble(items)
                if not items:
                    return
                rows = sum(it.rows for it in items)
                outputs = worker.run(stacked)
            for name, arr in outputs.items():
                if len(items) > 1 and (arr.ndim == 0 or arr.shape[0] != rows):
                    raise RuntimeError(f"output '{name}' has shape {list(arr.shape)}, expected {rows} rows on axis 0")
        except BaseException as e:  # noqa: BLE001 - every waiter must hear about it
            self._resolve(items, [e] * len(items), failed=True)
            return
        finally:
            if self._on_batch is not None and items:
                try:
                    self._on_batch(rows, time.perf_counter() - t0)
                except Exception:
                    pass
        off, results = 0, []
        for it in items:
            results.append({k: v[off:off + it.rows] for k, v in outputs.items()} if len(items) > 1 else outputs)
            off += it.rows
        if problems:  # requests whose data the engine found unusable: their own errors
            self._resolve([items[i] for i in problems], list(problems.values()), failed=True)
            kept = [i for i in range(len(items)) if i not in problems]
            items, results = [items[i] for i in kept], [results[i] for i in kept]
        self._resolve(items, results, failed=False)

    def _assemble(self, items: list[_Item]) -> tuple[list[_Item], Arrays]:
        """The batch's inputs, stacked in new arrays. A lazy input is
        read into its rows here; a request whose input cannot be read is answered with its error
        and left out. Each request's inputs become views of its rows (what the shadow copy and
        the answer see)."""
        first = items[0].inputs
        if len(items) == 1 and all(type(a) is np.ndarray for a in first.values()):
            return items, first
        rows = sum(it.rows for it in items)
        buffers = {name: np.empty((rows, *a.shape[1:]), a.dtype) for name, a in first.items()}
        kept, off = [], 0
        for it in items:
            try:
                for name, buf in buffers.items():
                    src, dst = it.inputs[name], buf[off:off + it.rows]
                    if isinstance(src, np.ndarray):
                        dst[...] = src
                    else:
                        src.read_into(dst)
            except ValueError as e:  # this request's data, not the batch's
                self._resolve([it], [e], failed=True)
                continue
            for name, buf in buffers.items():
                it.inputs[name] = buf[off:off + it.rows]
            kept.append(it)
            off += it.rows
        return kept, {n: b[:off] for n, b in buffers.items()}

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
