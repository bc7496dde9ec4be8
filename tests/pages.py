"""Reading the HTML pages as a person, or a form, would."""

from __future__ import annotations

import re


def text_of(html: str) -> str:
    """What a reader sees, roughly: tags dropped, whitespace collapsed."""
    body = re.sub(r"<(style|title)>.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)).replace("&#39;", "'")


def hidden(html: str, name: str) -> str:
    """The value of a form's hidden field."""
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found is not None, f"no field {name} on the page"
    return found.group(1)
