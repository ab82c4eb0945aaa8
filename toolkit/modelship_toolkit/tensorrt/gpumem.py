"""Peak GPU memory of a process while it runs, read through NVML (``pynvml``).

``python -m modelship_toolkit.tensorrt.gpumem --pid <pid> --index <nvml index>`` samples until the
process ends (or this one gets SIGTERM/SIGINT), then prints one JSON line::

    {"source": "nvml", "peakBytes": 123, "scope": "process"|"device", "samples": 40}

``scope`` is ``process`` when NVML lists the pid among the GPU's compute processes (its
``usedGpuMemory``), else ``device``: the device's used memory above what it was when sampling began
(inside containers NVML may not see host pids). Without pynvml or a driver it prints
``{"source": null, "peakBytes": null, "reason": "..."}`` and exits 0, so callers fall back to the
trtexec log's ``[MemUsageChange]`` lines.

NVML numbers GPUs by PCI order and ignores CUDA_VISIBLE_DEVICES: pass the physical index.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from typing import Any


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie child still answers kill(0)
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][:1] != "Z"
    except OSError:
        return True


class Sampler:
    """Samples one GPU's memory for one pid; ``peak()`` says what was seen."""

    def __init__(self, index: int, pid: int) -> None:
        import pynvml  # noqa: PLC0415 - optional dependency

        self._nvml = pynvml
        pynvml.nvmlInit()
        self.handle = pynvml.nvmlDeviceGetHandleByIndex(index)
        self.pid = pid
        self.baseline = int(pynvml.nvmlDeviceGetMemoryInfo(self.handle).used)
        self.process_peak: int | None = None
        self.device_peak = 0
        self.samples = 0

    def sample(self) -> None:
        """Takes one reading."""
        n = self._nvml
        self.samples += 1
        used = int(n.nvmlDeviceGetMemoryInfo(self.handle).used)
        self.device_peak = max(self.device_peak, used - self.baseline)
        try:
            procs = n.nvmlDeviceGetComputeRunningProcesses(self.handle)
        except n.NVMLError:
            procs = []
        for p in procs:
            mem = getattr(p, "usedGpuMemory", None)
            if p.pid == self.pid and isinstance(mem, int):
                self.process_peak = max(self.process_peak or 0, mem)

    def peak(self) -> dict[str, Any]:
        """The reading: process scope when NVML listed the pid with its memory, else device scope.

        A reading of 0 is no reading: in the H200 container NVML listed trtexec with 0 bytes and the
        device's used memory never rose above the baseline, and the benchmark reported 0 MiB. Then
        the source is None and callers use trtexec's ``[MemUsageChange]`` lines instead.
        """
        if self.process_peak:
            return {"source": "nvml", "peakBytes": self.process_peak, "scope": "process", "samples": self.samples}
        if self.device_peak > 0:
            return {"source": "nvml", "peakBytes": self.device_peak, "scope": "device", "samples": self.samples}
        return {"source": None, "peakBytes": None, "samples": self.samples,
                "reason": "NVML saw no memory for the process or the device (a container's NVML may not account for it)"}

    def close(self) -> None:
        """Shuts NVML down."""
        try:
            self._nvml.nvmlShutdown()
        except Exception:  # noqa: BLE001
            pass


def watch(pid: int, index: int, interval_s: float = 0.05, max_seconds: float | None = None) -> dict[str, Any]:
    """Samples until ``pid`` ends (or SIGTERM/SIGINT, or ``max_seconds``); returns the reading."""
    try:
        sampler = Sampler(index, pid)
    except ImportError:
        return {"source": None, "peakBytes": None, "reason": "pynvml is not installed (pip install nvidia-ml-py)"}
    except Exception as err:  # noqa: BLE001 - no driver, bad index
        return {"source": None, "peakBytes": None, "reason": f"NVML unavailable: {type(err).__name__}: {err}"}
    stop = {"now": False}

    def _stop(*_: Any) -> None:
        stop["now"] = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    started = time.monotonic()
    try:
        while not stop["now"] and _alive(pid):
            sampler.sample()
            if max_seconds is not None and time.monotonic() - started > max_seconds:
                break
            time.sleep(interval_s)
        return sampler.peak()
    finally:
        sampler.close()


def main(argv: list[str] | None = None) -> int:
    """Command line: ``--pid N --index I [--interval-ms 50]``; prints one JSON line."""
    parser = argparse.ArgumentParser(prog="python -m modelship_toolkit.tensorrt.gpumem", description=__doc__)
    parser.add_argument("--pid", type=int, required=True)
    parser.add_argument("--index", type=int, default=0)
    parser.add_argument("--interval-ms", type=float, default=50)
    parser.add_argument("--max-seconds", type=float, default=None)
    args = parser.parse_args(argv)
    print(json.dumps(watch(args.pid, args.index, args.interval_ms / 1000, args.max_seconds)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
