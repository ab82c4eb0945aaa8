"""Reading the (already validated, defaults applied) manifest: shapes, dynamic axes, dtypes.

A dim of ``manifest.inputs[i].dims`` is a fixed size or ``{name, min, opt, max}``; outputs name an
input's dynamic dim by its name.
"""
from __future__ import annotations

from typing import Any, Literal

import numpy as np

from .dtypes import NUMPY_OF_MANIFEST

Manifest = dict[str, Any]
ShapeMap = dict[str, list[int]]
Which = Literal["min", "opt", "max", "mid"]



def dim_size(dim: int | dict[str, Any], which: Which) -> int:
    """Returns a dim's size at ``which``; ``mid`` is halfway between min and max (rounded down)."""
    if isinstance(dim, int):
        return dim
    if which == "mid":
        return (dim["min"] + dim["max"]) // 2
    return int(dim[which])


def input_shape(spec: dict[str, Any], which: Which) -> list[int]:
    """Returns the full shape of one input spec with every dynamic dim at ``which``."""
    return [dim_size(d, which) for d in spec["dims"]]


def shapes_at(manifest: Manifest, which: Which) -> ShapeMap:
    """Returns ``{input name: shape}`` with every dynamic dim at ``which``."""
    return {spec["name"]: input_shape(spec, which) for spec in manifest["inputs"]}


def distinct(shapes: list[ShapeMap]) -> list[ShapeMap]:
    """Drops repeated shape maps, keeping the first of each."""
    out: list[ShapeMap] = []
    for s in shapes:
        if s not in out:
            out.append(s)
    return out


def coverage_shapes(manifest: Manifest, points: tuple[Which, ...] = ("min", "opt", "max", "mid")) -> list[ShapeMap]:
    """Returns the distinct shape maps at each of ``points`` (default min, opt, max and mid)."""
    return distinct([shapes_at(manifest, w) for w in points])


def symbolic_shape(dims: list[Any]) -> list[int | str]:
    """Returns dims as ONNX writes them: fixed sizes as ints, dynamic dims by name."""
    return [d if isinstance(d, int) else (d if isinstance(d, str) else d["name"]) for d in dims]


def dynamic_axes(manifest: Manifest) -> dict[str, dict[int, str]]:
    """Returns the exporter's ``dynamic_axes``: for inputs and outputs, ``{axis: dim name}`` of symbolic dims."""
    axes: dict[str, dict[int, str]] = {}
    for spec in [*manifest["inputs"], *manifest["outputs"]]:
        named = {i: s for i, s in enumerate(symbolic_shape(spec["dims"])) if isinstance(s, str)}
        if named:
            axes[spec["name"]] = named
    return axes


def input_names(manifest: Manifest) -> list[str]:
    """Returns the manifest's input names, in order."""
    return [spec["name"] for spec in manifest["inputs"]]


def output_names(manifest: Manifest) -> list[str]:
    """Returns the manifest's output names, in order."""
    return [spec["name"] for spec in manifest["outputs"]]


def batch_of(shapes: ShapeMap, manifest: Manifest) -> int:
    """Returns the number of samples in one run: the first dim of the first input."""
    return int(shapes[manifest["inputs"][0]["name"]][0])


def random_inputs(manifest: Manifest, shapes: ShapeMap, rng: np.random.Generator, distribution: str = "normal") -> dict[str, np.ndarray]:
    """Returns seeded random inputs of the given shapes in each input's dtype.

    Floats are standard normal or uniform in [0, 1); integers uniform in [0, 10); bools fair coins.
    """
    feeds: dict[str, np.ndarray] = {}
    for spec in manifest["inputs"]:
        dtype = NUMPY_OF_MANIFEST[spec.get("dtype", "float32")]
        shape = shapes[spec["name"]]
        x: np.ndarray
        if np.issubdtype(dtype, np.floating):
            x = rng.standard_normal(shape) if distribution == "normal" else rng.random(shape)
        elif dtype is np.bool_:
            x = rng.random(shape) < 0.5
        else:
            x = rng.integers(0, 10, size=shape)
        feeds[spec["name"]] = np.ascontiguousarray(x.astype(dtype))
    return feeds


def is_classification(manifest: Manifest) -> bool:
    """True when the manifest's task is classification (outputs[0] holds the logits)."""
    return manifest["task"]["kind"] == "classification"
