"""``data`` (before a release starts): the manifest's ``.npz`` files hold an array per input with
the right dtype and dims, labels where named, and enough samples for calibration and parity.

Runs on the tagged tree before the tag is spent, so a name that does not match the arrays is found
while the user can still fix it. Loads no model code (``allow_pickle=False``).
"""
from __future__ import annotations

from typing import Any

from ..data import load_npz
from ..errors import BadInput


def run(request: dict[str, Any]) -> dict[str, Any]:
    """Checks calibration and (dataset) parity data; raises :class:`BadInput` naming the field."""
    manifest, repo = request["manifest"], request["repoDir"]
    files = []
    sources: list[tuple[str, dict[str, Any], int]] = []
    if manifest.get("calibration"):
        sources.append(("manifest.calibration", manifest["calibration"], manifest["calibration"]["samples"]))
    if manifest["parity"]["data"]["kind"] == "dataset":
        sources.append(("manifest.parity.data", manifest["parity"]["data"], manifest["parity"]["samples"]))
    for field, source, wanted in sources:
        data = load_npz(repo, source, manifest, field=field)
        if len(data) < wanted:
            asked = "calibration.samples" if field == "manifest.calibration" else "parity.samples"
            raise BadInput(
                f"{source['path']} holds {len(data)} samples, {asked} asks for {wanted}",
                field=f"manifest.{asked}",
                hint=f"add samples to {source['path']} or lower {asked} to at most {len(data)}"
                + (" (parity needs at least 1000)" if asked == "parity.samples" else ""),
            )
        files.append({"field": field, "path": source["path"], "samples": len(data),
                      "arrays": {k: list(v.shape) for k, v in data.inputs.items()}})
    return {"files": files}
