"""Tests of modelship_toolkit.tensorrt.

The pure parts (dtype mapping, feed checks, the clear error without TensorRT) run everywhere.
The engine tests are SKIPPED unless ``tensorrt`` is importable and a CUDA device is visible:
TensorRT cannot run on the development machines, so they only run on a GPU worker image.
"""
from __future__ import annotations

import importlib.util
import inspect
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from modelship_toolkit.tensorrt.dtypes import TENSORRT_TO_TORCH, torch_dtype_for  # noqa: E402
from modelship_toolkit.tensorrt.runner import TensorRTUnavailableError, check_feed, import_tensorrt  # noqa: E402

HAS_TENSORRT = importlib.util.find_spec("tensorrt") is not None
HAS_GPU = HAS_TENSORRT and torch.cuda.is_available()


class _FakeDataType:
    """Stands in for a ``tensorrt.DataType`` member: only ``.name`` is read."""

    def __init__(self, name: str) -> None:
        self.name = name


@pytest.mark.parametrize(
    ("trt_name", "expected"),
    [
        ("FLOAT", torch.float32),
        ("HALF", torch.float16),
        ("BF16", torch.bfloat16),
        ("INT8", torch.int8),
        ("INT32", torch.int32),
        ("INT64", torch.int64),
        ("BOOL", torch.bool),
        ("UINT8", torch.uint8),
    ],
)
def test_dtype_mapping(trt_name: str, expected: torch.dtype) -> None:
    assert torch_dtype_for(_FakeDataType(trt_name)) is expected
    assert torch_dtype_for(f"DataType.{trt_name}") is expected
    assert torch_dtype_for(trt_name.lower()) is expected


def test_dtype_mapping_refuses_types_torch_cannot_hold() -> None:
    with pytest.raises(TypeError, match="INT4 has no torch equivalent"):
        torch_dtype_for(_FakeDataType("INT4"))
    if not hasattr(torch, "float8_e4m3fn"):
        with pytest.raises(TypeError, match="needs torch.float8_e4m3fn"):
            torch_dtype_for("FP8")
    assert set(TENSORRT_TO_TORCH) >= {"FLOAT", "HALF", "BF16", "INT8", "INT32", "INT64", "BOOL"}


def test_check_feed_names_missing_and_unknown_inputs() -> None:
    check_feed(["x", "mask"], {"mask": 1, "x": 2})
    with pytest.raises(KeyError, match=r"missing inputs \['mask'\]; unknown inputs \['y'\]"):
        check_feed(["x", "mask"], {"x": 1, "y": 2})


@pytest.mark.skipif(HAS_TENSORRT, reason="tensorrt is installed here")
def test_clear_error_without_tensorrt() -> None:
    from modelship_toolkit.tensorrt import TensorRTRunner

    with pytest.raises(TensorRTUnavailableError, match="tensorrt Python module is not importable"):
        import_tensorrt()
    with pytest.raises(TensorRTUnavailableError):
        TensorRTRunner("/nonexistent.engine")


@pytest.mark.skipif(not HAS_GPU, reason="needs the tensorrt module and a CUDA GPU (GPU worker image only)")
def test_runner_matches_pytorch_on_a_dynamic_engine(tmp_path: Path) -> None:
    """Builds a small dynamic-batch engine with the TensorRT builder API and compares with PyTorch."""
    trt = import_tensorrt()
    from modelship_toolkit.tensorrt import TensorRTRunner

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(8, 10)).eval()
    onnx_path = tmp_path / "m.onnx"
    # torch >= 2.9 exports with dynamo by default; its opset-18 model down-converted to 17 broke
    # ONNX's version converter and TensorRT's parser on the H200 (2026-11-30). TorchScript it is.
    legacy = {"dynamo": False} if "dynamo" in inspect.signature(torch.onnx.export).parameters else {}
    torch.onnx.export(model, (torch.randn(2, 3, 16, 16),), str(onnx_path), input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}}, opset_version=17, **legacy)

    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    network = builder.create_network(0)
    parser = trt.OnnxParser(network, logger)
    assert parser.parse(onnx_path.read_bytes()), [parser.get_error(i).desc() for i in range(parser.num_errors)]
    config = builder.create_builder_config()
    profile = builder.create_optimization_profile()
    profile.set_shape("input", (1, 3, 16, 16), (4, 3, 16, 16), (8, 3, 16, 16))
    config.add_optimization_profile(profile)
    plan = builder.build_serialized_network(network, config)
    engine_path = tmp_path / "m.engine"
    engine_path.write_bytes(bytes(plan))

    runner = TensorRTRunner(engine_path)
    assert runner.input_names == ["input"]
    assert runner.output_names == ["logits"]
    assert runner.tensors[0].shape == (-1, 3, 16, 16)
    for batch in (1, 5, 8):
        x = torch.randn(batch, 3, 16, 16)
        got = runner.infer({"input": x})["logits"]
        assert got.shape == (batch, 10) and got.is_cuda
        torch.testing.assert_close(got.cpu(), model(x).detach(), rtol=1e-3, atol=1e-3)
    with pytest.raises(ValueError, match="outside the engine's optimization profile"):
        runner.infer({"input": torch.randn(9, 3, 16, 16)})
    runner.close()


def test_numpy_and_torch_dtypes_map_both_ways():
    import numpy as np
    import torch

    from modelship_toolkit.tensorrt.dtypes import numpy_dtype_of, torch_dtype_of

    for np_dtype, t_dtype in ((np.float32, torch.float32), (np.float16, torch.float16), (np.int64, torch.int64), (np.uint8, torch.uint8)):
        assert torch_dtype_of(np.dtype(np_dtype)) == t_dtype and numpy_dtype_of(t_dtype) == np.dtype(np_dtype)
