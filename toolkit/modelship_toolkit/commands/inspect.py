"""``inspect`` (step 1): digest the checkpoint, load it into the model class, gate on metrics.json."""
from __future__ import annotations

import math
from typing import Any

from .. import progress
from ..checks import check, parse_acceptance, verdict
from ..errors import BadInput, GateFailed
from ..hashing import file_digest
from ..jsonio import read_json
from ..model_loading import count_parameters, load_model
from ..paths import existing_file
from ..versions import python, version_of


def read_metrics(path: Any) -> dict[str, float]:
    """Reads metrics.json: a JSON object whose numeric values are kept (others are ignored)."""
    raw = read_json(path, field="metricsPath")
    if not isinstance(raw, dict):
        raise BadInput(f"{path} must hold a JSON object of metrics, not {type(raw).__name__}", field="metricsPath")
    return {
        k: float(v)
        for k, v in raw.items()
        if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
    }


def acceptance_checks(criteria: list[str], metrics: dict[str, float]) -> list[dict[str, Any]]:
    """Evaluates ``artifact.acceptance``; a metric missing from metrics.json is a failed check."""
    out = []
    for criterion in criteria:
        metric, op, threshold = parse_acceptance(criterion)
        if metric in metrics:
            out.append(check(metric, metrics[metric], op, threshold, detail=criterion))
        else:
            out.append(check(metric, None, op, threshold, detail=f"{criterion}: metric {metric!r} is missing from metrics.json"))
    return out


def run(request: dict[str, Any]) -> dict[str, Any]:
    """Runs inspect; raises :class:`GateFailed` when an acceptance criterion is not met."""
    repo, manifest = request["repoDir"], request["manifest"]
    ckpt = existing_file(repo, request["checkpointPath"], field="checkpointPath", what="checkpoint")
    metrics_path = existing_file(repo, request["metricsPath"], field="metricsPath", what="metrics file")
    progress.report("inspect", 0, 3, "hashing checkpoint")
    digest = file_digest(ckpt)
    progress.report("inspect", 1, 3, "loading checkpoint into the model class")
    model = load_model(repo, manifest, ckpt)
    progress.report("inspect", 2, 3, "evaluating acceptance criteria")
    metrics = read_metrics(metrics_path)
    checks = acceptance_checks(manifest["artifact"].get("acceptance", []), metrics)
    result = {
        "checkpoint": digest,
        "parameters": count_parameters(model),
        "metrics": metrics,
        "checks": checks,
        "verdict": verdict(checks),
        "versions": {"python": python(), "torch": version_of("torch") or "unknown"},
    }
    progress.report("inspect", 3, 3, f"verdict {result['verdict']}")
    if result["verdict"] == "fail":
        failed = ", ".join(c.get("detail", c["name"]) for c in checks if not c["passed"])
        raise GateFailed(result, f"acceptance not met: {failed}")
    return result
