"""The gRPC front end: the Open Inference Protocol's ``inference.GRPCInferenceService`` (live, ready,
metadata, infer with ``raw_input_contents`` or typed contents) over the
:class:`~.dataplane.DataPlane`, on grpcio's asyncio server, on the same event loop as the HTTP
front end (no thread per call).

The messages come from proto/inference.binpb, loaded into a descriptor pool of the runtime's own,
so a process that also imports a client library's copy of the same protocol (tritonclient) has no
clash in protobuf's default pool.
"""
from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import grpc
import numpy as np
import orjson
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

from ..dtypes import NUMPY_OF_V2
from .cluster import Cluster, error_of
from .config import ServeConfig
from .dataplane import DataPlane, InferAnswer, ServeError
from .protocol import RequestError, output_tensor, tensor_bytes, write_shared

log = logging.getLogger("modelship.serve")

SERVICE = "inference.GRPCInferenceService"
_DESCRIPTOR_SET = Path(__file__).parent / "proto" / "inference.binpb"

#: HTTP status of a :class:`ServeError` -> gRPC status code.
GRPC_CODE = {
    400: grpc.StatusCode.INVALID_ARGUMENT,
    404: grpc.StatusCode.NOT_FOUND,
    408: grpc.StatusCode.DEADLINE_EXCEEDED,
    413: grpc.StatusCode.RESOURCE_EXHAUSTED,
    503: grpc.StatusCode.UNAVAILABLE,
    504: grpc.StatusCode.DEADLINE_EXCEEDED,
}

#: Typed ``InferTensorContents`` field per datatype (for requests that do not send raw bytes).
CONTENTS_FIELD = {
    "BOOL": "bool_contents", "INT8": "int_contents", "INT16": "int_contents", "INT32": "int_contents", "INT64": "int64_contents",
    "UINT8": "uint_contents", "FP16": "fp32_contents", "FP32": "fp32_contents", "FP64": "fp64_contents",
}


def load_messages() -> dict[str, Any]:
    """The protocol's message classes by full name (``inference.ModelInferRequest`` ...)."""
    files = descriptor_pb2.FileDescriptorSet.FromString(_DESCRIPTOR_SET.read_bytes())
    pool = descriptor_pool.DescriptorPool()
    for f in files.file:
        pool.Add(f)
    return message_factory.GetMessages(list(files.file), pool=pool)


def _param_value(p: Any) -> Any:
    which = p.WhichOneof("parameter_choice")
    return getattr(p, which) if which else None


class InferenceServicer:
    """The service's methods, each ``(request, context) -> response``."""

    def __init__(self, plane: DataPlane, cluster: Cluster | None = None) -> None:
        self.plane = plane
        self.cluster = cluster
        self.m = load_messages()

    def _msg(self, message: str, /, **kw: Any) -> Any:
        return self.m[f"inference.{message}"](**kw)

    def handlers(self) -> grpc.GenericRpcHandler:
        """The generic handler registering every method."""
        def unary(fn: Callable[[Any, Any], Any], request: str, response: str) -> grpc.RpcMethodHandler:
            async def guarded(req: Any, context: grpc.aio.ServicerContext) -> Any:
                try:
                    result = fn(req, context)
                    return await result if inspect.isawaitable(result) else result
                except ServeError as e:
                    error: tuple[grpc.StatusCode, str] = (GRPC_CODE.get(e.status, grpc.StatusCode.INTERNAL), e.message)
                except Exception as e:  # noqa: BLE001 - a status, never a dropped call
                    log.exception("gRPC %s failed", getattr(fn, "__name__", "call"))
                    error = (grpc.StatusCode.INTERNAL, f"internal error: {type(e).__name__}: {e}")
                await context.abort(*error)
            return grpc.unary_unary_rpc_method_handler(guarded, request_deserializer=self.m[f"inference.{request}"].FromString,
                                                       response_serializer=self.m[f"inference.{response}"].SerializeToString)
        methods = {
            "ServerLive": unary(lambda r, c: self._msg("ServerLiveResponse", live=True), "ServerLiveRequest", "ServerLiveResponse"),
            "ServerReady": unary(lambda r, c: self._msg("ServerReadyResponse", ready=self.plane.ready()[0]), "ServerReadyRequest", "ServerReadyResponse"),
            "ModelReady": unary(self.model_ready, "ModelReadyRequest", "ModelReadyResponse"),
            "ServerMetadata": unary(lambda r, c: self._msg("ServerMetadataResponse", **self.plane.server_metadata()), "ServerMetadataRequest", "ServerMetadataResponse"),
            "ModelMetadata": unary(self.model_metadata, "ModelMetadataRequest", "ModelMetadataResponse"),
            "ModelInfer": unary(self.model_infer, "ModelInferRequest", "ModelInferResponse"),
            "SystemSharedMemoryStatus": unary(self.shm_status, "SystemSharedMemoryStatusRequest", "SystemSharedMemoryStatusResponse"),
            "SystemSharedMemoryRegister": unary(self.shm_register, "SystemSharedMemoryRegisterRequest", "SystemSharedMemoryRegisterResponse"),
            "SystemSharedMemoryUnregister": unary(self.shm_unregister, "SystemSharedMemoryUnregisterRequest", "SystemSharedMemoryUnregisterResponse"),
        }
        return grpc.method_handlers_generic_handler(SERVICE, methods)

    def model_ready(self, req: Any, context: Any) -> Any:
        """ModelReady: the model (and version, when given) can answer."""
        _, v = self.plane.variant_for_metadata(req.name, req.version or None)
        return self._msg("ModelReadyResponse", ready=v is not None)

    def model_metadata(self, req: Any, context: Any) -> Any:
        """ModelMetadata: inputs and outputs of the stable (or the named version)."""
        loaded, meta = self.plane.model_metadata(req.name, req.version or None)
        if not loaded:
            raise ServeError(503, f"model '{req.name}': {meta['error']}")
        tensor = self.m["inference.ModelMetadataResponse"].TensorMetadata
        return self._msg("ModelMetadataResponse", name=meta["name"], versions=meta["versions"], platform=meta["platform"] or "",
                         inputs=[tensor(**t) for t in meta["inputs"]], outputs=[tensor(**t) for t in meta["outputs"]])

    def shm_status(self, req: Any, context: Any) -> Any:
        """SystemSharedMemoryStatus: every registered region, or the named one."""
        regions = self.plane.shared_memory("status", req.name or None) or []
        status = self.m["inference.SystemSharedMemoryStatusResponse"].RegionStatus
        return self._msg("SystemSharedMemoryStatusResponse", regions={r["name"]: status(**r) for r in regions})

    async def shm_register(self, req: Any, context: Any) -> Any:
        """SystemSharedMemoryRegister: a region of a POSIX shared memory object."""
        await self._shared_memory("register", req.name, {"key": req.key, "offset": req.offset, "byte_size": req.byte_size})
        return self._msg("SystemSharedMemoryRegisterResponse")

    async def shm_unregister(self, req: Any, context: Any) -> Any:
        """SystemSharedMemoryUnregister: the named region, or every region."""
        await self._shared_memory("unregister", req.name or None, None)
        return self._msg("SystemSharedMemoryUnregisterResponse")

    async def _shared_memory(self, action: str, name: str | None, body: dict[str, Any] | None) -> None:
        """Registers or unregisters here, or, with several workers, in every worker (through the
        REST call the leader replicates)."""
        if self.cluster is None:
            self.plane.shared_memory(action, name, body)
            return
        path = "/v2/systemsharedmemory" + (f"/region/{quote(name, safe='')}" if name else "") + f"/{action}"
        try:
            reply = await self.cluster.replicate("POST", path, orjson.dumps(body or {}), {"content-type": "application/json"}, lead=False)
        except OSError as e:
            raise ServeError(503, f"the runtime's workers cannot reach each other: {e}") from None
        if reply.status >= 400:
            raise ServeError(reply.status, error_of(reply))

    async def model_infer(self, req: Any, context: Any) -> Any:
        """ModelInfer: raw or typed input contents in, raw output contents out."""
        obj, raw = self._request_obj(req)
        remaining = context.time_remaining()
        answer = await self.plane.infer_async(req.model_name, req.model_version or None, obj, raw=raw or None,
                                              timeout_s=remaining if remaining is not None else None)
        return self._response(answer)

    @staticmethod
    def _request_obj(req: Any) -> tuple[dict[str, Any], list[bytes | None]]:
        """The request in the JSON form the data plane validates, and the raw bytes per input
        (``raw_input_contents`` has one entry per input whose bytes are not in shared memory)."""
        in_shm = ["shared_memory_region" in t.parameters for t in req.inputs]
        carried = len(req.inputs) - sum(in_shm)
        if req.raw_input_contents and len(req.raw_input_contents) != carried:
            raise ServeError(400, f"raw_input_contents: {len(req.raw_input_contents)} given for {carried} inputs not in shared memory")
        inputs: list[dict[str, Any]] = []
        raw: list[bytes | None] = []
        next_raw = 0
        for i, t in enumerate(req.inputs):
            tensor: dict[str, Any] = {"name": t.name, "shape": list(t.shape), "datatype": t.datatype}
            if t.parameters:
                tensor["parameters"] = {k: _param_value(v) for k, v in t.parameters.items()}
            if in_shm[i]:
                raw.append(None)  # its bytes are in shared memory
            elif req.raw_input_contents:
                raw.append(req.raw_input_contents[next_raw])
                next_raw += 1
            else:
                field = CONTENTS_FIELD.get(t.datatype)
                if field is None or t.datatype not in NUMPY_OF_V2:
                    raise ServeError(400, f"inputs[{i}].datatype: {t.datatype!r} is not a datatype this runtime serves")
                tensor["data"] = np.asarray(getattr(t.contents, field), dtype=NUMPY_OF_V2[t.datatype])
            inputs.append(tensor)
        obj: dict[str, Any] = {"inputs": inputs}
        if req.id:
            obj["id"] = req.id
        if req.outputs:
            obj["outputs"] = [{"name": o.name, **({"parameters": {k: _param_value(v) for k, v in o.parameters.items()}} if o.parameters else {})}
                              for o in req.outputs]
        params = {k: _param_value(v) for k, v in req.parameters.items()}
        if params:
            obj["parameters"] = params
        return obj, raw

    def _response(self, answer: InferAnswer) -> Any:
        spec_out = {o.name: o.datatype for o in answer.spec.outputs}
        names = answer.request.outputs or list(answer.outputs)
        tensor = self.m["inference.ModelInferResponse"].InferOutputTensor
        param = self.m["inference.InferParameter"]
        outputs, contents = [], []
        for i, n in enumerate(names):
            datatype, a = output_tensor(n, np.asarray(answer.outputs[n]), spec_out.get(n, "FP32"), answer.request.classification.get(n))
            data = tensor_bytes(datatype, a)
            place = answer.request.shm_outputs.get(n)
            if place is None:
                outputs.append(tensor(name=n, datatype=datatype, shape=list(a.shape)))
                contents.append(data)
                continue
            try:
                written = write_shared(place, data, f"outputs[{i}]")
            except RequestError as e:
                raise ServeError(400, str(e)) from None
            parameters = {k: param(string_param=v) if isinstance(v, str) else param(int64_param=v) for k, v in written.items()}
            outputs.append(tensor(name=n, datatype=datatype, shape=list(a.shape), parameters=parameters))
            contents.append(b"")  # the output's place in raw_output_contents, its bytes in shared memory
        return self._msg("ModelInferResponse", model_name=answer.model, model_version=answer.version, id=answer.request.id or "",
                         outputs=outputs, raw_output_contents=contents)


class GrpcFrontEnd:
    """grpcio's asyncio server on ``host:port`` (port 0: an ephemeral one), started on the
    serving event loop."""

    def __init__(self, plane: DataPlane, config: ServeConfig, host: str, port: int, *, cluster: Cluster | None = None) -> None:
        self.plane, self.config, self.cluster = plane, config, cluster
        self.address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        self.port: int | None = None
        self.server: grpc.aio.Server | None = None

    async def start(self) -> None:
        """Binds the port and starts serving on the running loop.

        Raises:
            OSError: the port cannot be bound.
        """
        limit = self.config.max_body_bytes
        self.server = grpc.aio.server(
            maximum_concurrent_rpcs=self.config.max_connections,
            options=[("grpc.max_receive_message_length", limit), ("grpc.max_send_message_length", limit), ("grpc.so_reuseport", int(self.cluster is not None))],
        )
        self.server.add_generic_rpc_handlers((InferenceServicer(self.plane, self.cluster).handlers(),))
        try:
            port = self.server.add_insecure_port(self.address)
        except RuntimeError as e:  # grpcio reports a port it cannot bind this way
            raise OSError(f"cannot listen for gRPC on {self.address}: {e}") from None
        if port == 0:
            raise OSError(f"cannot listen for gRPC on {self.address}")
        await self.server.start()
        self.port = port

    async def stop(self) -> None:
        """Stops, giving calls in flight 5 s."""
        if self.server is not None:
            await self.server.stop(5)
