"""TensorRTRunner's serving path on a real GPU: its own CUDA stream, pinned input buffers the batcher
stacks a batch in, several execution contexts of one engine run from several threads at once.

SKIPPED unless ``tensorrt`` imports and torch sees a CUDA GPU (the GPU machine, after the device
kit: ``source .device/kit/env.sh; cd toolkit; python3 -m pytest -q tests/test_tensorrt_serving_runner.py``).
"""
from __future__ import annotations

import importlib.util
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

pytestmark = pytest.mark.skipif(importlib.util.find_spec("tensorrt") is None or not torch.cuda.is_available(),
                                reason="needs TensorRT and a CUDA GPU")


@pytest.fixture(scope="module")
def engine(exported: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The digits model as an fp32 TensorRT engine with a batch profile of 1..64 (no TF32)."""
    import tensorrt as trt

    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    network = builder.create_network(0)
    parser = trt.OnnxParser(network, logger)
    assert parser.parse(Path(exported["onnx"]["path"]).read_bytes()), [parser.get_error(i) for i in range(parser.num_errors)]
    config = builder.create_builder_config()
    config.clear_flag(trt.BuilderFlag.TF32)
    profile = builder.create_optimization_profile()
    name = network.get_input(0).name
    profile.set_shape(name, (1, 1, 8, 8), (32, 1, 8, 8), (64, 1, 8, 8))
    config.add_optimization_profile(profile)
    path = tmp_path_factory.mktemp("trt") / "digits.plan"
    path.write_bytes(bytes(builder.build_serialized_network(network, config)))
    return path


def _x(rows: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(rows, 1, 8, 8)).astype(np.float32)


def test_own_stream_run_matches_infer(engine):
    from modelship_toolkit.tensorrt.runner import TensorRTRunner

    plain, serving = TensorRTRunner(engine), TensorRTRunner(engine, own_stream=True)
    name = serving.input_names[0]
    x = _x(48, 1)
    expected = plain.infer_numpy({name: x})
    got = serving.run({name: x})  # pageable: staged through the runner's pinned pool
    for out in serving.output_names:
        np.testing.assert_allclose(got[out], expected[out], atol=1e-5)
    readonly = x[:5].copy()
    readonly.flags.writeable = False  # a request body's bytes: copied to pinned memory first
    got = serving.run({name: readonly})
    np.testing.assert_allclose(got[serving.output_names[0]], expected[serving.output_names[0]][:5], atol=1e-5)


def test_clones_share_the_engine_and_run_from_threads_at_once(engine):
    from modelship_toolkit.tensorrt.runner import TensorRTRunner

    first = TensorRTRunner(engine, own_stream=True)
    clones = [first, first.clone(), first.clone()]
    assert all(c.engine is first.engine for c in clones) and len({id(c.context) for c in clones}) == 3
    name = first.input_names[0]
    xs = [_x(64, seed) for seed in range(12)]
    expected = [TensorRTRunner(engine).infer_numpy({name: x}) for x in xs]
    got: dict[int, Any] = {}

    def work(k: int) -> None:
        for i in range(k, len(xs), len(clones)):
            got[i] = clones[k].run({name: xs[i]})

    threads = [threading.Thread(target=work, args=(k,)) for k in range(len(clones))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(got) == list(range(len(xs)))
    out = first.output_names[0]
    for i in range(len(xs)):
        np.testing.assert_allclose(got[i][out], expected[i][out], atol=1e-5)



def test_the_pinned_pool_hands_out_pinned_memory():
    from modelship_toolkit.tensorrt.runner import PinnedPool

    assert torch.from_numpy(PinnedPool().take((4, 8), np.dtype(np.float32))).is_pinned()


def test_run_parts_copies_shared_memory_straight_to_the_gpu_and_names_the_request_with_nan(engine, tmp_path):
    """Requests stacked on the GPU: one in a shared memory region registered with CUDA (no CPU
    copy), one inline, one with NaN in shared memory — that one alone is refused."""
    import uuid

    from modelship_toolkit.serve.shm import SharedMemoryRegistry
    from modelship_toolkit.tensorrt.runner import TensorRTRunner

    runner = TensorRTRunner(engine, own_stream=True)
    name = runner.input_names[0]
    good, inline, bad = _x(5, 7), _x(3, 8), _x(2, 9)
    bad[1, 0, 3, 3] = np.nan
    key = f"modelship-test-{uuid.uuid4().hex[:8]}"
    Path("/dev/shm", key).write_bytes(good.tobytes() + bad.tobytes())
    try:
        registry = SharedMemoryRegistry(True)
        registry.register("r", {"key": key, "byte_size": good.nbytes + bad.nbytes})
        shm_good = registry.tensor({"shared_memory_region": "r", "shared_memory_byte_size": good.nbytes}, list(good.shape), good.dtype, "inputs[0]")
        shm_bad = registry.tensor({"shared_memory_region": "r", "shared_memory_byte_size": bad.nbytes, "shared_memory_offset": good.nbytes},
                                  list(bad.shape), bad.dtype, "inputs[0]")
        outputs, problems = runner.run_parts([{name: shm_good}, {name: inline}, {name: shm_bad}])
        assert shm_good.region.view("cuda-registered", lambda r: None) is not None, "the region was not registered with CUDA"
        expected = TensorRTRunner(engine).infer_numpy({name: np.concatenate([good, inline])})
        out = runner.output_names[0]
        np.testing.assert_allclose(outputs[out][:8], expected[out], atol=1e-5)
        assert list(problems) == [2] and "inputs[0]: contains NaN or infinity" in str(problems[2])
    finally:
        Path("/dev/shm", key).unlink()
