"""The HTTP layer: a threaded HTTP/1.1 server speaking the Open Inference Protocol v2, plus
``/metrics`` and ``/admin``.

    POST /v2/models/{name}[/versions/{v}]/infer    GET /v2/models/{name}[/ready]
    GET  /v2/health/live   GET /v2/health/ready    GET /v2    GET /metrics

Each connection has its own thread; inference itself runs on each variant's batcher thread, so a
slow batch never blocks health checks, metrics or the admin API.
"""
from __future__ import annotations

import json
import logging
from urllib.parse import parse_qsl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from . import metrics as metrics_mod
from .admin import authorize, handle_admin
from .batcher import BatcherClosed, QueueFull
from .compare import count_correct
from .config import ServeConfig
from .protocol import RequestError, decode_request, encode_response, parse_json, request_id
from .fleet import Fleet
from .variants import RequestTimeout, Variant, VariantSet

log = logging.getLogger("modelship.serve")

VARIANT_HEADER = "x-modelship-variant"
LABEL_HEADER = "x-modelship-label"


class App:
    """What the handlers share: the fleet of models, settings and admin token."""

    def __init__(self, config: ServeConfig, fleet: Fleet, admin_token: str | None) -> None:
        self.config = config
        self.fleet = fleet
        self.admin_token = admin_token


class _Reply(Exception):
    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None, variant: Variant | None = None) -> None:
        self.status, self.body, self.headers, self.variant = status, body, headers or {}, variant


class Handler(BaseHTTPRequestHandler):
    """One HTTP connection (keep-alive)."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # small responses must not wait for a delayed ACK (40 ms)
    server_version = "modelship-serve/0.1"
    server: "ModelServer"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        log.debug("%s " + format, self.address_string(), *args)

    def setup(self) -> None:
        # A socket timeout on every read: a client that stops sending (request line, headers, body,
        # or an idle keep-alive) is cut off instead of holding its thread.
        self.timeout = self.server.app.config.read_timeout_s
        super().setup()

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Protocol-level errors (bad request line, header too long, ...) answer JSON, like the rest."""
        self.close_connection = True
        if getattr(self, "request_version", "HTTP/0.9") == "HTTP/0.9":
            self.request_version = "HTTP/1.1"  # answer a garbled request line with a real status line
        try:
            self._json(code, {"error": message or explain or self.responses.get(code, ("error",))[0]})
        except OSError:
            pass

    # -- plumbing ----------------------------------------------------------------------------------

    def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        # headers and body in one write: one segment for small answers
        self._headers_buffer.append(b"\r\n")  # what end_headers() would add
        payload = b"".join(self._headers_buffer) + (body if self.command != "HEAD" else b"")
        self._headers_buffer = []
        self.wfile.write(payload)

    def _json(self, status: int, obj: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(obj, separators=(",", ":")).encode(), "application/json", headers)

    def _read_body(self) -> bytes:
        length = self.headers.get("Content-Length")
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            self.close_connection = True
            raise _Reply(411, {"error": "chunked bodies are not supported; send Content-Length"})
        if length is None:
            return b""
        try:
            n = int(length)
            if n < 0:
                raise ValueError
        except ValueError:
            self.close_connection = True
            raise _Reply(400, {"error": f"Content-Length: expected a non-negative number, got {length[:40]!r}"}) from None
        config = self.server.app.config
        if n > config.max_body_bytes:
            self.close_connection = True
            raise _Reply(413, {"error": f"body of {n} bytes is over the limit of {config.max_body_bytes}"})
        deadline = time.monotonic() + config.body_timeout_s
        chunks, got = [], 0
        while got < n:
            if time.monotonic() > deadline:
                self.close_connection = True
                raise _Reply(408, {"error": f"body not received within {config.body_timeout_s:g} s"})
            chunk = self.rfile.read1(min(n - got, 1 << 16))
            if not chunk:
                self.close_connection = True
                raise _Reply(400, {"error": f"body ended after {got} of {n} bytes"})
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)

    @property
    def app(self) -> App:
        return self.server.app

    # -- dispatch ----------------------------------------------------------------------------------

    def do_GET(self) -> None:  # noqa: N802
        self._dispatch("GET")

    def do_HEAD(self) -> None:  # noqa: N802
        self._dispatch("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch("POST")

    def _not_allowed(self) -> None:
        if self.headers.get("Content-Length") or self.headers.get("Transfer-Encoding"):
            self.close_connection = True  # the body is not read: the connection cannot be reused
        self._json(405, {"error": f"method {self.command} is not allowed; use GET or POST"}, {"Allow": "GET, HEAD, POST"})

    do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_TRACE = do_CONNECT = _not_allowed  # noqa: N815

    def _dispatch(self, method: str) -> None:
        path, _, query = self.path.partition("?")
        path = path.rstrip("/") or "/"
        try:
            body = self._read_body() if method == "POST" else b""
            if path.startswith("/admin/"):
                denied = authorize(self.headers.get("Authorization"), self.app.admin_token)
                status, obj = denied or handle_admin(method, path, body, self.app.fleet, dict(parse_qsl(query)))
                return self._json(status, obj)
            if path == "/metrics" and method == "GET":
                return self._send(200, self.app.fleet.metrics.render(), metrics_mod.CONTENT_TYPE)
            parts = path.strip("/").split("/")
            if parts[:1] == ["v2"]:
                return self._v2(method, parts[1:], body)
            self._json(404, {"error": f"no endpoint {method} {path}"})
        except _Reply as r:
            self._json(r.status, r.body, r.headers)
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            self.close_connection = True
        except Exception as e:  # noqa: BLE001 - answer, never drop the connection silently
            log.exception("unhandled error on %s %s", method, path)
            self._json(500, {"error": f"internal error: {type(e).__name__}: {e}"})

    def _v2(self, method: str, parts: list[str], body: bytes) -> None:
        fleet = self.app.fleet
        if parts == [] and method == "GET":
            return self._json(200, {"name": "modelship", "version": "0.1", "extensions": []})
        if parts == ["health", "live"]:
            return self._json(200, {"live": True})
        if parts == ["health", "ready"]:
            models = {}
            for state in fleet.states():
                models[state["model"]] = {r: {"version": v["version"], "backend": v["backend"], "fallback": v["fallback"], "fallbackReason": v["fallbackReason"]}
                                          for r, v in state["variants"].items()}
            ready = any("stable" in m for m in models.values())
            body: dict[str, Any] = {"ready": ready, "models": models}
            if len(models) == 1:  # the one-model form earlier clients read
                body["model"], body["variants"] = next(iter(models.items()))
            return self._json(200 if ready else 503, body)
        if len(parts) < 2 or parts[0] != "models":
            return self._json(404, {"error": f"no endpoint {method} /v2/{'/'.join(parts)}"})
        name, rest = parts[1], parts[2:]
        vs = fleet.get(name)
        if vs is None:
            return self._json(404, {"error": f"unknown model '{name}'; this server serves {', '.join(fleet.names()) or 'no model yet'}"})
        version = None
        if rest[:1] == ["versions"] and len(rest) >= 2:
            version, rest = rest[1], rest[2:]
        if method == "POST" and rest == ["infer"]:
            return self._infer(vs, version, body)
        if method == "GET" and rest in ([], ["ready"]):
            v = vs.by_version(version) if version else vs.get("stable")
            if version and v is None:
                return self._json(404, {"error": f"model '{name}' has no loaded version '{version}'"})
            if rest == ["ready"]:
                return self._json(200 if v else 503, {"name": name, "ready": v is not None})
            return self._json(200 if v else 503, self._metadata(vs, v))
        self._json(404, {"error": f"no endpoint {method} /v2/{'/'.join(parts)}"})

    def _metadata(self, vs: VariantSet, v: Variant | None) -> dict[str, Any]:
        name = vs.model_name
        versions = [x.version for x in (vs.get("stable"), vs.get("candidate")) if x]
        if v is None:
            return {"name": name, "versions": versions, "platform": None, "inputs": [], "outputs": [], "error": "no stable model loaded"}
        return {
            "name": name,
            "versions": versions,
            "platform": v.backend.platform,
            "inputs": [{"name": t.name, "datatype": t.datatype, "shape": t.metadata_shape()} for t in v.spec.inputs],
            "outputs": [{"name": t.name, "datatype": t.datatype, "shape": t.metadata_shape()} for t in v.spec.outputs],
            "parameters": {"version": v.version, "backend": v.backend.kind, "fallback": v.fallback, "fallback_reason": v.fallback_reason},
        }

    # -- inference ---------------------------------------------------------------------------------

    def _infer(self, vs: VariantSet, version: str | None, body: bytes) -> None:
        t0 = time.perf_counter()
        name = vs.model_name
        variant: Variant | None = None
        status, out, headers = 500, {}, {}
        answer = None
        try:
            try:
                obj = parse_json(body)
                rid = request_id(obj)
            except RequestError as e:
                raise _Reply(400, {"error": str(e)}) from None
            variant = vs.by_version(version) if version else vs.route(rid)
            if variant is None:
                raise _Reply(404 if version else 503, {"error": f"model '{name}' has no loaded version '{version}'" if version else "no stable model is loaded"})
            try:
                req = decode_request(obj, variant.spec, header_label=self.headers.get(LABEL_HEADER))
            except RequestError as e:
                raise _Reply(400, {"error": str(e)}, variant=variant) from None
            timeout = self.app.config.request_timeout_ms / 1000.0
            try:
                outputs = variant.infer(req.inputs, timeout)
            except BatcherClosed:  # unloaded between routing and submit: the stable answers
                stable = vs.get("stable")
                if stable is None or stable is variant:
                    raise _Reply(503, {"error": "model is being unloaded"}, {"Retry-After": str(self.app.config.retry_after_s)}, variant) from None
                variant = stable
                outputs = variant.infer(req.inputs, timeout)
            answer = (req, outputs, variant)
            status, out = 200, encode_response(model=name, version=variant.version, request_id=req.id, outputs=outputs, spec=variant.spec, wanted=req.outputs)
        except _Reply as r:
            status, out, headers = r.status, r.body, r.headers
            variant = r.variant or variant
        except QueueFull as e:
            status, out, headers = 503, {"error": f"overloaded: {e}; retry later"}, {"Retry-After": str(self.app.config.retry_after_s)}
        except RequestTimeout as e:
            status, out = 504, {"error": f"timeout: {e}"}
        except Exception as e:  # noqa: BLE001 - an engine error answers this request only
            log.exception("inference failed")
            status, out = 500, {"error": f"inference failed: {type(e).__name__}: {e}"}
        if variant is not None:
            headers[VARIANT_HEADER] = variant.role
        self._json(status, out, headers)
        self._record(vs, variant, status, time.perf_counter() - t0, answer)

    def _record(self, vs: VariantSet, variant: Variant | None, status: int, seconds: float, answer: Any) -> None:
        m, name = vs.metrics, vs.model_name
        role, version = (variant.role, variant.version) if variant else ("none", "none")
        m.requests.labels(name, role, version, str(status)).inc()
        if status == 200:
            m.latency.labels(name, role, version).observe(seconds)
        if answer is None:
            return
        req, outputs, v = answer
        if req.labels and v.spec.task == "classification":
            n, correct = count_correct(outputs[v.spec.outputs[0].name], req.labels)
            m.labelled.labels(name, role, version).inc(n)
            m.correct.labels(name, role, version).inc(correct)
        if v.role == "stable":
            vs.mirror(req.inputs, outputs, v)  # after the answer went out


class ModelServer(ThreadingHTTPServer):
    """The threaded HTTP server, holding the :class:`App`."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], app: App) -> None:
        self.app = app
        self._slots = threading.BoundedSemaphore(app.config.max_connections)
        super().__init__(address, Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        """At most ``max_connections`` connections at once; one more gets 503 and is closed."""
        if not self._slots.acquire(blocking=False):
            try:
                body = b'{"error":"too many connections; retry later"}'
                request.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\n"
                                b"Connection: close\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
            except OSError:
                pass
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    @property
    def port(self) -> int:
        """The bound port (useful with port 0)."""
        return int(self.server_address[1])

    def start_background(self) -> threading.Thread:
        """Serves on a daemon thread; returns it."""
        t = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.5}, name="http", daemon=True)
        t.start()
        return t

    def stop(self) -> None:
        """Stops serving and unloads every variant."""
        self.shutdown()
        self.server_close()
        self.app.fleet.close()


def create_server(config: ServeConfig, *, host: str = "127.0.0.1", port: int = 8100, admin_token: str | None = None,
                  model_name: str | None = None, stable_package: str | None = None) -> ModelServer:
    """Builds a server for any number of models (only ``model_name`` when given), loading
    ``stable_package`` first when given (raises PackageError when it cannot be served)."""
    fleet = Fleet(config, model_name)
    if stable_package:
        fleet.load("stable", stable_package)
    return ModelServer((host, port), App(config, fleet, admin_token))
