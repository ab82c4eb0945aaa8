"""Loading a release package: ``metadata.json``, sha256 of every listed file, and whether its
backend can run on this host.

A package is a folder::

    metadata.json   model_id, name, version, backend, precision, engine, checkpoint, source,
                    manifest, files: {relpath: {sha256, bytes}}
    model.onnx / engine file, model_best.pt, source/...

Unknown fields are ignored. Every problem is a :class:`PackageError` naming the field or file, with
the HTTP status the admin API answers it with (409: contents do not match their digests; 422: the
package is malformed or does not fit this host).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from ..hashing import sha256_file
from ..schema import first_problem, schema_validator
from .spec import ModelSpec, SpecError, model_spec_from_manifest

INTEGRITY = 409
INVALID = 422

BACKENDS = ("onnxruntime-cpu", "tensorrt")


class PackageError(Exception):
    """A package that cannot be served, with the HTTP status to answer and the field at fault."""

    def __init__(self, message: str, *, status: int = INVALID, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.field = field

    def to_json(self) -> dict[str, Any]:
        """The admin API's error body."""
        body: dict[str, Any] = {"error": self.message}
        if self.field:
            body["field"] = self.field
        return body


@dataclass
class ReleasePackage:
    """A verified release package."""

    root: Path
    metadata: dict[str, Any]
    spec: ModelSpec
    name: str
    version: str
    model_id: str
    backend: str
    precision: str
    engine_path: Path | None
    checkpoint_path: Path | None
    source_dir: Path | None
    sha256: str
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Folders this package made (the unpacked source); removed by :meth:`close`.
    temp_dirs: list[Path] = field(default_factory=list)

    @property
    def manifest(self) -> dict[str, Any]:
        """The manifest object carried in metadata.json."""
        return self.metadata["manifest"]

    def close(self) -> None:
        """Removes the temporary folders this package made (idempotent)."""
        for d in self.temp_dirs:
            shutil.rmtree(d, ignore_errors=True)
        self.temp_dirs.clear()


def _inside(root: Path, rel: Any, field_name: str) -> Path:
    if not isinstance(rel, str) or not rel:
        raise PackageError(f"metadata.json {field_name}: expected a relative path, got {rel!r}", field=field_name)
    p = (root / rel).resolve()
    if os.path.isabs(rel) or (p != root and root not in p.parents):
        raise PackageError(f"metadata.json {field_name}: {rel!r} points outside the package", field=field_name)
    return p


def verify_files(root: Path, files: Any) -> None:
    """Checks that each listed file exists with the listed size and sha256.

    Raises:
        PackageError: 409 naming the first file that does not match, 422 when ``files`` is malformed.
    """
    if not isinstance(files, dict) or not files:
        raise PackageError("metadata.json files: expected {relpath: {sha256, bytes}} listing the package's files", field="files")
    for rel, entry in files.items():
        p = _inside(root, rel, f"files.{rel}")
        if not isinstance(entry, dict) or not isinstance(entry.get("sha256"), str):
            raise PackageError(f"metadata.json files.{rel}: expected {{sha256, bytes}}", field=f"files.{rel}")
        if not p.is_file():
            raise PackageError(f"package file {rel} is listed in metadata.json but missing", status=INTEGRITY, field=f"files.{rel}")
        size = p.stat().st_size
        if isinstance(entry.get("bytes"), int) and entry["bytes"] != size:
            raise PackageError(
                f"package file {rel} has {size} bytes, metadata.json says {entry['bytes']}: the package was changed or truncated",
                status=INTEGRITY, field=f"files.{rel}")
        actual = sha256_file(p)
        if actual != entry["sha256"].lower():
            raise PackageError(
                f"package file {rel} has sha256 {actual}, metadata.json says {entry['sha256']}: refusing a package whose contents do not match",
                status=INTEGRITY, field=f"files.{rel}")


def gpu_available() -> bool:
    """True when TensorRT imports and a CUDA device is visible."""
    try:
        import tensorrt  # noqa: F401
    except Exception:
        return False
    try:
        import torch

        return bool(torch.cuda.is_available())
    except Exception:
        return False


def check_host(backend: str, metadata: dict[str, Any] | None = None) -> None:
    """Refuses a backend this host cannot run (TensorRT without a GPU and the tensorrt module), and
    a TensorRT engine built for another GPU architecture or TensorRT version."""
    if backend == "tensorrt" and not gpu_available():
        raise PackageError(
            "package backend is tensorrt but this host has no usable GPU or cannot import tensorrt; "
            "serve a tensorrt package on a GPU host, or an onnxruntime-cpu package here",
            field="backend")
    if backend == "tensorrt" and metadata is not None:
        check_tensorrt_compat(metadata.get("compatibility"), tensorrt_host())


def tensorrt_host() -> dict[str, Any]:
    """This host's TensorRT version and the compute capability of the GPU torch serves on."""
    import tensorrt  # type: ignore[import-not-found]
    import torch

    major, minor = torch.cuda.get_device_capability(torch.cuda.current_device())
    return {"tensorrt": str(tensorrt.__version__), "computeCapability": f"{major}.{minor}", "arch": f"sm{major}{minor}"}


def _trt_release(version: str) -> tuple[int, ...]:
    """``10.16.1.11`` → (10, 16, 1): engines need the same major.minor.patch (the build number may differ)."""
    parts = []
    for p in str(version).split(".")[:3]:
        parts.append(int(p) if p.isdigit() else -1)
    return tuple(parts + [0] * (3 - len(parts)))


def check_tensorrt_compat(compat: Any, host: dict[str, Any]) -> None:
    """Refuses an engine whose compatibility lock does not fit ``host`` (pure: tested without a GPU).

    ``compat`` is metadata.json's ``compatibility`` (written at package time from the build):
    ``{tensorrt, computeCapability, arch, hardwareCompatibility, cuda, driver}``. An engine loads
    only under the TensorRT release that built it, and (hardware compatibility ``none``) only on
    its compute capability; ``ampere+`` engines load on any compute capability ≥ 8.0.

    Raises:
        PackageError: 422 naming the engine's and this host's architecture and TensorRT version.
    """
    if not isinstance(compat, dict) or not compat.get("tensorrt") or not compat.get("computeCapability"):
        raise PackageError(
            "metadata.json compatibility: a tensorrt package must record the TensorRT version and compute capability it was built with",
            field="compatibility")
    built = f"{compat.get('arch') or compat['computeCapability']} with TensorRT {compat['tensorrt']}"
    here = f"{host.get('arch') or host.get('computeCapability')} with TensorRT {host.get('tensorrt')}"
    level = compat.get("hardwareCompatibility") or "none"
    if _trt_release(compat["tensorrt"]) != _trt_release(str(host.get("tensorrt"))):
        raise PackageError(
            f"engine was built for {built}; this host is {here}: a TensorRT engine loads only under the TensorRT release that built it "
            "(serve it on a host with that TensorRT, or rebuild the engine for this one)",
            field="compatibility.tensorrt")
    try:
        cc_built = tuple(int(x) for x in str(compat["computeCapability"]).split("."))
        cc_host = tuple(int(x) for x in str(host.get("computeCapability")).split("."))
    except ValueError:
        raise PackageError(f"metadata.json compatibility.computeCapability: expected e.g. 9.0, got {compat['computeCapability']!r}",
                           field="compatibility.computeCapability") from None
    fits = cc_host >= (8, 0) if level in ("ampere+", "ampere_plus", "AMPERE_PLUS") else cc_host == cc_built
    if not fits:
        raise PackageError(
            f"engine was built for {built}; this host is {here}: the engine's hardware compatibility is {level!r}, "
            "so it runs only on the GPU architecture it was built for (serve it on such a host, or rebuild for this one)",
            field="compatibility.computeCapability")


def describe_host() -> dict[str, Any]:
    """This host as the fleet check reports it: name, TensorRT version and GPU architecture (None
    where it has no TensorRT or no GPU)."""
    import socket

    described: dict[str, Any] = {"host": socket.gethostname(), "tensorrt": None, "arch": None}
    if gpu_available():
        described.update({k: v for k, v in tensorrt_host().items() if k in ("tensorrt", "arch")})
    return described


def host_fit(metadata: Any) -> dict[str, Any]:
    """Whether this host can serve a package with this metadata.json (its ``backend`` and, for
    tensorrt, its ``compatibility`` lock): the rule :func:`check_host` applies at load time, asked
    before any traffic moves (``POST /admin/fits``). The reply names this host and, when it does not
    fit, why and the field at fault.

    Raises:
        PackageError: 422 when ``metadata`` names no known backend.
    """
    backend = metadata.get("backend") if isinstance(metadata, dict) else None
    if backend not in BACKENDS:
        raise PackageError(f"backend: expected one of {', '.join(BACKENDS)}, got {backend!r}", field="backend")
    reply = {**describe_host(), "fits": True, "reason": None, "field": None}
    try:
        check_host(backend, metadata)
    except PackageError as e:
        reply.update({"fits": False, "reason": str(e), "field": e.field})
    return reply


def load_package(path: str | os.PathLike[str]) -> ReleasePackage:
    """Reads and verifies the package in folder ``path``.

    Raises:
        PackageError: when the folder, metadata.json or a listed file is missing or wrong, a digest does
            not match (409), or the backend does not fit this host (422).
    """
    root = Path(path).resolve()
    if not root.is_dir():
        raise PackageError(f"package folder {root} does not exist", field="package")
    meta_path = root / "metadata.json"
    if not meta_path.is_file():
        raise PackageError(f"package {root} has no metadata.json", field="metadata.json")
    try:
        metadata = json.loads(meta_path.read_text())
    except (OSError, ValueError) as e:
        raise PackageError(f"metadata.json of {root} is not valid JSON: {e}", field="metadata.json") from None
    if not isinstance(metadata, dict):
        raise PackageError("metadata.json: expected a JSON object", field="metadata.json")
    # The contract every reader of a package shares (lib/package-metadata.ts), before the checks
    # of integrity and of what this host can run.
    problem = first_problem(schema_validator("package-metadata.json"), metadata)
    if problem is not None:
        field, message, _ = problem
        raise PackageError(f"metadata.json {field}: {message}", field=field)

    manifest = metadata.get("manifest")
    try:
        # Anything but an object is refused by the spec reader itself, naming the field.
        spec = model_spec_from_manifest(cast("dict[str, Any]", manifest), field="manifest")
    except SpecError as e:
        raise PackageError(f"metadata.json {e}", field="manifest") from None
    backend = metadata.get("backend")
    if backend not in BACKENDS:
        raise PackageError(f"metadata.json backend: expected one of {', '.join(BACKENDS)}, got {backend!r}", field="backend")

    verify_files(root, metadata.get("files"))
    files: dict[str, dict[str, Any]] = metadata["files"]
    listed = {(root / rel).resolve() for rel in files}

    def optional_file(key: str) -> Path | None:
        rel = metadata.get(key)
        if rel is None:
            return None
        p = _inside(root, rel, key)
        if p.exists() and p not in listed:
            raise PackageError(f"metadata.json {key}: {rel} is not listed in files, so its sha256 cannot be checked", status=INTEGRITY, field=key)
        return p if p.is_file() else None

    engine = optional_file("engine")
    checkpoint = optional_file("checkpoint")
    # Everything the runtime may import or load lies inside the package and is listed with its
    # sha256: the source is the listed source.tar, never an unhashed folder.
    source = None
    if metadata.get("source"):
        source = _inside(root, metadata["source"], "source")
        if source not in listed or not source.is_file():
            raise PackageError(f"metadata.json source: {metadata['source']} must be a source archive listed in files (with its sha256)",
                               status=INTEGRITY, field="source")
    _check_model_code(manifest)
    check_host(backend, metadata)

    name = metadata.get("name") or spec.name
    version = metadata.get("version") or metadata.get("tag") or metadata.get("git_tag") or metadata.get("model_id") or "unknown"
    return ReleasePackage(
        root=root,
        metadata=metadata,
        spec=spec,
        name=str(name),
        version=str(version),
        model_id=str(metadata.get("model_id") or f"{name}@{version}"),
        backend=backend,
        precision=str(metadata.get("precision") or "fp32"),
        engine_path=engine,
        checkpoint_path=checkpoint,
        source_dir=(unpacked := _source_dir(source)),
        sha256=sha256_file(meta_path),
        files=files,
        temp_dirs=[unpacked] if unpacked is not None else [],
    )


ENTRYPOINT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*$")
"""``module.path:Class``: dotted identifiers only (no ``/``, no ``..``)."""


def _check_model_code(manifest: Any) -> None:
    """Refuses an entrypoint or pythonPath that could reach code outside the unpacked source."""
    model = manifest.get("model") if isinstance(manifest, dict) else None
    if not isinstance(model, dict):
        return
    entry = model.get("entrypoint")
    if entry is not None and (not isinstance(entry, str) or not ENTRYPOINT.match(entry)):
        raise PackageError(f"manifest.model.entrypoint: expected 'module.path:Class' of identifiers, got {str(entry)[:100]!r}",
                           field="manifest.model.entrypoint")
    python_path = model.get("pythonPath", ".")
    if python_path is not None:
        parts = Path(str(python_path)).parts
        if not isinstance(python_path, str) or os.path.isabs(python_path) or ".." in parts:
            raise PackageError(f"manifest.model.pythonPath: expected a folder inside the source, got {str(python_path)[:100]!r}",
                               field="manifest.model.pythonPath")


def _safe_member(member: tarfile.TarInfo, target: Path) -> bool:
    """A plain file or folder whose path stays inside ``target`` (a package never needs more)."""
    name = member.name
    if not (member.isfile() or member.isdir()) or not name or name.startswith("/") or "\\" in name or ".." in Path(name).parts:
        return False
    dest = (target / name).resolve()
    return dest == target or target in dest.parents


def _source_dir(source: Path | None) -> Path | None:
    """The listed ``source.tar`` (already sha256-checked against ``files``) unpacked into a private
    temporary folder, removed when the package is closed."""
    if source is None:
        return None
    if not tarfile.is_tarfile(source):
        raise PackageError(f"source: {source.name} is not a tar archive", status=INTEGRITY, field="source")
    target = Path(tempfile.mkdtemp(prefix="modelship-source-"))
    try:
        with tarfile.open(source) as tar:
            members = tar.getmembers()
            unsafe = next((m for m in members if not _safe_member(m, target)), None)
            if unsafe is not None:
                raise PackageError(f"source: {source.name} holds an unsafe entry {unsafe.name[:200]!r}", status=INTEGRITY, field="source")
            tar.extractall(target, members=members)
    except PackageError:
        shutil.rmtree(target, ignore_errors=True)
        raise
    except (tarfile.TarError, OSError) as e:
        shutil.rmtree(target, ignore_errors=True)
        raise PackageError(f"source: {source.name} cannot be unpacked: {e}", status=INTEGRITY, field="source") from None
    return target
