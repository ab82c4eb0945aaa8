"""The comparator: element-wise error statistics and label agreement between reference and engine.

Like Polygraphy's comparator it is its own module with explicit tolerances, and it reports the
smallest tolerance that would have passed.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .checks import check

Z95 = 1.959963984540054
"""Two-sided 95% normal quantile."""


def wilson_lower(agree: int, n: int, z: float = Z95) -> float:
    """Returns the lower bound of the Wilson score interval for ``agree`` successes in ``n`` trials."""
    if n <= 0:
        return 0.0
    p = agree / n
    z2 = z * z
    centre = p + z2 / (2 * n)
    margin = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return max(0.0, (centre - margin) / (1 + z2 / n))


def agreement(agree: int, n: int) -> dict[str, Any]:
    """Returns ``{agree, n, rate, wilsonLower}``."""
    return {"agree": int(agree), "n": int(n), "rate": agree / n if n else 0.0, "wilsonLower": wilson_lower(agree, n)}


def error_stats(errors: list[np.ndarray]) -> dict[str, float]:
    """``{maxAbs, meanAbs, p99Abs, rmse}`` of the absolute errors in ``errors`` (zeros when empty)."""
    err = np.concatenate(errors) if errors else np.zeros(0)
    if not err.size:
        return {"maxAbs": 0.0, "meanAbs": 0.0, "p99Abs": 0.0, "rmse": 0.0}
    return {
        "maxAbs": float(err.max()),
        "meanAbs": float(err.mean()),
        "p99Abs": float(np.percentile(err, 99)),
        "rmse": float(np.sqrt(np.mean(err * err))),
    }


ELEMENT_STATS = ("maxAbs", "meanAbs", "p99Abs", "rmse")

HISTOGRAM_EDGES = [10.0 ** (e / 2) for e in range(-18, 3)]
"""Upper edges of the absolute-error histogram: half decades from 1e-9 to 10, the same for every
engine so that two releases' histograms line up. Bin 0 counts errors below 1e-9 (exact matches
included), bin i errors in [edges[i-1], edges[i]), the last bin errors of 10 and more."""


def error_histogram(errors: list[np.ndarray]) -> dict[str, list[float] | list[int]]:
    """``{edges, counts}`` of the absolute errors (``len(counts) == len(edges) + 1``)."""
    err = np.concatenate(errors) if errors else np.zeros(0)
    counts = np.bincount(np.searchsorted(HISTOGRAM_EDGES, err, side="right"), minlength=len(HISTOGRAM_EDGES) + 1)
    return {"edges": HISTOGRAM_EDGES, "counts": [int(c) for c in counts]}


@dataclass
class Accumulator:
    """Collects batches of (reference, engine) outputs and labels; summarises them at the end.

    Element-wise errors are kept per output: an error in one output (say a log-variance head) is
    never averaged away by the others.
    """

    classification: bool
    output_names: list[str] = field(default_factory=list)
    abs_errors: dict[int, list[np.ndarray]] = field(default_factory=dict)
    nonfinite_ref: int = 0
    nonfinite_eng: int = 0
    n: int = 0
    top1: int = 0
    top5: int = 0
    top5_possible: bool = False
    ref_correct: int = 0
    eng_correct: int = 0
    labelled: int = 0
    ref_sq: float = 0.0
    eng_sq: float = 0.0
    ref_abs: float = 0.0
    eng_abs: float = 0.0

    def add(self, ref: list[np.ndarray], eng: list[np.ndarray], labels: np.ndarray | None = None) -> None:
        """Adds one batch: every output's element-wise errors, and outputs[0] against the labels
        (class agreement for classification, the error against regression targets otherwise)."""
        for i, (r, e) in enumerate(zip(ref, eng)):
            r = np.asarray(r, dtype=np.float64)
            e = np.asarray(e, dtype=np.float64).reshape(r.shape)
            fr, fe = np.isfinite(r), np.isfinite(e)
            self.nonfinite_ref += int((~fr).sum())
            self.nonfinite_eng += int((~fe).sum())
            both = fr & fe
            self.abs_errors.setdefault(i, []).append(np.abs(r - e)[both].ravel())
        if not self.classification:
            self.n += len(ref[0])
            self._add_regression_labels(ref[0], eng[0], labels)
            return
        r0 = np.asarray(ref[0]).reshape(len(ref[0]), -1)
        e0 = np.asarray(eng[0]).reshape(len(r0), -1)
        ref_top1 = r0.argmax(axis=1)
        self.n += len(r0)
        self.top1 += int((e0.argmax(axis=1) == ref_top1).sum())
        k = min(5, e0.shape[1])
        self.top5_possible = e0.shape[1] >= 5
        eng_topk = np.argpartition(-e0, k - 1, axis=1)[:, :k]
        self.top5 += int((eng_topk == ref_top1[:, None]).any(axis=1).sum())
        if labels is not None:
            labels = np.asarray(labels).reshape(-1)
            self.labelled += len(labels)
            self.ref_correct += int((ref_top1 == labels).sum())
            self.eng_correct += int((e0.argmax(axis=1) == labels).sum())

    def _add_regression_labels(self, ref: np.ndarray, eng: np.ndarray, labels: np.ndarray | None) -> None:
        if labels is None:
            return
        y = np.asarray(labels, dtype=np.float64).reshape(-1)
        r = np.asarray(ref, dtype=np.float64).reshape(-1)
        e = np.asarray(eng, dtype=np.float64).reshape(-1)
        if y.size != r.size:  # labels are one value per sample; outputs[0] holds more: nothing to compare
            return
        self.labelled += y.size
        self.ref_sq += float(((r - y) ** 2).sum())
        self.eng_sq += float(((e - y) ** 2).sum())
        self.ref_abs += float(np.abs(r - y).sum())
        self.eng_abs += float(np.abs(e - y).sum())

    def output_stats(self) -> dict[str, dict[str, float]]:
        """Per output name: ``{maxAbs, meanAbs, p99Abs, rmse}``."""
        names = self.output_names or [f"output{i}" for i in sorted(self.abs_errors)]
        return {names[i]: error_stats(errs) for i, errs in sorted(self.abs_errors.items()) if i < len(names)}

    def stats(self) -> dict[str, Any]:
        """Returns the report's ``stats``: each element statistic of the WORST output (what a
        tolerance applied to every output must cover), ``outputs`` (each output's own), top-1/top-5
        agreement, and against labels the accuracies (classification) or errors (regression)."""
        per_output = self.output_stats()
        out: dict[str, Any] = {k: max((o[k] for o in per_output.values()), default=0.0) for k in ELEMENT_STATS}
        out["outputs"] = per_output
        names = self.output_names or [f"output{i}" for i in sorted(self.abs_errors)]
        out["histograms"] = {names[i]: error_histogram(errs) for i, errs in sorted(self.abs_errors.items()) if i < len(names)}
        if self.classification and self.n:
            out["top1"] = agreement(self.top1, self.n)
            if self.top5_possible:
                out["top5"] = agreement(self.top5, self.n)
        if self.labelled and self.classification:
            out["referenceAccuracy"] = self.ref_correct / self.labelled
            out["engineAccuracy"] = self.eng_correct / self.labelled
        elif self.labelled:
            out["labels"] = {
                "samples": self.labelled,
                "referenceRmse": math.sqrt(self.ref_sq / self.labelled),
                "engineRmse": math.sqrt(self.eng_sq / self.labelled),
                "referenceMae": self.ref_abs / self.labelled,
                "engineMae": self.eng_abs / self.labelled,
            }
        return out


TOLERANCES: dict[str, tuple[str, str]] = {
    "maxAbs": ("maxAbs", "<="),
    "meanAbs": ("meanAbs", "<="),
    "p99Abs": ("p99Abs", "<="),
    "maxRmse": ("rmse", "<="),
    "minTop1Agreement": ("top1.wilsonLower", ">="),
    "minTop5Agreement": ("top5.wilsonLower", ">="),
}
"""Each manifest tolerance → (the statistic it bounds, the comparison that passes)."""


def statistic(stats: dict[str, Any], path: str) -> float | None:
    """Returns ``stats[a][b]`` for ``a.b`` (None when absent)."""
    value: Any = stats
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return float(value)


def smallest_passing(stats: dict[str, Any]) -> dict[str, float]:
    """Returns, per tolerance, the tightest value that these statistics would still have passed."""
    out: dict[str, float] = {}
    for tol, (path, _) in TOLERANCES.items():
        value = statistic(stats, path)
        if value is not None:
            out[tol] = value
    return out


ELEMENT_TOLERANCES = ("maxAbs", "meanAbs", "p99Abs", "maxRmse")
"""Tolerances on element-wise errors: each is checked on every output separately."""


def tolerance_checks(tolerance: dict[str, Any], stats: dict[str, Any], nonfinite: dict[str, int], outputs: list[str]) -> list[dict[str, Any]]:
    """Returns the two no-NaN/Inf checks, then each element tolerance once per output (an output's
    own entry under ``tolerance.outputs`` overrides the shared value), then the agreement tolerances
    (on outputs[0], the logits)."""
    checks = [
        check("nonFinite.reference", float(nonfinite["reference"]), "==", 0, "NaN/Inf in the PyTorch reference outputs"),
        check("nonFinite.engine", float(nonfinite["engine"]), "==", 0, "NaN/Inf in the engine outputs (FP16 overflow? keep sensitive layers in FP32)"),
    ]
    own: dict[str, dict[str, float]] = tolerance.get("outputs") or {}
    for out in outputs:
        limits = {**{k: v for k, v in tolerance.items() if k in ELEMENT_TOLERANCES}, **own.get(out, {})}
        for name, threshold in limits.items():
            path, op = TOLERANCES[name]
            value = stats["outputs"].get(out, {}).get(path)
            where = f"tolerances.outputs.{out}.{name}" if name in own.get(out, {}) else name
            checks.append(check(f"{name}[{out}]", value, op, threshold, f"output {out}: {path} {op} {where}"))
    for name, threshold in tolerance.items():
        if name in ELEMENT_TOLERANCES or name == "outputs":
            continue
        path, op = TOLERANCES[name]
        value = statistic(stats, path)
        detail = f"stats.{path} {op} {name} (on {outputs[0]})" if value is not None else f"stats.{path} is not available (task is not classification?)"
        checks.append(check(name, value, op, threshold, detail))
    return checks
