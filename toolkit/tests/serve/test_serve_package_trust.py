"""The runtime runs only verified code: everything it imports or loads lies inside the package and is
listed with its sha256; checkpoints are weights, never pickles that run code; what it unpacks it
removes. Each case is a way around this that once worked."""
from __future__ import annotations

import io
import json
import os
import pickle
import tarfile
from pathlib import Path

import pytest
from serve_pkgbuild import build_package, copy_package, edit_metadata, write_metadata

from modelship_toolkit.serve.backends import load_backend
from modelship_toolkit.serve.package import PackageError, load_package


@pytest.fixture(scope="module")
def fallback_pkg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A package without an engine: loading it imports the model class from its source."""
    return build_package(tmp_path_factory.mktemp("trust") / "pkg", version="t1", seed=0, with_engine=False)


def _meta(root: Path) -> dict:
    return json.loads((root / "metadata.json").read_text())


def _manifest_model(root: Path, **model) -> None:
    meta = _meta(root)
    meta["manifest"]["model"].update(model)
    write_metadata(root, meta)


def test_source_not_listed_is_refused(fallback_pkg, tmp_path):
    p = copy_package(fallback_pkg, tmp_path / "p")
    meta = _meta(p)
    del meta["files"]["source.tar"]
    (p / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(PackageError) as e:
        load_package(p)
    assert e.value.status == 409 and e.value.field == "source"


def test_source_as_an_unhashed_folder_is_refused(fallback_pkg, tmp_path):
    p = copy_package(fallback_pkg, tmp_path / "p")
    (p / "src").mkdir()
    (p / "src" / "tiny_model.py").write_text("import os\nos.system('touch pwned')\n")
    edit_metadata(p, source="src")
    with pytest.raises(PackageError) as e:
        load_package(p)
    assert e.value.status == 409 and e.value.field == "source" and "source archive" in e.value.message


@pytest.mark.parametrize(("key", "value"), [
    *(("pythonPath", v) for v in ["..", "../..", "/tmp", "a/../../.."]),
    *(("entrypoint", v) for v in ["../evil:Evil", "a/b:C", "/abs/mod:C", "mod:Cls;rm", "tiny_model", "mod..x:C"]),
])
def test_model_code_outside_the_source_is_refused(fallback_pkg, tmp_path, key, value):
    """pythonPath must stay inside the source; the entrypoint must be dotted identifiers."""
    p = copy_package(fallback_pkg, tmp_path / "p")
    _manifest_model(p, **{key: value})
    with pytest.raises(PackageError) as e:
        load_package(p)
    assert e.value.field == f"manifest.model.{key}"


@pytest.mark.parametrize("entry", ["a/..", "..", "../x.py", "a/../../x.py", "/etc/x"])
def test_unsafe_tar_entries_are_integrity_errors_not_crashes(fallback_pkg, tmp_path, entry):
    p = copy_package(fallback_pkg, tmp_path / "p")
    with tarfile.open(p / "source.tar", "w") as tar:
        data = b"x = 1\n"
        info = tarfile.TarInfo(entry)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    write_metadata(p, _meta(p))
    before = set(Path(os.environ.get("TMPDIR", "/tmp")).glob("modelship-source-*"))
    with pytest.raises(PackageError) as e:
        load_package(p)
    assert e.value.status == 409 and e.value.field == "source"
    assert set(Path(os.environ.get("TMPDIR", "/tmp")).glob("modelship-source-*")) == before  # nothing left behind


class _RunsCode:
    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_checkpoint_that_runs_code_is_refused_and_never_runs(fallback_pkg, tmp_path):
    p = copy_package(fallback_pkg, tmp_path / "p")
    marker = tmp_path / "pwned"
    (p / "model_best.pt").write_bytes(pickle.dumps({"model": _RunsCode(str(marker))}))
    write_metadata(p, _meta(p))
    pkg = load_package(p)
    try:
        loaded = load_backend(pkg)
        # The engine is missing and the fallback refused the checkpoint: nothing serves, and it says why.
        pytest.fail(f"loaded {loaded}")
    except PackageError as e:
        assert "cannot load checkpoint" in e.message and "model_best.pt" in e.message
        assert e.field == "checkpoint" and e.status == 409
    finally:
        pkg.close()
    assert not marker.exists()


def test_the_unpacked_source_is_removed_when_the_package_closes(fallback_pkg):
    pkg = load_package(fallback_pkg)
    assert pkg.source_dir is not None and (pkg.source_dir / "tiny_model.py").is_file()
    pkg.close()
    assert not pkg.source_dir.exists()
    pkg.close()  # idempotent


@pytest.mark.parametrize(("change", "field"), [
    (lambda m: m.pop("name"), "name"),
    (lambda m: m.__setitem__("manifest", "digits"), "manifest"),
    (lambda m: m["files"]["source.tar"].__setitem__("sha256", "not-a-digest"), "files.source.tar.sha256"),
    (lambda m: m.__setitem__("engine", 7), "engine"),
])
def test_metadata_outside_the_shared_contract_is_refused_naming_the_field(fallback_pkg, tmp_path, change, field):
    """metadata.json is checked against schemas/package-metadata.json (from lib/package-metadata.ts,
    the schema the package step writes with) before anything else is read."""
    p = copy_package(fallback_pkg, tmp_path / "p")
    meta = _meta(p)
    change(meta)
    (p / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(PackageError) as e:
        load_package(p)
    assert e.value.status == 422 and e.value.field == field and e.value.message.startswith(f"metadata.json {field}: ")
