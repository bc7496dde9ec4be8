"""The signed-in apps' pages (`/audit`, `/grower`): each app's templates, rendered in the
look of the public pages (`public_pages.render.environment`), with the words of their forms.

Messages the apps and the findings say are in this package's catalog (`translations/`),
merged over the public pages' own."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment

from public_pages import i18n
from public_pages.i18n import N_
from public_pages.render import environment

HERE = Path(__file__).parent
CATALOGS = HERE / "translations"
APPS = ("audit", "grower")


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
    "already_sent": N_(
        "This form was already sent, with other values: the first one was saved. To correct it, log a new record."
    ),
    "form_expired": N_("This form has expired. Go back, reload the page and try again."),
    "signed_out": N_("You are signed out. Scan your sign-in card again."),
    "reason": N_("Write what was wrong, in a few words: buyers see it beside the correction."),
    "basis": N_("Choose what your commitment rests on."),
    "contact": N_("Write a phone number or another way to reach you, in a few words."),
    "repeated": N_(
        "You logged the same record a few minutes ago. If you pressed Back and saved again, it is already in."
    ),
    "photo_disagrees": N_("The photo was taken at another time or place than the form says."),
    "certificate_refused": N_(
        "The certificate cannot be issued while the lot's records show a problem: see the lot page."
    ),
}


# Warnings shown to the grower who just logged the record: advice, not blame.
ADVICE = {
    "exif_missing": N_(
        "This photo does not say when or where it was taken. Next time, take the photo with the phone's camera, with location on."
    ),
    "exif_time_mismatch": N_(
        "The photo was taken on another day than the one you gave. If the date is wrong, log the record again with the right one."
    ),
    "gps_far_from_plot": N_("The photo was taken far from this lot's plot. Take photos on the plot itself."),
    "photo_reused": N_("This photo was already used for another lot. Each record should have its own new photo."),
    "photo_near_duplicate": N_("This photo looks like one used before. Each record should have its own new photo."),
    "phi_violation": N_(
        "This harvest is inside a pesticide's safe interval. Buyers and inspectors will see this; do not sell before the interval ends."
    ),
    "harvest_before_planting": N_("The harvest date is before the planting date. Check both dates."),
    "backdated": N_("This record was logged long after the day it happened. Log records on the day of the work."),
    "quantity_exceeds_harvest": N_("This is more than was harvested. Check the quantities and units."),
}


def field_message(lang: str, code: str) -> str:
    return _gettext(lang, FIELD_ERRORS.get(code, FIELD_ERRORS["form"]))


def advice_text(lang: str, code: str) -> str:
    return _gettext(lang, ADVICE.get(code, FIELD_ERRORS["form"]))


def render(app: str, template: str, lang: str, **values: Any) -> bytes:
    """`template` of `app` (one of APPS), in `lang`."""
    return _environment(app, lang).get_template(f"{template}.html").render(**values).encode()


def _gettext(lang: str, message: str) -> str:
    return i18n.translations(lang, CATALOGS).gettext(message)


@cache
def _environment(app: str, lang: str) -> Environment:
    env = environment(lang, [HERE / app / "templates"], [CATALOGS])
    env.globals.update(
        field_error=lambda name: field_message(lang, name),
        advice=lambda code: advice_text(lang, code),
    )
    return env
