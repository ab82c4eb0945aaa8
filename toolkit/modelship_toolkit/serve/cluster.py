"""One worker's view of a runtime started with ``--workers N`` (workers.py): N processes serve the
same ports (``SO_REUSEPORT``), so a client's call lands on any of them, yet every call that changes
state must change it in all of them.

Each worker also listens on a private loopback port (its *peer port*). A call that changes state —
``POST /admin/{load,weights,promote,rollback}`` and the shared memory ``register``/``unregister``
— is replicated:

1. the worker that received it hands it to the *leader* (worker 0), unless it is the leader;
2. the leader, one such call at a time, applies it to itself through its own peer port, then, if
   it succeeded, to every other worker at once;
3. the answer is the leader's own, or 502 naming the workers that did not apply it.

A call between workers carries ``x-modelship-peer: <secret>`` (the supervisor hands the secret to
its workers on their stdin) and ``x-modelship-peer-op: lead|apply``; without the secret a peer
header is ignored. Authorization is still checked by each worker (the call carries the client's
``Authorization`` header). ``GET /metrics`` on any worker sums every worker's counters.
"""
from __future__ import annotations

import asyncio
import hmac
import http.client
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import orjson

#: Header carrying the pool's secret on calls between workers.
PEER_HEADER = "x-modelship-peer"
#: What a worker is asked to do with a call from a peer: ``lead`` (replicate it: the leader only)
#: or ``apply`` (to itself only).
PEER_OP_HEADER = "x-modelship-peer-op"
#: Longest wait for a peer's answer to a replicated call (loading an engine takes a while), seconds.
APPLY_TIMEOUT_S = 600.0
#: Longest wait for a peer's metrics, seconds.
METRICS_TIMEOUT_S = 10.0
#: Longest wait, at startup, for the supervisor to say who the peers are, seconds.
PEERS_TIMEOUT_S = 60.0

_ADMIN_MUTATIONS = frozenset({"/admin/load", "/admin/weights", "/admin/promote", "/admin/rollback"})


def replicated(method: str, path: str) -> bool:
    """True for the calls that change a worker's state (``path`` without a trailing slash)."""
    if method != "POST":
        return False
    if path in _ADMIN_MUTATIONS:
        return True
    return path.startswith("/v2/systemsharedmemory/") and path.rsplit("/", 1)[-1] in ("register", "unregister")


@dataclass(frozen=True)
class PeerReply:
    """A worker's answer to a call: status and body (JSON bytes)."""

    status: int
    body: bytes


class Cluster:
    """The workers of one runtime, as one worker sees them.

    Args:
        index: this worker's place (0 is the leader).
        count: workers in all.
    """

    def __init__(self, index: int, count: int) -> None:
        self.index, self.count = index, count
        self._peer_ports: list[int] = []
        self._secret = b""
        self._known = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock: asyncio.Lock | None = None
        # Calls to peers wait in threads of their own: were they in the loop's default executor, a
        # worker holding calls it forwarded could leave no thread to apply what the leader sends it.
        self._calls = ThreadPoolExecutor(max(8, 2 * count), thread_name_prefix="peer-call")

    @property
    def is_leader(self) -> bool:
        """Worker 0 orders every replicated call."""
        return self.index == 0

    def bind_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        """The event loop the worker serves on (set before :meth:`set_peers` is called)."""
        self._loop = loop
        self._lock = asyncio.Lock()

    def set_peers(self, ports: list[int], secret: str) -> None:
        """Every worker's peer port (in worker order) and the pool's secret; callable from any
        thread (the worker's stdin reader)."""
        if len(ports) != self.count or not secret:
            raise ValueError(f"expected {self.count} peer ports and a secret, got {ports!r}")
        self._peer_ports, self._secret = list(ports), secret.encode()
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._known.set)
        else:
            self._known.set()

    def peer_op(self, secret: str | None, op: str | None) -> str | None:
        """``lead`` / ``apply`` for a call from a peer (right secret), else None (a client's call)."""
        if not secret or not self._secret or not hmac.compare_digest(secret.encode(), self._secret):
            return None
        return op if op in ("lead", "apply") else None

    async def replicate(self, method: str, target: str, body: bytes, headers: Mapping[str, str], *, lead: bool) -> PeerReply:
        """Applies a state-changing call to every worker (see the module's docstring).

        Args:
            target: path and query string.
            headers: the client's headers to pass on (``authorization``, ``content-type``).
            lead: this worker was asked to lead it (it is the leader).
        """
        await self._wait_for_peers()
        if not self.is_leader and not lead:
            return await self._call(0, method, target, body, headers, "lead", APPLY_TIMEOUT_S)
        assert self._lock is not None
        async with self._lock:
            own = await self._call(self.index, method, target, body, headers, "apply", APPLY_TIMEOUT_S)
            if own.status >= 400:
                return own
            others = [i for i in range(self.count) if i != self.index]
            replies = await asyncio.gather(*(self._call(i, method, target, body, headers, "apply", APPLY_TIMEOUT_S) for i in others))
        failed = [(i, r) for i, r in zip(others, replies) if r.status != own.status]
        if not failed:
            return own
        detail = "; ".join(f"worker {i}: {r.status} {error_of(r)}" for i, r in failed)
        return PeerReply(502, orjson.dumps({
            "error": f"{method} {target.split('?')[0]} applied on worker {self.index} but not on {len(failed)} of the runtime's "
                     f"{self.count} workers ({detail}); its workers now disagree: retry the call, or restart the runtime",
        }))

    async def metrics_of_others(self) -> list[bytes]:
        """Every other worker's own ``/metrics`` exposition (raises OSError when one is unreachable)."""
        await self._wait_for_peers()
        others = [i for i in range(self.count) if i != self.index]
        replies = await asyncio.gather(*(self._call(i, "GET", "/metrics", b"", {}, "apply", METRICS_TIMEOUT_S) for i in others))
        for i, r in zip(others, replies):
            if r.status != 200:
                raise OSError(f"worker {i} answered /metrics with {r.status}")
        return [r.body for r in replies]

    async def _wait_for_peers(self) -> None:
        if not self._known.is_set():
            try:
                await asyncio.wait_for(self._known.wait(), PEERS_TIMEOUT_S)
            except TimeoutError:
                raise OSError("this worker has not been told its peers yet; retry in a moment") from None

    async def _call(self, index: int, method: str, target: str, body: bytes, headers: Mapping[str, str], op: str, timeout: float) -> PeerReply:
        loop = asyncio.get_running_loop()
        sent = {**headers, PEER_HEADER: self._secret.decode(), PEER_OP_HEADER: op}
        try:
            return await loop.run_in_executor(self._calls, _http_call, self._peer_ports[index], method, target, body, sent, timeout)
        except OSError as e:
            return PeerReply(502, orjson.dumps({"error": f"worker {index} of the runtime is unreachable: {e}"}))


def _http_call(port: int, method: str, target: str, body: bytes, headers: dict[str, str], timeout: float) -> PeerReply:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, target, body=body if method == "POST" else None, headers=headers)
        r = conn.getresponse()
        return PeerReply(r.status, r.read())
    finally:
        conn.close()


def error_of(reply: PeerReply) -> str:
    """The ``error`` of a reply's JSON body (or the start of the body)."""
    try:
        obj: Any = orjson.loads(reply.body)
        return str(obj.get("error", obj))[:300] if isinstance(obj, dict) else str(obj)[:300]
    except ValueError:
        return reply.body[:300].decode("utf-8", "replace")
