"""EPCIS event hash IDs (CBV 2.0): `ni:///sha-256;<hex>?ver=CBV2.0` over a canonical pre-hash string.

The rules are those of GS1's reference implementation (github.com/RalphTro/epcis-event-hash-generator,
whose README states the algorithm), checked against its test vectors: the standard fields in
the canonical property order; then every other field (ILMD, business transactions, sources,
destinations, user extensions) as whole strings sorted together; CBV terms as their
https://ref.gs1.org/cbv/ URIs; EPC URIs and GS1 Digital Link URIs as constrained canonical
Digital Link URIs; times in UTC to the millisecond; numbers without trailing zeros; every list
sorted. Where the reference's README and its vectors disagree, the vectors win: business
transactions, sources and destinations sort among the trailing fields, each element written
type first."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from ..ids import gs1_check_digit

CBV = "https://ref.gs1.org/cbv/"
EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
# Prefixes the standard EPCIS 2.0 context defines; a document's own context may add others.
STANDARD_PREFIXES = {
    "epcis": "https://ref.gs1.org/epcis/",
    "cbv": CBV,
    "cbvmda": "urn:epcglobal:cbv:mda:",
    "gs1": "https://gs1.org/voc/",
}
# recordTime and eventID are assigned downstream of capture; an error declaration amends an
# event without making it another one.
IGNORED = frozenset({"type", "eventID", "recordTime", "errorDeclaration"})

QUANTITY = ("epcClass", "quantity", "uom")
SENSOR_METADATA = (
    "time",
    "startTime",
    "endTime",
    "deviceID",
    "deviceMetadata",
    "rawData",
    "dataProcessingMethod",
    "bizRules",
)
SENSOR_REPORT = (
    "type", "exception", "deviceID", "deviceMetadata", "rawData", "dataProcessingMethod", "time", "microorganism",
    "chemicalSubstance", "value", "component", "stringValue", "booleanValue", "hexBinaryValue", "uriValue",
    "minValue", "maxValue", "meanValue", "sDev", "percRank", "percValue", "uom", "coordinateReferenceSystem",
)  # fmt: skip
TIMES = frozenset({"eventTime", "time", "startTime", "endTime"})

Context = str | Mapping | Iterable | None


def event_hash_id(event: Mapping, context: Context = None) -> str:
    """`context` is the JSON-LD @context of the document the event is in (it names the
    namespaces of extension fields); None means the standard EPCIS context alone."""
    digest = hashlib.sha256(prehash(event, context).encode()).hexdigest()
    return f"ni:///sha-256;{digest}?ver=CBV2.0"


def prehash(event: Mapping, context: Context = None) -> str:
    return _Canon(_prefixes(context)).event(event)


def _prefixes(context: Context) -> dict[str, str]:
    entries = (
        [context] if isinstance(context, Mapping) else [] if context is None or isinstance(context, str) else context
    )
    prefixes = dict(STANDARD_PREFIXES)
    for entry in entries:
        if isinstance(entry, Mapping):
            prefixes.update({k: v for k, v in entry.items() if isinstance(v, str) and not k.startswith("@")})
    return prefixes


class _Canon:
    def __init__(self, prefixes: dict[str, str]) -> None:
        self.prefixes = prefixes
        self.order = {
            "eventTime": self.plain,
            "eventTimeZoneOffset": self.plain,
            "epcList": self.epcs,
            "parentID": self.plain,
            "inputEPCList": self.epcs,
            "childEPCs": self.epcs,
            "quantityList": self.quantities,
            "childQuantityList": self.quantities,
            "inputQuantityList": self.quantities,
            "outputEPCList": self.epcs,
            "outputQuantityList": self.quantities,
            "action": self.plain,
            "transformationID": self.plain,
            "bizStep": lambda name, value: _pair(name, self.term(value, CBV + "BizStep-")),
            "disposition": lambda name, value: _pair(name, self.term(value, CBV + "Disp-")),
            "persistentDisposition": self.persistent,
            "readPoint": lambda name, value: name + self.fields(value, ("id",)),
            "bizLocation": lambda name, value: name + self.fields(value, ("id",)),
            "sensorElementList": lambda name, value: _group(name, [self.sensor_element(e) for e in value]),
        }

    def event(self, event: Mapping) -> str:
        text = "eventType=" + event["type"]
        text += "".join(render(name, event[name]) for name, render in self.order.items() if event.get(name) is not None)
        rest = (
            self.trailing(k, v) for k, v in event.items() if k not in self.order and k not in IGNORED and k[:1] != "@"
        )
        return text + "".join(sorted(s for strings in rest for s in strings))

    # -- fields in the canonical property order --------------------------------------------------

    def plain(self, name: str, value: Any) -> str:
        return _pair(name, _utc_millis(value) if name in TIMES else self.value(value))

    def epcs(self, name: str, values: list) -> str:
        return _group(name, [_pair("epc", self.value(v)) for v in values])

    def quantities(self, name: str, elements: list) -> str:
        return _group(name, ["quantityElement" + self.fields(e, QUANTITY) for e in elements])

    def persistent(self, name: str, value: Mapping) -> str:
        parts = [
            sorted(_pair(key, self.term(v, CBV + "Disp-")) for v in value.get(key, ())) for key in ("set", "unset")
        ]
        return name + "".join(parts[0] + parts[1]) if any(parts) else ""

    def sensor_element(self, element: Mapping) -> str:
        metadata = element.get("sensorMetadata")
        text = "sensorElement"
        if metadata is not None:
            text += "sensorMetadata" + self.fields(metadata, SENSOR_METADATA)
        text += "".join(
            sorted(
                "sensorReport" + self.fields(r, SENSOR_REPORT, gs1_terms=True) for r in element.get("sensorReport", ())
            )
        )
        return text + self.extensions(element, ("sensorMetadata", "sensorReport"))

    def fields(self, obj: Mapping, order: tuple[str, ...], gs1_terms: bool = False) -> str:
        """An object's standard fields in their order, then its extension fields, sorted."""
        text = ""
        for key in order:
            if obj.get(key) is None:
                continue
            if gs1_terms and key in ("type", "exception"):
                text += _pair(key, self.term(obj[key], self.prefixes["gs1"]))
            else:
                text += self.plain(key, obj[key])
        return text + self.extensions(obj, order)

    def extensions(self, obj: Mapping, known: tuple[str, ...]) -> str:
        return "".join(sorted(s for k, v in obj.items() if k not in known for s in self.generic(k, v)))

    # -- the other fields, sorted together as whole strings --------------------------------------

    def trailing(self, key: str, value: Any) -> list[str]:
        if key in ("bizTransactionList", "sourceList", "destinationList") and isinstance(value, list):
            item = key.removesuffix("List")
            vocabulary = CBV + ("BTT-" if item == "bizTransaction" else "SDT-")
            entries = [
                (_pair("type", self.term(e["type"], vocabulary)) if e.get("type") else "")
                + _pair(item, self.value(e.get(item)))
                for e in value
            ]
            return [_group(key, entries)]
        return self.generic(key, value)

    def generic(self, key: str, value: Any) -> list[str]:
        """ILMD and extension fields: `{namespace}name=value`; a list repeats its key."""
        key = self.expand_key(key)
        if value is None:
            return []
        if isinstance(value, list):
            return [s for v in value for s in self.generic(key, v)]
        if isinstance(value, Mapping):
            return [key + "".join(sorted(s for k, v in value.items() for s in self.generic(k, v)))]
        return [_pair(key, self.value(value)) or key]

    # -- values ------------------------------------------------------------------------------------

    def expand_key(self, key: str) -> str:
        prefix, colon, local = key.partition(":")
        return "{" + self.prefixes[prefix] + "}" + local if colon and prefix in self.prefixes else key

    def term(self, value: Any, vocabulary: str) -> str:
        """JSON-LD writes a standard term bare ('shipping'); the hash takes its full URI."""
        text = str(value).strip()
        return vocabulary + text if text and ":" not in text else self.value(text)

    def value(self, value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        text = str(value).strip()
        prefix, colon, local = text.partition(":")
        if colon and self.prefixes.get(prefix, "").startswith(("https://ref.gs1.org/", "https://gs1.org/")):
            # Only CURIEs of GS1's vocabularies expand: XML carries a user's CURIE as plain text.
            text = self.prefixes[prefix] + local
        for urn, uri in _CBV_URNS:
            if text.startswith(urn):
                text = uri + text.removeprefix(urn)
        if _NUMBER.fullmatch(text):
            number = float(text)
            text = str(int(number)) if number.is_integer() else str(number)
        return digital_link(text) or text


_CBV_URNS = (
    ("urn:epcglobal:cbv:bizstep:", CBV + "BizStep-"),
    ("urn:epcglobal:cbv:disp:", CBV + "Disp-"),
    ("urn:epcglobal:cbv:btt:", CBV + "BTT-"),
    ("urn:epcglobal:cbv:sdt:", CBV + "SDT-"),
    ("urn:epcglobal:cbv:er:", CBV + "ER-"),
)
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def _pair(key: str, text: str) -> str:
    return f"{key}={text}" if text else ""


def _group(name: str, entries: list[str]) -> str:
    """A list's name once, then its elements sorted; nothing at all for an empty list."""
    entries = sorted(e for e in entries if e)
    return name + "".join(entries) if entries else ""


_TIME = re.compile(r"(\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d:\d\d)(?:\.(\d+))?([Zz]|[+-]\d\d:\d\d)?")


def _utc_millis(value: str) -> str:
    """UTC to the millisecond; a fourth decimal of 5 to 9 rounds the third up."""
    match = _TIME.fullmatch(str(value).strip())
    if not match:
        return str(value).strip()
    whole, fraction, offset = match.groups()
    fraction = (fraction or "").ljust(4, "0")
    zone = UTC
    if offset and offset not in "Zz":
        sign = -1 if offset[0] == "-" else 1
        zone = timezone(sign * timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6])))
    moment = datetime.fromisoformat(whole.replace(" ", "T").replace("t", "T")).replace(tzinfo=zone)
    moment += timedelta(milliseconds=int(fraction[:3]) + (fraction[3] >= "5"))
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


# -- GS1 identifiers as constrained canonical GS1 Digital Link URIs ------------------------------

DL = "https://id.gs1.org/"


def digital_link(uri: str) -> str | None:
    """The constrained canonical GS1 Digital Link URI of an EPC URI, EPC class URI, EPC pattern
    URI or GS1 Digital Link URI (only the finest identification level, no query, id.gs1.org);
    None for anything else."""
    try:
        if uri.startswith("urn:epc:"):
            return _from_epc(uri)
        if uri.startswith(("http://", "https://")):
            return _constrained(uri)
    except ValueError:
        pass
    return None


def _company(prefix: str) -> str:
    if not (prefix.isdigit() and 6 <= len(prefix) <= 12):
        raise ValueError(prefix)
    return prefix


def _key(company: str, reference: str, length: int) -> str:
    """A GS1 key of `length` digits before its check digit: company prefix, then reference."""
    digits = _company(company) + reference
    if not (len(digits) == length and (digits.isdigit())):
        raise ValueError(digits)
    return digits + gs1_check_digit(digits)


def _indicator_first(company: str, reference: str, length: int) -> str:
    """GTIN and SSCC: EPC URIs carry the indicator or extension digit at the front of the reference."""
    _key(company, reference, length)
    digits = reference[:1] + company + reference[1:]
    return digits + gs1_check_digit(digits)


def _digits(value: str, most: int, least: int = 1) -> str:
    if not (value.isdigit() and least <= len(value) <= most):
        raise ValueError(value)
    return value


# GS1's character set 82 as EPC URIs write it; a Digital Link escapes a few more of its characters.
_EPC_TEXT = re.compile(r"(?:%[0-9A-Fa-f]{2}|[!'()*+,.0-9:;=A-Za-z_-])+")
_DL_ESCAPES = str.maketrans({"!": "%21", "(": "%28", ")": "%29", "*": "%2A", "+": "%2B", ",": "%2C", ":": "%3A"})


def _text(value: str, most: int) -> str:
    if not _EPC_TEXT.fullmatch(value) or len(re.sub("%..", "_", value)) > most:
        raise ValueError(value)
    return value.translate(_DL_ESCAPES)


def _gtin(c: str, i: str) -> str:
    return _indicator_first(c, i, 13)


# "<kind>:<scheme>" → (number of dot-separated parts, the Digital Link path they make)
_EPC: dict[str, tuple[int, Callable[..., str]]] = {
    "id:sgtin": (3, lambda c, i, s: f"01/{_gtin(c, i)}/21/{_text(s, 20)}"),
    "id:sscc": (2, lambda c, s: f"00/{_indicator_first(c, s, 17)}"),
    "id:sgln": (3, lambda c, r, e: f"414/{_key(c, r, 12)}" + ("" if e == "0" else f"/254/{_text(e, 20)}")),
    "id:grai": (3, lambda c, a, s: f"8003/0{_key(c, a, 12)}{_text(s, 16)}"),
    "id:giai": (2, lambda c, a: f"8004/{_company(c)}{_text(a, 30 - len(c))}"),
    "id:gsrn": (2, lambda c, s: f"8018/{_key(c, s, 17)}"),
    "id:gsrnp": (2, lambda c, s: f"8017/{_key(c, s, 17)}"),
    "id:gdti": (3, lambda c, d, s: f"253/{_key(c, d, 12)}{_text(s, 17)}"),
    "id:cpi": (3, lambda c, r, s: f"8010/{_text(_company(c) + r, 30)}/8011/{_digits(s, 12)}"),
    "id:sgcn": (3, lambda c, r, s: f"255/{_key(c, r, 12)}{_digits(s, 12)}"),
    "id:ginc": (2, lambda c, r: f"401/{_company(c)}{_text(r, 30 - len(c))}"),
    "id:gsin": (2, lambda c, s: f"402/{_key(c, s, 16)}"),
    "id:itip": (5, lambda c, i, p, t, s: f"8006/{_gtin(c, i)}{_digits(p, 2, 2)}{_digits(t, 2, 2)}/21/{_text(s, 20)}"),
    "id:upui": (3, lambda c, i, s: f"01/{_gtin(c, i)}/235/{_text(s, 28)}"),
    "id:pgln": (2, lambda c, p: f"417/{_key(c, p, 12)}"),
    "class:lgtin": (3, lambda c, i, lot: f"01/{_gtin(c, i)}/10/{_text(lot, 20)}"),
    "idpat:sgtin": (3, lambda c, i, _: f"01/{_gtin(c, i)}"),
    "idpat:grai": (3, lambda c, a, _: f"8003/0{_key(c, a, 12)}"),
    "idpat:gdti": (3, lambda c, d, _: f"253/{_key(c, d, 12)}"),
    "idpat:sgcn": (3, lambda c, r, _: f"255/{_key(c, r, 12)}"),
    "idpat:cpi": (3, lambda c, r, _: f"8010/{_text(_company(c) + r, 30)}"),
    "idpat:itip": (5, lambda c, i, p, t, _: f"8006/{_gtin(c, i)}{_digits(p, 2, 2)}{_digits(t, 2, 2)}"),
    "idpat:upui": (3, lambda c, i, _: f"01/{_gtin(c, i)}"),
}


def _from_epc(uri: str) -> str | None:
    kind, _, rest = uri.removeprefix("urn:epc:").partition(":")
    scheme, _, body = rest.partition(":")
    if (entry := _EPC.get(f"{kind}:{scheme}")) is None:
        return None
    count, path = entry
    parts = body.split(".", count - 1)
    if len(parts) != count or (kind == "idpat" and parts[-1] != "*"):
        return None
    return DL + path(*parts)


_DL_NAMES = {
    "gtin": "01", "itip": "8006", "cpid": "8010", "gln": "414", "party": "417", "gsrnp": "8017", "gsrn": "8018",
    "gcn": "255", "sscc": "00", "gdti": "253", "ginc": "401", "gsin": "402", "grai": "8003", "giai": "8004",
    "cpv": "22", "lot": "10", "ser": "21",
}  # fmt: skip
_DL_KEYS = ("01", "8006", "8010", "414", "417", "8017", "8018", "255", "00", "253", "401", "402", "8003", "8004")
_X = r"[\"'\-.0-9;-?A-Z_a-z]"  # what the reference admits in a constrained Digital Link's values
_DL_FORMS = re.compile(
    rf"00/\d{{18}}|01/\d{{14}}(/(21|10)/{_X}{{0,20}}|/235/{_X}{{0,28}})?|253/\d{{13}}{_X}{{0,17}}|255/\d{{13}}\d{{0,12}}"
    rf"|401/{_X}{{0,30}}|402/\d{{17}}|414/\d{{13}}(/254/{_X}{{0,20}})?|417/\d{{13}}|8003/\d{{14}}{_X}{{0,16}}"
    rf"|8004/{_X}{{0,30}}|8006/\d{{18}}(/(21|10)/{_X}{{0,20}})?|8010/[#\-/0-9A-Z]{{0,30}}(/8011/\d{{0,12}})?"
    rf"|8017/\d{{18}}|8018/\d{{18}}"
)


def _constrained(uri: str) -> str | None:
    segments = uri.split("?", 1)[0].split("/")[3:]
    names = [_DL_NAMES.get(s, s) for s in segments]
    start = next(
        (i for i, name in enumerate(names[:-1]) if name in _DL_KEYS and re.match(r"\d{4}", segments[i + 1])),
        None,
    )
    if start is None:
        return None
    path = segments[start:]
    if len(path) % 2:
        return None
    path[::2] = names[start::2]
    if path[0] == "01" and len(path[1]) in (8, 12, 13):
        path[1] = path[1].zfill(14)
    if path[0] in ("01", "8006"):
        qualifiers = dict(zip(path[2::2], path[3::2], strict=False))
        qualifiers.pop("22", None)
        if "21" in qualifiers:
            qualifiers.pop("10", None)
        path = path[:2] + [part for pair in qualifiers.items() for part in pair]
    canonical = "/".join(path)
    return DL + canonical if _DL_FORMS.fullmatch(canonical) else None
