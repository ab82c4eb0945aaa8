"""One module per toolkit command; each exposes ``run(request: dict) -> dict``."""
