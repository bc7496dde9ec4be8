"""Everything a visitor reads exists in Chinese and English (issue #4, item 1)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from hypothesis import given
from hypothesis import strategies as st

from public_pages import i18n
from traceability.web import rendering

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {**DEFAULT_KEYWORDS, "N_plural": (1, 2)}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
# Each catalog with the extraction config that says which sources feed it.
PUBLIC = (ROOT / "public_pages" / "babel.cfg", i18n.CATALOGS)
APPS = (ROOT / "traceability" / "web" / "babel.cfg", rendering.CATALOGS)


def extracted(config: Path) -> set:
    with config.open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(ROOT, method_map, options_map, KEYWORDS):
        found.add(message if isinstance(message, str) else tuple(message))
    return found


def catalog(folder: Path) -> dict:
    with (folder / "zh" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return {m.id if isinstance(m.id, str) else tuple(m.id): m for m in read_po(handle) if m.id}


@pytest.mark.parametrize(("config", "folder"), [PUBLIC, APPS], ids=["public pages", "apps and findings"])
def test_every_message_has_a_chinese_translation_and_none_is_stale(config: Path, folder: Path) -> None:
    messages = catalog(folder)
    # The apps' catalog is merged over the public pages': what those say already is not repeated.
    wanted = extracted(config) - (catalog(i18n.CATALOGS).keys() if folder != i18n.CATALOGS else set())
    assert wanted, "nothing extracted: check the extraction config"
    assert wanted - messages.keys() == set(), "messages without a Chinese translation"
    assert messages.keys() - wanted == set(), (
        "translations of messages no longer used, or said by the public catalog too"
    )
    for key, message in messages.items():
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(strings) and not message.fuzzy, key
        source = set(PLACEHOLDER.findall(" ".join(key if isinstance(key, tuple) else (key,))))
        for translated in strings:
            assert set(PLACEHOLDER.findall(translated)) == source, (key, translated)


def test_the_apps_speak_chinese_with_both_catalogs() -> None:
    assert rendering.field_message("zh", "unit") == "请选择单位。"  # the apps' own catalog
    assert i18n.translations("zh", rendering.CATALOGS).gettext("Lot") == i18n.translations("zh").gettext("Lot") != "Lot"


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
