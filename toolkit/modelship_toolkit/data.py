"""Loading model inputs and labels from ``.npz`` files named by the manifest (calibration, parity)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .errors import BadInput
from .manifest import NUMPY_DTYPES, Manifest
from .paths import existing_file


@dataclass
class Dataset:
    """Inputs by name (sample axis first), optional labels, and the file they came from."""

    inputs: dict[str, np.ndarray]
    labels: np.ndarray | None
    path: Path

    def __len__(self) -> int:
        return len(next(iter(self.inputs.values())))

    def take(self, index: np.ndarray) -> "Dataset":
        """Returns the samples at ``index`` (in that order)."""
        return Dataset({k: v[index] for k, v in self.inputs.items()}, None if self.labels is None else self.labels[index], self.path)


def load_npz(repo_dir: str | Path, source: dict[str, Any], manifest: Manifest, *, field: str) -> Dataset:
    """Loads the inputs (and labels) a manifest ``npz`` source names, checking names, dims and sizes.

    Args:
        source: ``{path, arrays?, labels?}`` from the manifest (``calibration`` or ``parity.data``).
        field: the source's field, e.g. ``manifest.parity.data``; errors name ``<field>.path``,
            ``<field>.arrays.<input>`` or ``<field>.labels``.
    """
    path = existing_file(repo_dir, source["path"], field=f"{field}.path", what="data file")
    try:
        npz = np.load(path, allow_pickle=False)
        available = list(npz.files)
    except Exception as err:  # noqa: BLE001 - a corrupt file is bad input
        raise BadInput(f"cannot read {path} as .npz: {err}", field=f"{field}.path", hint="write it with numpy.savez") from None
    arrays: dict[str, str] = source.get("arrays") or {}
    inputs: dict[str, np.ndarray] = {}
    for spec in manifest["inputs"]:
        name = spec["name"]
        key = arrays.get(name, name)
        if key not in available:
            raise BadInput(
                f"{path} has no array {key!r} for input {name!r} (it has: {', '.join(available) or 'none'})",
                field=f"{field}.arrays.{name}",
                hint=f"set {field}.arrays.{name} to one of the file's arrays",
            )
        x = npz[key]
        _check_dims(x, spec, path, key, f"{field}.arrays.{name}")
        inputs[name] = np.ascontiguousarray(x.astype(NUMPY_DTYPES[spec.get("dtype", "float32")], copy=False))
    sizes = {len(v) for v in inputs.values()}
    if len(sizes) > 1:
        raise BadInput(f"{path}: input arrays hold different numbers of samples {sorted(sizes)}", field=f"{field}.arrays")
    labels = None
    if source.get("labels"):
        key = source["labels"]
        if key not in available:
            raise BadInput(
                f"{path} has no labels array {key!r} (it has: {', '.join(available)})",
                field=f"{field}.labels",
                hint=f"set {field}.labels to one of the file's arrays, or remove it",
            )
        labels = np.asarray(npz[key]).reshape(-1)
        if len(labels) != len(next(iter(inputs.values()))):
            raise BadInput(f"{path}: {len(labels)} labels for {sizes.pop()} samples", field=f"{field}.labels")
    return Dataset(inputs, labels, path)


def _check_dims(x: np.ndarray, spec: dict[str, Any], path: Path, key: str, field: str) -> None:
    """Checks an array against an input spec: the sample axis is dim 0, the rest must fit."""
    dims = spec["dims"]
    if isinstance(dims[0], int):
        raise BadInput(
            f"input {spec['name']!r} has a fixed first dim ({dims[0]}), so samples cannot be batched from {path}",
            field=field,
            hint="make the first dim dynamic, e.g. { name: batch, min: 1, opt: 32, max: 256 }",
        )
    want = ["N", *[d if isinstance(d, int) else f"{d['min']}..{d['max']}" for d in dims[1:]]]
    ok = x.ndim == len(dims) and all(
        (x.shape[i] == d) if isinstance(d, int) else (d["min"] <= x.shape[i] <= d["max"]) for i, d in enumerate(dims) if i > 0
    )
    if not ok:
        raise BadInput(
            f"{path}: array {key!r} has shape {list(x.shape)}, input {spec['name']!r} needs [{', '.join(map(str, want))}]",
            field=field,
        )
