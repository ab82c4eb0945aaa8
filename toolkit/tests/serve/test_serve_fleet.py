"""One runtime, many models: each model's package loads into its own variants, requests route by
model name, and one model's admin operations never touch another's."""
from __future__ import annotations

import numpy as np
from serve_harness import metric_sum

X = np.random.default_rng(4).normal(size=(1, 1, 8, 8)).astype(np.float32).reshape(-1).tolist()


def test_two_models_load_serve_and_roll_out_independently(make_server, packages):
    _, c = make_server(stable=None, model_name=None)
    assert c.admin("POST", "load", {"variant": "stable", "package": str(packages["v1"])})[0] == 200
    assert c.admin("POST", "load", {"variant": "stable", "package": str(packages["other-v1"])})[0] == 200
    digits, other = c.infer(X, [1, 1, 8, 8]), c.infer(X, [1, 1, 8, 8], model="other")
    assert digits[0] == other[0] == 200
    assert digits[2]["model_name"] == "digits" and other[2]["model_name"] == "other"
    assert digits[2]["outputs"][0]["data"] != other[2]["outputs"][0]["data"]  # other weights

    # With two models served, an operation must say which model it is for.
    status, body = c.admin("POST", "weights", {"candidate": 10})
    assert status == 422 and "several models (digits, other)" in body["error"]
    assert c.admin("POST", "load", {"variant": "candidate", "package": str(packages["other-v2"]), "model": "other"})[0] == 200
    assert c.admin("POST", "weights", {"candidate": 100, "model": "other"})[0] == 200
    assert c.infer(X, [1, 1, 8, 8], model="other")[2]["model_version"] == "v2.0.0"
    assert c.infer(X, [1, 1, 8, 8])[2]["model_version"] == "v1.0.0"  # digits untouched

    status, state = c.admin("GET", "state?model=digits")
    assert status == 200 and state["model"] == "digits" and "candidate" not in state["variants"] and state["models"] == ["digits", "other"]
    assert c.admin("POST", "rollback", {"model": "other"})[0] == 200
    assert c.infer(X, [1, 1, 8, 8], model="other")[2]["model_version"] == "v1.0.0"
    status, ready = c.request("GET", "/v2/health/ready")[0:3:2]
    assert status == 200 and set(ready["models"]) == {"digits", "other"}
    text = c.metrics()
    assert metric_sum(text, "modelship_backend_info", model="other", variant="stable") == 1
    assert metric_sum(text, "modelship_backend_info", model="digits", variant="stable") == 1


def test_a_package_for_another_model_than_the_request_names_is_refused(make_server, packages):
    _, c = make_server(stable=None, model_name=None)
    status, body = c.admin("POST", "load", {"variant": "stable", "package": str(packages["other-v1"]), "model": "digits"})
    assert status == 422 and "package is for model 'other' but the request names 'digits'" in body["error"]
    status, body = c.admin("POST", "promote", {"model": "nobody"})
    assert status == 404 and "'nobody' is not served here" in body["error"]
    status, body = c.admin("POST", "promote", {"model": 7})
    assert status == 422 and body["error"] == "model: expected a model name"
    assert c.request("POST", "/v2/models/other/infer", {"inputs": []})[0] == 404
