"""``export`` (step 2): PyTorch → ONNX with dynamic axes; checker, shape inference, determinism,
operator census, watch list, and one ONNX Runtime run against PyTorch as a sanity check."""
from __future__ import annotations

import os
import time
from typing import Any

import numpy as np
import onnx
import torch

from .. import exporter, progress
from ..errors import BadInput, GateFailed
from ..hashing import file_digest
from ..manifest import dynamic_axes, input_names, output_names, random_inputs, shapes_at
from ..model_loading import load_model
from ..onnx_info import default_opset, io, operator_census, watch_list
from ..onnx_provenance import strip_export_provenance
from ..paths import existing_file, out_dir
from ..runners import in_order
from ..runners.onnxruntime import OnnxRuntimeRunner
from ..runners.pytorch import TorchRunner
from ..versions import torch_version_tuple, version_of

STEPS = 7
SANITY_RTOL = 1e-3
"""ONNX Runtime vs PyTorch at opt shape may differ by at most 1e-3 × max(1, max |reference|):
a sanity check only; parity is the gate with the manifest's tolerances."""
DUMMY_SEED = 0


def _max_abs(a: list[np.ndarray], b: list[np.ndarray]) -> float:
    return max(float(np.max(np.abs(x.astype(np.float64) - y.astype(np.float64)))) if x.size else 0.0 for x, y in zip(a, b))


def _rename_dims(model: onnx.ModelProto, axes: dict[str, dict[int, str]]) -> None:
    """Names the dynamic dims of graph inputs/outputs as the manifest does (the dynamo exporter may call them s0)."""
    rename: dict[str, str] = {}
    for value in [*model.graph.input, *model.graph.output]:
        dims = value.type.tensor_type.shape.dim
        for axis, name in axes.get(value.name, {}).items():
            if axis < len(dims) and not dims[axis].HasField("dim_value") and dims[axis].dim_param not in ("", name):
                rename[dims[axis].dim_param] = name
    if not rename:
        return
    for value in [*model.graph.input, *model.graph.output, *model.graph.value_info]:
        for d in value.type.tensor_type.shape.dim:
            if d.dim_param in rename:
                d.dim_param = rename[d.dim_param]


def _torch_outputs(model: torch.nn.Module, feeds: dict[str, np.ndarray], manifest: dict[str, Any]) -> list[np.ndarray]:
    """One PyTorch pass on the CPU: every tensor forward() returns, in its order (the caller checks
    the count against manifest.outputs)."""
    return list(TorchRunner(model, "cpu", input_names(manifest), output_names(manifest)).run(feeds).values())


def _reference(model: torch.nn.Module, feeds: dict[str, np.ndarray], manifest: dict[str, Any]) -> list[np.ndarray]:
    """Runs PyTorch once at opt shape; the manifest's inputs and outputs must fit forward()."""
    try:
        outputs = _torch_outputs(model, feeds, manifest)
    except Exception as err:  # noqa: BLE001 - forward() rejecting manifest-shaped inputs is bad input
        shapes = {k: list(v.shape) for k, v in feeds.items()}
        raise BadInput(
            f"the model's forward() fails on the manifest's inputs {shapes}: {type(err).__name__}: {' '.join(str(err).split())[:500]}",
            field="manifest.inputs",
            hint="manifest.inputs must list forward()'s tensor arguments in order, with their dims",
        ) from None
    if len(outputs) != len(manifest["outputs"]):
        raise BadInput(
            f"the model's forward() returns {len(outputs)} tensor(s), manifest.outputs names {len(manifest['outputs'])}: {output_names(manifest)}",
            field="manifest.outputs",
            hint="list one entry in manifest.outputs per tensor forward() returns, in order",
        )
    return outputs


def _check_io(manifest: dict[str, Any], inputs: list[dict[str, Any]], outputs: list[dict[str, Any]]) -> None:
    """The ONNX graph's input/output names must be the manifest's, in order."""
    for field, want, got in (
        ("manifest.inputs", input_names(manifest), [i["name"] for i in inputs]),
        ("manifest.outputs", output_names(manifest), [o["name"] for o in outputs]),
    ):
        if want != got:
            raise BadInput(
                f"the exported ONNX model has {field.split('.')[1]} {got}, the manifest names {want}",
                field=field,
                hint=f"make {field} match the model's forward() (one entry per tensor it takes/returns, in order)",
            )


def _check_dynamic(axes: dict[str, dict[int, str]], values: list[dict[str, Any]]) -> list[str]:
    """Returns the dynamic axes the exporter fixed to a number (the model specialised them)."""
    lost = []
    for v in values:
        for axis, name in axes.get(v["name"], {}).items():
            if axis >= len(v["shape"]) or not isinstance(v["shape"][axis], str):
                lost.append(f"{v['name']}[{axis}] ({name})")
    return lost


def adjustment_checks(adjusted: exporter.Adjustments) -> list[str]:
    """The export report's lines on what the toolkit changed for the exporter."""
    lines = []
    if adjusted.fast_paths_off:
        shown = ", ".join(adjusted.fast_paths_off[:6]) + (f" and {len(adjusted.fast_paths_off) - 6} more" if len(adjusted.fast_paths_off) > 6 else "")
        lines.append(f"inference fast paths off during export ({adjusted.fast_paths_how}): {shown} exported as their standard operators")
    if adjusted.fallback_from:
        lines.append(f"exporter: auto fell back to torchscript because the dynamo exporter failed ({adjusted.fallback_from})")
    if adjusted.symbolics:
        lines.append(f"operators this torch cannot export, written with the toolkit's ONNX symbolics: {', '.join(adjusted.symbolics)}")
    return lines


def run(request: dict[str, Any]) -> dict[str, Any]:
    """Runs export; raises :class:`GateFailed` when the model is not deterministic or ONNX Runtime disagrees."""
    started = time.perf_counter()
    repo, manifest = request["repoDir"], request["manifest"]
    ckpt = existing_file(repo, request["checkpointPath"], field="checkpointPath", what="checkpoint")
    out = out_dir(request["outDir"])
    progress.report("export", 0, STEPS, "loading model")
    model = load_model(repo, manifest, ckpt)
    names_in, axes = input_names(manifest), dynamic_axes(manifest)
    opt = shapes_at(manifest, "opt")
    feeds = random_inputs(manifest, opt, np.random.default_rng(DUMMY_SEED))

    progress.report("export", 1, STEPS, "determinism: two PyTorch passes")
    first = _reference(model, feeds, manifest)
    second = _torch_outputs(model, feeds, manifest)
    det_max = _max_abs(first, second)
    determinism = {"maxAbs": det_max, "passed": det_max == 0.0}  # same input, same CPU kernels: bit-identical

    tv = torch_version_tuple()
    plan = exporter.choose(manifest["export"]["exporter"], manifest["export"]["opset"], tv, exporter.onnxscript_available())
    progress.report("export", 2, STEPS, f"exporting with {plan.exporter} at opset {plan.opset}")
    partial = out / f".model.onnx.{os.getpid()}.partial"
    try:
        args = tuple(torch.from_numpy(feeds[n]) for n in names_in)
        io_names: dict[str, Any] = {"input_names": names_in, "output_names": output_names(manifest), "dynamic_axes": axes}
        try:
            adjusted = exporter.export(model, args, partial, plan, **io_names)
        except BadInput as err:
            fallback = exporter.fallback_plan(manifest["export"]["exporter"], manifest["export"]["opset"], plan)
            if fallback is None:
                raise
            # auto chose dynamo and torch.export refused the model: the TorchScript exporter of the
            # same torch often takes what users write (Python-level shapes, affine_grid, ...).
            progress.report("export", 2, STEPS, f"dynamo failed; exporting with torchscript at opset {fallback.opset}")
            adjusted = exporter.export(model, args, partial, fallback, **io_names)
            adjusted.fallback_from = f"dynamo: {err.message[:400]}"
            plan = fallback
        onnx_model = onnx.load(str(partial))
        stripped = strip_export_provenance(onnx_model)
        _rename_dims(onnx_model, axes)
        inputs, outputs = io(onnx_model)
        _check_io(manifest, inputs, outputs)
        checks: list[str] = [
            f"inputs/outputs match the manifest: {[i['name'] for i in inputs]} -> {[o['name'] for o in outputs]}",
            *adjustment_checks(adjusted),
            f"exporter provenance stripped ({stripped} node metadata entries and doc strings): the same checkpoint exports to the same bytes",
        ]

        progress.report("export", 3, STEPS, "onnx.checker and shape inference")
        try:
            onnx.checker.check_model(onnx_model, full_check=True)
            checks.append("onnx.checker.check_model(full_check=True): ok")
            onnx_model = onnx.shape_inference.infer_shapes(onnx_model, check_type=True, strict_mode=True)
            checks.append("onnx.shape_inference.infer_shapes(check_type, strict_mode): ok")
        except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as err:
            raise BadInput(
                f"the exported model fails ONNX validation: {' '.join(str(err).split())[:800]}",
                field="manifest.export",
                hint="try another export.opset or export.exporter; replace the operator the message names",
                type="OnnxCheckFailed",
            ) from None
        onnx.save(onnx_model, str(partial))
        final = out / "model.onnx"
        os.replace(partial, final)
    finally:
        partial.unlink(missing_ok=True)

    lost = _check_dynamic(axes, [*inputs, *outputs])
    if lost:
        checks.append(f"dynamic axes: FAILED, fixed by the exporter: {', '.join(lost)}")
    else:
        checks.append("dynamic axes: " + ", ".join(f"{n}[{a}]={d}" for n, m in axes.items() for a, d in m.items()))
    checks.append(f"determinism: two PyTorch passes at opt shape agree (maxAbs {det_max:.3g}): {'ok' if determinism['passed'] else 'FAILED'}")

    progress.report("export", 4, STEPS, "operator census and watch list")
    census, watch = operator_census(onnx_model), watch_list(onnx_model)

    progress.report("export", 5, STEPS, "onnxruntime sanity run at opt shape")
    sanity_ok = True
    try:
        engine_out = in_order(output_names(manifest), OnnxRuntimeRunner(final, field="outDir").run(feeds))
        diff = _max_abs(first, engine_out)
        bound = SANITY_RTOL * max(1.0, max(float(np.max(np.abs(r))) for r in first))
        sanity_ok = diff <= bound
        checks.append(f"onnxruntime vs PyTorch at opt shape {opt}: maxAbs {diff:.3g} (bound {bound:.3g}): {'ok' if sanity_ok else 'FAILED'}")
    except Exception as err:  # noqa: BLE001 - recorded as a failed check, the report is kept
        sanity_ok = False
        checks.append(f"onnxruntime run at opt shape {opt}: FAILED: {' '.join(str(err).split())[:300]}")

    progress.report("export", 6, STEPS, "writing report")
    result = {
        "onnx": file_digest(final),
        "exporter": plan.exporter,
        "opsetRequested": manifest["export"]["opset"],
        "opsetWritten": default_opset(onnx_model),
        "irVersion": int(onnx_model.ir_version),
        "operators": census,
        "watchList": watch,
        "determinism": determinism,
        "adjustments": {"fastPathsOff": adjusted.fast_paths_off, "fastPathsHow": adjusted.fast_paths_how, "symbolics": adjusted.symbolics,
                        **({"fallbackFrom": adjusted.fallback_from} if adjusted.fallback_from else {})},
        "checks": checks,
        "inputs": inputs,
        "outputs": outputs,
        "versions": {"torch": version_of("torch") or "unknown", "onnx": version_of("onnx") or "unknown"},
        "durationMs": (time.perf_counter() - started) * 1000,
    }
    progress.report("export", STEPS, STEPS, f"{final} ({plan.exporter}, opset {result['opsetWritten']})")
    failed = [c for c in checks if "FAILED" in c]
    if failed:
        raise GateFailed(result, "; ".join(failed))
    return result
