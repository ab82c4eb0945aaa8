"""parity: PyTorch reference vs the engine, tolerances, smallest passing tolerance."""
from __future__ import annotations

import pytest
from toolkit_helpers import base_request


def request(repo, manifest, engines, precision):
    return base_request(repo, manifest, enginePath=engines[precision]["engine"]["path"],
                        backend="onnxruntime-cpu", precision=precision)


def test_fp32_dataset_parity_passes(toolkit, repo, manifest, engines):
    code, r = toolkit("parity", request(repo, manifest, engines, "fp32"))
    assert code == 0, r
    # 1000 dataset samples, then dataset samples at the min/opt/max/mid batch (1, 32, 256, 128).
    assert r["verdict"] == "pass" and r["samples"] == 1000 + 1 + 32 + 256 + 128
    assert [line["shape"]["input"][0] for line in r["byShape"]][-4:] == [1, 32, 256, 128]
    assert sum(line["samples"] for line in r["byShape"]) == r["samples"]
    assert r["data"]["kind"] == "dataset" and r["data"]["path"].endswith("heldout.npz")
    s = r["stats"]
    assert s["maxAbs"] < 1e-4 and s["top1"]["rate"] == 1.0
    assert 0 < s["top1"]["wilsonLower"] < 1
    assert "referenceAccuracy" in s and "engineAccuracy" in s
    assert r["nonFinite"] == {"reference": 0, "engine": 0}
    assert r["smallestPassingTolerance"]["maxAbs"] == s["maxAbs"]
    assert {c["name"] for c in r["checks"]} >= {"maxAbs[logits]", "minTop1Agreement", "nonFinite.engine"}
    assert s["outputs"]["logits"]["maxAbs"] == s["maxAbs"]


def test_parity_is_reproducible(toolkit, repo, manifest, engines):
    _, a = toolkit("parity", request(repo, manifest, engines, "fp32"))
    _, b = toolkit("parity", request(repo, manifest, engines, "fp32"))
    assert a["stats"] == b["stats"]


def test_impossible_int8_tolerance_fails_the_gate(toolkit, repo, manifest, engines):
    manifest["parity"]["tolerances"]["int8"] = {"maxAbs": 1e-9, "minTop1Agreement": 0.5}
    code, r = toolkit("parity", request(repo, manifest, engines, "int8"))
    assert code == 3
    assert r["verdict"] == "fail"
    checks = {c["name"]: c for c in r["checks"]}
    assert not checks["maxAbs[logits]"]["passed"] and checks["minTop1Agreement"]["passed"]
    assert r["smallestPassingTolerance"]["maxAbs"] > 1e-9
    assert r["smallestPassingTolerance"]["maxAbs"] == pytest.approx(r["stats"]["maxAbs"])


def test_an_output_tolerance_overrides_the_shared_one_for_that_output(toolkit, repo, manifest, engines):
    manifest["parity"]["tolerances"]["int8"] = {"maxAbs": 1e-9, "minTop1Agreement": 0.5, "outputs": {"logits": {"maxAbs": 100.0}}}
    code, r = toolkit("parity", request(repo, manifest, engines, "int8"))
    assert code == 0, r
    check = next(c for c in r["checks"] if c["name"] == "maxAbs[logits]")
    assert check["threshold"] == 100.0 and "tolerances.outputs.logits.maxAbs" in check["detail"]
    assert r["outputTolerances"] == {"logits": {"maxAbs": 100.0}} and "outputs" not in r["tolerance"]


def test_random_inputs_cover_min_opt_max_and_mid(toolkit, repo, manifest, engines):
    manifest["parity"]["data"] = {"kind": "random", "distribution": "uniform"}
    code, r = toolkit("parity", request(repo, manifest, engines, "fp32"))
    assert code == 0, r
    batches = [s["input"][0] for s in r["shapes"]]
    assert {1, 32, 256, 128} <= set(batches)
    assert r["samples"] == 1000 and "path" not in r["data"]


def test_too_few_samples_names_path_and_samples(toolkit, repo, manifest, engines):
    manifest["parity"]["samples"] = 5000
    code, r = toolkit("parity", request(repo, manifest, engines, "fp32"))
    assert code == 2
    assert r["error"]["field"] == "manifest.parity.data.path"
    assert "parity.samples" in r["error"]["hint"] and "2700" in r["error"]["message"]


def test_wrong_npz_array_is_bad_input(toolkit, repo, manifest, engines):
    manifest["parity"]["data"]["arrays"] = {"input": "images"}
    code, r = toolkit("parity", request(repo, manifest, engines, "fp32"))
    assert code == 2 and r["error"]["field"] == "manifest.parity.data.arrays.input"


def test_missing_tolerance_for_the_precision(toolkit, repo, manifest, engines):
    del manifest["parity"]["tolerances"]["int8"]
    code, r = toolkit("parity", request(repo, manifest, engines, "int8"))
    assert code == 2 and r["error"]["field"] == "manifest.parity.tolerances.int8"
