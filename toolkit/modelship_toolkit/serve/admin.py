"""The admin API under ``/admin``, behind a bearer token.

    POST /admin/load      {"variant": "stable"|"candidate"|"shadow", "package": "<dir>"}
    POST /admin/weights   {"candidate": 0..100, "shadow"?: 0..100}
    POST /admin/promote
    POST /admin/rollback  {"toPrevious"?: bool}
    GET  /admin/state

Missing ``Authorization: Bearer <token>`` → 401; a wrong token → 403.
"""
from __future__ import annotations

import hmac
import json
import os
from pathlib import Path
from typing import Any

from .package import PackageError
from .variants import AdminError, VariantSet

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


def handle_admin(method: str, path: str, raw: bytes, variants: VariantSet) -> Reply:
    """Runs one (already authorized) admin request."""
    try:
        op = path[len("/admin/"):].strip("/")
        if method == "GET" and op == "state":
            return 200, variants.state()
        if method != "POST":
            return (405 if op in ("load", "weights", "promote", "rollback") else 404), {"error": f"no admin endpoint {method} {path}"}
        body = _body(raw)
        if op == "load":
            role, package = body.get("variant"), body.get("package")
            if not isinstance(role, str):
                raise AdminError("variant: expected \"stable\", \"candidate\" or \"shadow\"", 422)
            if not isinstance(package, str) or not package:
                raise AdminError("package: expected the path of a release package folder", 422)
            v = variants.load(role, package)
            return 200, {"loaded": role, **v.describe()}
        if op == "weights":
            unknown = set(body) - {"candidate", "shadow"}
            if unknown or not body:
                raise AdminError(f"expected {{\"candidate\": 0..100, \"shadow\"?: 0..100}}, got fields {sorted(body) or 'none'}", 422)
            variants.set_weights(candidate=body.get("candidate"), shadow=body.get("shadow"))
            return 200, variants.state()["weights"]
        if op == "promote":
            return 200, variants.promote()
        if op == "rollback":
            return 200, variants.rollback(to_previous=bool(body.get("toPrevious")))
        return 404, {"error": f"no admin endpoint {method} {path}"}
    except PackageError as e:
        return e.status, e.to_json()
    except AdminError as e:
        return e.status, {"error": e.message}

