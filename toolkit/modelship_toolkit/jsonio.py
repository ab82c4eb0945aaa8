"""Reading requests and writing results: JSON files, written atomically."""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from .errors import BadInput


def read_json(path: str | Path, *, field: str) -> Any:
    """Reads a JSON file; a missing or malformed file is :class:`BadInput` naming ``field``."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadInput(f"{p} does not exist", field=field, hint="check the path") from None
    except OSError as err:
        raise BadInput(f"cannot read {p}: {err}", field=field) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise BadInput(f"{p} is not valid JSON: {err}", field=field, hint="write it with a JSON encoder") from None


def write_json_atomic(path: str | Path, value: Any) -> None:
    """Writes ``value`` as JSON to ``path`` via a temporary file and a rename: never half-written."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(value, f, indent=2, allow_nan=False)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
