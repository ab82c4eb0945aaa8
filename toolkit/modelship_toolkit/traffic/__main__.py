"""``python -m modelship_toolkit.traffic``: replays a .npz dataset against a modelship server at a
fixed rate and prints a JSON summary. Exits 0 when every request was answered 200, 1 otherwise,
2 on bad arguments or data."""
from __future__ import annotations

import argparse
import json
import sys

from .generator import TrafficConfig, run_traffic


def main(argv: list[str] | None = None) -> int:
    """Parses flags, runs the traffic, prints the summary."""
    p = argparse.ArgumentParser(prog="python -m modelship_toolkit.traffic", description=__doc__.splitlines()[0])
    p.add_argument("--url", default="http://127.0.0.1:8100")
    p.add_argument("--model", required=True)
    p.add_argument("--data", required=True, help=".npz with an array per model input (named as the input; x for a model of one input) and y (labels)")
    p.add_argument("--rate", type=float, default=50.0, help="requests per second (open loop)")
    p.add_argument("--duration", type=float, default=30.0, help="seconds")
    p.add_argument("--labels", action="store_true", help="send y as the x-modelship-label header (live accuracy)")
    p.add_argument("--x-array", default="x")
    p.add_argument("--y-array", default="y")
    p.add_argument("--input-name", help="default: the model's first input from GET /v2/models/{model}")
    p.add_argument("--batch", type=int, default=1, help="samples per request")
    p.add_argument("--id-prefix", default="traffic", help="request ids are <prefix>-<i> (sticky routing); '' for none")
    p.add_argument("--timeout", type=float, default=10.0)
    p.add_argument("--seed", type=int, default=0, help="samples go out in an order shuffled with this seed, as live traffic has no order (default 0)")
    p.add_argument("--in-file-order", action="store_true", help="send the samples in the file's order instead")
    a = p.parse_args(argv)
    if a.rate <= 0 or a.duration <= 0 or a.batch < 1:
        print("error: --rate and --duration must be > 0, --batch >= 1", file=sys.stderr)
        return 2
    cfg = TrafficConfig(url=a.url, model=a.model, data=a.data, rate=a.rate, duration=a.duration, labels=a.labels, x_array=a.x_array,
                        y_array=a.y_array, input_name=a.input_name, batch=a.batch, id_prefix=a.id_prefix or None, timeout=a.timeout,
                        shuffle_seed=None if a.in_file_order else a.seed)
    try:
        summary = run_traffic(cfg)
    except (OSError, KeyError, ValueError, RuntimeError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(json.dumps(summary, indent=2))
    return 0 if set(summary["by_status"]) <= {"200"} else 1


if __name__ == "__main__":
    sys.exit(main())
