"""What serves a package: the engine's runner (ONNX Runtime on the CPU, TensorRT on a GPU), or the
PyTorch fallback (the model class from the package's source and its checkpoint) when the engine is
missing or fails to load or to run a warm-up batch. The runners are the toolkit's own
(:mod:`modelship_toolkit.runners`), the same ones parity and bench measure with.
"""
from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import BadInput
from ..model_loading import load_model
from ..runners import Arrays, Runner, feed_names, in_order
from .package import INTEGRITY, PackageError, ReleasePackage
from .spec import ModelSpec

log = logging.getLogger("modelship.serve")

#: Runner kind -> Open Inference Protocol ``platform``.
PLATFORMS = {"onnxruntime": "onnxruntime_onnx", "tensorrt": "tensorrt_plan", "pytorch": "pytorch_libtorch"}


class ServedModel:
    """A runner speaking the package's manifest names: inputs are renamed to the runner's, outputs
    come back under the manifest's (by name when they match, else by position).

    ``more`` are further instances of the same engine (TensorRT execution contexts), each run by a
    batcher thread of its own (:meth:`instances`)."""

    def __init__(self, runner: Runner, spec: ModelSpec, more: Sequence[Runner] = ()) -> None:
        self.runner = runner
        self._more = list(more)
        self._spec = spec
        #: ``onnxruntime``, ``tensorrt`` or ``pytorch``.
        self.kind: str = runner.kind
        #: V2 ``platform`` name.
        self.platform = PLATFORMS[runner.kind]
        self._feeds = feed_names([t.name for t in spec.inputs], runner.input_names)
        self._outputs = [o.name for o in spec.outputs]

    def run(self, inputs: Mapping[str, np.ndarray]) -> Arrays:
        """Runs a batch; returns every output of the model by manifest name."""
        produced = self.runner.run({self._feeds[k]: v for k, v in inputs.items()})
        return dict(zip(self._outputs, in_order(self._outputs, produced), strict=True))

    @property
    def stacks_on_device(self) -> bool:
        """The engine stacks a batch's requests itself, on the GPU (:meth:`run_parts`)."""
        return bool(getattr(self.runner, "stacks_on_device", False))

    def run_parts(self, requests: list[Mapping[str, Any]]) -> tuple[Arrays, dict[int, Exception]]:
        """Runs requests as one batch stacked by the engine: every output by manifest name, and the
        requests that cannot be answered (index → error)."""
        produced, problems = self.runner.run_parts([{self._feeds[k]: v for k, v in r.items()} for r in requests])  # type: ignore[attr-defined]
        return dict(zip(self._outputs, in_order(self._outputs, produced), strict=True)), problems

    def instances(self) -> list[ServedModel]:
        """One served model per engine instance (this one first)."""
        return [self, *(ServedModel(r, self._spec) for r in self._more)]

    def close(self) -> None:
        """Frees the engine (every instance)."""
        for r in self._more:
            r.close()
        self.runner.close()


def engine_runner(pkg: ReleasePackage, *, threads: int = 0) -> Runner:
    """The runner of the package's engine file (TensorRT imported only for a tensorrt package)."""
    assert pkg.engine_path is not None
    if pkg.backend == "tensorrt":
        from ..tensorrt.runner import TensorRTRunner  # lazy: needs a GPU host

        return TensorRTRunner(pkg.engine_path, own_stream=True)
    from ..runners.onnxruntime import OnnxRuntimeRunner

    # No spinning: idle worker threads block instead of burning a core between batches.
    return OnnxRuntimeRunner(pkg.engine_path, threads=threads, spinning=False, field="engine")


def fallback_runner(pkg: ReleasePackage) -> Runner:
    """The PyTorch fallback: the model class from the package's source, weights from its checkpoint.

    On a GPU host it runs on the GPU, as the seed's Predictor did (override with
    ``MODELSHIP_TORCH_DEVICE=cpu|cuda|cuda:1``). The checkpoint is loaded as weights only: a pickle
    that would run code is refused (409).
    """
    import torch

    from ..runners.pytorch import TorchRunner

    if pkg.source_dir is None:
        raise PackageError("PyTorch fallback needs the model source: metadata.json source names no folder in the package", field="source")
    if pkg.checkpoint_path is None:
        raise PackageError("PyTorch fallback needs the checkpoint: metadata.json checkpoint names no file in the package", field="checkpoint")
    try:
        model = load_model(pkg.source_dir, pkg.manifest, pkg.checkpoint_path, field="checkpoint", isolated=True)
    except BadInput as e:
        raise PackageError(e.message, status=INTEGRITY if e.field == "checkpoint" else 422, field=e.field) from None
    device = os.environ.get("MODELSHIP_TORCH_DEVICE") or ("cuda" if torch.cuda.is_available() else "cpu")
    return TorchRunner(model, device, [t.name for t in pkg.spec.inputs], [o.name for o in pkg.spec.outputs])


@dataclass
class LoadedBackend:
    """A warmed-up backend and how it was chosen."""

    backend: ServedModel
    fallback: bool
    reason: str | None = None


def warm_inputs(spec: ModelSpec) -> Arrays:
    """A zero batch at each input's representative shape (batch 1)."""
    return {t.name: np.zeros(t.opt_shape(), dtype=t.numpy_dtype) for t in spec.inputs}


def _warm(backend: ServedModel, spec: ModelSpec) -> None:
    out = backend.run(warm_inputs(spec))
    missing = [o.name for o in spec.outputs if o.name not in out]
    if missing:
        raise RuntimeError(f"warm-up produced no output {missing}")


def load_backend(pkg: ReleasePackage, *, threads: int = 0, instances: int = 1) -> LoadedBackend:
    """Loads the package's engine, or the PyTorch fallback when the engine is missing or fails.
    A TensorRT engine gets ``instances`` execution contexts (one engine, its weights once).

    Raises:
        PackageError: when neither the engine nor the fallback can serve (422).
    """
    reason: str | None
    if pkg.engine_path is None:
        reason = f"engine file {pkg.metadata.get('engine')!r} is missing from the package"
    else:
        try:
            runner = engine_runner(pkg, threads=threads)
            clone = getattr(runner, "clone", None)
            more = [clone() for _ in range(instances - 1)] if clone is not None else []
            eng = ServedModel(runner, pkg.spec, more)
            for instance in eng.instances():
                _warm(instance, pkg.spec)
            return LoadedBackend(eng, fallback=False)
        except PackageError:
            raise
        except Exception as e:  # a corrupt or incompatible engine: fall back
            reason = f"engine {pkg.engine_path.name} failed to load: {type(e).__name__}: {str(e)[:300]}"
    log.warning("%s %s: %s; using the PyTorch fallback", pkg.name, pkg.version, reason)
    try:
        fb = ServedModel(fallback_runner(pkg), pkg.spec)
        _warm(fb, pkg.spec)
    except PackageError as e:
        raise PackageError(f"{reason}, and the PyTorch fallback cannot load: {e.message}", status=e.status, field=e.field) from None
    except Exception as e:
        raise PackageError(f"{reason}, and the PyTorch fallback cannot load: {type(e).__name__}: {e}", field="checkpoint") from None
    return LoadedBackend(fb, fallback=True, reason=reason)
