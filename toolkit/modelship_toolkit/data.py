"""The data models run on: inputs and labels from ``.npz`` files named by the manifest (calibration,
parity), and parity's batches — a seeded sample of the dataset, or seeded random inputs cycling
through the manifest's min/opt/max/mid shapes, plus dataset samples fitted to the shapes the
dataset did not cover."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .dtypes import NUMPY_OF_MANIFEST
from .errors import BadInput
from .manifest import Manifest, ShapeMap, batch_of, coverage_shapes, random_inputs
from .paths import existing_file


@dataclass
class Dataset:
    """Inputs by name (sample axis first), optional labels, and the file they came from."""

    inputs: dict[str, np.ndarray]
    labels: np.ndarray | None
    path: Path

    def __len__(self) -> int:
        return len(next(iter(self.inputs.values())))

    def take(self, index: np.ndarray) -> Dataset:
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
    shown = source["path"]  # as the manifest writes it: the worker's folders mean nothing to the user
    try:
        npz = np.load(path, allow_pickle=False)
        available = list(npz.files)
    except Exception as err:  # noqa: BLE001 - a corrupt file is bad input
        raise BadInput(f"cannot read {shown} as .npz: {err}", field=f"{field}.path", hint="write it with numpy.savez") from None
    arrays: dict[str, str] = source.get("arrays") or {}
    inputs: dict[str, np.ndarray] = {}
    for spec in manifest["inputs"]:
        name = spec["name"]
        key = arrays.get(name, name)
        if key not in available:
            raise BadInput(
                f"{shown} has no array {key!r} for input {name!r} (it has: {', '.join(available) or 'none'})",
                field=f"{field}.arrays.{name}",
                hint=f"set {field}.arrays.{name} to one of the file's arrays",
            )
        x = npz[key]
        _check_dims(x, spec, shown, key, f"{field}.arrays.{name}")
        inputs[name] = np.ascontiguousarray(x.astype(NUMPY_OF_MANIFEST[spec.get("dtype", "float32")], copy=False))
    sizes = {len(v) for v in inputs.values()}
    if len(sizes) > 1:
        raise BadInput(f"{shown}: input arrays hold different numbers of samples {sorted(sizes)}", field=f"{field}.arrays")
    labels = None
    if source.get("labels"):
        key = source["labels"]
        if key not in available:
            raise BadInput(
                f"{shown} has no labels array {key!r} (it has: {', '.join(available)})",
                field=f"{field}.labels",
                hint=f"set {field}.labels to one of the file's arrays, or remove it",
            )
        labels = np.asarray(npz[key]).reshape(-1)
        if len(labels) != len(next(iter(inputs.values()))):
            raise BadInput(f"{shown}: {len(labels)} labels for {sizes.pop()} samples", field=f"{field}.labels")
    return Dataset(inputs, labels, path)


def _check_dims(x: np.ndarray, spec: dict[str, Any], path: str, key: str, field: str) -> None:
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


def resize_axis(x: np.ndarray, axis: int, size: int) -> np.ndarray:
    """Linear resampling of ``x`` along ``axis`` to ``size`` (pixel centres, like bilinear resizing
    with ``align_corners=False``); the dtype is kept."""
    old = x.shape[axis]
    if old == size:
        return x
    pos = np.clip((np.arange(size) + 0.5) * old / size - 0.5, 0, old - 1)
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, old - 1)
    w = (pos - lo).reshape([-1 if i == axis else 1 for i in range(x.ndim)])
    out = np.take(x, lo, axis=axis) * (1 - w) + np.take(x, hi, axis=axis) * w
    return out.astype(x.dtype, copy=False)


def crop_or_pad_axis(x: np.ndarray, axis: int, size: int) -> np.ndarray:
    """``x`` cut to ``size`` along ``axis``, or padded there with zeros (token id 0, mask 0)."""
    old = x.shape[axis]
    if old >= size:
        return np.take(x, np.arange(size), axis=axis)
    pad = [(0, 0)] * x.ndim
    pad[axis] = (0, size - old)
    return np.pad(x, pad)


def fit_to_shape(x: np.ndarray, shape: list[int]) -> np.ndarray:
    """Dataset samples ``x`` (``len(x) == shape[0]``) brought to ``shape``: float inputs (images,
    signals) are resampled along each differing axis; integer and bool inputs (token ids, masks) are
    cut or zero-padded."""
    floating = np.issubdtype(x.dtype, np.floating)
    for axis in range(1, x.ndim):
        if x.shape[axis] != shape[axis]:
            x = resize_axis(x, axis, shape[axis]) if floating else crop_or_pad_axis(x, axis, shape[axis])
    return np.ascontiguousarray(x)


def across_shapes(data: Dataset, manifest: Manifest) -> list[Dataset]:
    """``data`` at its own shape, then a share of its samples brought to each other min/opt/max/mid
    size of the non-batch dynamic dims (see :func:`fit_to_shape`): calibration and the INT8 search
    see every size the engine will serve, not only the dataset's."""

    def key(sizes: dict[str, list[int]]) -> tuple:
        return tuple((k, tuple(v[1:])) for k, v in sorted(sizes.items()))

    seen = {key({k: list(v.shape) for k, v in data.inputs.items()})}
    shapes = coverage_shapes(manifest)
    share = max(1, len(data) // (len(shapes) + 1))
    out = [data]
    for shape in shapes:
        if key(shape) in seen:
            continue
        seen.add(key(shape))
        n = min(share, len(data))
        fitted = {name: fit_to_shape(v[:n], [n, *shape[name][1:]]) for name, v in data.inputs.items()}
        out.append(Dataset(fitted, None if data.labels is None else data.labels[:n], data.path))
    return out


Batch = tuple[dict[str, np.ndarray], np.ndarray | None]


def dataset_batches(request: dict[str, Any]) -> tuple[Iterator[Batch], dict[str, Any], int, Dataset]:
    """Returns (batches, data record, samples, the samples): the first N of a seeded permutation of the file."""
    manifest = request["manifest"]
    spec = manifest["parity"]
    data = load_npz(request["repoDir"], spec["data"], manifest, field="manifest.parity.data")
    n = spec["samples"]
    if len(data) < n:
        raise BadInput(
            f"{data.path} holds {len(data)} samples, parity.samples asks for {n}",
            field="manifest.parity.data.path",
            hint=f"add samples to {spec['data']['path']} or lower manifest.parity.samples to at most {len(data)} "
            "(it must stay >= 1000)",
        )
    subset = data.take(np.random.default_rng(spec["seed"]).permutation(len(data))[:n])
    batch_dim = manifest["inputs"][0]["dims"][0]
    size = min(max(spec["batchSize"], batch_dim["min"]), batch_dim["max"])

    def gen() -> Iterator[Batch]:
        for start in range(0, n, size):
            feeds = {k: v[start : start + size] for k, v in subset.inputs.items()}
            yield feeds, None if subset.labels is None else subset.labels[start : start + size]

    return gen(), {"kind": "dataset", "seed": spec["seed"], "path": str(data.path)}, n, subset


def random_batches(manifest: dict[str, Any]) -> tuple[Iterator[Batch], dict[str, Any], list[ShapeMap]]:
    """Returns (batches, data record, shapes): seeded random inputs cycling through min, opt, max and
    mid shapes until ``parity.samples`` samples have run (the last batch is cut to fit when it can)."""
    spec = manifest["parity"]
    shapes = coverage_shapes(manifest)
    rng = np.random.default_rng(spec["seed"])
    first = manifest["inputs"][0]["dims"][0]

    def gen() -> Iterator[Batch]:
        done, i = 0, 0
        while done < spec["samples"]:
            shape = {k: list(v) for k, v in shapes[i % len(shapes)].items()}
            left = spec["samples"] - done
            if isinstance(first, dict) and batch_of(shape, manifest) > left >= first["min"]:
                for spec_in in manifest["inputs"]:  # cut the batch dim of every input sharing it
                    d0 = spec_in["dims"][0]
                    if isinstance(d0, dict) and d0["name"] == first["name"]:
                        shape[spec_in["name"]][0] = left
            feeds = random_inputs(manifest, shape, rng, spec["data"].get("distribution", "normal"))
            done += batch_of(shape, manifest)
            i += 1
            yield feeds, None

    return gen(), {"kind": "random", "seed": spec["seed"]}, shapes


def coverage_batches(manifest: dict[str, Any], subset: Dataset, seen: list[ShapeMap]) -> Iterator[tuple[ShapeMap, Batch]]:
    """Batches at every min/opt/max/mid shape the dataset pass did not run: dataset samples brought to
    each shape (see :func:`fit_to_shape`)."""
    start = 0
    for shape in coverage_shapes(manifest):
        if shape in seen:
            continue
        rows = batch_of(shape, manifest)
        index = np.arange(start, start + rows) % len(subset)
        start += rows
        feeds = {name: fit_to_shape(subset.inputs[name][index], shape[name]) for name in subset.inputs}
        yield shape, (feeds, None)  # labels of resized or cut samples would mislead the accuracies
