"""Building the user's PyTorch model from ``model.entrypoint`` + ``model.init`` and loading its checkpoint."""
from __future__ import annotations

import importlib
import importlib.util
import inspect
import sys
import threading
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any

import torch

from .errors import BadInput
from .manifest import Manifest

#: Where a checkpoint dict may hold the state_dict, besides being one itself.
STATE_DICT_KEYS = ("model", "state_dict", "model_state_dict")


def import_class(repo_dir: str | Path, manifest: Manifest, *, isolated: bool = False) -> type:
    """Imports ``model.entrypoint`` (``module:Class``) from ``repoDir/model.pythonPath``.

    Args:
        isolated: import under a unique module name with the path on ``sys.path`` only while the
            module runs, so two packages with a same-named module (``model_def``) load side by side
            in one process (the serving runtime). A toolkit command (one model per process) keeps
            the path, so code that imports its siblings later still finds them.

    Raises:
        BadInput: on ``manifest.model.entrypoint`` when it is malformed, does not import, or names
            no ``torch.nn.Module`` class.
    """
    model = manifest["model"]
    entrypoint = str(model.get("entrypoint", ""))
    if entrypoint.count(":") != 1:
        raise BadInput(f"manifest.model.entrypoint: expected 'module:Class', got {entrypoint!r}", field="manifest.model.entrypoint")
    module_name, class_name = entrypoint.split(":")
    root = (Path(repo_dir) / str(model.get("pythonPath") or ".")).resolve()
    try:
        module = _import_isolated(root, module_name) if isolated else _import_on_path(root, module_name)
    except BadInput:
        raise
    except Exception as err:  # noqa: BLE001 - any import failure is the repository's fault
        raise BadInput(
            f"cannot import {module_name} from {root}: {type(err).__name__}: {err}",
            field="manifest.model.entrypoint",
            hint="check model.entrypoint and model.pythonPath (relative to the repository root)",
        ) from None
    cls = getattr(module, class_name, None)
    if not isinstance(cls, type) or not issubclass(cls, torch.nn.Module):
        raise BadInput(
            f"{module_name} has no torch.nn.Module class {class_name}",
            field="manifest.model.entrypoint",
            hint=f"define class {class_name}(torch.nn.Module) in {module_name}",
        )
    return cls


def _import_on_path(root: Path, module_name: str) -> ModuleType:
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    return importlib.import_module(module_name)


_isolated_lock = threading.Lock()


def _import_isolated(root: Path, module_name: str) -> ModuleType:
    rel = Path(*module_name.split("."))
    file = next((c for c in (root / rel.with_suffix(".py"), root / rel / "__init__.py") if c.is_file()), None)
    if file is None:
        raise BadInput(f"manifest.model.entrypoint: module {module_name} not found under {root}", field="manifest.model.entrypoint")
    unique = f"_modelship_pkg_{uuid.uuid4().hex[:8]}_{module_name.replace('.', '_')}"
    with _isolated_lock:
        sys.path.insert(0, str(root))
        try:
            spec = importlib.util.spec_from_file_location(unique, file)
            assert spec and spec.loader
            module = importlib.util.module_from_spec(spec)
            sys.modules[unique] = module
            spec.loader.exec_module(module)
        finally:
            sys.path.remove(str(root))
    return module


def construct(cls: type, init: dict[str, Any]) -> torch.nn.Module:
    """Calls ``cls(**init)``; arguments that do not fit are :class:`BadInput` on ``manifest.model.init``."""
    try:
        return cls(**init)
    except TypeError as err:
        raise BadInput(
            f"{cls.__name__}(**{init}) failed: {err}",
            field="manifest.model.init",
            hint=f"model.init must match {cls.__name__}{inspect.signature(cls)}",
        ) from None


def load_state_dict(path: Path, *, field: str) -> dict[str, torch.Tensor]:
    """Loads a checkpoint on CPU: a raw state_dict, or one under ``model``, ``state_dict`` or
    ``model_state_dict`` (the layouts training scripts save).

    Uses ``weights_only=True`` where torch has it, so a checkpoint cannot run code when loaded.
    """
    kwargs: dict[str, Any] = {"map_location": "cpu"}
    if "weights_only" in inspect.signature(torch.load).parameters:
        kwargs["weights_only"] = True
    try:
        obj = torch.load(str(path), **kwargs)
    except Exception as err:  # noqa: BLE001 - a corrupt or unsafe file is bad input
        raise BadInput(
            f"cannot load checkpoint {path}: {type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}",
            field=field,
            hint='save it with torch.save({"model": model.state_dict()}, path): tensors only, no pickled objects',
        ) from None
    state = next((obj[k] for k in STATE_DICT_KEYS if isinstance(obj, dict) and isinstance(obj.get(k), dict)), obj)
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise BadInput(
            f"checkpoint {path} holds no state_dict (found {type(state).__name__})",
            field=field,
            hint='save a raw state_dict or {"model": state_dict}',
        )
    return state


def load_model(repo_dir: str | Path, manifest: Manifest, checkpoint: Path, *, field: str = "checkpointPath", isolated: bool = False) -> torch.nn.Module:
    """Returns the manifest's model with the checkpoint's weights, on CPU, in eval mode, FP32
    (``isolated``: see :func:`import_class`)."""
    model = construct(import_class(repo_dir, manifest, isolated=isolated), dict(manifest["model"].get("init") or {}))
    state = load_state_dict(checkpoint, field=field)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as err:
        raise BadInput(
            f"checkpoint {checkpoint} does not fit {manifest['model']['entrypoint']}({manifest['model'].get('init', {})}): "
            + " ".join(str(err).split())[:800],
            field=field,
            hint="the checkpoint was trained with another model definition or init arguments: check model.init",
        ) from None
    return model.float().eval()


def count_parameters(model: torch.nn.Module) -> int:
    """Returns the number of parameter elements of a model."""
    return int(sum(p.numel() for p in model.parameters()))
