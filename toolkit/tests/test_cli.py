"""The process boundary: progress lines on stdout, exit codes, result files."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from toolkit_helpers import TOOLKIT_PATH

from modelship_toolkit import cli
from modelship_toolkit.commands import doctor


def _run(args, cwd):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(TOOLKIT_PATH), os.environ.get("PYTHONPATH")]))}
    return subprocess.run([sys.executable, "-m", "modelship_toolkit", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_stdout_holds_only_progress_lines(tmp_path):
    (tmp_path / "req.json").write_text("{}")
    p = _run(["doctor", "--request", "req.json", "--result", "res.json"], tmp_path)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines, "expected progress lines"
    for line in lines:
        event = json.loads(line)
        assert event["event"] == "progress" and event["step"] == "doctor"
    assert json.loads((tmp_path / "res.json").read_text())["python"]
    assert sorted(f.name for f in tmp_path.iterdir()) == ["req.json", "res.json"]


def test_bad_request_exits_2_with_the_field(tmp_path):
    (tmp_path / "req.json").write_text(json.dumps({"unexpected": 1}))
    p = _run(["doctor", "--request", "req.json", "--result", "res.json"], tmp_path)
    assert p.returncode == 2
    error = json.loads((tmp_path / "res.json").read_text())["error"]
    assert error["type"] == "BadInput" and "unexpected" in error["message"]


def test_unknown_command_exits_2(tmp_path):
    p = _run(["deploy", "--request", "req.json", "--result", "res.json"], tmp_path)
    assert p.returncode == 2
    assert json.loads((tmp_path / "res.json").read_text())["error"]["field"] == "argv"


def test_crash_exits_1_with_an_error_result(tmp_path, monkeypatch):
    def boom(request):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(doctor, "run", boom)
    (tmp_path / "req.json").write_text("{}")
    code = cli.run("doctor", str(tmp_path / "req.json"), str(tmp_path / "res.json"))
    assert code == 1
    error = json.loads((tmp_path / "res.json").read_text())["error"]
    assert error == {"type": "RuntimeError", "message": "disk on fire", "hint": error["hint"]}


def test_result_is_replaced_atomically(tmp_path):
    res = tmp_path / "res.json"
    res.write_text("old")
    (tmp_path / "req.json").write_text("{}")
    assert cli.run("doctor", str(tmp_path / "req.json"), str(res)) == 0
    assert json.loads(res.read_text())["host"]
    assert sorted(p.name for p in Path(tmp_path).iterdir()) == ["req.json", "res.json"]


def test_every_command_of_the_contract_has_its_module_and_schemas():
    """The command list comes from lib/toolkit-contract.ts (schemas/contract.json), not a copy here."""
    import importlib
    from pathlib import Path

    from modelship_toolkit.contract import COMMANDS, EXIT_CODES

    schemas = Path(importlib.import_module("modelship_toolkit").__file__).parent / "schemas"
    for command in COMMANDS:
        assert callable(importlib.import_module(f"modelship_toolkit.commands.{command}").run), command
        assert (schemas / f"{command}.request.json").is_file() and (schemas / f"{command}.result.json").is_file()
    assert EXIT_CODES == {"Ok": 0, "Crash": 1, "BadInput": 2, "GateFailed": 3}
