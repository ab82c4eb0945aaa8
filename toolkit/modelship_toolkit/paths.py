"""Resolving the paths a request names: relative ones are taken from the model repository."""
from __future__ import annotations

from pathlib import Path

from .errors import BadInput


def resolve(repo_dir: str | Path | None, path: str | Path) -> Path:
    """Returns ``path`` as is when absolute, else joined onto ``repo_dir`` (or the current folder)."""
    p = Path(path)
    if p.is_absolute() or repo_dir is None:
        return p
    return Path(repo_dir) / p


def existing_file(repo_dir: str | Path | None, path: str | Path, *, field: str, what: str) -> Path:
    """Resolves ``path`` and checks it is a file; else :class:`BadInput` naming ``field``."""
    p = resolve(repo_dir, path)
    if not p.is_file():
        if Path(path).is_absolute() or repo_dir is None:
            raise BadInput(f"{what} {p} does not exist" if not p.exists() else f"{what} {p} is not a file", field=field,
                           hint=f"check {field}")
        raise BadInput(  # a repository path: named as the manifest writes it, not by the worker's folder
            f"{what} {path} is not in the model repository" if not p.exists() else f"{what} {path} is not a file",
            field=field,
            hint=f"check {field}, and that the file is committed at the tag (paths are relative to the repository root)",
        )
    return p


def out_dir(path: str | Path, *, field: str = "outDir") -> Path:
    """Creates the output folder if needed; an unusable folder is :class:`BadInput`."""
    p = Path(path)
    try:
        p.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise BadInput(f"cannot create {p}: {err}", field=field) from None
    return p
