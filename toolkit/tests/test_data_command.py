"""``data``: the manifest's data files checked before a release starts, by manifest field."""
from __future__ import annotations

from toolkit_helpers import base_request


def test_the_example_data_fits_its_manifest(toolkit, repo, manifest):
    code, r = toolkit("data", {"repoDir": str(repo), "manifest": manifest})
    assert code == 0, r
    assert [f["field"] for f in r["files"]] == ["manifest.calibration", "manifest.parity.data"]
    assert r["files"][0]["arrays"]["input"][1:] == [1, 8, 8]


def test_an_array_name_that_does_not_match_names_the_field_and_not_the_workers_folders(toolkit, repo, manifest):
    manifest["calibration"]["arrays"] = {"input": "pixels"}
    code, r = toolkit("data", {"repoDir": str(repo), "manifest": manifest})
    assert code == 2
    e = r["error"]
    assert e["field"] == "manifest.calibration.arrays.input"
    assert e["message"].startswith("data/heldout.npz has no array 'pixels' for input 'input'") and str(repo) not in e["message"]


def test_too_few_samples_names_the_samples_field(toolkit, repo, manifest):
    manifest["calibration"]["samples"] = 100_000
    code, r = toolkit("data", {"repoDir": str(repo), "manifest": manifest})
    assert code == 2 and r["error"]["field"] == "manifest.calibration.samples"


def test_a_missing_checkpoint_is_named_as_the_manifest_writes_it(toolkit, repo, manifest):
    code, r = toolkit("inspect", base_request(repo, manifest, checkpointPath="artifacts/nope.pt", metricsPath="artifacts/metrics.json"))
    assert code == 2
    assert r["error"]["message"] == "checkpoint artifacts/nope.pt is not in the model repository" and str(repo) not in r["error"]["hint"]
