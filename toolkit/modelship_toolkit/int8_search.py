"""Choosing INT8 quantization levers automatically, so int8 passes parity where it can.

Static QDQ with min-max calibration loses too much on some models (depthwise convolutions with
batch-norm folded in, attention, heads whose outputs span orders of magnitude). The search tries,
in order, stopping at the first that meets the manifest's int8 tolerance:

1. the calibration methods (min-max, percentile, entropy), per-channel weights;
2. the best of those with the sensitive operators kept in float (activation×activation MatMuls of
   attention, the first quantized node, and the last one before each output), when they are no
   more than the float budget (below); only the weighted
   operators (Conv, ConvTranspose, Gemm, MatMul) are quantized at all, so LayerNorm, Softmax and the
   element-wise operators between them stay in float throughout;
3. beyond those anchors, the fewest nodes to keep in float: nodes are ranked by the error their own
   quantization adds (the error of their output minus the worst error of their inputs, comparing
   every intermediate tensor of the candidate against the FP32 model), the top-k are kept in float
   for k = 1, 2, 4, …, then k is bisected down to the fewest that pass.

Each candidate is judged on evaluation samples the calibration did not use, against the FP32 ONNX
model, with the gate parity uses (:func:`..compare.tolerance_checks`). Parity (step 4) then judges
the chosen engine against PyTorch on its own samples: the search never replaces the gate.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import onnx

from . import progress
from .compare import Accumulator, tolerance_checks
from .data import Dataset
from .qdq_form import WEIGHTED_OPS
from .runners.onnxruntime import OnnxRuntimeRunner

COMPUTE_OP_TYPES = WEIGHTED_OPS
MAX_FLOAT_SHARE = 0.5
"""The search keeps at most this share of the compute nodes in float: beyond that the engine would
be INT8 in name only, and the precision ladder (or dropping int8) is the honest answer."""
METHODS = ("MinMax", "Percentile", "Entropy")
METADATA_KEY = "modelship.quantization"
"""The QDQ model's metadata_props key holding the levers chosen (parity echoes them)."""


@dataclass
class Levers:
    """One quantization configuration."""

    method: str = "MinMax"
    per_channel: bool = True
    keep_float: list[str] = field(default_factory=list)
    reason: str = "default: min-max calibration, per-channel weights"

    def describe(self) -> dict[str, Any]:
        """The levers as the build result and parity report record them."""
        return {"calibration": self.method, "perChannel": self.per_channel, "keptInFloat": list(self.keep_float), "reason": self.reason}


@dataclass
class Trial:
    """A candidate's levers and what the evaluation said."""

    levers: Levers
    passed: bool
    summary: dict[str, Any]


Quantize = Callable[[Levers, Path], None]


def _batches(data: list[Dataset], batch: int) -> list[dict[str, np.ndarray]]:
    return [{k: v[start : start + batch] for k, v in part.inputs.items()} for part in data for start in range(0, len(part), batch)]


def reference_outputs(fp32: Path, data: list[Dataset], batch: int) -> list[list[np.ndarray]]:
    """The FP32 model's outputs on ``data`` in batches: computed once, compared with every candidate."""
    ref = OnnxRuntimeRunner(fp32, field="onnxPath")
    return [list(ref.run(feeds).values()) for feeds in _batches(data, batch)]


def evaluate(reference: list[list[np.ndarray]], candidate: Path, data: list[Dataset], tolerance: dict[str, Any], outputs: list[str],
             classification: bool, batch: int) -> tuple[bool, dict[str, Any]]:
    """Runs the candidate on ``data`` (one dataset per input size) against the FP32 ``reference``
    outputs of the same batches; returns (passed, {failed checks, key statistics})."""
    eng = OnnxRuntimeRunner(candidate, field="onnxPath")
    acc = Accumulator(classification=classification, output_names=outputs)
    for ref, feeds in zip(reference, _batches(data, batch)):
        acc.add(ref, list(eng.run(feeds).values()))
    stats = acc.stats()
    checks = tolerance_checks(tolerance, stats, {"reference": acc.nonfinite_ref, "engine": acc.nonfinite_eng}, outputs)
    failed = [f"{c['name']} {c['statistic']:.4g} !{c['op']} {c['threshold']}" if c["statistic"] is not None else c["name"]
              for c in checks if not c["passed"]]
    summary: dict[str, Any] = {"failed": failed, "maxAbs": {k: v["maxAbs"] for k, v in stats["outputs"].items()}}
    if "top1" in stats:
        summary["top1"] = stats["top1"]["rate"]
    return not failed, summary


def sensitive_nodes(model: onnx.ModelProto) -> list[str]:
    """Nodes kept in float by the second anchor: attention's activation×activation MatMuls, the
    first weighted node, and the last one before each output."""
    initializers = {i.name for i in model.graph.initializer}
    quantizable = [n for n in model.graph.node if n.op_type in COMPUTE_OP_TYPES]
    names = [n.name for n in model.graph.node if n.op_type == "MatMul" and not any(i in initializers for i in n.input)]
    if quantizable:
        names.append(quantizable[0].name)
    names += [n.name for n in last_compute_nodes(model)]
    return list(dict.fromkeys(n for n in names if n))


def last_compute_nodes(model: onnx.ModelProto) -> list[onnx.NodeProto]:
    """The compute node (Conv, MatMul, Gemm) nearest to each graph output, walking back through the
    other nodes: every head of a multi-output model has its own last layer."""
    producer = {o: n for n in model.graph.node for o in n.output}
    found: list[onnx.NodeProto] = []
    for out in model.graph.output:
        todo, seen = [out.name], set()
        while todo:
            t = todo.pop()
            n = producer.get(t)
            if n is None or n.name in seen:
                continue
            seen.add(n.name)
            if n.op_type in COMPUTE_OP_TYPES:
                if n not in found:
                    found.append(n)
                continue
            todo.extend(n.input)
    return found


def node_sensitivity(fp32: Path, candidate: Path, data: Dataset, batch: int) -> list[tuple[str, str, float]]:
    """(node, op type, added error) for every weighted node of the FP32 graph, worst first.

    The added error is the normalised RMS error of the node's output in the candidate minus the
    largest such error among its inputs: the error this node's own quantization adds.
    """
    base = onnx.shape_inference.infer_shapes(onnx.load(str(fp32)))
    typed = {v.name: v.type.tensor_type.elem_type for v in [*base.graph.value_info, *base.graph.input, *base.graph.output]}
    floats = [n for n in base.graph.node if n.output and typed.get(n.output[0]) == onnx.TensorProto.FLOAT]
    tensors = [n.output[0] for n in floats]  # every float tensor: a node's inputs are some other node's outputs
    nodes = [n for n in floats if n.op_type in COMPUTE_OP_TYPES]
    err = _intermediate_errors(fp32, candidate, tensors, data, batch, typed)
    ranked = []
    for n in nodes:
        before = max((err.get(i, 0.0) for i in n.input), default=0.0)
        ranked.append((n.name, n.op_type, err.get(n.output[0], 0.0) - before))
    return sorted(ranked, key=lambda r: -r[2])


def _intermediate_errors(fp32: Path, candidate: Path, tensors: list[str], data: Dataset, batch: int, typed: dict[str, int]) -> dict[str, float]:
    """Normalised RMS error (RMS(candidate - fp32) / RMS(fp32)) of each named tensor, on a few batches."""
    def exposed(path: Path, suffix: str) -> Path:
        m = onnx.load(str(path))
        present = {o for n in m.graph.node for o in n.output}
        have = {o.name for o in m.graph.output}
        for t in tensors:
            if t in present and t not in have:
                m.graph.output.append(onnx.helper.make_tensor_value_info(t, typed[t], None))
        out = path.with_name(path.stem + suffix + ".onnx")
        onnx.save(m, str(out))
        return out

    a, b = exposed(fp32, ".exposed"), exposed(candidate, ".exposed")
    try:
        sa, sb = OnnxRuntimeRunner(a, field="onnxPath").session, OnnxRuntimeRunner(b, field="onnxPath").session
        names_a = [o.name for o in sa.get_outputs()]
        names_b = {o.name for o in sb.get_outputs()}
        wanted = [t for t in tensors if t in names_b and t in names_a]
        sq_err: dict[str, float] = dict.fromkeys(wanted, 0.0)
        sq_ref: dict[str, float] = dict.fromkeys(wanted, 0.0)
        for start in range(0, min(len(data), batch * 4), batch):
            feeds = {k: v[start : start + batch] for k, v in data.inputs.items()}
            ra = dict(zip(names_a, sa.run(names_a, feeds)))
            rb = dict(zip(wanted, sb.run(wanted, feeds)))
            for t in wanted:
                x, y = ra[t].astype(np.float64), rb[t].astype(np.float64)
                if x.shape != y.shape:
                    continue
                sq_err[t] += float(((x - y) ** 2).sum())
                sq_ref[t] += float((x ** 2).sum())
        return {t: float(np.sqrt(sq_err[t] / max(sq_ref[t], 1e-30))) for t in wanted}
    finally:
        a.unlink(missing_ok=True)
        b.unlink(missing_ok=True)


def search(fp32: Path, work: Path, quantize: Quantize, judge: Callable[[Path], tuple[bool, dict[str, Any]]],
           rank: Callable[[Path], list[tuple[str, str, float]]], log: Callable[[str], None]) -> tuple[Path, Levers, list[Trial]]:
    """Finds the first passing levers (see the module doc); returns (its model, levers, every trial).

    When nothing passes, returns the candidate of the last step (most nodes in float) with its trial
    failed: parity then fails with the evidence, and the precision ladder (when the target has one)
    moves on.
    """
    trials: list[Trial] = []
    counter = iter(range(1000))

    def attempt(levers: Levers) -> tuple[Path, Trial]:
        path = work / f".int8-candidate-{next(counter)}.onnx"
        quantize(levers, path)
        passed, summary = judge(path)
        trial = Trial(levers, passed, summary)
        trials.append(trial)
        log(f"int8 levers {levers.describe()}: {'pass' if passed else 'fail: ' + '; '.join(summary['failed'])}")
        progress.report("build", len(trials), len(trials) + 1, f"int8 search: {levers.reason} -> {'pass' if passed else 'fail'}")
        return path, trial

    def done(path: Path, levers: Levers) -> tuple[Path, Levers, list[Trial]]:
        for p in work.glob(".int8-candidate-*.onnx"):
            if p != path:
                p.unlink(missing_ok=True)
        return path, levers, trials

    first: tuple[Path, Trial] | None = None
    for method in METHODS:
        levers = Levers(method=method, reason="default: min-max calibration, per-channel weights" if method == "MinMax" else f"{method} calibration")
        path, trial = attempt(levers)
        if trial.passed:
            return done(path, levers)
        if first is None or _score(trial) > _score(first[1]):
            first = (path, trial)
    assert first is not None
    method = first[1].levers.method
    model = onnx.load(str(fp32))
    sensitive = sensitive_nodes(model)
    if sensitive and len(sensitive) <= _float_budget(model):
        levers = Levers(method=method, keep_float=sensitive, reason=f"{method} calibration, sensitive operators in float")
        path, trial = attempt(levers)
        if trial.passed:
            return done(path, levers)
    ranked = _within_budget(rank(first[0]), model)
    last: tuple[Path, Levers] | None = None
    k, passing_k = 1, None
    while k <= len(ranked):
        levers = _top(ranked, k, method)
        path, trial = attempt(levers)
        last = (path, levers)
        if trial.passed:
            passing_k = k
            break
        k *= 2
    if passing_k is None and ranked and (k // 2) < len(ranked):
        levers = _top(ranked, len(ranked), method)
        path, trial = attempt(levers)
        last = (path, levers)
        passing_k = len(ranked) if trial.passed else None
    if passing_k is None:
        return done(*(last or (first[0], first[1].levers)))
    lo, hi, best = passing_k // 2 + 1, passing_k, last
    while lo < hi:  # the fewest kept in float that still pass
        mid = (lo + hi) // 2
        path, trial = attempt(_top(ranked, mid, method))
        if trial.passed:
            hi, best = mid, (path, trial.levers)
        else:
            lo = mid + 1
    assert best is not None
    return done(*best)


def _float_budget(model: onnx.ModelProto) -> int:
    """How many weighted nodes the search may keep in float (MAX_FLOAT_SHARE of them, at least one)."""
    return max(1, int(sum(n.op_type in COMPUTE_OP_TYPES for n in model.graph.node) * MAX_FLOAT_SHARE))


def _within_budget(ranked: list[tuple[str, str, float]], model: onnx.ModelProto) -> list[tuple[str, str, float]]:
    """The ranking cut where it would keep more than MAX_FLOAT_SHARE of the compute nodes in float."""
    budget = _float_budget(model)
    out, compute = [], 0
    for r in ranked:
        compute += r[1] in COMPUTE_OP_TYPES
        if compute > budget:
            break
        out.append(r)
    return out


def _top(ranked: list[tuple[str, str, float]], k: int, method: str) -> Levers:
    kept = ranked[:k]
    why = ", ".join(f"{name} ({op}, +{added:.3g})" for name, op, added in kept[:5]) + (f" and {k - 5} more" if k > 5 else "")
    return Levers(method=method, keep_float=[name for name, _, _ in kept],
                  reason=f"{method} calibration, the {k} node(s) whose quantization adds the most error in float: {why}")


def _score(trial: Trial) -> float:
    """Higher is better: top-1 agreement when there is one, else minus the worst output's maxAbs."""
    if "top1" in trial.summary:
        return float(trial.summary["top1"])
    return -max(trial.summary["maxAbs"].values(), default=0.0)


def stamp(path: Path, record: dict[str, Any]) -> None:
    """Writes the chosen levers into the model's metadata_props (parity reports them)."""
    m = onnx.load(str(path))
    for p in list(m.metadata_props):
        if p.key == METADATA_KEY:
            m.metadata_props.remove(p)
    m.metadata_props.add(key=METADATA_KEY, value=json.dumps(record, sort_keys=True))
    onnx.save(m, str(path))


def read_stamp(path: Path) -> dict[str, Any] | None:
    """The levers a QDQ model was built with, if it carries them."""
    try:
        m = onnx.load(str(path), load_external_data=False)
    except Exception:  # noqa: BLE001 - not an ONNX file (a TensorRT plan): nothing recorded there
        return None
    for p in m.metadata_props:
        if p.key == METADATA_KEY:
            return json.loads(p.value)
    return None
