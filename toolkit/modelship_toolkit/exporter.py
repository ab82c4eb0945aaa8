"""Choosing and calling the PyTorch → ONNX exporter.

``auto`` takes the TorchScript exporter on torch < 2.9 (at the requested opset) and, on torch ≥ 2.9
where it is the default, the dynamo exporter when onnxscript is importable (at opset ≥ 18, the
lowest it writes well), else the TorchScript one (``dynamo=False``).
"""
from __future__ import annotations

import importlib.util
import inspect
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from . import export_compat
from .errors import BadInput
from .versions import torch_version_tuple

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


@dataclass
class Adjustments:
    """What the toolkit changed so the exporter takes the model (recorded in the export report)."""

    fast_paths_off: list[str]
    """The modules whose inference fast path was off during export (empty: none had one)."""
    fast_paths_how: str | None
    symbolics: list[str]
    """Operators exported with the toolkit's own symbolic (this torch has none)."""
    fallback_from: str | None = None
    """Why ``auto`` left the dynamo exporter for the TorchScript one, when it did."""


UNSUPPORTED_OPERATOR = re.compile(r"Exporting the operator '?([\w:.]+)'? to ONNX opset version (\d+) is not supported")
UNSUPPORTED_OPSET = re.compile(r"(?:Unsupported|unsupported) ONNX opset version:? ?(\d+)")


def export(
    model: torch.nn.Module,
    args: tuple[torch.Tensor, ...],
    path: Path,
    plan: Plan,
    *,
    input_names: list[str],
    output_names: list[str],
    dynamic_axes: dict[str, dict[int, str]],
) -> Adjustments:
    """Writes ``model`` as ONNX to ``path`` following ``plan`` (FP32, eval mode, constant folding),
    with inference fast paths off and the toolkit's symbolics for operators this torch lacks.

    Failures are :class:`BadInput` of type ``ExportFailed`` naming the operator and the ways out.
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
        export_compat.register_missing_symbolics(plan.opset)
    export_compat.USED.clear()
    fast = export_compat.fast_path_modules(model)
    how = None
    try:
        with export_compat.fast_paths_off(model) as how:
            torch.onnx.export(model, args, str(path), **kwargs)
    except Exception as err:  # noqa: BLE001 - the exporter raises many types
        raise export_error(err, plan) from None
    return Adjustments(fast, how if fast else None, sorted(export_compat.USED))


def fallback_plan(requested: str, opset: int, failed: Plan) -> Plan | None:
    """The TorchScript plan to try when ``auto`` chose dynamo and it failed; None when there is none
    (the manifest asked for dynamo, or this torch has no TorchScript exporter any more)."""
    if requested != "auto" or failed.exporter != "dynamo":
        return None
    if "dynamo" not in inspect.signature(torch.onnx.export).parameters:
        return None
    return Plan("torchscript", opset)


def export_error(err: Exception, plan: Plan) -> BadInput:
    """The user-facing error of a failed export: the operator, this torch, and real ways out."""
    text = " ".join(str(err).split())[:1000]
    torch_v = torch.__version__
    newer = ("export.exporter: dynamo (torch >= 2.5 with onnxscript)" if torch_version_tuple() < DYNAMO_AVAILABLE_FROM
             else "export.exporter: dynamo" if plan.exporter != "dynamo" else "a newer torch")
    op = UNSUPPORTED_OPERATOR.search(text)
    if op:
        name = op.group(1)
        return BadInput(
            f"torch {torch_v}'s {plan.exporter} exporter has no ONNX conversion for operator {name} "
            f"(at any opset it writes, not only {plan.opset}): {text}",
            field="manifest.model.entrypoint",
            hint=f"ways out: (1) a newer torch and exporter ({newer}); (2) rewrite the code that calls {name} "
            "with operators ONNX has; (3) register a symbolic for it in your model module with "
            f"torch.onnx.register_custom_op_symbolic('{name}', fn, {plan.opset})",
            type="ExportFailed",
        )
    opset = UNSUPPORTED_OPSET.search(text)
    if opset:
        return BadInput(
            f"torch {torch_v} cannot export at opset {plan.opset}: {text}",
            field="manifest.export.opset",
            hint=f"set export.opset to one torch {torch_v} writes (17 on torch 1.13), or upgrade torch",
            type="ExportFailed",
        )
    return BadInput(
        f"{plan.exporter} export failed on torch {torch_v}: {type(err).__name__}: {text}",
        field="manifest.model.entrypoint",
        hint=f"data-dependent control flow or an operator ONNX lacks: make forward() traceable (no Python branches "
        f"on tensor values), try {newer}, or see the watch list advice",
        type="ExportFailed",
    )
