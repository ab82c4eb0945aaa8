"""Entry point of ``python -m modelship_toolkit``."""
import sys

from .cli import main

sys.exit(main())
