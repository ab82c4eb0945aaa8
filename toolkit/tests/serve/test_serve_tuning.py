"""Per-model batching from the package's bench.json: the batch where throughput saturates."""
from __future__ import annotations

import json

from serve_pkgbuild import copy_package

from modelship_toolkit.serve.tuning import DEFAULT_MAX_BATCH, DEFAULT_WINDOW_MS, choose_max_batch, choose_window


def _bench(tmp_path, points):
    (tmp_path / "bench.json").write_text(json.dumps({"shapes": [{"batch": b, "throughputPerSec": r} for b, r in points]}))
    return tmp_path


def test_the_smallest_batch_within_90_percent_of_the_best_is_chosen(tmp_path):
    cpu_like = _bench(tmp_path, [(1, 24_763), (32, 93_419), (256, 95_100)])  # digits on 2 vCPU: saturates at 32
    choice = choose_max_batch(cpu_like, 256, None)
    assert choice.size == 32 and "batch 32" in choice.source
    gpu_like = _bench(tmp_path, [(1, 4_336), (32, 51_000), (64, 71_241)])  # a GPU engine still gaining at its max
    assert choose_max_batch(gpu_like, 64, None).size == 64
    assert choose_max_batch(gpu_like, 48, None).size == 48  # never above the model's batch max


def test_the_operator_wins_and_a_missing_or_broken_bench_falls_back(tmp_path):
    bench = _bench(tmp_path, [(1, 10.0), (8, 100.0)])
    assert choose_max_batch(bench, 64, 4).source == "--max-batch-size"
    (tmp_path / "bench.json").write_text("{not json")
    assert choose_max_batch(tmp_path, 64, None).size == DEFAULT_MAX_BATCH
    (tmp_path / "bench.json").write_text(json.dumps({"shapes": [{"batch": True, "throughputPerSec": 5}, {"batch": 0}]}))
    assert choose_max_batch(tmp_path, 16, None).size == 16


def _timed(tmp_path, points):
    (tmp_path / "bench.json").write_text(json.dumps({"shapes": [{"batch": b, "latencyMs": {"p50": ms}, "throughputPerSec": b / ms * 1e3}
                                                                for b, ms in points]}))
    return tmp_path


def test_the_window_is_at_most_one_batch_run_time(tmp_path):
    digits = _timed(tmp_path, [(1, 0.013), (32, 0.163), (256, 1.30), (128, 0.63)])  # digits' bench.json on 2 vCPU
    choice = choose_window(digits, 32, None)
    assert choice.ms == 0.163 and "batch of 32" in choice.source
    assert choose_window(digits, 100, None).ms == 0.63  # the smallest measured batch at least that big
    assert choose_window(digits, 512, None).ms == 1.30  # else the largest
    slow = _timed(tmp_path, [(1, 4.0), (8, 30.0)])  # a batch that takes longer than the default window
    assert choose_window(slow, 8, None).ms == DEFAULT_WINDOW_MS


def test_the_operator_sets_the_window_and_a_bench_without_latency_falls_back(tmp_path):
    assert choose_window(_timed(tmp_path, [(32, 0.2)]), 32, 2.5) == choose_window(tmp_path, 32, 2.5)
    assert choose_window(tmp_path, 32, 2.5).source == "--batch-window-ms" and choose_window(tmp_path, 32, 0.0).ms == 0.0
    _bench(tmp_path, [(1, 10.0), (8, 100.0)])  # throughput only
    assert choose_window(tmp_path, 8, None).ms == DEFAULT_WINDOW_MS
    (tmp_path / "bench.json").write_text(json.dumps({"shapes": [{"batch": 8, "latencyMs": {"p50": "fast"}}, {"batch": 8, "latencyMs": 3}]}))
    assert choose_window(tmp_path, 8, None).ms == DEFAULT_WINDOW_MS
    (tmp_path / "bench.json").unlink()
    assert "default" in choose_window(tmp_path, 8, None).source


def test_the_admin_state_says_the_batch_size_and_why(make_server, packages, tmp_path):
    pkg = copy_package(packages["v2"], tmp_path / "with-bench")
    meta = json.loads((pkg / "metadata.json").read_text())
    assert "bench.json" not in meta["files"]  # an unlisted extra file is read, never executed
    _timed(pkg, [(1, 1.0), (4, 1.33), (64, 20.6)])  # 1000, 3000, 3100 per second
    _, c = make_server(max_batch_size=None, batch_window_ms=None)
    assert c.admin("POST", "load", {"variant": "candidate", "package": str(pkg)})[0] == 200
    state = c.admin("GET", "state")[1]["variants"]
    assert state["candidate"]["maxBatchSize"] == 4 and "bench.json" in state["candidate"]["maxBatchSizeFrom"]
    assert state["candidate"]["batchWindowMs"] == 1.33 and "batch of 4" in state["candidate"]["batchWindowFrom"]
    assert state["stable"]["maxBatchSize"] == DEFAULT_MAX_BATCH
