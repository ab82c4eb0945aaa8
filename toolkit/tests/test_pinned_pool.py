"""TensorRTRunner's pool of pinned buffers, on plain memory: a buffer goes back into use only once
no array views it (the GPU tests check the memory is pinned)."""
from __future__ import annotations

import numpy as np

from modelship_toolkit.tensorrt.runner import PinnedPool


def _pool() -> PinnedPool:
    return PinnedPool(allocate=lambda n: np.zeros(n, np.uint8))


def test_a_buffer_is_reused_only_once_nothing_views_it():
    pool = _pool()
    a = pool.take((4, 8), np.dtype(np.float32))
    held = a[1:3]  # a request still holds its rows
    del a
    b = pool.take((2, 8), np.dtype(np.float32))
    assert not np.shares_memory(b, held) and pool.size == 2  # in use: another buffer
    del held, b
    c = pool.take((4, 8), np.dtype(np.float32))
    d = pool.take((2, 8), np.dtype(np.float32))
    assert pool.size == 2 and not np.shares_memory(c, d)  # both free buffers were reused


def test_a_smaller_request_reuses_a_larger_free_buffer_and_the_pool_is_bounded():
    pool = _pool()
    first = pool.take((64, 3), np.dtype(np.float32))
    address = first.__array_interface__["data"][0]
    del first
    again = pool.take((2, 3), np.dtype(np.float16))
    assert again.__array_interface__["data"][0] == address and again.dtype == np.float16 and again.shape == (2, 3)
    held = [again] + [pool.take((8,), np.dtype(np.uint8)) for _ in range(PinnedPool.MAX_BUFFERS + 3)]
    assert pool.size == PinnedPool.MAX_BUFFERS  # beyond it, buffers of their own, not kept
    assert len({h.__array_interface__["data"][0] for h in held}) == len(held)
