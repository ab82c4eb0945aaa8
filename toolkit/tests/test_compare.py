"""The comparator: Wilson bound, statistics, non-finite counting; checks."""
from __future__ import annotations

import numpy as np
import pytest

from modelship_toolkit.checks import check, parse_acceptance
from modelship_toolkit.compare import Accumulator, smallest_passing, wilson_lower


def test_wilson_lower_known_values():
    # All 10 of 10: the lower bound is n / (n + z^2) = 10 / 13.8415 (z = 1.96).
    assert wilson_lower(10, 10) == pytest.approx(0.72246, abs=1e-5)
    # 990 of 1000: the lower root of (p - 0.99)^2 = z^2 p (1 - p) / 1000, solved independently.
    assert wilson_lower(990, 1000) == pytest.approx(0.9816905311, abs=1e-9)
    assert wilson_lower(0, 10) == 0.0
    assert wilson_lower(0, 0) == 0.0


def test_statistics_and_agreement():
    ref = np.array([[3.0, 1.0, 0.0, 0.0, 0.0, -1.0], [0.0, 2.0, 1.0, 0.0, 0.0, 0.0]], dtype=np.float32)
    eng = ref.copy()
    eng[1] = [0.0, 1.0, 2.0, 0.0, 0.0, 0.0]  # top-1 flips, reference top-1 still in engine top-5
    acc = Accumulator(classification=True)
    acc.add([ref], [eng], labels=np.array([0, 2]))
    s = acc.stats()
    assert s["maxAbs"] == 1.0 and s["meanAbs"] == pytest.approx(2 / 12)
    assert s["top1"]["agree"] == 1 and s["top5"]["agree"] == 2
    assert s["referenceAccuracy"] == 0.5 and s["engineAccuracy"] == 1.0
    assert smallest_passing(s)["minTop1Agreement"] == s["top1"]["wilsonLower"]


def test_non_finite_values_are_counted_not_averaged():
    ref = np.array([[1.0, 2.0]], dtype=np.float32)
    eng = np.array([[np.nan, 2.5]], dtype=np.float32)
    acc = Accumulator(classification=False)
    acc.add([ref], [eng])
    assert acc.nonfinite_eng == 1 and acc.nonfinite_ref == 0
    assert acc.stats()["maxAbs"] == 0.5


def test_check_fails_on_missing_statistic():
    assert check("x", None, ">=", 0.5)["passed"] is False
    assert check("x", float("nan"), "<=", 1.0) == {"name": "x", "statistic": None, "op": "<=", "threshold": 1.0, "passed": False}
    assert check("x", 0.96, ">=", 0.95)["passed"] is True


def test_parse_acceptance():
    assert parse_acceptance("val_accuracy >= 0.95") == ("val_accuracy", ">=", 0.95)
    assert parse_acceptance(" loss<1e-2 ") == ("loss", "<", 0.01)


def test_error_histogram_counts_each_error_once_in_its_half_decade() -> None:
    from modelship_toolkit.compare import HISTOGRAM_EDGES, error_histogram

    errors = [np.array([0.0, 5e-10, 1e-9, 2e-9, 0.004, 0.5, 12.0]), np.array([3.2e-3])]
    h = error_histogram(errors)
    assert h["edges"] == HISTOGRAM_EDGES and len(h["counts"]) == len(HISTOGRAM_EDGES) + 1
    assert sum(h["counts"]) == 8
    assert h["counts"][0] == 2  # 0 and 5e-10: below 1e-9
    assert h["counts"][1] == 2  # 1e-9 and 2e-9: [1e-9, 3.16e-9)
    i = next(i for i, e in enumerate(HISTOGRAM_EDGES) if e > 0.004)
    assert h["counts"][i] == 2  # 3.2e-3 and 4e-3: [3.16e-3, 1e-2)
    assert h["counts"][-1] == 1  # 12 ≥ 10
    assert error_histogram([])["counts"] == [0] * (len(HISTOGRAM_EDGES) + 1)


def test_stats_carry_a_histogram_per_output() -> None:
    acc = Accumulator(classification=False, output_names=["a", "b"])
    acc.add([np.zeros((4, 2)), np.zeros((4, 1))], [np.full((4, 2), 0.02), np.zeros((4, 1))])
    hist = acc.stats()["histograms"]
    assert sum(hist["a"]["counts"]) == 8 and sum(hist["b"]["counts"]) == 4
    assert hist["b"]["counts"][0] == 4  # exact matches
