"""Helpers of the serve tests: an HTTP client for a test server and a metrics reader."""
from __future__ import annotations

import http.client
import json
from typing import Any

TOKEN = "s3cret-token"


class Client:
    """A tiny HTTP client for one server (new connection per call: concurrency-safe)."""

    def __init__(self, port: int) -> None:
        self.port = port

    def request(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None, raw: bytes | None = None) -> tuple[int, dict[str, str], Any]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
            conn.request(method, path, body=data, headers={"Content-Type": "application/json", **(headers or {})})
            r = conn.getresponse()
            text = r.read()
            hdrs = {k.lower(): v for k, v in r.getheaders()}
            try:
                parsed = json.loads(text) if text and "json" in hdrs.get("content-type", "") and not hdrs.get("content-encoding") else text.decode()
            except ValueError:  # binary data or a compressed body: the bytes
                parsed = text
            return r.status, hdrs, parsed
        finally:
            conn.close()

    def admin(self, method: str, op: str, body: Any = None, token: str | None = TOKEN) -> tuple[int, Any]:
        h = {"Authorization": f"Bearer {token}"} if token else {}
        status, _, obj = self.request(method, f"/admin/{op}", body if body is not None else ({} if method == "POST" else None), h)
        return status, obj

    def infer(self, data: list[float] | list, shape: list[int], *, rid: str | None = None, headers: dict[str, str] | None = None,
              model: str = "digits", **extra: Any) -> tuple[int, dict[str, str], Any]:
        body: dict[str, Any] = {"inputs": [{"name": "input", "shape": shape, "datatype": "FP32", "data": data}], **extra}
        if rid is not None:
            body["id"] = rid
        return self.request("POST", f"/v2/models/{model}/infer", body, headers)

    def metrics(self) -> str:
        return self.request("GET", "/metrics")[2]


def metric_sum(text: str, name: str, **labels: str) -> float:
    """Sums the samples of ``name`` whose labels include ``labels``."""
    total = 0.0
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        head, _, value = line.rpartition(" ")
        mname, _, lab = head.partition("{")
        if mname != name:
            continue
        if all(f'{k}="{v}"' in lab for k, v in labels.items()):
            total += float(value)
    return total
