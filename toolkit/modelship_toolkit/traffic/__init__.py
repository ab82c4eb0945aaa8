"""Open-loop traffic generator for a modelship server: replays a ``.npz`` dataset at a fixed rate.

    python -m modelship_toolkit.traffic --url http://127.0.0.1:8100 --model digits \\
        --data examples/digits/data/heldout.npz --rate 50 --duration 30 --labels
"""
from .generator import TrafficConfig, run_traffic

__all__ = ["TrafficConfig", "run_traffic"]
