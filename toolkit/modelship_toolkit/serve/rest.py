"""The HTTP front end: an ASGI application speaking the Open Inference Protocol v2 REST API (JSON
and the binary tensor data extension, gzip/deflate bodies) plus ``/metrics`` and ``/admin``, over
the :class:`~.dataplane.DataPlane`. http_server.py runs it under uvicorn.

    POST /v2/models/{name}[/versions/{v}]/infer    GET /v2/models/{name}[/versions/{v}][/ready]
    GET  /v2/health/live   GET /v2/health/ready    GET /v2    GET /metrics    /admin/...

Every answer, errors included, is JSON (or JSON followed by binary tensor data).
"""
from __future__ import annotations

import asyncio
import logging
import zlib
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

import orjson

from .admin import Reply, authorize, handle_admin
from .cluster import PEER_HEADER, PEER_OP_HEADER, Cluster, replicated
from .dataplane import DataPlane, ServeError
from .metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from .metrics import merge_expositions
from .protocol import RequestError, encode_response, parse_json, split_binary

log = logging.getLogger("modelship.serve")

VARIANT_HEADER = "x-modelship-variant"
LABEL_HEADER = "x-modelship-label"
#: The binary tensor data extension's header: the length of the JSON part of the body.
BINARY_HEADER = "inference-header-content-length"
#: Answers shorter than this are not compressed even when the client accepts gzip/deflate.
COMPRESS_MIN_BYTES = 1024
ALLOWED = "GET, HEAD, POST"

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class _Answer(Exception):
    """An error answer raised from anywhere in a request's handling."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None, *, close: bool = False) -> None:
        super().__init__(message)
        self.status, self.message, self.headers, self.close = status, message, headers or {}, close


class Headers:
    """A request's headers by lower-case name, decoded only when read (most never are)."""

    __slots__ = ("_raw",)

    def __init__(self, raw: list[tuple[bytes, bytes]]) -> None:
        self._raw = dict(raw)

    def get(self, name: str, default: str | None = None) -> str | None:
        """The header's value (the last one when repeated)."""
        value = self._raw.get(name.encode("latin-1"))
        return value.decode("latin-1") if value is not None else default

    def __contains__(self, name: str) -> bool:
        return name.encode("latin-1") in self._raw


def _json(obj: Any) -> bytes:
    return orjson.dumps(obj)


def _decompress(body: bytes, encoding: str, limit: int) -> bytes:
    """A gzip or deflate request body, inflated to at most ``limit`` bytes (a zip bomb is 413)."""
    wbits = {"gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}.get(encoding)
    if wbits is None:
        raise _Answer(415, f"Content-Encoding: {encoding[:40]!r} is not supported; use gzip, deflate or none")
    d = zlib.decompressobj(wbits)
    try:
        out = d.decompress(body, limit + 1)
    except zlib.error as e:
        raise _Answer(400, f"Content-Encoding: {encoding}: body does not inflate: {e}") from None
    if len(out) > limit or d.unconsumed_tail:
        raise _Answer(413, f"body inflates to over the limit of {limit} bytes")
    if not d.eof:
        raise _Answer(400, f"Content-Encoding: {encoding}: body ends before its compressed stream does")
    return out


def _compress(body: bytes, accept: str) -> tuple[bytes, str | None]:
    """The answer compressed as the client accepts (gzip preferred), when worth it."""
    if len(body) < COMPRESS_MIN_BYTES or not accept:
        return body, None
    offered = {part.split(";")[0].strip().lower() for part in accept.split(",")}
    for name, wbits in (("gzip", 16 + zlib.MAX_WBITS), ("deflate", zlib.MAX_WBITS)):
        if name in offered:
            c = zlib.compressobj(1, zlib.DEFLATED, wbits)
            return c.compress(body) + c.flush(), name
    return body, None


class RestApp:
    """The ASGI application (``scope['type'] == 'http'``; lifespan is acknowledged).

    Args:
        cluster: this worker's peers when the runtime runs several workers (``--workers``): calls
            that change state are applied to every worker, and ``/metrics`` sums them all.
    """

    def __init__(self, plane: DataPlane, admin_token: str | None, cluster: Cluster | None = None) -> None:
        self.plane = plane
        self.config = plane.config
        self.admin_token = admin_token
        self.cluster = cluster

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        headers = Headers(scope["headers"])
        method = scope["method"]
        try:
            await self._dispatch(scope, receive, send, method, headers)
        except _Answer as a:
            await self._reply(send, a.status, _json({"error": a.message}), headers=a.headers, close=a.close)
        except ServeError as e:
            extra = dict(e.headers)
            if e.variant is not None:
                extra[VARIANT_HEADER] = e.variant.role
            await self._reply(send, e.status, _json({"error": e.message}), headers=extra)
        except Exception as e:  # noqa: BLE001 - answer, never drop the connection silently
            log.exception("unhandled error on %s %s", method, scope.get("path"))
            await self._reply(send, 500, _json({"error": f"internal error: {type(e).__name__}: {e}"}))

    # -- plumbing ----------------------------------------------------------------------------------

    @staticmethod
    async def _reply(send: Send, status: int, body: bytes, content_type: str = "application/json", *,
                     headers: dict[str, str] | None = None, close: bool = False) -> None:
        h = [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode())]
        h += [(k.lower().encode("latin-1"), str(v).encode("latin-1")) for k, v in (headers or {}).items()]
        if close:
            h.append((b"connection", b"close"))
        await send({"type": "http.response.start", "status": status, "headers": h})
        await send({"type": "http.response.body", "body": body})

    async def _read_body(self, receive: Receive, headers: Headers) -> bytes:
        limit = self.config.max_body_bytes
        length = headers.get("content-length")
        if length is not None and int(length) > limit:  # httptools has checked it is a number
            raise _Answer(413, f"body of {length} bytes is over the limit of {limit}", close=True)
        chunks, got = [], 0
        task = asyncio.current_task()
        expired: list[bool] = []

        def expire() -> None:
            expired.append(True)
            task.cancel()  # type: ignore[union-attr]

        deadline = asyncio.get_running_loop().call_later(self.config.body_timeout_s, expire)
        try:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    raise _Answer(400, "client went away", close=True)
                chunk = message.get("body", b"")
                got += len(chunk)
                if got > limit:
                    raise _Answer(413, f"body is over the limit of {limit} bytes", close=True)
                chunks.append(chunk)
                if not message.get("more_body", False):
                    break
        except asyncio.CancelledError:
            if expired:
                task.uncancel()  # type: ignore[union-attr]
                raise _Answer(408, f"body not received within {self.config.body_timeout_s:g} s", close=True) from None
            raise
        finally:
            deadline.cancel()
        body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        encoding = (headers.get("content-encoding") or "").strip().lower()
        if encoding and encoding != "identity":
            body = _decompress(body, encoding, limit)
        return body

    # -- dispatch ----------------------------------------------------------------------------------

    async def _dispatch(self, scope: Scope, receive: Receive, send: Send, method: str, headers: Headers) -> None:
        path = scope["path"].rstrip("/") or "/"
        if method not in ("GET", "HEAD", "POST"):
            unread = "content-length" in headers or "transfer-encoding" in headers
            raise _Answer(405, f"method {method} is not allowed; use GET or POST", {"Allow": ALLOWED}, close=unread)
        verb = "GET" if method == "HEAD" else method
        body = await self._read_body(receive, headers) if verb == "POST" else b""
        if self.cluster is not None:
            op = self.cluster.peer_op(headers.get(PEER_HEADER), headers.get(PEER_OP_HEADER))
            if op != "apply" and (replicated(verb, path) or (path == "/metrics" and verb == "GET")):
                return await self._across_workers(send, scope, verb, path, body, headers, lead=op == "lead")
        if path.startswith("/admin/"):
            denied = authorize(headers.get("authorization"), self.admin_token)
            query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
            # Loading a package takes seconds (unpacking, session creation): off the event loop.
            reply: Reply = denied if denied is not None else await asyncio.get_running_loop().run_in_executor(None, handle_admin, verb, path, body, self.plane.fleet, query)
            status, obj = reply
            return await self._reply(send, status, _json(obj))
        if path == "/metrics" and verb == "GET":
            return await self._reply(send, 200, self.plane.fleet.metrics.render(), METRICS_CONTENT_TYPE)
        parts = path.strip("/").split("/")
        if parts[:1] == ["v2"]:
            return await self._v2(send, verb, parts[1:], body, headers)
        raise _Answer(404, f"no endpoint {verb} {path}")

    async def _across_workers(self, send: Send, scope: Scope, verb: str, path: str, body: bytes, headers: Headers, *, lead: bool) -> None:
        """A call every worker answers together: one that changes state (replicated), or /metrics
        (summed)."""
        assert self.cluster is not None
        try:
            if verb == "GET":
                others = await self.cluster.metrics_of_others()
                own = self.plane.fleet.metrics.render()
                return await self._reply(send, 200, merge_expositions([own, *others]), METRICS_CONTENT_TYPE)
            query = scope.get("query_string", b"").decode("latin-1")
            passed = {k: v for k in ("authorization", "content-type") if (v := headers.get(k)) is not None}
            reply = await self.cluster.replicate(verb, path + (f"?{query}" if query else ""), body, passed, lead=lead)
        except OSError as e:
            raise _Answer(503, f"the runtime's workers cannot reach each other: {e}", {"Retry-After": "1"}) from None
        await self._reply(send, reply.status, reply.body)

    async def _v2(self, send: Send, method: str, parts: list[str], body: bytes, headers: Headers) -> None:
        plane = self.plane
        if parts == [] and method == "GET":
            return await self._reply(send, 200, _json(plane.server_metadata()))
        if parts == ["health", "live"]:
            return await self._reply(send, 200, b'{"live":true}')
        if parts == ["health", "ready"]:
            ready, obj = plane.ready()
            return await self._reply(send, 200 if ready else 503, _json(obj))
        if parts[:1] in (["systemsharedmemory"], ["cudasharedmemory"]):
            return await self._shared_memory(send, method, parts, body)
        if len(parts) < 2 or parts[0] != "models":
            raise _Answer(404, f"no endpoint {method} /v2/{'/'.join(parts)}")
        name, rest = parts[1], parts[2:]
        version = None
        if rest[:1] == ["versions"] and len(rest) >= 2:
            version, rest = rest[1], rest[2:]
        if method == "POST" and rest == ["infer"]:
            return await self._infer(send, name, version, body, headers)
        if method == "GET" and rest == ["ready"]:
            _, v = plane.variant_for_metadata(name, version)
            return await self._reply(send, 200 if v else 503, _json({"name": name, "ready": v is not None}))
        if method == "GET" and rest == []:
            loaded, obj = plane.model_metadata(name, version)
            return await self._reply(send, 200 if loaded else 503, _json(obj))
        plane.model(name)  # an unknown model is 404 whatever the path
        raise _Answer(404, f"no endpoint {method} /v2/{'/'.join(parts)}")

    async def _shared_memory(self, send: Send, method: str, parts: list[str], body: bytes) -> None:
        """``v2/systemsharedmemory[/region/{name}]/{status,register,unregister}`` (the CUDA variant
        answers that it is not served)."""
        if parts[0] == "cudasharedmemory":
            raise _Answer(501, "CUDA shared memory is not served by this runtime; use system shared memory (v2/systemsharedmemory)")
        name, action = None, parts[1:]
        if action[:1] == ["region"] and len(action) == 3:
            name, action = action[1], action[2:]
        verbs = {"status": "GET", "register": "POST", "unregister": "POST"}
        if len(action) != 1 or action[0] not in verbs or (action[0] == "register" and name is None):
            raise _Answer(404, f"no endpoint {method} /v2/{'/'.join(parts)}")
        if method != verbs[action[0]]:
            raise _Answer(405, f"{action[0]} is {verbs[action[0]]}, not {method}", {"Allow": verbs[action[0]]})
        try:
            request = parse_json(body) if action[0] == "register" else None
        except RequestError as e:
            raise _Answer(400, str(e)) from None
        result = self.plane.shared_memory(action[0], name, request)
        await self._reply(send, 200, _json(result if result is not None else {}))

    # -- inference ---------------------------------------------------------------------------------

    async def _infer(self, send: Send, name: str, version: str | None, body: bytes, headers: Headers) -> None:
        self.plane.model(name)
        raw = None
        try:
            json_length = headers.get(BINARY_HEADER)
            if json_length is not None:
                n = int(json_length) if json_length.isdigit() else -1
                if not 0 <= n <= len(body):
                    raise RequestError(f"{BINARY_HEADER}: expected the JSON part's length (0 .. {len(body)}), got {json_length[:40]!r}")
                obj = parse_json(body[:n])
                raw = split_binary(obj, memoryview(body)[n:])
            else:
                obj = parse_json(body)
        except RequestError as e:
            raise self.plane.refuse(name, e) from None
        answer = await self.plane.infer_async(name, version, obj, raw=raw, header_label=headers.get(LABEL_HEADER))
        req = answer.request
        try:
            head, chunks = encode_response(model=answer.model, version=answer.version, request_id=req.id, outputs=answer.outputs,
                                           spec=answer.spec, wanted=req.outputs, binary=req.binary_outputs,
                                           classification=req.classification, shm_outputs=req.shm_outputs)
        except RequestError as e:  # an output that does not fit the shared memory the request gave it
            raise _Answer(400, str(e)) from None
        extra = {VARIANT_HEADER: answer.role}
        content_type = "application/json"
        if chunks:
            extra[BINARY_HEADER] = str(len(head))
            head = b"".join([head, *chunks])
            content_type = "application/octet-stream"
        payload, encoding = _compress(head, headers.get("accept-encoding") or "")
        if encoding:
            extra["content-encoding"] = encoding
        await self._reply(send, 200, payload, content_type, headers=extra)
