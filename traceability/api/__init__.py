"""The HTTP API (protocol §2-§5) on FastAPI."""
