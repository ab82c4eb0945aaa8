"""The variants a server holds (stable, candidate, shadow, and a recently promoted-over
"previous"), weighted routing between stable and candidate, shadow mirroring, and the lifecycle
operations of the admin API (load, weights, promote, rollback).

Routing: a request with an ``id`` goes to the candidate iff ``sha256(id) mod 10000 < weight * 100``
(sticky: the same id always lands on the same variant for a given weight); without an id, at random.
"""
from __future__ import annotations

import hashlib
import logging
import random
import threading
from collections.abc import Mapping
from concurrent.futures import Future
from typing import Any

import numpy as np

from .backends import LoadedBackend, load_backend
from .batcher import DynamicBatcher
from .compare import compare_outputs
from .config import ServeConfig
from .metrics import ServeMetrics
from .package import PackageError, ReleasePackage
from .tuning import choose_max_batch, choose_window

log = logging.getLogger("modelship.serve")

ROLES = ("stable", "candidate", "shadow")
Arrays = dict[str, np.ndarray]


class AdminError(Exception):
    """An admin operation that cannot be done now (carries the HTTP status)."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class RequestTimeout(Exception):
    """The request's deadline passed before its batch ran (HTTP 504)."""


class Variant:
    """One loaded package: its backend behind a batcher."""

    def __init__(self, role: str, pkg: ReleasePackage, loaded: LoadedBackend, config: ServeConfig, metrics: ServeMetrics, model: str) -> None:
        self.role = role
        self.pkg = pkg
        self.spec = pkg.spec
        self.version = pkg.version
        self.backend = loaded.backend
        self.fallback = loaded.fallback
        self.fallback_reason = loaded.reason
        self._metrics = metrics
        self._model = model
        self.batching = choose_max_batch(pkg.root, self.spec.max_rows, config.max_batch_size)
        self.window = choose_window(pkg.root, self.batching.size, config.batch_window_ms)
        self.batcher = DynamicBatcher(
            self.backend.instances(),
            max_batch_size=self.batching.size,
            window_s=self.window.ms / 1000.0,
            max_queue=config.max_queue,
            batchable=self.spec.batchable,
            on_batch=self._on_batch,
            name=f"batcher-{role}-{pkg.version}",
        )

    def _on_batch(self, rows: int, seconds: float) -> None:
        labels = (self._model, self.role, self.version)
        self._metrics.batch_size.labels(*labels).observe(rows)
        self._metrics.batch_latency.labels(*labels).observe(seconds)

    def infer(self, inputs: Arrays, timeout_s: float) -> Arrays:
        """Runs one request through the batcher, waiting at most ``timeout_s``.

        Raises:
            QueueFull, BatcherClosed: from the batcher.
            RequestTimeout: the deadline passed.
        """
        fut = self.batcher.submit(inputs)
        try:
            return fut.result(timeout=timeout_s)
        except TimeoutError:
            fut.cancel()
            raise RequestTimeout(f"no answer within {timeout_s * 1000:.0f} ms (variant {self.role} {self.version})") from None

    def describe(self) -> dict[str, Any]:
        """The admin state of this variant."""
        return {
            "version": self.version,
            "modelId": self.pkg.model_id,
            "backend": self.backend.kind,
            "packageBackend": self.pkg.backend,
            "platform": self.backend.platform,
            "precision": self.pkg.precision,
            "fallback": self.fallback,
            "fallbackReason": self.fallback_reason,
            "sha256": self.pkg.sha256,
            "package": str(self.pkg.root),
            "queueDepth": self.batcher.depth,
            "maxBatchSize": self.batching.size,
            "maxBatchSizeFrom": self.batching.source,
            "batchWindowMs": self.window.ms,
            "batchWindowFrom": self.window.source,
            "instances": self.batcher.instances,
        }

    def close(self) -> None:
        """Stops taking requests, lets queued ones finish, frees the engine and the unpacked source."""
        self.batcher.close(wait=True)
        self.backend.close()
        self.pkg.close()


class VariantSet:
    """The variants of one served model and the rules between them."""

    def __init__(self, config: ServeConfig, model_name: str, metrics: ServeMetrics) -> None:
        self.config = config
        self.model_name = model_name
        self.metrics = metrics
        self._lock = threading.RLock()
        self._v: dict[str, Variant] = {}
        self._load_lock = threading.Lock()
        self.candidate_weight = 0.0
        self.shadow_share = 100.0

    # -- reading ---------------------------------------------------------------------------------

    def get(self, role: str) -> Variant | None:
        """The variant in that role, if loaded."""
        return self._v.get(role)

    def by_version(self, version: str) -> Variant | None:
        """A routable variant (stable or candidate) with that version."""
        for role in ("stable", "candidate"):
            v = self._v.get(role)
            if v is not None and v.version == version:
                return v
        return None

    def route(self, request_id: str | None) -> Variant | None:
        """Picks stable or candidate for a request (sticky by id)."""
        with self._lock:
            stable, cand, w = self._v.get("stable"), self._v.get("candidate"), self.candidate_weight
        if cand is None or w <= 0:
            return stable
        if stable is None or w >= 100:
            return cand
        if request_id is not None:
            bucket = int.from_bytes(hashlib.sha256(request_id.encode()).digest()[:8], "big") % 10000
            return cand if bucket < w * 100 else stable
        return cand if random.random() * 100 < w else stable

    def state(self) -> dict[str, Any]:
        """Everything ``GET /admin/state`` shows (and the metrics collector reads)."""
        with self._lock:
            variants = {role: v.describe() for role, v in self._v.items()}
            return {
                "model": self.model_name,
                "variants": variants,
                "weights": {"candidate": self.candidate_weight, "stable": 100 - self.candidate_weight if "candidate" in self._v else 100, "shadow": self.shadow_share},
            }

    # -- admin operations --------------------------------------------------------------------------

    def adopt(self, role: str, pkg: ReleasePackage) -> Variant:
        """Loads and warms a verified package of this model, then swaps it into ``role`` (the old
        one is unloaded). The package is closed when it cannot be served.

        Raises:
            AdminError: unknown role (422).
            PackageError: the package is for another model or does not fit (422).
        """
        try:
            if role not in ROLES:
                raise AdminError(f"variant: expected one of {', '.join(ROLES)}, got {role!r}", 422)
            if pkg.name != self.model_name:
                raise PackageError(f"package is for model '{pkg.name}', not '{self.model_name}'", field="name")
            with self._load_lock:  # one load at a time per model: loads are heavy; serving goes on meanwhile
                loaded = load_backend(pkg, threads=self.config.intra_op_threads, instances=self.config.engine_instances)
        except BaseException:
            pkg.close()
            raise
        v = Variant(role, pkg, loaded, self.config, self.metrics, pkg.name)
        with self._lock:
            old = self._v.get(role)
            self._v[role] = v
        log.info("loaded %s %s as %s (backend %s%s)", pkg.name, pkg.version, role, v.backend.kind, ", fallback" if v.fallback else "")
        if old is not None:
            old.close()
        return v

    def set_weights(self, candidate: float | None = None, shadow: float | None = None) -> None:
        """Sets the candidate's share of traffic and the share of stable traffic mirrored (0..100)."""
        for name, value in (("candidate", candidate), ("shadow", shadow)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 100):
                raise AdminError(f"{name}: expected a number from 0 to 100, got {value!r}", 422)
        with self._lock:
            if candidate is not None:
                if candidate > 0 and "candidate" not in self._v:
                    raise AdminError("candidate: no candidate is loaded; POST /admin/load {\"variant\": \"candidate\", ...} first", 409)
                self.candidate_weight = float(candidate)
            if shadow is not None:
                self.shadow_share = float(shadow)

    def promote(self) -> dict[str, Any]:
        """The candidate becomes stable; the old stable stays loaded as "previous" for
        ``previous_grace_s`` so a rollback to it is instant, then is unloaded."""
        with self._lock:
            cand = self._v.get("candidate")
            if cand is None:
                raise AdminError("no candidate is loaded to promote", 409)
            old = self._v.get("stable")
            dropped = self._v.pop("previous", None)
            cand.role = "stable"
            self._v["stable"] = cand
            del self._v["candidate"]
            self.candidate_weight = 0.0
            if old is not None:
                old.role = "previous"
                self._v["previous"] = old
                t = threading.Timer(self.config.previous_grace_s, self._expire_previous, args=(old,))
                t.daemon = True
                t.start()
        if dropped is not None:
            dropped.close()
        return {"stable": cand.version, "previous": old.version if old else None}

    def _expire_previous(self, v: Variant) -> None:
        with self._lock:
            if self._v.get("previous") is not v:
                return
            del self._v["previous"]
        v.close()

    def rollback(self, *, to_previous: bool = False) -> dict[str, Any]:
        """Candidate weight 0, candidate and shadow unloaded; stable serves on. With ``to_previous``
        the previous stable (kept after a promote) becomes stable again."""
        with self._lock:
            # Refuse before changing anything: a refused rollback unloads nothing.
            if to_previous and "previous" not in self._v:
                raise AdminError("no previous stable is loaded (it is unloaded after the promote grace period)", 409)
            self.candidate_weight = 0.0
            removed = [self._v.pop(r) for r in ("candidate", "shadow") if r in self._v]
            if to_previous:
                prev = self._v.pop("previous")
                cur = self._v.get("stable")
                prev.role = "stable"
                self._v["stable"] = prev
                if cur is not None:
                    removed.append(cur)
        for v in removed:
            threading.Thread(target=v.close, daemon=True).start()  # queued requests drain meanwhile
        return {"stable": self._v["stable"].version if "stable" in self._v else None, "unloaded": [v.version for v in removed]}

    def close(self) -> None:
        """Unloads everything."""
        with self._lock:
            vs = list(self._v.values())
            self._v.clear()
        for v in vs:
            v.close()

    # -- shadow ------------------------------------------------------------------------------------

    def mirror(self, inputs: Mapping[str, np.ndarray], stable_outputs: Mapping[str, np.ndarray], stable: Variant) -> None:
        """Sends a copy of a request the stable variant answered to the shadow, without waiting;
        compares the outputs when the shadow answers. Dropped when the shadow queue is full."""
        shadow = self._v.get("shadow")
        if shadow is None or self.shadow_share <= 0:
            return
        if self.shadow_share < 100 and random.random() * 100 >= self.shadow_share:
            return
        m, model = self.metrics, self.model_name
        try:  # bytes in shared memory are read now: the client may reuse them once answered
            inputs = {k: v if isinstance(v, np.ndarray) else v.read() for k, v in inputs.items()}
        except ValueError:
            m.shadow_dropped.labels(model, "unreadable").inc()
            return
        for t in shadow.spec.inputs:
            a = inputs.get(t.name)
            if a is None or t.shape_error(a.shape) or a.dtype != t.numpy_dtype:
                m.shadow_dropped.labels(model, "invalid_for_shadow").inc()
                return
        try:
            fut = shadow.batcher.submit(dict(inputs))
        except Exception as e:  # QueueFull, BatcherClosed
            m.shadow_dropped.labels(model, "queue_full" if type(e).__name__ == "QueueFull" else "unloaded").inc()
            return
        stable_version, primary = stable.version, stable.spec.outputs[0].name
        classification = stable.spec.task == "classification"

        def done(f: Future) -> None:
            try:
                out = f.result()
                c = compare_outputs(stable_outputs, out, primary=primary, classification=classification)
            except Exception:
                m.shadow_dropped.labels(model, "failed").inc()
                return
            labels = (model, stable_version, shadow.version)
            m.shadow_comparisons.labels(*labels).inc(c.rows)
            m.shadow_agreement.labels(*labels).inc(c.agreed or 0)
            m.shadow_max_abs.labels(*labels).observe(c.max_abs)

        fut.add_done_callback(done)
