"""Shared memory the GPU copies from directly: a region mapped into this process and registered
with CUDA (``cudaHostRegister``), so a request's bytes go from the client's object to the batch's
device buffer by DMA, with no copy on the CPU.

The CPU never reads the mapping (the NaN check runs on the GPU): a client that truncates the object
cannot make this process fault (SIGBUS), and the registered pages stay pinned for the DMA until the
region goes. When mapping or registering fails (an offset that does not suit, a kernel that refuses
to pin the pages), the region is read with ``pread`` instead (serve/shm.py).
"""
from __future__ import annotations

import mmap
from typing import Any

import numpy as np
import torch

from .dtypes import torch_dtype_of


class RegisteredRegion:
    """One region mapped and registered with CUDA.

    Args:
        fd: the shared memory object's descriptor.
        offset: where the region begins in the object.
        size: the region's bytes.
    """

    def __init__(self, fd: int, offset: int, size: int) -> None:
        self._ptr: int | None = None
        start = offset - offset % mmap.ALLOCATIONGRANULARITY
        self._skip = offset - start
        self._map = mmap.mmap(fd, self._skip + size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE, offset=start)
        self._bytes = torch.frombuffer(self._map, dtype=torch.uint8)  # a view of the mapping, nothing read
        ptr = self._bytes.data_ptr()
        torch.cuda.check_error(torch.cuda.cudart().cudaHostRegister(ptr, self._bytes.numel(), 0))
        self._ptr = ptr

    @classmethod
    def of(cls, region: Any) -> RegisteredRegion:
        """For :meth:`serve.shm.Region.view`."""
        return cls(region.fd, region.offset, region.byte_size)

    def tensor(self, offset: int, shape: tuple[int, ...], dtype: np.dtype) -> torch.Tensor | None:
        """The bytes at ``offset`` in the region as a (registered, host) tensor of this shape and
        dtype, or None when the offset does not suit the dtype's alignment."""
        t_dtype = torch_dtype_of(dtype)
        nbytes = int(np.prod(shape)) * np.dtype(dtype).itemsize
        begin = self._skip + offset
        if begin % np.dtype(dtype).itemsize:
            return None
        return self._bytes[begin:begin + nbytes].view(t_dtype).view(shape)

    def close(self) -> None:
        """Unregisters the pages (the mapping goes with the last tensor viewing it)."""
        if self._ptr is not None:
            torch.cuda.cudart().cudaHostUnregister(self._ptr)
            self._ptr = None

    def __del__(self) -> None:
        self.close()
