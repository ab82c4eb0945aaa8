"""inspect: checkpoint digest, loading into the class, acceptance gate."""
from __future__ import annotations

import hashlib

import torch
from toolkit_helpers import base_request


def request(repo, manifest, **extra):
    return base_request(repo, manifest, metricsPath="artifacts/metrics.json", **extra)


def test_happy_path(toolkit, repo, manifest):
    code, result = toolkit("inspect", request(repo, manifest))
    assert code == 0
    assert result["verdict"] == "pass"
    assert result["checkpoint"]["sha256"] == hashlib.sha256((repo / "artifacts/model_best.pt").read_bytes()).hexdigest()
    assert result["parameters"] == 1 * 32 * 9 + 32 + 32 * 64 * 9 + 64 + 64 * 10 + 10
    assert result["checks"][0]["name"] == "val_accuracy" and result["checks"][0]["passed"]
    assert set(result["metrics"]) >= {"val_accuracy", "val_loss", "epochs", "train_seconds"}


def test_raw_state_dict_is_accepted(toolkit, repo, manifest, tmp_path):
    state = torch.load(repo / "artifacts/model_best.pt")["model"]
    torch.save(state, tmp_path / "raw.pt")
    code, result = toolkit("inspect", request(repo, manifest) | {"checkpointPath": str(tmp_path / "raw.pt")})
    assert code == 0, result


def test_acceptance_not_met_and_missing_metric_fail_the_gate(toolkit, repo, manifest):
    manifest["artifact"]["acceptance"] = ["val_accuracy >= 0.999", "val_loss <= 100", "f1 >= 0.5"]
    code, result = toolkit("inspect", request(repo, manifest))
    assert code == 3
    assert result["verdict"] == "fail"
    by_name = {c["name"]: c for c in result["checks"]}
    assert not by_name["val_accuracy"]["passed"]
    assert by_name["val_loss"]["passed"]
    assert by_name["f1"]["statistic"] is None and not by_name["f1"]["passed"]
    assert "missing" in by_name["f1"]["detail"]


def test_missing_checkpoint_is_bad_input(toolkit, repo, manifest):
    code, result = toolkit("inspect", request(repo, manifest) | {"checkpointPath": "artifacts/nope.pt"})
    assert code == 2
    assert result["error"]["field"] == "checkpointPath"
    assert "nope.pt" in result["error"]["message"]


def test_state_dict_that_does_not_fit_is_bad_input(toolkit, repo, manifest):
    manifest["model"]["init"] = {"in_ch": 1, "num_classes": 12}
    code, result = toolkit("inspect", request(repo, manifest))
    assert code == 2
    assert result["error"]["field"] == "checkpointPath"
    assert "does not fit" in result["error"]["message"]


def test_unknown_init_argument_is_bad_input(toolkit, repo, manifest):
    manifest["model"]["init"] = {"in_channels": 1}
    code, result = toolkit("inspect", request(repo, manifest))
    assert code == 2 and result["error"]["field"] == "manifest.model.init"


def test_request_breaking_the_schema_names_the_field(toolkit, repo, manifest):
    manifest["parity"]["samples"] = 10
    code, result = toolkit("inspect", request(repo, manifest))
    assert code == 2
    assert result["error"]["field"] == "manifest.parity.samples"


def test_request_missing_a_field_names_it(toolkit, repo, manifest):
    req = request(repo, manifest)
    del req["metricsPath"]
    code, result = toolkit("inspect", req)
    assert code == 2 and result["error"]["field"] == "metricsPath"


def test_request_that_is_not_json(toolkit):
    code, result = toolkit("inspect", "{not json")
    assert code == 2 and result["error"]["field"] == "--request"
