"""The data plane: what every front end (HTTP in rest.py, gRPC in grpc_server.py) does with a
request once it has been read off the wire — validation against the model, routing to stable or
candidate, the batcher, metrics and the shadow copy. Front ends only translate: bytes and headers
in, :class:`InferAnswer` or :class:`ServeError` out.

An inference is two halves so that a front end can wait its own way (a thread blocks on the
future, the event loop awaits it)::

    pending = plane.begin(model, version, request_obj, raw=..., header_label=...)
    outputs = pending.future.result(timeout)        # a thread; on the event loop: on_loop=True, await
    answer = plane.finish(pending, outputs)         # or: plane.fail(pending, error)

:meth:`DataPlane.infer` (a thread) and :meth:`DataPlane.infer_async` (the event loop) do all three.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np

from ..runners import InputDataError
from .batcher import BatcherClosed, QueueFull
from .compare import count_correct
from .config import ServeConfig
from .fleet import Fleet
from .protocol import InferRequest, RequestError, decode_request, request_id
from .shm import SharedMemoryError, SharedMemoryRegistry
from .spec import ModelSpec
from .variants import RequestTimeout, Variant, VariantSet

#: The server's name and version in ``GET /v2`` and gRPC ServerMetadata.
SERVER_NAME, SERVER_VERSION = "modelship", "0.2"
#: Protocol extensions this runtime implements (``GET /v2``); ``system_shared_memory`` is added when
#: it is on.
EXTENSIONS = ["binary_tensor_data", "classification", "gzip_deflate"]


class ServeError(Exception):
    """A request the runtime answers with an error: ``status`` is the HTTP status (front ends map
    it to their own codes), ``headers`` extra HTTP headers (``Retry-After``)."""

    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None, variant: Variant | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.headers, self.variant = status, message, dict(headers or {}), variant


@dataclass
class Pending:
    """An inference submitted to a variant's batcher, not yet answered."""

    vs: VariantSet
    variant: Variant
    request: InferRequest
    future: Future | asyncio.Future
    started: float
    timeout_s: float


@dataclass
class InferAnswer:
    """A successful inference, ready to encode."""

    model: str
    version: str
    role: str
    spec: ModelSpec
    request: InferRequest
    outputs: dict[str, np.ndarray] = field(default_factory=dict)


def _expire(fut: asyncio.Future) -> None:
    """A request's deadline: its batch has not answered (the batcher skips it if not started)."""
    if not fut.done():
        fut.set_exception(TimeoutError())


class DataPlane:
    """Validation, routing, batching and accounting shared by every front end."""

    def __init__(self, config: ServeConfig, fleet: Fleet) -> None:
        self.config = config
        self.fleet = fleet
        #: The system shared memory regions (refusing every call unless ``config.shared_memory``).
        self.shm = SharedMemoryRegistry(config.shared_memory)
        self._metric_children: dict[tuple, tuple[Any, Any]] = {}

    # -- health and metadata -----------------------------------------------------------------------

    def server_metadata(self) -> dict[str, Any]:
        """``GET /v2``: name, version, extensions."""
        return {"name": SERVER_NAME, "version": SERVER_VERSION,
                "extensions": EXTENSIONS + (["system_shared_memory"] if self.shm.enabled else [])}

    def shared_memory(self, action: str, name: str | None, body: Mapping[str, Any] | None = None) -> list[dict[str, Any]] | None:
        """The system shared memory API, for both front ends: ``register`` (needs ``name`` and the
        body ``{key, offset?, byte_size}``), ``unregister`` (``name`` None: all), ``status``.

        Raises:
            ServeError: the call's error, naming the field (403 when the extension is off).
        """
        try:
            if action == "register":
                if name is None:
                    raise SharedMemoryError("register needs a region name: POST v2/systemsharedmemory/region/{name}/register")
                self.shm.register(name, body or {})
                return None
            if action == "unregister":
                self.shm.unregister(name)
                return None
            return self.shm.status(name)
        except SharedMemoryError as e:
            raise ServeError(e.status, e.message) from None

    def ready(self) -> tuple[bool, dict[str, Any]]:
        """Ready when some model has a stable variant; the body lists every model's variants."""
        models = {}
        for state in self.fleet.states():
            models[state["model"]] = {r: {"version": v["version"], "backend": v["backend"], "fallback": v["fallback"], "fallbackReason": v["fallbackReason"]}
                                      for r, v in state["variants"].items()}
        ready = any("stable" in m for m in models.values())
        body: dict[str, Any] = {"ready": ready, "models": models}
        if len(models) == 1:  # the one-model form earlier clients read
            body["model"], body["variants"] = next(iter(models.items()))
        return ready, body

    def model(self, name: str) -> VariantSet:
        """The served model, else 404 naming what is served."""
        vs = self.fleet.get(name)
        if vs is None:
            raise ServeError(404, f"unknown model '{name}'; this server serves {', '.join(self.fleet.names()) or 'no model yet'}")
        return vs

    def variant_for_metadata(self, name: str, version: str | None) -> tuple[VariantSet, Variant | None]:
        """The variant a metadata or readiness request is about (stable without a version)."""
        vs = self.model(name)
        v = vs.by_version(version) if version else vs.get("stable")
        if version and v is None:
            raise ServeError(404, f"model '{name}' has no loaded version '{version}'")
        return vs, v

    def model_metadata(self, name: str, version: str | None) -> tuple[bool, dict[str, Any]]:
        """``GET /v2/models/{name}[/versions/{v}]``: (loaded, metadata)."""
        vs, v = self.variant_for_metadata(name, version)
        versions = [x.version for x in (vs.get("stable"), vs.get("candidate")) if x]
        if v is None:
            return False, {"name": name, "versions": versions, "platform": None, "inputs": [], "outputs": [], "error": "no stable model loaded"}
        return True, {
            "name": name,
            "versions": versions,
            "platform": v.backend.platform,
            "inputs": [{"name": t.name, "datatype": t.datatype, "shape": t.metadata_shape()} for t in v.spec.inputs],
            "outputs": [{"name": t.name, "datatype": t.datatype, "shape": t.metadata_shape()} for t in v.spec.outputs],
            "parameters": {"version": v.version, "backend": v.backend.kind, "fallback": v.fallback, "fallback_reason": v.fallback_reason},
        }

    # -- inference ---------------------------------------------------------------------------------

    def begin(self, name: str, version: str | None, obj: Mapping[str, Any], *, raw: Sequence[bytes | memoryview] | None = None,
              header_label: str | None = None, timeout_s: float | None = None, on_loop: bool = False) -> Pending:
        """Validates a request and submits it to the variant it is routed to.

        ``obj`` is the request in its JSON form; ``raw`` the inputs' bytes when they travel outside
        it (binary extension, gRPC ``raw_input_contents``). ``timeout_s`` is the caller's deadline,
        capped by the server's.

        Raises:
            ServeError: 400 bad request, 404 unknown model/version, 503 overloaded or unloading.
        """
        t0 = time.perf_counter()
        vs = self.model(name)
        variant: Variant | None = None
        try:
            rid = request_id(obj)
            variant = vs.by_version(version) if version else vs.route(rid)
            if variant is None:
                raise ServeError(404 if version else 503, f"model '{name}' has no loaded version '{version}'" if version else "no stable model is loaded")
            req = decode_request(obj, variant.spec, header_label=header_label, raw=raw, shm=self.shm,
                                 check_finite=not variant.backend.stacks_on_device)  # TensorRT checks on the GPU
            try:
                fut = self._submit(variant, req, on_loop)
            except BatcherClosed:  # unloaded between routing and submit: the stable answers
                stable = vs.get("stable")
                if stable is None or stable is variant:
                    raise ServeError(503, "model is being unloaded", self._retry_after(), variant) from None
                variant = stable
                fut = self._submit(variant, req, on_loop)
        except RequestError as e:
            self._record(vs, variant, 400, time.perf_counter() - t0)
            raise ServeError(400, str(e), variant=variant) from None
        except QueueFull as e:
            self._record(vs, variant, 503, time.perf_counter() - t0)
            raise ServeError(503, f"overloaded: {e}; retry later", self._retry_after(), variant) from None
        except ServeError as e:
            self._record(vs, e.variant or variant, e.status, time.perf_counter() - t0)
            raise
        limit = self.config.request_timeout_ms / 1000.0
        return Pending(vs, variant, req, fut, t0, min(limit, timeout_s) if timeout_s is not None else limit)

    @staticmethod
    def _submit(variant: Variant, req: InferRequest, on_loop: bool) -> Any:
        return variant.batcher.submit_async(req.inputs) if on_loop else variant.batcher.submit(req.inputs)

    def refuse(self, name: str, error: RequestError) -> ServeError:
        """Accounts a request for ``name`` whose body could not even be read (not JSON, a bad
        binary layout) and returns its 400."""
        self._record(self.model(name), None, 400, 0.0)
        return ServeError(400, str(error))

    def finish(self, p: Pending, outputs: Mapping[str, np.ndarray]) -> InferAnswer:
        """Accounts a successful inference (metrics, accuracy, the shadow copy) and returns it."""
        v = p.variant
        self._record(p.vs, v, 200, time.perf_counter() - p.started)
        if p.request.labels and v.spec.task == "classification":
            m = p.vs.metrics
            n, correct = count_correct(outputs[v.spec.outputs[0].name], p.request.labels)
            m.labelled.labels(p.vs.model_name, v.role, v.version).inc(n)
            m.correct.labels(p.vs.model_name, v.role, v.version).inc(correct)
        if v.role == "stable":
            p.vs.mirror(p.request.inputs, outputs, v)
        return InferAnswer(p.vs.model_name, v.version, v.role, v.spec, p.request, dict(outputs))

    def fail(self, p: Pending, error: BaseException) -> ServeError:
        """Accounts a failed inference and returns the error to answer with (504 for a missed
        deadline, 400 for input data found bad when its batch was assembled, else 500)."""
        if isinstance(error, (TimeoutError, RequestTimeout)):
            p.future.cancel()
            err = ServeError(504, f"timeout: no answer within {p.timeout_s * 1000:.0f} ms (variant {p.variant.role} {p.variant.version})", variant=p.variant)
        elif isinstance(error, (RequestError, InputDataError)):  # data read when its batch was assembled (shared memory)
            err = ServeError(400, str(error), variant=p.variant)
        else:
            err = ServeError(500, f"inference failed: {type(error).__name__}: {error}", variant=p.variant)
        self._record(p.vs, p.variant, err.status, time.perf_counter() - p.started)
        return err

    def infer(self, name: str, version: str | None, obj: Mapping[str, Any], **kw: Any) -> InferAnswer:
        """:meth:`begin`, wait in this thread, :meth:`finish` (for threaded front ends)."""
        p = self.begin(name, version, obj, **kw)
        try:
            outputs = cast("concurrent.futures.Future[Any]", p.future).result(timeout=p.timeout_s)
        except Exception as e:  # noqa: BLE001 - every failure becomes an answer
            raise self.fail(p, e) from None
        return self.finish(p, outputs)

    async def infer_async(self, name: str, version: str | None, obj: Mapping[str, Any], **kw: Any) -> InferAnswer:
        """:meth:`begin`, await on the running event loop (the deadline answers 504 and drops the
        request if its batch has not started), :meth:`finish` (for front ends on the loop)."""
        p = self.begin(name, version, obj, on_loop=True, **kw)
        fut = cast("asyncio.Future[Any]", p.future)
        deadline = asyncio.get_running_loop().call_later(p.timeout_s, _expire, fut)
        try:
            outputs = await fut
        except Exception as e:  # noqa: BLE001 - timeouts and engine errors become answers
            raise self.fail(p, e) from None
        finally:
            deadline.cancel()
        return self.finish(p, outputs)

    def _retry_after(self) -> dict[str, str]:
        return {"Retry-After": str(self.config.retry_after_s)}

    def _record(self, vs: VariantSet, variant: Variant | None, status: int, seconds: float) -> None:
        role, version = (variant.role, variant.version) if variant else ("none", "none")
        key = (vs.model_name, role, version, status)
        children = self._metric_children.get(key)
        if children is None:  # prometheus_client's labels() costs a lock and a lookup: once per key
            m = vs.metrics
            children = self._metric_children[key] = (m.requests.labels(vs.model_name, role, version, str(status)),
                                                      m.latency.labels(vs.model_name, role, version))
        children[0].inc()
        if status == 200:
            children[1].observe(seconds)
