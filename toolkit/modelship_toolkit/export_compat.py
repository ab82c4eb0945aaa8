"""Making the TorchScript exporter take the models users write.

Two gaps of older exporters, closed at their root:

* **Inference fast paths.** In eval mode ``nn.TransformerEncoderLayer`` and ``nn.MultiheadAttention``
  call fused kernels (``aten::_transformer_encoder_layer_fwd``, ``aten::_native_multi_head_attention``)
  that no ONNX exporter knows. They are turned off while exporting: through
  ``torch.backends.mha.set_fastpath_enabled(False)`` where torch has it (≥ 2.1), else by exporting
  with autograd on, which those modules' fast-path checks refuse (torch 1.13's own condition).
* **Missing symbolics.** torch < 2.2 has no ONNX symbolic for ``aten::affine_grid_generator``
  (``F.affine_grid``); :func:`affine_grid_symbolic` writes it with standard ONNX operators (opset ≥ 11).
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import torch

USED: set[str] = set()
"""Operators whose toolkit symbolic ran in this process (the export report lists those of its export)."""

FAST_PATH_MODULES = (torch.nn.TransformerEncoderLayer, torch.nn.MultiheadAttention)
"""Modules that switch to fused inference kernels in eval mode."""


def fast_path_modules(model: torch.nn.Module) -> list[str]:
    """Names (as in ``named_modules``) of the model's modules that have an inference fast path."""
    return [name or type(m).__name__ for name, m in model.named_modules() if isinstance(m, FAST_PATH_MODULES)]


@contextlib.contextmanager
def fast_paths_off(model: torch.nn.Module) -> Iterator[str]:
    """Runs the body with the model's inference fast paths off; yields how they were turned off."""
    mha = getattr(torch.backends, "mha", None)
    if mha is not None and hasattr(mha, "set_fastpath_enabled"):
        before = mha.get_fastpath_enabled()
        mha.set_fastpath_enabled(False)
        try:
            yield "torch.backends.mha.set_fastpath_enabled(False)"
        finally:
            mha.set_fastpath_enabled(before)
        return
    # torch < 2.1: the fast path is skipped when grad is enabled and a weight requires grad.
    frozen = [p for p in model.parameters() if not p.requires_grad]
    for p in frozen:
        p.requires_grad_(True)
    try:
        with torch.enable_grad():
            yield "autograd enabled while tracing (this torch has no torch.backends.mha switch)"
    finally:
        for p in frozen:
            p.requires_grad_(False)


def affine_grid_symbolic(g: Any, theta: Any, size: Any, align_corners: Any) -> Any:
    """ONNX for ``aten::affine_grid_generator`` in 2-D: ``grid[n, h, w] = theta[n] @ (x_w, y_h, 1)``.

    ``size`` is ``[N, C, H, W]`` (constants or values from ``Shape``), so dynamic H and W stay dynamic.
    """
    from torch.onnx import symbolic_helper as sh

    USED.add("aten::affine_grid_generator")
    align = bool(sh._maybe_get_const(align_corners, "b"))
    sizes = sh._unpack_list(size) if sh._is_packed_list(size) else None
    if sizes is None or len(sizes) != 4:
        raise RuntimeError("affine_grid: only 2-D grids (size [N, C, H, W]) have an ONNX symbolic here")
    f32 = 1  # onnx.TensorProto.FLOAT

    def scalar(v: Any) -> Any:  # a 0-d int64 tensor value
        return g.op("Reshape", g.op("Cast", v, to_i=7), g.op("Constant", value_t=torch.tensor([], dtype=torch.int64)))

    def axis(n: Any) -> Any:  # the normalised coordinates of n pixels, float [n]
        steps = g.op("Cast", g.op("Range", g.op("Constant", value_t=torch.tensor(0, dtype=torch.int64)), n,
                                  g.op("Constant", value_t=torch.tensor(1, dtype=torch.int64))), to_i=f32)
        nf = g.op("Cast", n, to_i=f32)
        two, one = g.op("Constant", value_t=torch.tensor(2.0)), g.op("Constant", value_t=torch.tensor(1.0))
        if align:  # -1 + 2 i / (n - 1)
            return g.op("Sub", g.op("Div", g.op("Mul", steps, two), g.op("Max", g.op("Sub", nf, one), one)), one)
        return g.op("Sub", g.op("Div", g.op("Add", g.op("Mul", steps, two), one), nf), one)  # (2 i + 1) / n - 1

    n, h, w = scalar(sizes[0]), scalar(sizes[2]), scalar(sizes[3])
    vec = lambda *xs: g.op("Concat", *[g.op("Unsqueeze", x, g.op("Constant", value_t=torch.tensor([0]))) for x in xs], axis_i=0)  # noqa: E731
    hw = vec(h, w)
    xs = g.op("Expand", g.op("Unsqueeze", axis(w), g.op("Constant", value_t=torch.tensor([0]))), hw)  # [H, W]
    ys = g.op("Expand", g.op("Unsqueeze", axis(h), g.op("Constant", value_t=torch.tensor([1]))), hw)
    ones = g.op("Expand", g.op("Constant", value_t=torch.tensor(1.0)), hw)
    last = g.op("Constant", value_t=torch.tensor([-1]))
    base = g.op("Concat", *[g.op("Unsqueeze", t, last) for t in (xs, ys, ones)], axis_i=-1)  # [H, W, 3]
    flat = g.op("Reshape", base, g.op("Constant", value_t=torch.tensor([1, -1, 3])))  # [1, H*W, 3]
    grid = g.op("MatMul", flat, g.op("Transpose", g.op("Cast", theta, to_i=f32), perm_i=[0, 2, 1]))  # [N, H*W, 2]
    return g.op("Reshape", grid, g.op("Concat", vec(n, h, w), g.op("Constant", value_t=torch.tensor([2])), axis_i=0))


def register_missing_symbolics(opset: int) -> list[str]:
    """Registers the toolkit's symbolics this torch lacks at ``opset``; returns the operators registered."""
    from torch.onnx import register_custom_op_symbolic

    added = []
    if not _has_symbolic("aten::affine_grid_generator", opset):
        register_custom_op_symbolic("aten::affine_grid_generator", affine_grid_symbolic, 11)
        added.append("aten::affine_grid_generator")
    return added


def _has_symbolic(name: str, opset: int) -> bool:
    try:
        from torch.onnx._internal import registration

        return bool(registration.registry.is_registered_op(name, opset))
    except Exception:  # noqa: BLE001 - an older torch without the registry: assume missing
        return False
