"""The units a quantity is given in (kilograms, 斤, boxes ...): the codes records carry, and
what each one is for the quantity rules, EPCIS and FSMA 204. Pages say them in the reader's
language (`public_pages.words.UNITS`, kept to these codes by a test)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, get_args

# How much was harvested, packed, shipped or taken into a lot.
UnitCode = Literal["kg", "g", "t", "jin", "box", "piece"]
# How much water an irrigation gave.
WaterUnitCode = Literal["m3", "t", "mm"]


@dataclass(frozen=True)
class Unit:
    code: str
    kilograms: float | None  # a mass: one of it in kg; None for a count (boxes, pieces)
    un_ece: str | None  # its UN/ECE Recommendation 20 code, where it has one
    english: str  # as an English reader of an export reads it
    plural: str  # after a number in an English sentence: "30 boxes"


UNITS: dict[str, Unit] = {
    unit.code: unit
    for unit in (
        Unit("kg", 1.0, "KGM", "kg", "kg"),
        Unit("g", 0.001, "GRM", "g", "g"),
        Unit("t", 1000.0, "TNE", "t (1000 kg)", "t"),
        # 1 斤 = 500 g, fixed since 1959; it has no UN/ECE code, so exports give it in kilograms.
        Unit("jin", 0.5, None, "jin (0.5 kg)", "jin"),
        Unit("box", None, None, "box", "boxes"),
        Unit("piece", None, None, "piece", "pieces"),
    )
}
WATER_UNITS = get_args(WaterUnitCode)
assert set(UNITS) == set(get_args(UnitCode))


def family(quantity: float, unit: str) -> tuple[str, float]:
    """What a quantity can be compared with: every mass in kilograms ("kg"); boxes and pieces
    only with their own kind."""
    kilograms = UNITS[unit].kilograms
    return ("kg", quantity * kilograms) if kilograms is not None else (unit, quantity)


def totals(amounts: Iterable[tuple[float, str]]) -> dict[str, float]:
    """(quantity, unit) pairs summed by `family`."""
    summed: dict[str, float] = defaultdict(float)
    for quantity, unit in amounts:
        kind, amount = family(quantity, unit)
        summed[kind] += amount
    return dict(summed)


def amount(quantity: float, unit: str) -> str:
    """A quantity in English words, for a finding's sentence: "120 kg", "30 boxes"."""
    return f"{quantity:g} {UNITS[unit].plural}"


def in_un_ece(quantity: float, unit: str | None) -> tuple[float, str | None]:
    """The quantity in a UN/ECE unit: its own unit's code where it has one, kilograms for
    another mass, and no unit for a count."""
    known = UNITS.get(unit or "")
    if known is None or known.kilograms is None:
        return quantity, None
    if known.un_ece is not None:
        return quantity, known.un_ece
    return quantity * known.kilograms, "KGM"
