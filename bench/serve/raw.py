"""The model's raw throughput in a tight loop, no server: the ceiling serving is measured against."""
from __future__ import annotations

import time

import numpy as np


def raw_throughput(run, samples: np.ndarray, batches: list[int], seconds: float = 3.0) -> dict:
    """Samples/s of ``run(batch_array)`` at each batch size (after a warm-up); the best one."""
    out = {}
    for b in batches:
        x = np.ascontiguousarray(np.resize(samples, (b, *samples.shape[1:])).astype(np.float32))
        for _ in range(5):
            run(x)
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            run(x)
            n += b
        out[b] = n / (time.perf_counter() - t0)
    best = max(out, key=out.get)
    return {"perBatch": {str(k): v for k, v in out.items()}, "bestBatch": best, "bestPerSec": out[best]}


def onnxruntime_runner(engine_path: str):
    """A run function over an ONNX Runtime CPU session."""
    import onnxruntime as ort

    sess = ort.InferenceSession(engine_path, providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    return lambda x: sess.run(None, {name: x})


def torch_runner(model, device: str):
    """A run function over a PyTorch module on a device (synchronised, so timings are real)."""
    import torch

    model = model.eval().to(device)

    def run(x):
        with torch.inference_mode():
            y = model(torch.from_numpy(x).to(device))
            if device.startswith("cuda"):
                torch.cuda.synchronize()
            return y.cpu()

    return run
