"""Writes data/heldout.npz: the held-out 30% of the digits, nudged in 4 directions plus originals.

Arrays: x float32 [N,1,8,8] in [0,1]; y int64 [N]. N = 5 x 540 = 2700. Deterministic: running it
again writes the same arrays. Used by modelship for calibration and parity (see modelship.yaml).

    python prepare_data.py [--out data/heldout.npz]
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from digits_data import load_split, nudge


def main() -> None:
    """Parses flags and writes the held-out file."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(Path(__file__).parent / "data" / "heldout.npz"))
    args = parser.parse_args()
    _, _, x_ho, y_ho = load_split()
    x = nudge(x_ho).astype(np.float32)
    y = np.tile(y_ho, 5).astype(np.int64)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out, x=x, y=y)
    print(f"wrote {out}: x {x.shape} {x.dtype}, y {y.shape} {y.dtype}")


if __name__ == "__main__":
    main()
