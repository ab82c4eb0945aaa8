"""Every model one runtime serves: a :class:`VariantSet` (stable, candidate, shadow, previous) per
model name, created when a model's first package is loaded. Models share the server's metrics
registry and settings, and nothing else: one model's loads, weights, promotions and rollbacks never
touch another's variants.
"""
from __future__ import annotations

import threading
from typing import Any

from .config import ServeConfig
from .metrics import ServeMetrics
from .package import PackageError, load_package
from .variants import AdminError, Variant, VariantSet


class Fleet:
    """The models of one runtime, by name.

    Args:
        pinned_model: serve this model only (``--model-name``); packages of others are refused.
    """

    def __init__(self, config: ServeConfig, pinned_model: str | None = None) -> None:
        self.config = config
        self.pinned_model = pinned_model
        self.metrics = ServeMetrics(self.states)
        self._lock = threading.Lock()
        self._models: dict[str, VariantSet] = {}

    def get(self, name: str) -> VariantSet | None:
        """The model's variants, if any package of it was ever loaded."""
        return self._models.get(name)

    def names(self) -> list[str]:
        """The served model names, sorted."""
        return sorted(self._models)

    def select(self, name: Any) -> VariantSet:
        """The model an admin request names; without a name, the only model served.

        Raises:
            AdminError: 422 for a malformed name, 404 for a model not served, 422 when several are
                served and the request names none.
        """
        if name is None:
            if len(self._models) == 1:
                return next(iter(self._models.values()))
            served = ", ".join(self.names()) or "none"
            raise AdminError(f"model: this runtime serves several models ({served}); name one with \"model\"", 422)
        if not isinstance(name, str) or not name:
            raise AdminError("model: expected a model name", 422)
        vs = self._models.get(name)
        if vs is None:
            raise AdminError(f"model: '{name}' is not served here (served: {', '.join(self.names()) or 'none'}); load a package of it first", 404)
        return vs

    def load(self, role: str, path: str, model: Any = None) -> Variant:
        """Loads a package into ``role`` of the model it belongs to (created on first load).

        Raises:
            PackageError: the package is wrong, or belongs to another model than ``model`` (when
                given) or than the pinned one.
        """
        if role not in ("stable", "candidate", "shadow"):
            raise AdminError(f"variant: expected one of stable, candidate, shadow, got {role!r}", 422)
        pkg = load_package(path)
        try:
            for want, what in ((model, "the request names"), (self.pinned_model, "this server serves")):
                if want is not None and pkg.name != want:
                    raise PackageError(f"package is for model '{pkg.name}' but {what} '{want}'", field="name")
            with self._lock:
                vs = self._models.get(pkg.name)
                if vs is None:
                    vs = self._models[pkg.name] = VariantSet(self.config, pkg.name, self.metrics)
        except BaseException:
            pkg.close()
            raise
        return vs.adopt(role, pkg)

    def states(self) -> list[dict[str, Any]]:
        """Every model's :meth:`VariantSet.state` (the metrics collector reads these)."""
        return [vs.state() for vs in list(self._models.values())]

    def close(self) -> None:
        """Unloads every model."""
        for vs in list(self._models.values()):
            vs.close()
