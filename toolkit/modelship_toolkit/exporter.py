"""Choosing and calling the PyTorch → ONNX exporter.

``auto`` takes the TorchScript exporter on torch < 2.9 (at the requested opset) and, on torch ≥ 2.9
where it is the default, the dynamo exporter when onnxscript is importable (at opset ≥ 18, the
lowest it writes well), else the TorchScript one (``dynamo=False``).
"""
from __future__ import annotations

import importlib.util
import inspect
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from .errors import BadInput

DYNAMO_MIN_OPSET = 18
DYNAMO_DEFAULT_FROM = (2, 9)
DYNAMO_AVAILABLE_FROM = (2, 5)


@dataclass(frozen=True)
class Plan:
    """Which exporter runs, and at which opset."""

    exporter: str  # "torchscript" | "dynamo"
    opset: int


def onnxscript_available() -> bool:
    """True when onnxscript (which the dynamo exporter needs) can be imported."""
    return importlib.util.find_spec("onnxscript") is not None


def choose(requested: str, opset: int, torch_version: tuple[int, int], has_onnxscript: bool) -> Plan:
    """Returns the export plan for ``manifest.export.exporter`` on this torch.

    Raises :class:`BadInput` on ``manifest.export.exporter`` when ``dynamo`` is asked for and this
    torch or environment cannot run it.
    """
    if requested == "auto":
        if torch_version >= DYNAMO_DEFAULT_FROM and has_onnxscript:
            return Plan("dynamo", max(opset, DYNAMO_MIN_OPSET))
        return Plan("torchscript", opset)
    if requested == "dynamo":
        if torch_version < DYNAMO_AVAILABLE_FROM:
            raise BadInput(
                f"the dynamo exporter needs torch >= 2.5; this is torch {torch.__version__}",
                field="manifest.export.exporter",
                hint="use exporter: auto or torchscript, or upgrade torch",
            )
        if not has_onnxscript:
            raise BadInput(
                "the dynamo exporter needs onnxscript, which is not installed",
                field="manifest.export.exporter",
                hint="pip install onnxscript, or use exporter: auto / torchscript",
            )
        return Plan("dynamo", max(opset, DYNAMO_MIN_OPSET))
    return Plan("torchscript", opset)


def export(
    model: torch.nn.Module,
    args: tuple[torch.Tensor, ...],
    path: Path,
    plan: Plan,
    *,
    input_names: list[str],
    output_names: list[str],
    dynamic_axes: dict[str, dict[int, str]],
) -> None:
    """Writes ``model`` as ONNX to ``path`` following ``plan`` (FP32, eval mode, constant folding).

    Failures are :class:`BadInput` of type ``ExportFailed`` with the seed checklist's advice.
    """
    params = inspect.signature(torch.onnx.export).parameters
    kwargs: dict[str, Any] = {
        "input_names": input_names,
        "output_names": output_names,
        "opset_version": plan.opset,
        "dynamic_axes": dynamic_axes or None,
        "do_constant_folding": True,
    }
    if "dynamo" in params:
        kwargs["dynamo"] = plan.exporter == "dynamo"
    if plan.exporter == "dynamo" and "external_data" in params:
        kwargs["external_data"] = False  # one self-contained file: one digest, one artifact
    if plan.exporter == "torchscript":
        kwargs["training"] = torch.onnx.TrainingMode.EVAL
    try:
        with torch.no_grad():
            torch.onnx.export(model, args, str(path), **kwargs)
    except Exception as err:  # noqa: BLE001 - the exporter raises many types
        text = " ".join(str(err).split())[:1000]
        if "opset" in text.lower() and ("unsupported" in text.lower() or "not supported" in text.lower()):
            raise BadInput(
                f"torch {torch.__version__} cannot export at opset {plan.opset}: {text}",
                field="manifest.export.opset",
                hint="lower export.opset to one this torch supports (17 on torch 1.13), or upgrade torch",
                type="ExportFailed",
            ) from None
        raise BadInput(
            f"{plan.exporter} export failed: {type(err).__name__}: {text}",
            field="manifest.model.entrypoint",
            hint="unsupported operator or data-dependent control flow: replace it with supported ops, raise "
            "export.opset, or fix the path (see the watch list advice)",
            type="ExportFailed",
        ) from None
