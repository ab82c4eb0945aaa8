"""The Open Inference Protocol's system shared-memory extension: a client on the same host puts a
tensor's bytes in a POSIX shared-memory object (``/dev/shm/<key>``), registers it once as a named
region, and its inference requests then name the region, offset and size instead of carrying the
bytes (``parameters.shared_memory_region`` / ``shared_memory_byte_size`` / ``shared_memory_offset``
on an input or an output), as Triton's ``v2/systemsharedmemory`` API and tritonclient's
``tritonclient.utils.shared_memory`` do.

Off unless the runtime is started with ``--shared-memory system``: a registered region lets its
client make the server read (and, for outputs, write) that object, so only co-located, trusted
clients should have it.

The server never maps a region: it reads with ``pread`` into the batch buffer (on a GPU, pinned
memory that is copied to the device), in the batch's worker thread, and writes outputs with
``pwrite``. A client that shrinks or deletes the object after registering gets a 400 for the
request that finds it short; a mapping would crash the server with SIGBUS instead.
"""
from __future__ import annotations

import logging
import math
import os
import re
import stat
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .protocol import RequestError

log = logging.getLogger("modelship.serve")

#: Most regions registered at once (each holds one open file descriptor).
MAX_REGIONS = 256
#: A region's and a key's name: what POSIX ``shm_open`` accepts, without a second ``/``.
_NAME = re.compile(r"^[A-Za-z0-9_.:-]{1,200}$")
SHM_DIR = "/dev/shm"


class SharedMemoryError(Exception):
    """A register/unregister/status call that cannot be done; ``status`` is the HTTP status."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message, self.status = message, status


class _File:
    """An open descriptor, closed when the last holder lets go: a request in flight keeps reading
    the object it was given even if its region is unregistered meanwhile, and a closed number is
    never read again after the kernel hands it to another file."""

    __slots__ = ("fd",)

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def __del__(self) -> None:
        try:
            os.close(self.fd)
        except OSError:
            pass


class Region:
    """A registered region: ``byte_size`` bytes at ``offset`` in ``/dev/shm/<key>``.

    An engine may keep a view of its own of the region (:meth:`view`, e.g. the region mapped and
    registered with CUDA so a GPU copies from it directly); it goes when the region does.
    """

    def __init__(self, name: str, key: str, offset: int, byte_size: int, file: _File) -> None:
        self.name, self.key, self.offset, self.byte_size, self.file = name, key, offset, byte_size, file
        self._views: dict[str, Any] = {}
        self._lock = threading.Lock()

    @property
    def fd(self) -> int:
        """The object's open descriptor."""
        return self.file.fd

    def view(self, kind: str, make: Callable[[Region], Any]) -> Any:
        """The view ``kind`` of this region, made once by ``make(region)``; None (and a warning,
        once) when it cannot be made — the caller then reads the bytes instead."""
        with self._lock:
            if kind not in self._views:
                try:
                    self._views[kind] = make(self)
                except Exception as e:  # noqa: BLE001 - any failure means: read it instead
                    log.warning("shared memory region '%s': no %s view (%s: %s); reading it instead", self.name, kind, type(e).__name__, e)
                    self._views[kind] = None
            return self._views[kind]

    def status(self) -> dict[str, Any]:
        """The protocol's status entry."""
        return {"name": self.name, "key": self.key, "offset": self.offset, "byte_size": self.byte_size}


class ShmTensor:
    """An input whose bytes are in a registered region, read when its batch is assembled.

    It has what the batcher looks at (``shape``, ``dtype``, ``nbytes``); :meth:`read_into` fills the
    batch buffer's rows for it and checks the values the way an inline input is checked.
    """

    __slots__ = ("region", "offset", "shape", "dtype", "nbytes", "where")

    def __init__(self, region: Region, offset: int, shape: tuple[int, ...], dtype: np.dtype, where: str) -> None:
        self.region, self.offset, self.shape, self.dtype, self.where = region, offset, shape, dtype, where
        self.nbytes = math.prod(shape) * dtype.itemsize

    def read_into(self, out: np.ndarray) -> None:
        """Reads the tensor into ``out`` (C-contiguous, this shape and dtype).

        Raises:
            RequestError: the object is shorter than registered (shrunk or removed since), or a
                float input holds NaN or infinity.
        """
        view = memoryview(out).cast("B")  # type: ignore[arg-type]  # numpy arrays are buffers
        got = 0
        try:
            while got < self.nbytes:
                n = os.preadv(self.region.fd, [view[got:]], self.region.offset + self.offset + got)
                if n == 0:
                    break
                got += n
        except OSError as e:
            raise RequestError(f"{self.where}: shared memory region '{self.region.name}' cannot be read: {e.strerror}") from None
        if got < self.nbytes:
            raise RequestError(f"{self.where}: shared memory region '{self.region.name}' ends after {got} of the {self.nbytes} bytes "
                               "asked for (the object shrank since it was registered)")
        if out.dtype.kind == "f" and not np.isfinite(out).all():
            raise RequestError(f"{self.where}: contains NaN or infinity")

    def read(self) -> np.ndarray:
        """The tensor as a new array."""
        out = np.empty(self.shape, dtype=self.dtype)
        self.read_into(out)
        return out


@dataclass(frozen=True)
class ShmOutput:
    """Where an output is to be written instead of answered."""

    region: Region
    offset: int
    byte_size: int

    def write(self, data: bytes, where: str) -> None:
        """Writes the output's bytes at the place the request named.

        Raises:
            RequestError: the bytes do not fit the size the request gave, or the write fails.
        """
        if len(data) > self.byte_size:
            raise RequestError(f"{where}.parameters.shared_memory_byte_size: the output has {len(data)} bytes, "
                               f"{self.byte_size} were given for it")
        try:
            n = os.pwrite(self.region.fd, data, self.region.offset + self.offset)
        except OSError as e:
            raise RequestError(f"{where}: shared memory region '{self.region.name}' cannot be written: {e.strerror}") from None
        if n != len(data):
            raise RequestError(f"{where}: shared memory region '{self.region.name}' took {n} of {len(data)} bytes")


def _int(body: Mapping[str, Any], key: str, default: int | None = None) -> int:
    value = body.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise SharedMemoryError(f"{key}: expected a non-negative integer, got {str(value)[:40]}")
    return value


class SharedMemoryRegistry:
    """The registered system shared-memory regions (thread-safe)."""

    def __init__(self, enabled: bool, shm_dir: str = SHM_DIR) -> None:
        self.enabled = enabled
        self._dir = shm_dir
        self._regions: dict[str, Region] = {}
        self._lock = threading.Lock()

    def _check_enabled(self) -> None:
        if not self.enabled:
            raise SharedMemoryError("system shared memory is off on this server (start it with --shared-memory system)", 403)

    def register(self, name: str, body: Mapping[str, Any]) -> None:
        """``POST v2/systemsharedmemory/region/{name}/register`` with ``{key, offset?, byte_size}``.

        Raises:
            SharedMemoryError: off, a bad name/key/size, an object that is not there or is smaller
                than ``offset + byte_size``, a name already registered, too many regions.
        """
        self._check_enabled()
        if not _NAME.match(name or ""):
            raise SharedMemoryError(f"region name: expected 1-200 letters, digits or _.:- , got {name[:60]!r}")
        key = body.get("key")
        if not isinstance(key, str) or not _NAME.match(key.removeprefix("/")) or key.removeprefix("/").startswith("."):
            raise SharedMemoryError(f"key: expected a shared memory object's name (1-200 letters, digits or _.:-), got {str(key)[:60]!r}")
        offset, size = _int(body, "offset", 0), _int(body, "byte_size")
        if size == 0:
            raise SharedMemoryError("byte_size: a region must hold at least one byte")
        path = os.path.join(self._dir, key.removeprefix("/"))
        try:
            file = _File(os.open(path, os.O_RDWR | os.O_CLOEXEC | os.O_NOFOLLOW))
        except OSError as e:
            raise SharedMemoryError(f"key: cannot open shared memory object '{key}': {e.strerror}") from None
        st = os.fstat(file.fd)  # on any refusal below, the descriptor closes with `file`
        if not stat.S_ISREG(st.st_mode):
            raise SharedMemoryError(f"key: '{key}' is not a shared memory object")
        if st.st_size < offset + size:
            raise SharedMemoryError(f"byte_size: shared memory object '{key}' has {st.st_size} bytes, "
                                    f"offset {offset} + byte_size {size} is past its end")
        with self._lock:
            if name in self._regions:
                raise SharedMemoryError(f"region '{name}' is already registered; unregister it first", 409)
            if len(self._regions) >= MAX_REGIONS:
                raise SharedMemoryError(f"{MAX_REGIONS} regions are registered, the most this server holds; unregister some", 429)
            self._regions[name] = Region(name, key, offset, size, file)

    def unregister(self, name: str | None) -> None:
        """Unregisters one region (unknown names are fine, as in Triton) or, with None, all."""
        self._check_enabled()
        with self._lock:
            gone = list(self._regions) if name is None else [name] if name in self._regions else []
            for n in gone:  # its descriptor closes once no request in flight holds it
                del self._regions[n]

    def status(self, name: str | None) -> list[dict[str, Any]]:
        """Every region's status, or one's (404 when it is not registered)."""
        self._check_enabled()
        with self._lock:
            if name is None:
                return [r.status() for r in self._regions.values()]
            if name not in self._regions:
                raise SharedMemoryError(f"no shared memory region '{name}' is registered", 404)
            return [self._regions[name].status()]

    def _place(self, params: Mapping[str, Any], where: str) -> tuple[Region, int, int]:
        name = params.get("shared_memory_region")
        if not self.enabled:
            raise RequestError(f"{where}.parameters.shared_memory_region: system shared memory is off on this server")
        with self._lock:
            region = self._regions.get(name) if isinstance(name, str) else None
        if region is None:
            raise RequestError(f"{where}.parameters.shared_memory_region: no region {str(name)[:60]!r} is registered")
        size, offset = params.get("shared_memory_byte_size"), params.get("shared_memory_offset", 0)
        for key, value in (("shared_memory_byte_size", size), ("shared_memory_offset", offset)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise RequestError(f"{where}.parameters.{key}: expected a non-negative integer, got {str(value)[:40]}")
        assert isinstance(size, int) and isinstance(offset, int)
        if offset + size > region.byte_size:
            raise RequestError(f"{where}.parameters: offset {offset} + byte_size {size} is past the end of region "
                               f"'{region.name}' ({region.byte_size} bytes)")
        return region, offset, size

    def tensor(self, params: Mapping[str, Any], shape: list[int], dtype: np.dtype, where: str) -> ShmTensor:
        """The input a request's parameters point at.

        Raises:
            RequestError: off, an unknown region, a size that is not the shape's, out of bounds.
        """
        region, offset, size = self._place(params, where)
        t = ShmTensor(region, offset, tuple(shape), dtype, where)
        if size != t.nbytes:
            raise RequestError(f"{where}.parameters.shared_memory_byte_size: shape {shape} of {dtype.name} is {t.nbytes} bytes, got {size}")
        return t

    def output(self, params: Mapping[str, Any], where: str) -> ShmOutput:
        """Where a requested output is to be written."""
        return ShmOutput(*self._place(params, where))

    def close(self) -> None:
        """Unregisters everything (at shutdown; descriptors close as requests in flight end)."""
        with self._lock:
            self._regions = {}


def wants_shared_memory(params: Any) -> bool:
    """True when a tensor's parameters name a shared memory region."""
    return isinstance(params, Mapping) and "shared_memory_region" in params
