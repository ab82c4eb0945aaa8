"""``modelship init``: writes a first ``modelship.yaml`` from a model class and a sample input.

    python -m modelship_toolkit.init_manifest --repo . --entrypoint model_def:Net --sample data/sample.npz \\
        [--init '{"num_classes": 10}'] [--checkpoint artifacts/model_best.pt] [--name my-model] [--out modelship.yaml]

The sample's arrays are forward()'s inputs (matched by parameter name, else in file order), with the
sample axis first. Names, dtypes and dims come from the sample and one forward pass; which dims are
dynamic is found by running forward() again with each axis (of every input at once, where inputs
share it) at half and double its size. Every guess is written down as a comment for a person to
check. Runs the user's own model code on their machine, as training does.
"""
from __future__ import annotations

import argparse
import inspect
import json
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .data import fit_to_shape
from .dtypes import manifest_dtype
from .model_loading import construct, import_class, load_state_dict

AXIS_NAMES = {(2, 1): "sequence", (3, 1): "sequence", (4, 2): "height", (4, 3): "width", (3, 2): "length"}


def _outputs(model: torch.nn.Module, feeds: dict[str, np.ndarray]) -> list[tuple[str, np.ndarray]]:
    with torch.no_grad():
        out = model(*[torch.from_numpy(np.ascontiguousarray(v)) for v in feeds.values()])
    if isinstance(out, torch.Tensor):
        return [("logits" if out.ndim == 2 else "output", out.numpy())]
    if isinstance(out, dict):
        return [(str(k), v.numpy()) for k, v in out.items()]
    return [(f"output{i}", v.numpy()) for i, v in enumerate(out)]


def _probe(model: torch.nn.Module, feeds: dict[str, np.ndarray], group: list[tuple[str, int]], size: int) -> list[tuple[str, np.ndarray]] | None:
    """forward() with every (input, axis) of ``group`` at ``size``, or None when it refuses."""
    probe = {}
    for name, x in feeds.items():
        shape = list(x.shape)
        for n, axis in group:
            if n == name:
                shape[axis] = size
        probe[name] = fit_to_shape(x, shape)
    try:
        return _outputs(model, probe)
    except Exception:  # noqa: BLE001 - a refusal is the answer
        return None


def guess(model: torch.nn.Module, feeds: dict[str, np.ndarray]) -> dict[str, Any]:
    """The manifest's inputs, outputs and task from one sample, with the reasons for each guess."""
    outputs = _outputs(model, feeds)
    n = len(next(iter(feeds.values())))
    batch = {"name": "batch", "min": 1, "opt": n, "max": max(64, n)}
    groups: dict[tuple[int, int], list[tuple[str, int]]] = {}  # (axis, size) -> the inputs having it
    for name, x in feeds.items():
        for axis in range(1, x.ndim):
            groups.setdefault((axis, x.shape[axis]), []).append((name, axis))
    dims: dict[tuple[str, int], Any] = {}
    notes: list[str] = []
    for (axis, size), members in groups.items():
        lo, hi = max(1, size // 2), size * 2
        if size > 1 and _probe(model, feeds, members, lo) is not None and _probe(model, feeds, members, hi) is not None:
            x = feeds[members[0][0]]
            dim_name = AXIS_NAMES.get((x.ndim, axis), f"dim{axis}")
            used = {d["name"] for d in dims.values() if isinstance(d, dict)}
            while dim_name in used:
                dim_name += "_"
            d: dict[str, object] | int = {"name": dim_name, "min": lo, "opt": size, "max": hi}
            notes.append(f"{dim_name}: forward() ran at {lo} and {hi} as well as {size}: made dynamic {lo}..{hi} (widen if your data needs)")
        else:
            d = size
        for m in members:
            dims[m] = d
    inputs = []
    for name, x in feeds.items():
        shape = [batch] + [dims[(name, a)] for a in range(1, x.ndim)]
        inputs.append({"name": name, "dtype": manifest_dtype(x.dtype), "dims": shape})
    out_specs = []
    for name, y in outputs:
        out_dims: list[Any] = ["batch"] + list(y.shape[1:])
        out_specs.append({"name": name, "dtype": manifest_dtype(y.dtype), "dims": out_dims})
    first = outputs[0][1]
    classification = len(outputs) == 1 and first.ndim == 2 and first.shape[1] >= 2 and np.issubdtype(first.dtype, np.floating)
    task = {"kind": "classification", "topK": [1, 5] if first.shape[1] >= 5 else [1]} if classification else {"kind": "regression"}
    notes.append("task: classification (one 2-D float output: logits)" if classification else "task: regression (not a single [batch, classes] output)")
    return {"inputs": inputs, "outputs": out_specs, "task": task, "notes": notes}


def _dim(d: Any) -> str:
    return f"{{ name: {d['name']}, min: {d['min']}, opt: {d['opt']}, max: {d['max']} }}" if isinstance(d, dict) else str(d)


def render(name: str, entrypoint: str, init: dict[str, Any], pythonpath: str, checkpoint: str, sample: str, samples: int,
           arrays: dict[str, str], found: dict[str, Any]) -> str:
    """The manifest YAML, every guess commented."""
    defined: set[str] = set()
    lines = [
        "# Release manifest written by `modelship init`: check every line marked `guessed`.",
        "apiVersion: modelship/v1", f"name: {name}", "", "model:", f"  entrypoint: {entrypoint}",
    ]
    if init:
        lines.append(f"  init: {json.dumps(init)}")
    lines += [f"  pythonPath: {pythonpath}", "", "artifact:", f"  checkpoint: {checkpoint}",
              "  metrics: artifacts/metrics.json     # guessed: the JSON your training writes", "  acceptance: []                      # e.g. - val_accuracy >= 0.9", "",
              "# guessed from the sample and forward(): " + "; ".join(found["notes"]), "inputs:"]
    for spec in found["inputs"]:
        written = []
        for d in spec["dims"]:
            if isinstance(d, dict) and d["name"] in defined:
                written.append(d["name"])  # defined once, referred to by name
            else:
                if isinstance(d, dict):
                    defined.add(d["name"])
                written.append(_dim(d))
        lines += [f"  - name: {spec['name']}", f"    dtype: {spec['dtype']}", "    dims:"] + [f"      - {w}" for w in written]
    lines += ["", "outputs:"]
    for spec in found["outputs"]:
        lines += [f"  - name: {spec['name']}                  # guessed: rename to what it means", f"    dtype: {spec['dtype']}",
                  f"    dims: [{', '.join(str(d) for d in spec['dims'])}]"]
    task = found["task"]
    lines += ["", "task:", f"  kind: {task['kind']}"]
    if task["kind"] == "classification":
        lines.append(f"  topK: {task['topK']}")
    lines += ["", "export:", "  opset: 17", "", "targets:", "  - name: cpu", "    backend: onnxruntime-cpu", "    precisions: [fp32]            # add int8 with calibration data", "",
              "parity:", "  samples: 1000",
              (f"  data: {{ kind: dataset, path: {sample}" + (f", arrays: {{ {', '.join(f'{k}: {v}' for k, v in arrays.items())} }}" if any(k != v for k, v in arrays.items()) else "") + " }")
              if samples >= 1000 else
              f"  data: {{ kind: random }}          # {sample} holds {samples} samples; parity on a dataset needs >= 1000",
              "  tolerances:", "    fp32: { maxAbs: 1.0e-4 }"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Parses flags, guesses, writes the manifest; returns the exit code."""
    p = argparse.ArgumentParser(prog="modelship init", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repo", default=".")
    p.add_argument("--entrypoint", required=True, help="module:Class of the model, importable from --python-path")
    p.add_argument("--sample", required=True, help=".npz with one array per forward() input, sample axis first")
    p.add_argument("--init", default="{}", help="JSON keyword arguments of the class")
    p.add_argument("--python-path", default=".")
    p.add_argument("--checkpoint", default="artifacts/model_best.pt")
    p.add_argument("--name", help="model name (default: the repository folder's name)")
    p.add_argument("--out", default="modelship.yaml")
    p.add_argument("--force", action="store_true", help="overwrite an existing manifest")
    a = p.parse_args(argv)
    repo = Path(a.repo).resolve()
    out = repo / a.out
    if out.exists() and not a.force:
        print(f"modelship init: {out} exists; pass --force to overwrite it", file=sys.stderr)
        return 2
    try:
        init = json.loads(a.init)
        assert isinstance(init, dict)
    except (ValueError, AssertionError):
        print(f"modelship init: --init: expected a JSON object, got {a.init!r}", file=sys.stderr)
        return 2
    manifest = {"model": {"entrypoint": a.entrypoint, "pythonPath": a.python_path, "init": init}}
    model = construct(import_class(repo, manifest), init)
    ckpt = repo / a.checkpoint
    if ckpt.is_file():
        model.load_state_dict(load_state_dict(ckpt, field="--checkpoint"))
    model.eval()
    npz = np.load(repo / a.sample, allow_pickle=False)
    params = [n for n in inspect.signature(model.forward).parameters if n != "self"]
    matched = [k for k in params if k in npz.files]
    arrays = {k: k for k in matched} if matched else dict(zip(params, npz.files))  # input name -> array name
    samples = len(npz[next(iter(arrays.values()))])
    feeds = {name: np.asarray(npz[key])[:8] for name, key in arrays.items()}
    found = guess(model, feeds)
    name = a.name or re.sub(r"[^a-z0-9-]+", "-", repo.name.lower()).strip("-") or "model"
    out.write_text(render(name, a.entrypoint, init, a.python_path, a.checkpoint, a.sample, samples, arrays, found))
    print(f"wrote {out}: inputs {[(i['name'], i['dtype']) for i in found['inputs']]}, outputs {[o['name'] for o in found['outputs']]}, task {found['task']['kind']}")
    for note in found["notes"]:
        print(f"  guessed {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
