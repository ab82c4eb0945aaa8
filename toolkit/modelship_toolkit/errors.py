"""The two ways a command stops on purpose, mapped to the toolkit's exit codes.

Anything else raised is a crash: the CLI exits 1 and the orchestration may retry.
"""
from __future__ import annotations

from typing import Any

from .contract import EXIT_CODES

EXIT_OK = EXIT_CODES["Ok"]
EXIT_BAD_INPUT = EXIT_CODES["BadInput"]
EXIT_GATE_FAILED = EXIT_CODES["GateFailed"]
EXIT_CRASH = EXIT_CODES["Crash"]


class BadInput(Exception):
    """The request or a file it names is wrong: retrying cannot help (exit 2).

    Args:
        message: what is wrong, naming the file or value.
        field: the request field at fault, dotted (``manifest.parity.samples``, ``checkpointPath``).
        hint: what to do about it.
        type: the error type written to the result (``BadInput`` unless more specific).
    """

    def __init__(self, message: str, *, field: str | None = None, hint: str | None = None, type: str = "BadInput") -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.hint = hint
        self.type = type

    def to_result(self) -> dict[str, Any]:
        """Returns the ``{"error": ...}`` result object of the contract."""
        error: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.field is not None:
            error["field"] = self.field
        if self.hint is not None:
            error["hint"] = self.hint
        return {"error": error}


class GateFailed(Exception):
    """A gate said no (exit 3); ``report`` is the full result, with its verdict ``fail``."""

    def __init__(self, report: dict[str, Any], summary: str) -> None:
        super().__init__(summary)
        self.report = report
