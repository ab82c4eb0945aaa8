"""What CUDA devices the host has, as torch sees them, and the NVIDIA driver version."""
from __future__ import annotations

import shutil
import subprocess
from typing import Any


def driver_version() -> str | None:
    """Returns the NVIDIA driver version via pynvml, else ``nvidia-smi``, else None."""
    try:
        import pynvml

        pynvml.nvmlInit()
        try:
            v = pynvml.nvmlSystemGetDriverVersion()
            return v.decode() if isinstance(v, bytes) else str(v)
        finally:
            pynvml.nvmlShutdown()
    except Exception:  # noqa: BLE001 - absent or no driver: try the next way
        pass
    if shutil.which("nvidia-smi"):
        try:
            out = subprocess.run(
                ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                capture_output=True, text=True, timeout=20, check=True,
            ).stdout.strip().splitlines()
            return out[0].strip() if out else None
        except (subprocess.SubprocessError, OSError):
            return None
    return None


def cuda() -> dict[str, Any]:
    """Returns the doctor's ``cuda`` object: availability, CUDA version, driver and devices."""
    try:
        import torch
    except ImportError:
        return {"available": False, "version": None, "driver": driver_version(), "devices": []}
    available = bool(torch.cuda.is_available())
    devices = []
    if available:
        for i in range(torch.cuda.device_count()):
            props = torch.cuda.get_device_properties(i)
            try:
                free: int | None = int(torch.cuda.mem_get_info(i)[0])
            except Exception:  # noqa: BLE001 - older torch or a busy device
                free = None
            devices.append({
                "index": i,
                "name": props.name,
                "computeCapability": f"{props.major}.{props.minor}",
                "arch": f"sm{props.major}{props.minor}",
                "memoryBytes": int(props.total_memory),
                "freeBytes": free,
            })
    return {"available": available, "version": torch.version.cuda, "driver": driver_version(), "devices": devices}
