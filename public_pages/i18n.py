"""Chinese first, English second: choosing the visitor's language and formatting for it.

Messages are written in English in the templates and translated through Babel catalogs
(`translations/<lang>/LC_MESSAGES/messages.po`), compiled in memory at import so that no
binary `.mo` file has to be built or committed.
"""

from __future__ import annotations

import io
from datetime import datetime
from functools import cache
from pathlib import Path

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations

LANGUAGES = ("zh", "en")
DEFAULT = "zh"  # the people who scan these codes read Chinese first
LOCALES = {"zh": Locale.parse("zh_Hans_CN"), "en": Locale.parse("en")}
HTML_LANG = {"zh": "zh-CN", "en": "en"}
CATALOGS = Path(__file__).parent / "translations"


def N_(message: str) -> str:
    """Marks a message for extraction; it is translated where it is shown."""
    return message


def N_plural(singular: str, plural: str) -> tuple[str, str]:
    """Marks a message with a plural for extraction (keyword `N_plural:1,2`)."""
    return singular, plural


def choose(query: str | None, accept_language: str | None) -> str:
    """`?lang=` wins; then the first language of `Accept-Language` (by q) that we have."""
    if query in LANGUAGES:
        return query
    for tag in _ranked(accept_language or ""):
        primary = tag.split("-", 1)[0]
        if primary in LANGUAGES:
            return primary
        if primary == "*":
            break
    return DEFAULT


def _ranked(header: str) -> list[str]:
    ranked = []
    for position, item in enumerate(header[:1000].split(",")):
        tag, _, params = item.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if tag and 0 < q <= 1:
            ranked.append((-q, position, tag.strip().lower()))
    return [tag for _, _, tag in sorted(ranked)]


@cache
def translations(lang: str, *catalogs: Path) -> NullTranslations:
    """The messages of `lang`: these pages' catalog, then each of `catalogs` (a folder of
    `<lang>/LC_MESSAGES/messages.po`, as this package's `translations/`) merged over it."""
    merged: NullTranslations = NullTranslations()  # English is the source language
    for folder in (CATALOGS, *catalogs):
        po = folder / lang / "LC_MESSAGES" / "messages.po"
        if not po.exists():
            continue
        loaded = _compiled(po, lang)
        if isinstance(merged, Translations):
            merged.merge(loaded)
        else:
            merged = loaded
    return merged


def _compiled(po: Path, lang: str) -> Translations:
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=LOCALES[lang])
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


def date(moment: datetime, lang: str) -> str:
    return format_date(moment, "long" if lang == "zh" else "medium", locale=LOCALES[lang])


def date_time(moment: datetime, lang: str) -> str:
    # In the signer's own offset: 08:30 on a farm in Shaanxi stays 08:30.
    return format_datetime(moment, "yyyy-MM-dd HH:mm", tzinfo=moment.tzinfo, locale=LOCALES[lang])


def number(value: float, lang: str) -> str:
    return format_decimal(value, "#,##0.###", locale=LOCALES[lang])
