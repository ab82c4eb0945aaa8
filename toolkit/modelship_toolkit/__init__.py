"""modelship's model-compute toolkit: one JSON request in, one JSON result out.

    python -m modelship_toolkit <inspect|export|build|parity|bench|doctor> --request req.json --result res.json

Request and result shapes are generated from lib/toolkit-contract.ts into ``schemas/``.
"""

__version__ = "0.1.0"
