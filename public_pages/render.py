"""Pages rendered from view objects: Jinja2 with autoescaping, one environment per language.

The stylesheet is inlined (one round trip on 3G) and allowed by its hash in the
Content-Security-Policy, which permits no script at all. `environment` is also what the
signed-in apps render with (their templates extend `public/base.html`), so every page
shares one look, one language switch and the same words for the same codes.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PrefixLoader, select_autoescape
from markupsafe import Markup

from signing.payloads import LotRecord

from . import i18n
from .views import ConcernView, LotView
from .words import (
    CERTIFICATE_BASES,
    CONCERN_LINES,
    CONCERN_NAMES,
    FINDING_NAMES,
    PHOTO_FLAGS,
    PHOTO_SUMMARIES,
    PLEDGE,
    SIGNED_HOW,
    SIGNED_LINES,
    STEP_TITLES,
    UNITS,
)

TEMPLATES = Path(__file__).parent / "templates"
SWITCH = (("zh", "中文", "zh-CN"), ("en", "English", "en"))


def _read(name: str) -> str:
    return (TEMPLATES / name).read_text(encoding="utf-8")


def style_hash(text: str) -> str:
    """A CSP source allowing exactly this inline text."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


PAGE_CSS = _read("page.css")
LABELS_CSS = _read("labels.css")
CONTENT_SECURITY_POLICY = (
    # connect-src: no script can run, but crawlers' tools (Lighthouse) fetch robots.txt from the page.
    "default-src 'none'; img-src 'self'; connect-src 'self'; "
    f"style-src {style_hash(PAGE_CSS)} {style_hash(LABELS_CSS)}; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def _build_id() -> str:
    """Changes whenever this package's code, templates or catalogs do, so cached pages and
    ETags follow a deploy."""
    digest = hashlib.sha256()
    package = Path(__file__).parent
    for path in sorted(p for p in package.rglob("*") if p.suffix in (".py", ".html", ".css", ".po")):
        digest.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


BUILD = _build_id()


def environment(lang: str, templates: Sequence[Path] = (), catalogs: Sequence[Path] = ()) -> Environment:
    """Jinja2 for pages in `lang`: templates from `templates` first, then these pages' own as
    `public/<name>` (and bare, when `templates` is empty); messages from these pages' catalog
    and then `catalogs`."""
    own = FileSystemLoader(TEMPLATES)
    loaders = [FileSystemLoader(list(templates))] if templates else [own]
    env = Environment(
        loader=ChoiceLoader([*loaders, PrefixLoader({"public": own})]),
        autoescape=select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    translations = i18n.translations(lang, *catalogs)
    env.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]  # the i18n extension's
    gettext, ngettext = translations.gettext, translations.ngettext

    def photo_summary(code: str, count: int) -> str:
        singular, plural = PHOTO_SUMMARIES[code]
        return ngettext(singular, plural, count) % {"num": count}

    def unit(code: str | None) -> str:
        return gettext(UNITS.get(code, code)) if code else ""

    def finding(found: dict[str, Any]) -> str:
        """A stored finding in the reader's language; one stored before templates, as it was written."""
        return gettext(found["template"]) % found["params"] if found.get("template") else found["message"]

    def day(iso: str) -> str:
        return i18n.date(datetime.fromisoformat(iso), lang)

    def concern_line(concern: ConcernView, lot: str) -> str:
        """The concern's sentence on `lot`'s page; one in a lot it was made from says which."""
        p = concern.params
        values = {
            **p,
            **{name: day(p[name]) for name in ("harvested", "sprayed", "safe_from", "planted", "date") if name in p},
        }
        if concern.code == "quantity_exceeds_harvest":
            values["out"] = f"{i18n.number(p['out'], lang)} {unit(p['unit'])}"
            values["held"] = f"{i18n.number(p['held'], lang)} {unit(p['unit'])}"
            values["entries"] = ", ".join(str(i) for i in p["entries"]) or "-"
        line = gettext(CONCERN_LINES[concern.code]) % values
        if concern.lot != lot:
            return gettext("In lot %(lot)s, which this lot was made from:") % {"lot": concern.lot} + " " + line
        return line

    env.filters["date"] = lambda moment: i18n.date(moment, lang)
    env.filters["date_time"] = lambda moment: i18n.date_time(moment, lang)
    env.filters["number"] = lambda value: i18n.number(value, lang)
    env.globals.update(
        lang=lang,
        html_lang=i18n.HTML_LANG[lang],
        switch=SWITCH,
        css=Markup(PAGE_CSS),
        unit=unit,
        work_title=lambda work: gettext(STEP_TITLES[work]),
        safe_from=_safe_from,
        photo_flag=lambda code: gettext(PHOTO_FLAGS[code]),
        photo_summary=photo_summary,
        finding_name=lambda code: gettext(FINDING_NAMES.get(code) or code),
        concern_title=lambda code: gettext(CONCERN_NAMES[code]),
        concern_line=concern_line,
        basis_list=lambda bases: ("、" if lang == "zh" else ", ").join(
            gettext(CERTIFICATE_BASES[b]) if lang != "zh" and b in CERTIFICATE_BASES else b for b in bases
        ),
        pledge=PLEDGE,
        finding=finding,
        signed_line=lambda step: gettext(SIGNED_LINES[step.how]) % {"who": step.signer, "index": step.record.index},
        signed_how=lambda how: gettext(SIGNED_HOW[how]) if how in SIGNED_HOW else "",
    )
    return env


def _safe_from(record: LotRecord) -> datetime:
    return record.occurred_at + timedelta(days=record.data["phi_days"])


_ENVIRONMENTS = {lang: environment(lang) for lang in i18n.LANGUAGES}


def render_lot(view: LotView, lang: str, *, explicit_lang: bool = False) -> bytes:
    env = _ENVIRONMENTS[lang]
    gettext = i18n.translations(lang).gettext
    description = gettext(
        "%(product)s, lot %(lot)s, grown by %(grower)s: every step from field to package, signed and verifiable."
    ) % {"product": view.product, "lot": view.lot, "grower": view.grower}
    return (
        env.get_template("lot.html")
        .render(view=view, description=description, lang_query=f"?lang={lang}" if explicit_lang else "")
        .encode()
    )


def render_not_found(lang: str, lot: str | None) -> bytes:
    return _ENVIRONMENTS[lang].get_template("not_found.html").render(lot=lot).encode()


def render_unavailable(lang: str) -> bytes:
    return _ENVIRONMENTS[lang].get_template("unavailable.html").render().encode()


def render_labels(view: LotView, lang: str, count: int) -> bytes:
    packings = [step for step in view.steps if step.record.type == "packing"]
    packing = packings[-1] if packings else None
    if packing is not None and packing.correction is not None:
        packing = None if packing.correction.replacement is None else packing
    packed_at = None
    if packing is not None:
        packed_at = (packing.correction.replacement if packing.correction else packing.record).occurred_at  # type: ignore[union-attr]
    template = _ENVIRONMENTS[lang].get_template("labels.html")
    return template.render(view=view, css=Markup(LABELS_CSS), count=count, packed_at=packed_at).encode()
