"""Everything a visitor reads exists in Chinese and English (issue #4, item 1)."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po
from hypothesis import given
from hypothesis import strategies as st

from public_pages import i18n

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {**DEFAULT_KEYWORDS, "N_plural": (1, 2)}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def extracted() -> set:
    # Findings are written where they are found, and said on pages in the reader's language.
    method_map = [
        ("public_pages/**.py", "python"),
        ("public_pages/templates/**.html", "jinja2"),
        ("traceability/anomalies.py", "python"),
        ("traceability/photos.py", "python"),
    ]
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(ROOT, method_map, keywords=KEYWORDS):
        found.add(message if isinstance(message, str) else tuple(message))
    return found


def catalog():
    with (i18n.CATALOGS / "zh" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle)


def test_every_message_has_a_chinese_translation_and_none_is_stale():
    messages = {m.id if isinstance(m.id, str) else tuple(m.id): m for m in catalog() if m.id}
    wanted = extracted()
    assert wanted - messages.keys() == set(), "messages without a Chinese translation"
    assert messages.keys() - wanted == set(), "translations of messages no longer used"
    for key, message in messages.items():
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(strings) and not message.fuzzy, key
        source = set(PLACEHOLDER.findall(" ".join(key if isinstance(key, tuple) else (key,))))
        for translated in strings:
            assert set(PLACEHOLDER.findall(translated)) == source, (key, translated)


def test_language_choice_follows_quality_values():
    assert i18n.choose(None, "en;q=0.4, zh-CN;q=0.8") == "zh"
    assert i18n.choose(None, "zh;q=0.1, en-US") == "en"
    assert i18n.choose(None, "zh-TW, en;q=0.5") == "zh"
    assert i18n.choose(None, "ja, en;q=0") == "zh"  # q=0 means "not acceptable"
    assert i18n.choose(None, "*") == "zh"
    assert i18n.choose("en", "zh-CN") == "en" and i18n.choose("fr", "en") == "en"


@given(st.one_of(st.none(), st.text()), st.one_of(st.none(), st.text(max_size=2000)))
def test_any_header_chooses_a_language_we_have(query, header):
    assert i18n.choose(query, header) in i18n.LANGUAGES
