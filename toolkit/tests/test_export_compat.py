"""The exporter takes models as users write them: fast paths off, the toolkit's own symbolics, and
errors that name the operator with real ways out."""
from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest
import torch
import torch.nn.functional as F

from modelship_toolkit import exporter
from modelship_toolkit.errors import BadInput

PLAN = exporter.Plan("torchscript", 17)


class Encoder(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.enc = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0, batch_first=True), 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.enc(x)


class Warp(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.theta = torch.nn.Linear(1, 6)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        theta = self.theta(image.mean(dim=(1, 2, 3)).unsqueeze(1)).view(-1, 2, 3)
        grid = F.affine_grid(theta, list(image.shape), align_corners=False)
        return F.grid_sample(image, grid, align_corners=False)


class Spectrum(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.fft.rfft(x).abs()


def _export(model: torch.nn.Module, x: torch.Tensor, path, axes: dict[int, str]) -> exporter.Adjustments:
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)  # as the toolkit loads checkpoints
    return exporter.export(model, (x,), path, PLAN, input_names=["x"], output_names=["y"], dynamic_axes={"x": axes, "y": axes})


def test_a_stock_transformer_encoder_in_eval_mode_exports_with_its_fast_path_off(tmp_path):
    model, x = Encoder(), torch.randn(2, 5, 16)
    adjusted = _export(model, x, tmp_path / "m.onnx", {0: "batch", 1: "seq"})
    assert adjusted.fast_paths_off == ["enc.layers.0", "enc.layers.0.self_attn"] and adjusted.fast_paths_how
    assert not any(p.requires_grad for p in model.parameters())  # restored
    longer = torch.randn(3, 9, 16)
    got = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"]).run(None, {"x": longer.numpy()})[0]
    with torch.no_grad():
        assert np.allclose(got, model(longer).numpy(), atol=1e-4)


def test_affine_grid_exports_with_the_toolkit_symbolic_and_keeps_h_and_w_dynamic(tmp_path):
    torch.manual_seed(0)
    model = Warp()
    adjusted = _export(model, torch.rand(2, 1, 8, 8), tmp_path / "m.onnx", {0: "batch", 2: "h", 3: "w"})
    assert adjusted.symbolics == ["aten::affine_grid_generator"]
    other = torch.rand(3, 1, 12, 7)
    got = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"]).run(None, {"x": other.numpy()})[0]
    with torch.no_grad():
        assert np.allclose(got, model(other).numpy(), atol=1e-5)


def test_an_operator_no_exporter_knows_is_named_with_ways_out_not_an_opset_hint(tmp_path):
    with pytest.raises(BadInput) as err:
        _export(Spectrum(), torch.randn(2, 16), tmp_path / "m.onnx", {0: "batch"})
    e = err.value
    assert e.field == "manifest.model.entrypoint" and e.type == "ExportFailed"
    assert "aten::fft_rfft" in e.message and torch.__version__ in e.message
    assert "register_custom_op_symbolic('aten::fft_rfft'" in e.hint and "lower export.opset" not in e.hint
    assert not (tmp_path / "m.onnx").exists()
