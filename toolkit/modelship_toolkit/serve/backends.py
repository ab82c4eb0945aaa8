"""Engine backends: ONNX Runtime (CPU), TensorRT (lazily imported), and the PyTorch fallback
(the model class from the package's source and its checkpoint) used when the engine is missing or
fails to load or to run a warm-up batch.

Each backend maps ``{input name: array}`` (batch on axis 0) to ``{output name: array}``.
"""
from __future__ import annotations

import importlib.util
import logging
import os
import sys
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from .package import INTEGRITY, PackageError, ReleasePackage
from .spec import ModelSpec

log = logging.getLogger("modelship.serve")

Arrays = dict[str, np.ndarray]


class Backend(Protocol):
    """Runs one batch."""

    #: ``onnxruntime``, ``tensorrt`` or ``pytorch``.
    kind: str
    #: V2 ``platform`` name.
    platform: str

    def run(self, inputs: Mapping[str, np.ndarray]) -> Arrays:
        """Runs a batch; returns every output of the model by manifest name."""

    def close(self) -> None:
        """Frees the engine."""


def _by_manifest_names(spec: ModelSpec, produced_names: list[str], values: list[Any]) -> Arrays:
    """Maps produced outputs to manifest output names: by name when they match, else by position."""
    wanted = [o.name for o in spec.outputs]
    if set(wanted) <= set(produced_names):
        return {n: np.asarray(values[produced_names.index(n)]) for n in wanted}
    if len(values) < len(wanted):
        raise RuntimeError(f"model produced {len(values)} outputs {produced_names}, manifest expects {wanted}")
    return {n: np.asarray(values[i]) for i, n in enumerate(wanted)}


class OnnxRuntimeBackend:
    """An ONNX Runtime CPU session over the package's engine (an ONNX file)."""

    kind = "onnxruntime"
    platform = "onnxruntime_onnx"

    def __init__(self, path: Path, spec: ModelSpec, *, threads: int = 0) -> None:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        # No spinning: idle worker threads block instead of burning a core between batches.
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        opts.add_session_config_entry("session.inter_op.allow_spinning", "0")
        self._sess = ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])
        self._spec = spec
        self._in_names = [i.name for i in self._sess.get_inputs()]
        self._out_names = [o.name for o in self._sess.get_outputs()]
        missing = [t.name for t in spec.inputs if t.name not in self._in_names]
        if missing and len(self._in_names) != len(spec.inputs):
            raise RuntimeError(f"engine inputs {self._in_names} do not match manifest inputs {[t.name for t in spec.inputs]}")
        # manifest name -> session name (by name, else by position)
        self._feed_names = {t.name: (t.name if t.name in self._in_names else self._in_names[i]) for i, t in enumerate(spec.inputs)}

    def run(self, inputs: Mapping[str, np.ndarray]) -> Arrays:
        feed = {self._feed_names[k]: v for k, v in inputs.items()}
        return _by_manifest_names(self._spec, self._out_names, self._sess.run(None, feed))

    def close(self) -> None:
        self._sess = None  # type: ignore[assignment]


class TensorRTBackend:
    """Wraps ``modelship_toolkit.tensorrt.runner.TensorRTRunner`` (imported only when used).

    Runner API used: ``TensorRTRunner(engine_path)``, ``infer_numpy({input: ndarray})`` returning
    ``{output name: ndarray}`` (``infer`` returning CUDA tensors when ``infer_numpy`` is absent).
    """

    kind = "tensorrt"
    platform = "tensorrt_plan"

    def __init__(self, path: Path, spec: ModelSpec) -> None:
        from modelship_toolkit.tensorrt.runner import TensorRTRunner  # lazy: needs a GPU host

        self._runner = TensorRTRunner(str(path))
        self._spec = spec

    def run(self, inputs: Mapping[str, np.ndarray]) -> Arrays:
        run_numpy = getattr(self._runner, "infer_numpy", None)
        out = run_numpy(dict(inputs)) if callable(run_numpy) else self._runner.infer(dict(inputs))
        values = [v.detach().cpu().numpy() if hasattr(v, "detach") else np.asarray(v) for v in out.values()]
        return _by_manifest_names(self._spec, list(out.keys()), values)

    def close(self) -> None:
        close = getattr(self._runner, "close", None)
        if callable(close):
            close()


_import_lock = threading.Lock()


def _load_model_class(source_dir: Path, python_path: str, entrypoint: str) -> type:
    """Imports ``module:Class`` from ``source_dir/python_path`` under a unique module name, so two
    packages with a same-named module (``model_def``) can be loaded side by side."""
    if ":" not in entrypoint:
        raise PackageError(f"manifest.model.entrypoint: expected 'module:Class', got {entrypoint!r}", field="manifest.model.entrypoint")
    module_name, class_name = entrypoint.split(":", 1)
    base = (source_dir / python_path).resolve()  # load_package refused a pythonPath that leaves the source
    rel = Path(*module_name.split("."))
    candidates = [base / rel.with_suffix(".py"), base / rel / "__init__.py"]
    file = next((c for c in candidates if c.is_file()), None)
    if file is None:
        raise PackageError(f"manifest.model.entrypoint: module {module_name} not found under {base}", field="manifest.model.entrypoint")
    unique = f"_modelship_pkg_{uuid.uuid4().hex[:8]}_{module_name.replace('.', '_')}"
    with _import_lock:
        sys.path.insert(0, str(base))
        try:
            spec = importlib.util.spec_from_file_location(unique, file)
            assert spec and spec.loader
            module = importlib.util.module_from_spec(spec)
            sys.modules[unique] = module
            spec.loader.exec_module(module)
        finally:
            sys.path.remove(str(base))
    cls = getattr(module, class_name, None)
    if cls is None:
        raise PackageError(f"manifest.model.entrypoint: {module_name} has no class {class_name}", field="manifest.model.entrypoint")
    return cls


def _state_dict(obj: Any) -> Any:
    if isinstance(obj, Mapping):
        for key in ("state_dict", "model_state_dict", "model"):
            if key in obj and isinstance(obj[key], Mapping):
                return obj[key]
    return obj


class TorchBackend:
    """The PyTorch fallback: the model class from the package's source, weights from its checkpoint."""

    kind = "pytorch"
    platform = "pytorch_libtorch"

    def __init__(self, pkg: ReleasePackage) -> None:
        import torch

        model_cfg = pkg.manifest.get("model") or {}
        if pkg.source_dir is None:
            raise PackageError("PyTorch fallback needs the model source: metadata.json source names no folder in the package", field="source")
        if pkg.checkpoint_path is None:
            raise PackageError("PyTorch fallback needs the checkpoint: metadata.json checkpoint names no file in the package", field="checkpoint")
        cls = _load_model_class(pkg.source_dir, str(model_cfg.get("pythonPath") or "."), str(model_cfg.get("entrypoint", "")))
        model = cls(**dict(model_cfg.get("init") or {}))
        # weights_only: a checkpoint is data; a pickle that runs code is refused (as in the toolkit).
        try:
            state = _state_dict(torch.load(str(pkg.checkpoint_path), map_location="cpu", weights_only=True))
        except Exception as e:  # noqa: BLE001 - an unpicklable or malicious checkpoint is a bad package
            raise PackageError(f"checkpoint: {pkg.checkpoint_path.name} is not a plain weights file ({type(e).__name__}: {str(e)[:200]})",
                               status=INTEGRITY, field="checkpoint") from None
        model.load_state_dict(state)
        # On a GPU host the fallback runs on the GPU, as the seed's Predictor did (override with
        # MODELSHIP_TORCH_DEVICE=cpu|cuda|cuda:1).
        self.device = os.environ.get("MODELSHIP_TORCH_DEVICE") or ("cuda" if torch.cuda.is_available() else "cpu")
        self._model = model.eval().to(self.device)
        self._spec = pkg.spec
        self._torch = torch

    def run(self, inputs: Mapping[str, np.ndarray]) -> Arrays:
        torch = self._torch
        # A read-only input (binary data straight from the request) is copied: torch tensors are writable.
        args = [torch.from_numpy(np.require(inputs[t.name], requirements=["C", "W"])).to(self.device) for t in self._spec.inputs]
        with torch.inference_mode():
            out = self._model(*args)
        values = list(out.values()) if isinstance(out, Mapping) else list(out) if isinstance(out, (list, tuple)) else [out]
        names = list(out.keys()) if isinstance(out, Mapping) else []
        return _by_manifest_names(self._spec, names, [v.detach().cpu().numpy() for v in values])

    def close(self) -> None:
        self._model = None


@dataclass
class LoadedBackend:
    """A warmed-up backend and how it was chosen."""

    backend: Backend
    fallback: bool
    reason: str | None = None


def warm_inputs(spec: ModelSpec) -> Arrays:
    """A zero batch at each input's representative shape (batch 1)."""
    return {t.name: np.zeros(t.opt_shape(), dtype=t.numpy_dtype) for t in spec.inputs}


def _warm(backend: Backend, spec: ModelSpec) -> None:
    out = backend.run(warm_inputs(spec))
    missing = [o.name for o in spec.outputs if o.name not in out]
    if missing:
        raise RuntimeError(f"warm-up produced no output {missing}")


def load_backend(pkg: ReleasePackage, *, threads: int = 0) -> LoadedBackend:
    """Loads the package's engine, or the PyTorch fallback when the engine is missing or fails.

    Raises:
        PackageError: when neither the engine nor the fallback can serve (422).
    """
    reason: str | None
    if pkg.engine_path is None:
        reason = f"engine file {pkg.metadata.get('engine')!r} is missing from the package"
    else:
        try:
            eng: Backend = TensorRTBackend(pkg.engine_path, pkg.spec) if pkg.backend == "tensorrt" else OnnxRuntimeBackend(pkg.engine_path, pkg.spec, threads=threads)
            _warm(eng, pkg.spec)
            return LoadedBackend(eng, fallback=False)
        except PackageError:
            raise
        except Exception as e:  # a corrupt or incompatible engine: fall back
            reason = f"engine {pkg.engine_path.name} failed to load: {type(e).__name__}: {str(e)[:300]}"
    log.warning("%s %s: %s; using the PyTorch fallback", pkg.name, pkg.version, reason)
    try:
        fb = TorchBackend(pkg)
        _warm(fb, pkg.spec)
    except PackageError as e:
        raise PackageError(f"{reason}, and the PyTorch fallback cannot load: {e.message}", field=e.field) from None
    except Exception as e:
        raise PackageError(f"{reason}, and the PyTorch fallback cannot load: {type(e).__name__}: {e}", field="checkpoint") from None
    return LoadedBackend(fb, fallback=True, reason=reason)
