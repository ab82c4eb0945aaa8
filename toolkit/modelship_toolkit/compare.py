"""The comparator: element-wise error statistics and label agreement between reference and engine.

Like Polygraphy's comparator it is its own module with explicit tolerances, and it reports the
smallest tolerance that would have passed.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

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


@dataclass
class Accumulator:
    """Collects batches of (reference, engine) outputs and labels; summarises them at the end."""

    classification: bool
    abs_errors: list[np.ndarray] = field(default_factory=list)
    nonfinite_ref: int = 0
    nonfinite_eng: int = 0
    n: int = 0
    top1: int = 0
    top5: int = 0
    top5_possible: bool = False
    ref_correct: int = 0
    eng_correct: int = 0
    labelled: int = 0

    def add(self, ref: list[np.ndarray], eng: list[np.ndarray], labels: np.ndarray | None = None) -> None:
        """Adds one batch: every output's element-wise errors, and (classification) outputs[0]'s labels."""
        for r, e in zip(ref, eng):
            r = np.asarray(r, dtype=np.float64)
            e = np.asarray(e, dtype=np.float64).reshape(r.shape)
            fr, fe = np.isfinite(r), np.isfinite(e)
            self.nonfinite_ref += int((~fr).sum())
            self.nonfinite_eng += int((~fe).sum())
            both = fr & fe
            self.abs_errors.append(np.abs(r - e)[both].ravel())
        if not self.classification:
            self.n += len(ref[0])
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

    def stats(self) -> dict[str, Any]:
        """Returns the report's ``stats``: maxAbs, meanAbs, p99Abs, rmse, top1/top5, accuracies."""
        err = np.concatenate(self.abs_errors) if self.abs_errors else np.zeros(0)
        out: dict[str, Any] = {
            "maxAbs": float(err.max()) if err.size else 0.0,
            "meanAbs": float(err.mean()) if err.size else 0.0,
            "p99Abs": float(np.percentile(err, 99)) if err.size else 0.0,
            "rmse": float(np.sqrt(np.mean(err * err))) if err.size else 0.0,
        }
        if self.classification and self.n:
            out["top1"] = agreement(self.top1, self.n)
            if self.top5_possible:
                out["top5"] = agreement(self.top5, self.n)
        if self.labelled:
            out["referenceAccuracy"] = self.ref_correct / self.labelled
            out["engineAccuracy"] = self.eng_correct / self.labelled
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
