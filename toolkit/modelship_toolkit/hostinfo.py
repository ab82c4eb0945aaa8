"""What the host is: CPU model, cores, memory, peak memory of this process."""
from __future__ import annotations

import os
import platform
import resource
import socket
import sys
from typing import Any


def cpu_model() -> str:
    """Returns the CPU model name from /proc/cpuinfo, else what platform knows."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def cores() -> int:
    """Returns the logical CPU count of the host."""
    return os.cpu_count() or 1


def memory_bytes() -> int:
    """Returns the host's physical memory in bytes (0 when unknown)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 0


def peak_rss_bytes() -> int:
    """Returns this process's peak resident set size in bytes (ru_maxrss: KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)


def host() -> dict[str, Any]:
    """Returns ``{hostname, os, cpu, cores, memoryBytes}``."""
    return {
        "hostname": socket.gethostname(),
        "os": platform.platform(),
        "cpu": cpu_model(),
        "cores": cores(),
        "memoryBytes": memory_bytes(),
    }
