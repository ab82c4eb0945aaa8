"""Progress events: one JSON line per event on the real stdout, flushed at once.

The CLI moves everything else that writes to stdout (libraries, C extensions) onto stderr, so the
activity reading stdout sees only these lines (it turns them into heartbeats).
"""
from __future__ import annotations

import json
import sys
from typing import IO, Any

_stream: IO[str] = sys.stdout


def set_stream(stream: IO[str]) -> None:
    """Sets where progress lines go (the CLI hands in a duplicate of the original stdout)."""
    global _stream
    _stream = stream


def report(step: str, done: float | None = None, total: float | None = None, message: str | None = None) -> None:
    """Prints one progress event ``{"event":"progress","step":...,"done":...,"total":...}``."""
    event: dict[str, Any] = {"event": "progress", "step": step}
    if done is not None:
        event["done"] = done
    if total is not None:
        event["total"] = total
    if message is not None:
        event["message"] = message
    _stream.write(json.dumps(event) + "\n")
    _stream.flush()


def log(message: str) -> None:
    """Writes a human-readable line to stderr."""
    print(message, file=sys.stderr, flush=True)
