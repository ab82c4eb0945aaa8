"""On the GPU machine: how fast a batch's bytes can reach the GPU by each path the serving runtime
has, so a served images/s can be read against the host's own ceiling.

    python3 scripts/gpu/host-rates.py [--mb 38.5] [--out rates.json]

Paths (each moves one batch of ``--mb`` MB, e.g. 64 ResNet images at 224² FP32 = 38.5 MB):

- host to device from pinned memory (``cudaHostAlloc``), pageable memory, a POSIX shared memory
  object mapped and registered with CUDA (``cudaHostRegister``: what TensorRTRunner.run_parts does),
  and anonymous memory registered the same way; on 1 and on 4 streams at once;
- host copies that staging would need: memcpy into pinned memory and ``pread`` from /dev/shm into
  pinned memory, on 1, 2, 4 and 8 threads at once (numpy and os.preadv release the GIL).
"""
from __future__ import annotations

import argparse
import json
import mmap
import os
import threading
import time
from collections.abc import Callable

import numpy as np
import torch


def gbps(nbytes: float, seconds: float) -> float:
    return round(nbytes / seconds / 1e9, 2)


def h2d(src: torch.Tensor, streams: int, reps: int = 20) -> float:
    """GB/s of ``reps`` copies of ``src`` to the device on ``streams`` streams at once."""
    dev = [torch.empty(src.numel(), dtype=torch.uint8, device="cuda") for _ in range(streams)]
    ss = [torch.cuda.Stream() for _ in range(streams)]
    for d, s in zip(dev, ss):  # warm-up
        with torch.cuda.stream(s):
            d.copy_(src, non_blocking=True)
    torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(reps):
        for d, s in zip(dev, ss):
            with torch.cuda.stream(s):
                d.copy_(src, non_blocking=True)
    torch.cuda.synchronize()
    return gbps(src.numel() * reps * streams, time.perf_counter() - t)


def threaded(work: Callable[[int], None], threads: int, nbytes: int, reps: int = 10) -> float:
    """GB/s of ``threads`` threads each running ``work(i)`` ``reps`` times (each moves ``nbytes``)."""
    def loop(i: int) -> None:
        for _ in range(reps):
            work(i)
    work(0)
    ts = [threading.Thread(target=loop, args=(i,)) for i in range(threads)]
    t = time.perf_counter()
    for th in ts:
        th.start()
    for th in ts:
        th.join()
    return gbps(nbytes * reps * threads, time.perf_counter() - t)


def registered(fd: int, size: int) -> tuple[mmap.mmap, torch.Tensor]:
    m = mmap.mmap(fd, size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
    t = torch.frombuffer(m, dtype=torch.uint8)
    torch.cuda.check_error(torch.cuda.cudart().cudaHostRegister(t.data_ptr(), t.numel(), 0))
    return m, t


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--mb", type=float, default=38.5)
    p.add_argument("--out")
    a = p.parse_args()
    n = int(a.mb * 1e6)
    out: dict[str, object] = {"bytes": n, "cpus": os.cpu_count(), "gpu": torch.cuda.get_device_name()}
    pinned = torch.empty(n, dtype=torch.uint8, pin_memory=True)
    pageable = torch.from_numpy(np.random.default_rng(0).integers(0, 255, n, dtype=np.uint8))
    pinned.copy_(pageable)
    key = f"/dev/shm/modelship-rates-{os.getpid()}"
    with open(key, "wb") as f:
        f.write(pageable.numpy().tobytes())
    fd = os.open(key, os.O_RDWR)
    shm_map, shm_t = registered(fd, n)
    anon = mmap.mmap(-1, n)
    anon_t = torch.frombuffer(anon, dtype=torch.uint8)
    anon_t.copy_(pageable)
    torch.cuda.check_error(torch.cuda.cudart().cudaHostRegister(anon_t.data_ptr(), n, 0))
    for streams in (1, 4):
        out[f"h2d pinned, {streams} streams"] = h2d(pinned, streams)
        out[f"h2d pageable, {streams} streams"] = h2d(pageable, streams)
        out[f"h2d /dev/shm registered, {streams} streams"] = h2d(shm_t, streams)
        out[f"h2d anonymous registered, {streams} streams"] = h2d(anon_t, streams)
    bufs = [torch.empty(n, dtype=torch.uint8, pin_memory=True).numpy() for _ in range(8)]
    src = pageable.numpy()
    for threads in (1, 2, 4, 8):
        out[f"memcpy to pinned, {threads} threads"] = threaded(lambda i: np.copyto(bufs[i], src), threads, n)
        out[f"pread /dev/shm to pinned, {threads} threads"] = threaded(lambda i: os.preadv(fd, [bufs[i]], 0), threads, n)
    print(json.dumps(out, indent=1))
    if a.out:
        with open(a.out, "w") as f:
            json.dump(out, f, indent=1)
    os.close(fd)
    os.unlink(key)


if __name__ == "__main__":
    main()
