"""One runner layer for every side that runs a model: parity (the PyTorch reference and the engine),
bench, export's check, the INT8 search, and the serving runtime — as Polygraphy's runners share one
interface.

A :class:`Runner` maps ``{input name: array}`` to ``{output name: array}`` in its own names;
:func:`in_order` lines its outputs up with the manifest's. Three runners implement it:

- :class:`~modelship_toolkit.runners.onnxruntime.OnnxRuntimeRunner` (CPU),
- :class:`~modelship_toolkit.tensorrt.runner.TensorRTRunner` (imported only on a GPU host),
- :class:`~modelship_toolkit.runners.pytorch.TorchRunner` (the reference, and serving's fallback).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

import numpy as np

Arrays = dict[str, np.ndarray]


class InputDataError(ValueError):
    """A request's input data is unusable (NaN or infinity, bytes that cannot be read): that
    request's fault, answered 400, not the engine's."""


class Runner(Protocol):
    """Runs one batch of a model."""

    #: ``onnxruntime``, ``tensorrt`` or ``pytorch``.
    kind: str

    @property
    def input_names(self) -> list[str]:
        """The model's inputs, in the order it takes them."""
        ...

    @property
    def output_names(self) -> list[str]:
        """The model's outputs, in the order it produces them."""
        ...

    def run(self, feeds: Mapping[str, np.ndarray]) -> Arrays:
        """Runs a batch (batch on axis 0); returns every output by :attr:`output_names`, on the host."""
        ...

    def close(self) -> None:
        """Frees the model (idempotent)."""
        ...


class NamedIO:
    """The names half of :class:`Runner`, for runners that know their names when they open."""

    def __init__(self, input_names: Sequence[str], output_names: Sequence[str]) -> None:
        self._inputs = list(input_names)
        self._outputs = list(output_names)

    @property
    def input_names(self) -> list[str]:
        """The model's inputs, in the order it takes them."""
        return self._inputs

    @property
    def output_names(self) -> list[str]:
        """The model's outputs, in the order it produces them."""
        return self._outputs


def in_order(wanted: Sequence[str], produced: Mapping[str, np.ndarray]) -> list[np.ndarray]:
    """The outputs ``wanted`` (the manifest's names), from what a runner produced: by name when every
    wanted name is there, else by position (an engine that renamed its outputs).

    Raises:
        RuntimeError: the runner produced fewer outputs than wanted.
    """
    if all(n in produced for n in wanted):
        return [np.asarray(produced[n]) for n in wanted]
    values = list(produced.values())
    if len(values) < len(wanted):
        raise RuntimeError(f"model produced {len(values)} outputs {list(produced)}, the manifest expects {list(wanted)}")
    return [np.asarray(v) for v in values[: len(wanted)]]


def feed_names(wanted: Sequence[str], accepted: Sequence[str]) -> dict[str, str]:
    """Manifest input name → the runner's input name: the same name when the runner has it, else by position.

    Raises:
        RuntimeError: the runner takes another number of inputs and the names do not match.
    """
    if not all(n in accepted for n in wanted) and len(accepted) != len(wanted):
        raise RuntimeError(f"engine inputs {list(accepted)} do not match manifest inputs {list(wanted)}")
    return {n: (n if n in accepted else accepted[i]) for i, n in enumerate(wanted)}
