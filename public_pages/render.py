"""Pages rendered from view objects: Jinja2 with autoescaping, one environment per language.

The stylesheet is inlined (one round trip on 3G) and allowed by its hash in the
Content-Security-Policy, which permits no script at all.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime, timedelta
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from . import i18n
from .i18n import N_, N_plural
from .views import LotView, Step

TEMPLATES = Path(__file__).parent / "templates"
SWITCH = (("zh", "中文", "zh-CN"), ("en", "English", "en"))




UNITS = {
    "kg": N_("kg"), "g": N_("g"), "t": N_("t"), "jin": N_("jin (500 g)"),
    "box": N_("boxes"), "piece": N_("pieces"), "m3": N_("m³"), "mm": N_("mm"),
}
STEP_TITLES = {
    "batch": N_("Lot created"), "planting": N_("Planting"), "fertiliser": N_("Fertiliser applied"),
    "pesticide": N_("Pesticide applied"), "irrigation": N_("Irrigation"), "observation": N_("Field observation"),
    "harvest": N_("Harvest"), "packing": N_("Packing"), "shipping": N_("Shipped"), "receiving": N_("Received"),
    "inspection": N_("Inspection"), "recall": N_("Recall"),
}
WARNINGS_SHORT = {
    "exif_missing": N_("no time or place recorded"),
    "exif_time_mismatch": N_("taken at another time"),
    "gps_far_from_plot": N_("taken away from the plot"),
    "photo_reused": N_("photo used before"),
    "photo_near_duplicate": N_("looks like an earlier photo"),
}
WARNINGS_LONG = {
    "exif_missing": N_plural(
        "%(num)d photo records no capture time or place. That is common for forwarded photos and not suspicious by itself.",
        "%(num)d photos record no capture time or place. That is common for forwarded photos and not suspicious by itself.",
    ),
    "exif_time_mismatch": N_plural(
        "%(num)d photo was taken long before or after the time given for its record.",
        "%(num)d photos were taken long before or after the time given for their records.",
    ),
    "gps_far_from_plot": N_plural(
        "%(num)d photo was taken more than a few kilometres from the lot's plot.",
        "%(num)d photos were taken more than a few kilometres from the lot's plot.",
    ),
    "photo_reused": N_plural(
        "%(num)d photo was already used for another lot or by another grower.",
        "%(num)d photos were already used for another lot or by another grower.",
    ),
    "photo_near_duplicate": N_plural(
        "%(num)d photo looks the same as an earlier photo used elsewhere.",
        "%(num)d photos look the same as earlier photos used elsewhere.",
    ),
}


ANOMALY_NAMES = {
    "exif_missing": N_("Photo without time or place"),
    "exif_time_mismatch": N_("Photo taken at another time"),
    "gps_far_from_plot": N_("Photo taken away from the plot"),
    "photo_reused": N_("Photo used before"),
    "photo_near_duplicate": N_("Photo like an earlier one"),
    "phi_violation": N_("Harvest inside a pre-harvest interval"),
    "harvest_before_planting": N_("Harvest before planting"),
    "backdated": N_("Backdated record"),
    "quantity_exceeds_harvest": N_("More packed than harvested"),
}


# What went wrong with a form, next to its field, in words its reader uses.
FIELD_ERRORS = {
    "bad_regulator_token": N_("This is not a valid regulator token. Check it, or ask the log operator for a new one."),
    "recall_reason": N_("Write the reason for the recall (up to 2,000 characters)."),
    "occurred_at": N_("Give the date and time it happened. It cannot be later than now."),
    "quantity": N_("Write how much: a number above 0."),
    "unit": N_("Choose a unit."),
    "package_count": N_("Write how many packages: a whole number."),
    "product": N_("Write the name, as on the bag, bottle or box."),
    "variety": N_("Write the variety in a few words."),
    "phi_days": N_("Choose the safe interval (安全间隔期) printed on the pesticide's label."),
    "dose": N_("Write the dose in a few words, as on the label."),
    "active_ingredient": N_("Write the active ingredient in a few words."),
    "method": N_("Write the method in a few words."),
    "area_mu": N_("Write the area in mu: a number above 0."),
    "amount": N_("Write the amount: a number above 0."),
    "to": N_("Write where the goods go."),
    "carrier": N_("Write the carrier's name in a few words."),
    "tracking": N_("Write the tracking number as printed on the waybill."),
    "note": N_("Write a few words (up to 2,000 characters)."),
    "place": N_("The place is not right. Use the phone's location, or leave it empty."),
    "photo": N_("This photo could not be used. Take it again with the camera."),
    "plot": N_("Choose a plot, or give the new plot a name and its place."),
    "inputs": N_("Check the lots this was made from and how much of each."),
    "form": N_("Something in the form is not right. Check each field."),
    "already_sent": N_("This form was already sent, with other values: the first one was saved. To correct it, log a new record."),
    "form_expired": N_("This form has expired. Go back, reload the page and try again."),
    "signed_out": N_("You are signed out. Scan your sign-in card again."),
}


def field_message(lang: str, code: str) -> str:
    return i18n.translations(lang).gettext(FIELD_ERRORS.get(code, FIELD_ERRORS["form"]))


def advice_text(lang: str, code: str) -> str:
    return i18n.translations(lang).gettext(ADVICE.get(code, FIELD_ERRORS["form"]))
# Warnings shown to the grower who just logged the record: advice, not blame.
ADVICE = {
    "exif_missing": N_("This photo does not say when or where it was taken. Next time, take the photo with the phone's camera, with location on."),
    "exif_time_mismatch": N_("The photo was taken on another day than the one you gave. If the date is wrong, log the record again with the right one."),
    "gps_far_from_plot": N_("The photo was taken far from this lot's plot. Take photos on the plot itself."),
    "photo_reused": N_("This photo was already used for another lot. Each record should have its own new photo."),
    "photo_near_duplicate": N_("This photo looks like one used before. Each record should have its own new photo."),
    "phi_violation": N_("This harvest is inside a pesticide's safe interval. Buyers and inspectors will see this; do not sell before the interval ends."),
    "harvest_before_planting": N_("The harvest date is before the planting date. Check both dates."),
    "backdated": N_("This record was logged long after the day it happened. Log records on the day of the work."),
    "quantity_exceeds_harvest": N_("This is more than was harvested. Check the quantities and units."),
}


def _read(name: str) -> str:
    return (TEMPLATES / name).read_text(encoding="utf-8")


def _hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


PAGE_CSS = _read("page.css")
LABELS_CSS = _read("labels.css")
CONTENT_SECURITY_POLICY = (
    # connect-src: no script can run, but crawlers' tools (Lighthouse) fetch robots.txt from the page.
    "default-src 'none'; img-src 'self'; connect-src 'self'; "
    f"style-src {_hash(PAGE_CSS)} {_hash(LABELS_CSS)}; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# The grower app: its own script (the offline outbox), forms, and photo previews of the camera.
GROWER_CONTENT_SECURITY_POLICY = (
    "default-src 'none'; img-src 'self' blob:; connect-src 'self'; script-src 'self'; "
    f"style-src {_hash(PAGE_CSS)}; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
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


def _environment(lang: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    translations = i18n.translations(lang)
    env.install_gettext_translations(translations, newstyle=True)
    gettext, ngettext = translations.gettext, translations.ngettext

    def step_title(step: Step) -> str:
        key = step.data.get("kind", "fertiliser") if step.type == "input" else step.type
        return gettext(STEP_TITLES[key])

    def warning_long(code: str, count: int) -> str:
        singular, plural = WARNINGS_LONG[code]
        return ngettext(singular, plural, count) % {"num": count}

    env.filters["date"] = lambda moment: i18n.date(moment, lang)
    env.filters["number"] = lambda value: i18n.number(value, lang)
    env.globals.update(
        lang=lang,
        html_lang=i18n.HTML_LANG[lang],
        switch=SWITCH,
        unit=lambda code: gettext(UNITS.get(code, code)) if code else "",
        step_title=step_title,
        step_title_of=lambda kind: gettext(STEP_TITLES[kind]),
        safe_from=_safe_from,
        warning_short=lambda code: gettext(WARNINGS_SHORT[code]),
        warning_long=warning_long,
        code_name=lambda code: gettext(ANOMALY_NAMES.get(code, code)),
        # A finding in the reader's language; one stored before templates, as it was written.
        finding=lambda a: gettext(a["template"]) % a["params"] if a.get("template") else a["message"],
        field_error=lambda name: field_message(lang, name),
        advice=lambda code: advice_text(lang, code),
    )
    return env


def _safe_from(step: Step) -> datetime:
    return step.occurred_at + timedelta(days=step.data["phi_days"])


_ENVIRONMENTS = {lang: _environment(lang) for lang in i18n.LANGUAGES}


def render_lot(view: LotView, lang: str, *, explicit_lang: bool = False) -> bytes:
    env = _ENVIRONMENTS[lang]
    gettext = i18n.translations(lang).gettext
    description = gettext("%(product)s, lot %(lot)s, grown by %(grower)s: every step from field to package, signed and verifiable.") % {
        "product": view.product, "lot": view.lot, "grower": view.grower,
    }
    return env.get_template("lot.html").render(
        view=view,
        css=Markup(PAGE_CSS),
        description=description,
        lang_query=f"?lang={lang}" if explicit_lang else "",
    ).encode()


def render_not_found(lang: str, lot: str | None) -> bytes:
    return _ENVIRONMENTS[lang].get_template("not_found.html").render(css=Markup(PAGE_CSS), lot=lot).encode()


def render_audit(template: str, lang: str, **values) -> bytes:
    """The regulators' pages: `template` names one of templates/audit_*.html."""
    return _ENVIRONMENTS[lang].get_template(f"audit_{template}.html").render(css=Markup(PAGE_CSS), **values).encode()


def render_grower(template: str, lang: str, **values) -> bytes:
    """The grower app's pages: `template` names one of templates/grower_*.html."""
    return _ENVIRONMENTS[lang].get_template(f"grower_{template}.html").render(css=Markup(PAGE_CSS), **values).encode()


def render_unavailable(lang: str) -> bytes:
    return _ENVIRONMENTS[lang].get_template("unavailable.html").render(css=Markup(PAGE_CSS)).encode()


def render_labels(view: LotView, lang: str, count: int) -> bytes:
    # A lot is packed when it has its certificate, which carries the packing date.
    packed_at = view.certificate.issued_at if view.certificate else None
    return _ENVIRONMENTS[lang].get_template("labels.html").render(view=view, css=Markup(LABELS_CSS), count=count, packed_at=packed_at).encode()
