"""The toolkit's command list and exit codes, as the orchestration defines them.

``lib/toolkit-contract.ts`` is the one definition; ``make schemas`` writes it to
``schemas/contract.json`` beside the request/result schemas, and this module reads it, so the CLI
never keeps its own copy in step by hand.
"""
from __future__ import annotations

import json
from pathlib import Path

_CONTRACT = json.loads((Path(__file__).parent / "schemas" / "contract.json").read_text())

COMMANDS: tuple[str, ...] = tuple(_CONTRACT["commands"])
"""Every toolkit command, each with ``schemas/<command>.request.json`` and ``.result.json``."""

EXIT_CODES: dict[str, int] = dict(_CONTRACT["exitCodes"])
"""``Ok``, ``Crash``, ``BadInput``, ``GateFailed`` → the process exit code."""
