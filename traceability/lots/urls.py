"""Where a lot is on the web: its page under our public URL, its GS1 Digital Link."""

from __future__ import annotations

# GS1's resolver: a lot with a GTIN is named there the same way everywhere.
GS1_RESOLVER = "https://id.gs1.org"


def lot_url(base: str, lot: str, gtin: str | None = None) -> str:
    """A lot's address under `base`: the GS1 Digital Link form `/01/{gtin}/10/{lot}` when it has a
    GTIN, else its page `/b/{lot}`."""
    base = base.rstrip("/")
    return f"{base}/01/{gtin}/10/{lot}" if gtin else f"{base}/b/{lot}"
