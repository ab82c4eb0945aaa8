"""Tensor specs of a served model, read from the package's manifest, and the checks a request's
shapes and datatypes must pass against them.

The manifest gives each input ``dims`` as fixed sizes or named ranges ``{name, min, opt, max}``;
outputs give fixed sizes or the name of an input's dynamic dim. A model is *batchable* (several
requests can be stacked along axis 0) when every input's first dim is dynamic.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from ..dtypes import NUMPY_OF_V2, V2_OF_MANIFEST


class SpecError(ValueError):
    """The manifest inside a package does not describe usable tensors (names the field)."""


@dataclass(frozen=True)
class Dim:
    """One dimension: fixed (``size``) or dynamic (``name`` with ``min``..``max``, ``opt``)."""

    size: int | None = None
    name: str | None = None
    min: int = 1
    opt: int = 1
    max: int = 1

    @property
    def dynamic(self) -> bool:
        """True for a named range."""
        return self.size is None

    def allows(self, n: int) -> bool:
        """True when ``n`` fits this dim."""
        return n == self.size if self.size is not None else self.min <= n <= self.max

    def describe(self) -> str:
        """``8`` or ``batch 1..256``."""
        return str(self.size) if self.size is not None else f"{self.name} {self.min}..{self.max}"


@dataclass(frozen=True)
class TensorSpec:
    """An input or output tensor of the model."""

    name: str
    dtype: str
    dims: tuple[Dim, ...]

    @cached_property
    def datatype(self) -> str:
        """The V2 datatype (``FP32``...)."""
        return V2_OF_MANIFEST[self.dtype]

    @cached_property
    def numpy_dtype(self) -> Any:
        """The numpy dtype of this tensor."""
        return NUMPY_OF_V2[self.datatype]

    def metadata_shape(self) -> list[int]:
        """Shape for ``GET /v2/models/{name}``: ``-1`` for each dynamic dim."""
        return [-1 if d.dynamic else int(d.size) for d in self.dims]  # type: ignore[arg-type]

    def opt_shape(self) -> list[int]:
        """A representative shape: ``opt`` of dynamic dims, but batch 1 for the first."""
        return [(1 if i == 0 else d.opt) if d.dynamic else int(d.size) for i, d in enumerate(self.dims)]  # type: ignore[arg-type]

    def shape_error(self, shape: Sequence[int]) -> str | None:
        """Returns why ``shape`` does not fit, or None when it does."""
        if len(shape) != len(self.dims):
            return f"input '{self.name}' needs {len(self.dims)} dims [{', '.join(d.describe() for d in self.dims)}], got shape {list(shape)}"
        for i, (n, d) in enumerate(zip(shape, self.dims)):
            if not d.allows(n):
                return f"input '{self.name}' dim {i} is {n}, expected {d.describe()} (shape {list(shape)})"
        return None


@dataclass(frozen=True)
class ModelSpec:
    """What the runtime needs to know of a model: its tensors and task."""

    name: str
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]
    task: str

    @property
    def batchable(self) -> bool:
        """True when every input's first dim is dynamic (requests can be stacked on axis 0)."""
        return all(t.dims[0].dynamic for t in self.inputs)

    @property
    def max_rows(self) -> int:
        """Largest batch the model accepts (the smallest first-dim max over inputs)."""
        if not self.batchable:
            return 1
        return min(t.dims[0].max for t in self.inputs)

    def input(self, name: str) -> TensorSpec | None:
        """The input of that name, or None."""
        return next((t for t in self.inputs if t.name == name), None)


def _dims(raw: Any, field: str, *, output: bool) -> tuple[Dim, ...]:
    if not isinstance(raw, list) or not raw:
        raise SpecError(f"{field}: expected a non-empty list of dims")
    dims: list[Dim] = []
    for j, d in enumerate(raw):
        if isinstance(d, bool):
            raise SpecError(f"{field}[{j}]: expected an int or a dynamic dim, got {d!r}")
        if isinstance(d, int):
            dims.append(Dim(size=d))
        elif isinstance(d, Mapping) and not output:
            try:
                dims.append(Dim(name=str(d["name"]), min=int(d["min"]), opt=int(d.get("opt", d["min"])), max=int(d["max"])))
            except (KeyError, TypeError, ValueError) as e:
                raise SpecError(f"{field}[{j}]: expected {{name, min, opt, max}}, got {d!r} ({e})") from None
        elif isinstance(d, str) and output:
            dims.append(Dim(name=d, min=1, opt=1, max=2**31 - 1))
        else:
            raise SpecError(f"{field}[{j}]: unsupported dim {d!r}")
    return tuple(dims)


def _tensors(raw: Any, field: str, *, output: bool) -> tuple[TensorSpec, ...]:
    if not isinstance(raw, list) or not raw:
        raise SpecError(f"{field}: expected a non-empty list")
    out: list[TensorSpec] = []
    for i, t in enumerate(raw):
        if not isinstance(t, Mapping) or not isinstance(t.get("name"), str):
            raise SpecError(f"{field}[{i}].name: expected a string")
        dtype = t.get("dtype", "float32")
        if dtype not in V2_OF_MANIFEST:
            raise SpecError(f"{field}[{i}].dtype: unsupported {dtype!r} (known: {', '.join(V2_OF_MANIFEST)})")
        out.append(TensorSpec(name=t["name"], dtype=dtype, dims=_dims(t.get("dims"), f"{field}[{i}].dims", output=output)))
    return tuple(out)


def model_spec_from_manifest(manifest: Mapping[str, Any], *, field: str = "manifest") -> ModelSpec:
    """Builds a :class:`ModelSpec` from a validated manifest object.

    Raises:
        SpecError: naming the manifest field that is missing or wrong.
    """
    if not isinstance(manifest, Mapping):
        raise SpecError(f"{field}: expected an object")
    name = manifest.get("name")
    if not isinstance(name, str) or not name:
        raise SpecError(f"{field}.name: expected the model name")
    task = manifest.get("task") or {}
    kind = task.get("kind", "classification") if isinstance(task, Mapping) else "classification"
    return ModelSpec(
        name=name,
        inputs=_tensors(manifest.get("inputs"), f"{field}.inputs", output=False),
        outputs=_tensors(manifest.get("outputs"), f"{field}.outputs", output=True),
        task=str(kind),
    )
