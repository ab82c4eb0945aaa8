"""Back-pressure: a full queue answers 503 with Retry-After, a missed deadline 504 (slow model:
the package's PyTorch model sleeps 0.3 s per forward)."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from serve_harness import metric_sum


def test_full_queue_gives_503_with_retry_after(make_server):
    _, c = make_server("slow", max_queue=2, max_batch_size=1, request_timeout_ms=10000.0)
    barrier = threading.Barrier(8)

    def one(_: int):
        barrier.wait()
        return c.infer([0.0] * 64, [1, 1, 8, 8])

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(one, range(8)))
    codes = sorted(r[0] for r in results)
    assert codes.count(200) >= 2 and codes.count(503) >= 3, codes
    for status, headers, body in results:
        if status == 503:
            assert headers["retry-after"] == "1" and "queue full" in body["error"]
    # the server still answers once the queue drains
    assert c.infer([0.0] * 64, [1, 1, 8, 8])[0] == 200
    assert metric_sum(c.metrics(), "modelship_requests_total", code="503") == codes.count(503)


def test_missed_deadline_gives_504_and_health_stays_responsive(make_server):
    _, c = make_server("slow", request_timeout_ms=150.0, max_batch_size=1)
    results = []
    t = threading.Thread(target=lambda: results.append(c.infer([0.0] * 64, [1, 1, 8, 8])))
    t.start()
    assert c.request("GET", "/v2/health/ready")[0] == 200  # not blocked by the slow batch
    t.join()
    status, _, body = results[0]
    assert status == 504 and "timeout" in body["error"]
    status, _, body = c.infer([0.0] * 64, [1, 1, 8, 8])
    assert status == 504
