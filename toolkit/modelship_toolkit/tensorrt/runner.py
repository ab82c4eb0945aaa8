"""Runs a serialized TensorRT engine with torch CUDA tensors, on the TensorRT 10 named-tensor API.

Uses only the name-based API (``num_io_tensors``, ``get_tensor_name``, ``get_tensor_mode``,
``get_tensor_dtype``, ``set_input_shape``, ``get_tensor_shape``, ``set_tensor_address``,
``execute_async_v3``), available since TensorRT 8.5 and the only one left in 10: no binding
indices, no pycuda. Buffers are torch tensors on the engine's CUDA device.

Two ways to call it:

- :meth:`TensorRTRunner.infer` enqueues on torch's current stream, so it orders with the caller's
  own torch work (parity, bench), and returns CUDA tensors.
- :meth:`TensorRTRunner.run` and :meth:`TensorRTRunner.run_parts` (serving, ``own_stream=True``)
  are host-to-host: inputs go to the device from pinned host memory (a pool the runner keeps) or
  straight from a shared memory region registered with CUDA, and the copy in, the engine and the
  copy out are enqueued asynchronously on the runner's own CUDA stream with one synchronization at
  the end. Several runners of one engine (:meth:`clone`: another execution context and stream, the
  weights shared) run batches at once from their own threads, one batch's copies overlapping
  another's compute.
"""
from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import torch

from ..runners import InputDataError
from .dtypes import numpy_dtype_of, torch_dtype_for, torch_dtype_of


class TensorRTUnavailableError(RuntimeError):
    """``tensorrt`` cannot be imported, or there is no CUDA device."""


def import_tensorrt() -> ModuleType:
    """Imports ``tensorrt`` or raises :class:`TensorRTUnavailableError` saying how to get it."""
    try:
        import tensorrt  # type: ignore[import-not-found]
    except ImportError as err:
        raise TensorRTUnavailableError(
            f"the tensorrt Python module is not importable ({err}); run TensorRT engines on the GPU worker image "
            "(docker/Dockerfile.gpu-worker, based on nvcr.io/nvidia/tensorrt:<yy.mm>-py3) or `pip install tensorrt` on a host with an NVIDIA GPU"
        ) from err
    return tensorrt


@dataclass(frozen=True)
class TensorInfo:
    """One I/O tensor of the engine."""

    name: str
    is_input: bool
    dtype: torch.dtype
    #: As built; ``-1`` marks a dynamic dimension.
    shape: tuple[int, ...]


def _mode_is_input(trt: ModuleType, mode: Any) -> bool:
    return mode == trt.TensorIOMode.INPUT


def check_feed(expected: list[str], provided: Mapping[str, Any]) -> None:
    """Raises ``KeyError`` naming missing and unknown inputs (pure; tested without TensorRT)."""
    missing = [n for n in expected if n not in provided]
    unknown = [n for n in provided if n not in expected]
    if missing or unknown:
        parts = []
        if missing:
            parts.append(f"missing inputs {missing}")
        if unknown:
            parts.append(f"unknown inputs {unknown}")
        raise KeyError(f"engine inputs are {expected}: " + "; ".join(parts))


def _pinned_bytes(nbytes: int) -> np.ndarray:
    """``nbytes`` of pinned host memory as a uint8 array (the array holds the torch tensor)."""
    return torch.empty(nbytes, dtype=torch.uint8, pin_memory=True).numpy()


class PinnedPool:
    """Pinned host buffers of one runner, allocated once and reused: pinning memory
    (``cudaHostAlloc``) costs milliseconds for a batch of images, so it is not done per batch.

    A buffer is free again once no array outside the pool views it (a batch's inputs stay alive in
    the requests that were stacked into them, e.g. for the shadow copy): numpy views hold a
    reference to the array they view, so its reference count says so.

    Args:
        allocate: makes a buffer of n bytes (default: pinned memory; tests pass plain numpy).
    """

    #: Buffers kept at most; beyond, a batch gets a buffer of its own.
    MAX_BUFFERS = 8

    def __init__(self, allocate: Callable[[int], np.ndarray] = _pinned_bytes) -> None:
        self._allocate = allocate
        self._buffers: list[np.ndarray] = []

    def take(self, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        """An array of this shape and dtype in a buffer no one else uses."""
        nbytes = max(1, int(np.prod(shape)) * np.dtype(dtype).itemsize)
        base = None
        for i in range(len(self._buffers)):
            # References to a free buffer: the pool's list and getrefcount's argument.
            if self._buffers[i].nbytes >= nbytes and sys.getrefcount(self._buffers[i]) <= 2:
                base = self._buffers[i]
                break
        if base is None:
            base = self._allocate(nbytes)
            if len(self._buffers) < self.MAX_BUFFERS:
                self._buffers.append(base)
        return base[:nbytes].view(dtype).reshape(shape)

    @property
    def size(self) -> int:
        """Buffers the pool keeps."""
        return len(self._buffers)


class TensorRTRunner:
    """A deserialized engine and one execution context.

    Args:
        engine_path: the serialized engine (``--saveEngine`` output).
        device: CUDA device to run on; default the current one.
        own_stream: :meth:`run` enqueues on a CUDA stream of this runner's (serving), not torch's
            current one.

    One context runs one inference at a time (a lock). :meth:`run` makes it a
    :class:`~modelship_toolkit.runners.Runner` (numpy in, numpy out).
    """

    kind = "tensorrt"

    def __init__(self, engine_path: str | Path, *, device: torch.device | int | str | None = None, own_stream: bool = False,
                 _shared: TensorRTRunner | None = None) -> None:
        trt = import_tensorrt()
        if not torch.cuda.is_available():
            raise TensorRTUnavailableError("no CUDA device is visible to torch; TensorRT engines need an NVIDIA GPU")
        self._trt = trt
        self.device = torch.device("cuda", torch.cuda.current_device()) if device is None else torch.device(device)
        if self.device.type != "cuda":
            raise ValueError(f"device must be a CUDA device, got {self.device}")
        self._path = path = Path(engine_path)
        with torch.cuda.device(self.device):
            self._logger: Any
            self._runtime: Any
            self.engine: Any
            if _shared is not None:  # another context of an engine already deserialized
                self._logger, self._runtime, self.engine = _shared._logger, _shared._runtime, _shared.engine
            else:
                self._logger = trt.Logger(trt.Logger.WARNING)
                self._runtime = trt.Runtime(self._logger)
                self.engine = self._runtime.deserialize_cuda_engine(path.read_bytes())
            if self.engine is None:
                raise RuntimeError(
                    f"TensorRT could not deserialize {path}: it was built by another TensorRT version or for another GPU "
                    f"(this is TensorRT {trt.__version__}); rebuild the engine on this worker"
                )
            self.context = self.engine.create_execution_context()
            if self.context is None:
                raise RuntimeError(f"TensorRT could not create an execution context for {path} (out of device memory?)")
            self._stream = torch.cuda.Stream(self.device) if own_stream else None
            self._pinned = PinnedPool()
        self.tensors: list[TensorInfo] = []
        for i in range(self.engine.num_io_tensors):
            name = self.engine.get_tensor_name(i)
            self.tensors.append(
                TensorInfo(
                    name=name,
                    is_input=_mode_is_input(trt, self.engine.get_tensor_mode(name)),
                    dtype=torch_dtype_for(self.engine.get_tensor_dtype(name)),
                    shape=tuple(self.engine.get_tensor_shape(name)),
                )
            )
        self._lock = threading.Lock()

    @property
    def input_names(self) -> list[str]:
        """Input tensor names, in engine order."""
        return [t.name for t in self.tensors if t.is_input]

    @property
    def output_names(self) -> list[str]:
        """Output tensor names, in engine order."""
        return [t.name for t in self.tensors if not t.is_input]

    @property
    def stacks_on_device(self) -> bool:
        """Serving stacks a batch's requests with :meth:`run_parts` (own stream only)."""
        return self._stream is not None

    def clone(self) -> TensorRTRunner:
        """Another execution context of the same engine (weights shared), with its own stream."""
        return TensorRTRunner(self._path, device=self.device, own_stream=self._stream is not None, _shared=self)

    def infer(self, inputs: Mapping[str, torch.Tensor | np.ndarray]) -> dict[str, torch.Tensor]:
        """Runs one inference on torch's current stream and waits for it.

        Args:
            inputs: a tensor (torch, or numpy) per input name; moved to the engine's device, cast
                to the engine's input dtype and made contiguous when needed.

        Returns:
            A CUDA tensor per output name, in engine order.

        Raises:
            KeyError: missing or unknown input names.
            ValueError: a shape outside the engine's optimization profile.
            RuntimeError: TensorRT failed to enqueue.
        """
        check_feed(self.input_names, inputs)
        with self._lock, torch.cuda.device(self.device):
            stream = torch.cuda.current_stream(self.device)
            feeds = {name: torch.from_numpy(np.require(v, requirements=["C", "W"])) if isinstance(v, np.ndarray) else v
                     for name, v in inputs.items()}
            outputs = self._enqueue(feeds, stream)
            stream.synchronize()
        return outputs

    def _enqueue(self, feeds: Mapping[str, torch.Tensor], stream: torch.cuda.Stream) -> dict[str, torch.Tensor]:
        """Copies the inputs to the device (asynchronously from pinned memory), binds every tensor
        and enqueues the engine on ``stream``; returns the output tensors (not yet computed).
        The caller holds the lock and synchronizes."""
        trt_context = self.context
        with torch.cuda.stream(stream):
            for info in self.tensors:
                if not info.is_input:
                    continue
                t = feeds[info.name].to(device=self.device, non_blocking=True)
                t = t.to(dtype=info.dtype).contiguous()
                if not trt_context.set_input_shape(info.name, tuple(t.shape)):
                    raise ValueError(
                        f"input {info.name!r} shape {tuple(t.shape)} is outside the engine's optimization profile "
                        f"(built shape {info.shape}, -1 = dynamic); use shapes between the manifest's min and max"
                    )
                trt_context.set_tensor_address(info.name, t.data_ptr())
                # The caching allocator keeps the block for this stream until the work queued on it
                # is done, so ``t`` may go out of scope here.
            outputs: dict[str, torch.Tensor] = {}
            for info in self.tensors:
                if info.is_input:
                    continue
                shape = tuple(trt_context.get_tensor_shape(info.name))
                if any(d < 0 for d in shape):
                    raise RuntimeError(f"output {info.name!r} has a data-dependent shape {shape}; this runner needs shapes known before execution")
                out = torch.empty(shape, dtype=info.dtype, device=self.device)
                trt_context.set_tensor_address(info.name, out.data_ptr())
                outputs[info.name] = out
            if not trt_context.execute_async_v3(stream.cuda_stream):
                raise RuntimeError("TensorRT execute_async_v3 failed; see the TensorRT log above")
        return outputs

    def run_parts(self, requests: Sequence[Mapping[str, Any]]) -> tuple[dict[str, np.ndarray], dict[int, Exception]]:
        """Runs several requests as one batch, stacked on the GPU (serving, ``own_stream``).

        Each request gives an array per input, or a shared memory input (``serve.shm.ShmTensor``):
        one whose region this runner could map and register with CUDA is copied by DMA straight
        into its rows of the batch's device buffer, anything else through the runner's pinned
        buffers. Float inputs are checked for NaN and infinity on the GPU.

        Returns:
            The outputs for every row, and the requests that cannot be answered (index → error):
            their rows ran but their outputs are to be dropped.
        """
        from .hostmem import RegisteredRegion  # noqa: PLC0415 - CUDA-only helper

        assert self._stream is not None, "run_parts needs own_stream=True"
        problems: dict[int, Exception] = {}
        counts = [int(next(iter(r.values())).shape[0]) for r in requests]
        rows = sum(counts)
        with self._lock, torch.cuda.device(self.device):
            stream, feeds, bad = self._stream, {}, None
            with torch.cuda.stream(stream):
                for name in self.input_names:
                    first = requests[0][name]
                    dev = torch.empty((rows, *first.shape[1:]), dtype=torch_dtype_of(first.dtype), device=self.device)
                    off = 0
                    for i, r in enumerate(requests):
                        part, n = r[name], counts[i]
                        src = None
                        if not isinstance(part, np.ndarray):
                            mapped = part.region.view("cuda-registered", RegisteredRegion.of)
                            src = mapped.tensor(part.offset, part.shape, part.dtype) if mapped is not None else None
                        if src is None:
                            staged = self._pinned.take(tuple(part.shape), np.dtype(part.dtype))
                            try:
                                if isinstance(part, np.ndarray):
                                    staged[...] = part
                                else:
                                    part.read_into(staged)
                            except ValueError as e:
                                problems[i] = e
                                staged[...] = 0
                            src = torch.from_numpy(staged)
                        dev[off:off + n].copy_(src, non_blocking=True)
                        off += n
                    if dev.is_floating_point():
                        row_bad = ~torch.isfinite(dev.reshape(rows, -1)).all(dim=1)
                        bad = row_bad if bad is None else bad | row_bad
                    feeds[name] = dev
                host = self._copy_out(self._enqueue(feeds, stream))
                bad_host = bad.to("cpu", non_blocking=False) if bad is not None else None
            stream.synchronize()
        if bad_host is not None and bool(bad_host.any()):
            off = 0
            for i, n in enumerate(counts):
                if i not in problems and bool(bad_host[off:off + n].any()):
                    where = next((p.where for p in requests[i].values() if hasattr(p, "where")), "inputs")
                    problems[i] = InputDataError(f"{where}: contains NaN or infinity")
                off += n
        return host, problems

    def infer_numpy(self, inputs: Mapping[str, torch.Tensor | np.ndarray]) -> dict[str, np.ndarray]:
        """Like :meth:`infer`, with outputs copied to host numpy arrays."""
        return {k: v.cpu().numpy() for k, v in self.infer(inputs).items()}

    def run(self, feeds: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The :class:`~modelship_toolkit.runners.Runner` call: numpy in, numpy out. With
        ``own_stream``, host to host on the runner's stream: inputs not already in pinned memory
        are copied there first, the outputs come back through pinned memory, one synchronization."""
        if self._stream is None:
            return self.infer_numpy(feeds)
        check_feed(self.input_names, feeds)
        with self._lock, torch.cuda.device(self.device):
            pinned = {}
            for name, arr in feeds.items():
                if not (arr.flags.writeable and torch.from_numpy(arr).is_pinned()):
                    staged = self._pinned.take(arr.shape, arr.dtype)
                    staged[...] = arr
                    arr = staged
                pinned[name] = torch.from_numpy(arr)
            with torch.cuda.stream(self._stream):
                host = self._copy_out(self._enqueue(pinned, self._stream))
            self._stream.synchronize()  # the copies are done: the pinned inputs may be reused
        return host

    def _copy_out(self, outputs: Mapping[str, torch.Tensor]) -> dict[str, np.ndarray]:
        """Enqueues each output's copy into a pinned buffer on the current stream (the caller
        synchronizes before reading them)."""
        host = {}
        for name, out in outputs.items():
            h = self._pinned.take(tuple(out.shape), numpy_dtype_of(out.dtype))
            torch.from_numpy(h).copy_(out, non_blocking=True)
            host[name] = h
        return host

    def close(self) -> None:
        """Drops the context and engine (frees their device memory)."""
        self.context = None  # type: ignore[assignment]
        self.engine = None  # type: ignore[assignment]
