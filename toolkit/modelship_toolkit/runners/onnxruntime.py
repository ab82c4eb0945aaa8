"""The ONNX Runtime CPU runner."""
from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from ..errors import BadInput
from . import Arrays, NamedIO


def cpu_threads() -> int:
    """Returns the cores this process may run on (its CPU affinity), the thread count sessions use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


class OnnxRuntimeRunner(NamedIO):
    """An ONNX Runtime CPU session with an explicit thread count.

    Args:
        path: the ONNX model.
        threads: intra-op threads; None for :func:`cpu_threads`, 0 for ONNX Runtime's own choice.
        spinning: whether idle worker threads spin between runs (fastest for back-to-back timing;
            a server turns it off so idle threads do not burn a core between batches).
        field: the request field a model ONNX Runtime cannot load is :class:`BadInput` on.
    """

    kind = "onnxruntime"

    def __init__(self, path: str | Path, *, threads: int | None = None, spinning: bool = True, field: str = "enginePath") -> None:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = cpu_threads() if threads is None else threads
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        if not spinning:
            opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
            opts.add_session_config_entry("session.inter_op.allow_spinning", "0")
        try:
            self.session = ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])
        except Exception as err:  # noqa: BLE001 - ORT raises its own Fail/InvalidGraph types
            raise BadInput(
                f"ONNX Runtime cannot load {path}: {str(err).splitlines()[0]}",
                field=field,
                hint="rebuild the engine with the toolkit's build command",
            ) from None
        self.threads = opts.intra_op_num_threads
        super().__init__([i.name for i in self.session.get_inputs()], [o.name for o in self.session.get_outputs()])

    def run(self, feeds: Mapping[str, np.ndarray]) -> Arrays:
        """Runs the session on named inputs."""
        return dict(zip(self._outputs, self.session.run(None, dict(feeds)), strict=True))

    def close(self) -> None:
        """Drops the session."""
        self.session = None  # type: ignore[assignment]
