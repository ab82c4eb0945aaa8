"""Threshold checks: the core of every decision record (``CheckSchema`` of the contract)."""
from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable
from typing import Any

OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
    "==": operator.eq,
}

ACCEPTANCE_PATTERN = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*(>=|<=|>|<|==)\s*(-?\d+(?:\.\d+)?(?:[eE]-?\d+)?)\s*$")
"""Same pattern as lib/manifest.ts's ACCEPTANCE_PATTERN: ``metric op number``."""


def check(name: str, statistic: float | None, op: str, threshold: float, detail: str | None = None) -> dict[str, Any]:
    """Returns one check record; a missing or non-finite statistic fails."""
    ok = statistic is not None and math.isfinite(statistic) and OPS[op](statistic, threshold)
    out: dict[str, Any] = {
        "name": name,
        "statistic": statistic if statistic is None or math.isfinite(statistic) else None,
        "op": op,
        "threshold": threshold,
        "passed": bool(ok),
    }
    if detail:
        out["detail"] = detail
    return out


def parse_acceptance(criterion: str) -> tuple[str, str, float]:
    """Splits ``val_accuracy >= 0.95`` into (metric, op, threshold); the manifest schema guarantees the form."""
    m = ACCEPTANCE_PATTERN.match(criterion)
    if not m:
        raise ValueError(f"not an acceptance criterion: {criterion!r}")
    return m.group(1), m.group(2), float(m.group(3))


def verdict(checks: list[dict[str, Any]]) -> str:
    """``pass`` when every check passed, else ``fail``."""
    return "pass" if all(c["passed"] for c in checks) else "fail"
