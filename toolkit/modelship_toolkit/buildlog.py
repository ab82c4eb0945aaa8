"""The build log: a plain-text record of what a build did, kept with the engine."""
from __future__ import annotations

import time
from pathlib import Path

from . import progress


class BuildLog:
    """Collects timestamped lines (also echoed to stderr) and writes them to a file at the end."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._start = time.perf_counter()

    def __call__(self, message: str) -> None:
        """Adds one line, prefixed with the seconds since the build started."""
        line = f"[{time.perf_counter() - self._start:8.3f}s] {message}"
        self.lines.append(line)
        progress.log(line)

    def write(self, path: Path) -> Path:
        """Writes the log to ``path`` (via a temporary file and a rename) and returns it."""
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text("\n".join(self.lines) + "\n", encoding="utf-8")
        tmp.replace(path)
        return path
