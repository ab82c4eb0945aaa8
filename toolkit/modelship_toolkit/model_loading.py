"""Building the user's PyTorch model from ``model.entrypoint`` + ``model.init`` and loading its checkpoint."""
from __future__ import annotations

import importlib
import inspect
import sys
from pathlib import Path
from typing import Any

import torch

from .errors import BadInput
from .manifest import Manifest


def import_class(repo_dir: str | Path, manifest: Manifest) -> type:
    """Imports ``module:Class`` with ``repoDir/pythonPath`` first on sys.path."""
    model = manifest["model"]
    root = (Path(repo_dir) / model.get("pythonPath", ".")).resolve()
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    module_name, class_name = model["entrypoint"].split(":")
    try:
        module = importlib.import_module(module_name)
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
    """Loads a checkpoint on CPU: a raw state_dict or ``{"model": state_dict}``.

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
    state = obj.get("model", obj) if isinstance(obj, dict) else obj
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise BadInput(
            f"checkpoint {path} holds no state_dict (found {type(state).__name__})",
            field=field,
            hint='save a raw state_dict or {"model": state_dict}',
        )
    return state


def load_model(repo_dir: str | Path, manifest: Manifest, checkpoint: Path, *, field: str = "checkpointPath") -> torch.nn.Module:
    """Returns the manifest's model with the checkpoint's weights, on CPU, in eval mode, FP32."""
    model = construct(import_class(repo_dir, manifest), manifest["model"].get("init", {}))
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
