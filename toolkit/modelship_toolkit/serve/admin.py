"""The admin API under ``/admin``, behind a bearer token.

    POST /admin/load      {"variant": "stable"|"candidate"|"shadow", "package": "<dir>", "model"?: name}
    POST /admin/weights   {"candidate": 0..100, "shadow"?: 0..100, "model"?: name}
    POST /admin/promote   {"model"?: name}
    POST /admin/rollback  {"toPrevious"?: bool, "model"?: name}
    POST /admin/fits      {"backend": ..., "compatibility"?: {...}}  (a package's metadata.json)
    GET  /admin/state[?model=name]

One runtime serves many models. ``model`` names the one an operation is for; it may be left out
while the runtime serves a single model. A package's own name decides the model it loads into.

Missing ``Authorization: Bearer <token>`` → 401; a wrong token → 403.
"""
from __future__ import annotations

import hmac
import json
import os
from pathlib import Path
from typing import Any

from .fleet import Fleet
from .package import PackageError, host_fit
from .variants import AdminError

Reply = tuple[int, dict[str, Any]]


def read_token(token_file: str | None) -> str | None:
    """The admin token: from ``token_file`` (stripped), else env ``MODELSHIP_ADMIN_TOKEN``."""
    if token_file:
        token = Path(token_file).read_text().strip()
        if not token:
            raise ValueError(f"admin token file {token_file} is empty")
        return token
    return os.environ.get("MODELSHIP_ADMIN_TOKEN") or None


def authorize(header: str | None, token: str | None) -> Reply | None:
    """None when allowed, else the 401/403 reply."""
    if token is None:
        return 403, {"error": "admin API is disabled: start the server with --admin-token-file or MODELSHIP_ADMIN_TOKEN"}
    if not header or not header.lower().startswith("bearer "):
        return 401, {"error": "missing Authorization: Bearer <token> header"}
    if not hmac.compare_digest(header[7:].strip().encode(), token.encode()):
        return 403, {"error": "wrong admin token"}
    return None


def _body(raw: bytes) -> dict[str, Any]:
    if not raw.strip():
        return {}
    try:
        obj = json.loads(raw)
    except ValueError as e:
        raise AdminError(f"body is not valid JSON: {str(e)[:200]}", 400) from None
    except RecursionError:
        raise AdminError("body: JSON nested too deeply", 400) from None
    if not isinstance(obj, dict):
        raise AdminError("body: expected a JSON object", 400)
    return obj


def handle_admin(method: str, path: str, raw: bytes, fleet: Fleet, query: dict[str, str] | None = None) -> Reply:
    """Runs one (already authorized) admin request."""
    try:
        op = path[len("/admin/"):].strip("/")
        if method == "GET" and op == "state":
            model = (query or {}).get("model")
            if model is None and len(fleet.names()) != 1:
                return 200, {"model": None, "models": {vs["model"]: vs for vs in fleet.states()}, "variants": {},
                             "weights": {"candidate": 0.0, "stable": 100.0, "shadow": 100.0}}
            if model is not None and fleet.get(model) is None:  # a model not served (yet): nothing loaded
                return 200, {"model": model, "variants": {}, "weights": {"candidate": 0.0, "stable": 100.0, "shadow": 100.0}, "models": fleet.names()}
            return 200, {**fleet.select(model).state(), "models": fleet.names()}
        if method != "POST":
            return (405 if op in ("load", "weights", "promote", "rollback", "fits") else 404), {"error": f"no admin endpoint {method} {path}"}
        body = _body(raw)
        model = body.get("model")
        if op == "load":
            role, package = body.get("variant"), body.get("package")
            if not isinstance(role, str):
                raise AdminError("variant: expected \"stable\", \"candidate\" or \"shadow\"", 422)
            if not isinstance(package, str) or not package:
                raise AdminError("package: expected the path of a release package folder", 422)
            if model is not None and not isinstance(model, str):
                raise AdminError("model: expected a model name", 422)
            v = fleet.load(role, package, model)
            return 200, {"loaded": role, "model": v.pkg.name, **v.describe()}
        if op == "weights":
            unknown = set(body) - {"candidate", "shadow", "model"}
            if unknown or not set(body) - {"model"}:
                raise AdminError(f"expected {{\"candidate\": 0..100, \"shadow\"?: 0..100, \"model\"?: name}}, got fields {sorted(body) or 'none'}", 422)
            vs = fleet.select(model)
            vs.set_weights(candidate=body.get("candidate"), shadow=body.get("shadow"))
            return 200, vs.state()["weights"]
        if op == "fits":
            return 200, host_fit(body)
        if op == "promote":
            return 200, fleet.select(model).promote()
        if op == "rollback":
            return 200, fleet.select(model).rollback(to_previous=bool(body.get("toPrevious")))
        return 404, {"error": f"no admin endpoint {method} {path}"}
    except PackageError as e:
        return e.status, e.to_json()
    except AdminError as e:
        return e.status, {"error": e.message}
