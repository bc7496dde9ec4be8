"""The browser sessions' cookies (`accounts.sessions`): one per app, each scoped to its own
path, so signing out of one leaves the other."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from ..accounts.sessions import LIFETIME

AUDIT_COOKIE, AUDIT_PATH = "suyuan_audit", "/audit"
GROWER_COOKIE, GROWER_PATH = "suyuan_grower", "/grower"
# The sign-in page's own cookie: a sign-in form posted from another site lacks it (login CSRF).
LOGIN_NONCE_COOKIE = "suyuan_login"


def cookie_options(public_url: str, path: str, lifetime: timedelta = LIFETIME) -> dict[str, Any]:
    return {
        "httponly": True,
        # Lax: the cookie rides along when the grower's phone opens a link from a chat app.
        "samesite": "lax",
        "secure": public_url.startswith("https://"),
        "max_age": int(lifetime.total_seconds()),
        "path": path,
    }
