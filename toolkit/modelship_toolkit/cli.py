"""The toolkit's command line: read a request, validate it, run a command, write its result.

Exit codes: 0 done; 2 bad input (result holds ``error``); 3 a gate said no (result holds the
report); 1 a crash (result holds ``error`` when it could be written; the caller may retry).
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
import traceback
from typing import Any, NoReturn

from . import progress
from .contract import COMMANDS
from .errors import EXIT_BAD_INPUT, EXIT_CRASH, EXIT_GATE_FAILED, EXIT_OK, BadInput, GateFailed
from .jsonio import read_json, write_json_atomic
from .schema import result_errors, validate_request


class ResultSchemaError(RuntimeError):
    """A command produced a result that breaks the contract: a toolkit bug."""


def _checked(command: str, result: dict[str, Any]) -> dict[str, Any]:
    errors = result_errors(command, result)
    if errors:
        raise ResultSchemaError(f"{command} result breaks its schema: " + "; ".join(errors[:5]))
    return result


def run(command: str, request_path: str, result_path: str) -> int:
    """Runs one command from a request file to a result file; returns the exit code."""
    if command not in COMMANDS:
        raise ValueError(f"unknown command {command!r}")
    started = time.monotonic()
    try:
        try:
            request = read_json(request_path, field="--request")
            validate_request(command, request)
            module = importlib.import_module(f".commands.{command}", __package__)
            result = _checked(command, module.run(request))
            write_json_atomic(result_path, result)
            progress.log(f"{command}: done in {time.monotonic() - started:.1f}s")
            return EXIT_OK
        except GateFailed as gate:
            write_json_atomic(result_path, _checked(command, gate.report))
            progress.log(f"{command}: gate failed: {gate}")
            return EXIT_GATE_FAILED
        except BadInput as bad:
            write_json_atomic(result_path, bad.to_result())
            progress.log(f"{command}: bad input: {bad.message}" + (f" (field {bad.field})" if bad.field else ""))
            if bad.hint:
                progress.log(f"  hint: {bad.hint}")
            return EXIT_BAD_INPUT
    except Exception as err:  # noqa: BLE001 - every other failure is a crash the caller may retry
        traceback.print_exc(file=sys.stderr)
        try:
            write_json_atomic(
                result_path,
                {"error": {"type": type(err).__name__, "message": str(err) or type(err).__name__, "hint": "unexpected failure: retryable; see stderr"}},
            )
        except Exception:  # noqa: BLE001 - nothing more to do
            traceback.print_exc(file=sys.stderr)
        return EXIT_CRASH


def _protect_stdout() -> None:
    """Keeps stdout for progress lines only: everything else writing to fd 1 goes to stderr."""
    sys.stdout.flush()
    progress_fd = os.dup(1)
    os.dup2(2, 1)
    progress.set_stream(os.fdopen(progress_fd, "w", buffering=1, encoding="utf-8"))
    sys.stdout = sys.stderr


class _UsageError(Exception):
    """The command line itself is wrong."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # type: ignore[override]
        raise _UsageError(message)


def _result_arg(argv: list[str]) -> str | None:
    """Finds ``--result PATH`` (or ``--result=PATH``) in a command line argparse rejected."""
    for i, arg in enumerate(argv):
        if arg == "--result" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--result="):
            return arg.split("=", 1)[1]
    return None


def main(argv: list[str] | None = None) -> int:
    """Parses ``<command> --request req.json --result res.json`` and runs it.

    A wrong command line exits 2 too, with the error in the result file when ``--result`` was given.
    """
    argv = sys.argv[1:] if argv is None else argv
    parser = _Parser(prog="python -m modelship_toolkit", description=__doc__)
    parser.add_argument("command", choices=COMMANDS)
    parser.add_argument("--request", required=True, help="request JSON file")
    parser.add_argument("--result", required=True, help="where to write the result JSON (atomically)")
    try:
        args = parser.parse_args(argv)
    except _UsageError as err:
        parser.print_usage(sys.stderr)
        progress.log(f"error: {err}")
        result = _result_arg(argv)
        if result:
            write_json_atomic(result, BadInput(str(err), field="argv", hint=f"commands: {', '.join(COMMANDS)}").to_result())
        return EXIT_BAD_INPUT
    _protect_stdout()
    return run(args.command, args.request, args.result)
