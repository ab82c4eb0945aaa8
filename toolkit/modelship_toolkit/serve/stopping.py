"""The runtime's "stop now" flag, set by SIGTERM/SIGINT or by any thread.

Its signal handler takes no lock. A ``threading.Event`` does not do: ``Event.set()`` takes the
event's lock, and Python runs a handler in the main thread between two bytecodes — so a second
signal arriving while the first handler is inside ``set()`` (or while the main thread is inside
``wait()``) deadlocks the process on that lock. The supervisor of ``--workers`` sends its workers
SIGTERM more than once, which is how this was found.
"""
from __future__ import annotations

import signal
import time


class StopFlag:
    """Set once, never cleared; :meth:`wait` polls it."""

    #: How often :meth:`wait` looks at the flag, seconds.
    POLL_S = 0.1

    def __init__(self) -> None:
        self._reasons: list[int] = []  # list.append is atomic and takes no lock a handler could hold

    def install(self) -> StopFlag:
        """Sets the flag on SIGTERM and SIGINT (call from the main thread)."""
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda signum, _frame: self._reasons.append(signum))
        return self

    def set(self) -> None:
        """Asks to stop (from any thread)."""
        self._reasons.append(0)

    def is_set(self) -> bool:
        """True once asked to stop."""
        return bool(self._reasons)

    def wait(self, timeout: float | None = None) -> bool:
        """Waits until set or ``timeout`` seconds have passed; returns :meth:`is_set`."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._reasons:
            left = self.POLL_S if deadline is None else min(self.POLL_S, deadline - time.monotonic())
            if left <= 0:
                break
            time.sleep(left)
        return self.is_set()
