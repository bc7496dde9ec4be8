"""The EPCIS 2.0 JSON-LD export: one event per log record, streamed.

| record | event | action | bizStep | disposition |
|---|---|---|---|---|
| batch, field lot (no inputs) | ObjectEvent | OBSERVE | urn:suyuan:bizstep:lot-registration | |
| batch with inputs | TransformationEvent | | creating_class_instance | active |
| planting | ObjectEvent | OBSERVE | urn:suyuan:bizstep:planting | |
| input, fertiliser | ObjectEvent | OBSERVE | urn:suyuan:bizstep:fertilising | |
| input, pesticide | ObjectEvent | OBSERVE | urn:suyuan:bizstep:pesticide-application | |
| irrigation | ObjectEvent | OBSERVE | urn:suyuan:bizstep:irrigation | |
| observation | ObjectEvent | OBSERVE | urn:suyuan:bizstep:observation | |
| harvest | ObjectEvent | ADD | commissioning | active |
| packing | TransformationEvent | | packing | active |
| shipping | ObjectEvent | OBSERVE | shipping | in_transit |
| receiving | ObjectEvent | OBSERVE | receiving | in_progress |
| inspection | ObjectEvent | OBSERVE | inspecting | conformant / non_conformant |
| recall | ObjectEvent | OBSERVE | holding | recalled |
| certificate | ObjectEvent | OBSERVE | urn:suyuan:bizstep:certifying | |
| correction | (none: the errorDeclaration of the event it corrects, and its corrective event) | | | |

A lot is a class-level identifier: its GS1 Digital Link `https://id.gs1.org/01/{gtin}/10/{lot}`
when it has a GTIN, else its public page `{base_url}/b/{lot}`. Quantities carry UN/ECE Rec 20
units (`units.in_un_ece`: jin as kilograms); boxes and pieces are counts, without a unit. Work done on a field
lot's plot is read at, and leaves the lot at, the plot's `geo:` URI (a CBV location identifier);
a field lot's shipping is read there too, and its registration places the lot there. What EPCIS
has no field for (log index and leaf hash, who signed, the record's own data) is in the
`suyuan:` namespace. Every event's `eventID` is its EPCIS event hash ID.

The certificate (承诺达标合格证) is the grower's own commitment, not an inspection: CBV has no
step for it, and `inspecting` or the `conformant` disposition would claim a check that may
not have been made (its basis can be a bare 自我承诺), so it is our own step, with the quantity
it covers and its basis. It is not `certificationInfo`, which would have to name a
certificate document, and whose place in the event hash the hash algorithm's text and its
reference implementation disagree on. A later recall or failed inspection, which withdraws
the certificate on the lot's page, is an event of its own.

A corrected record (protocol §11) is exported as EPCIS declares an error: the event as
logged, with an `errorDeclaration` (when the correction was received, `incorrect_data`, or
`did_not_occur` when the correction voids the record, the corrective event's ID, and the
correction's log index, leaf hash and reason under `suyuan:`), then, unless voided, its
corrective event: the same record re-made from the correction's replacement, received when
the correction was, naming the correction in `suyuan:correction`. The error reasons are
written as the EPCIS context's terms, as bizSteps are: GS1's JSON schema refuses their CBV
URNs. Only the correction that holds (the latest) is declared; the correction record itself
is no event. The declared event and its corrective share `suyuan:logIndex` (the record they
stand for); the corrected view is the events without an `errorDeclaration`."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import datetime
from typing import Any

from signing.payloads import LotRecord
from signing.units import in_un_ece

from ..lots.urls import GS1_RESOLVER, lot_url
from .epcis_hash import EPCIS_CONTEXT, event_hash_id
from .source import Exported, LotInfo

SUYUAN = "urn:suyuan:epcis:"
BIZSTEP = "urn:suyuan:bizstep:"
# cbvmda is in the standard context too; declaring it again pins the namespace that event
# hashes of ILMD fields are computed with, whichever hashing tool reads the document.
CONTEXT = [EPCIS_CONTEXT, {"cbvmda": "urn:epcglobal:cbv:mda:", "suyuan": SUYUAN}]

OBSERVED = {  # record type → (bizStep, disposition)
    "planting": (BIZSTEP + "planting", None),
    "irrigation": (BIZSTEP + "irrigation", None),
    "observation": (BIZSTEP + "observation", None),
    "shipping": ("shipping", "in_transit"),
    "receiving": ("receiving", "in_progress"),
    "recall": ("holding", "recalled"),  # CBV has no recalling step: the goods are held
    "certificate": (BIZSTEP + "certifying", None),  # see the module's description
}
INPUT_STEPS = {"fertiliser": BIZSTEP + "fertilising", "pesticide": BIZSTEP + "pesticide-application"}
AT_PLOT = {"planting", "input", "irrigation", "observation", "harvest"}
# Data that the standard fields already carry (in the quantity lists).
QUANTIFIED = {"harvest", "packing", "shipping", "receiving", "certificate"}


def epcis_document(items: Iterable[Exported], *, created: datetime, base_url: str) -> Iterator[bytes]:
    """The EPCISDocument in chunks: the header, then one event per chunk as the records come
    (a corrected record's two, see the module's description), then the closing brackets."""
    events = _Events(base_url.rstrip("/"))
    yield (
        f'{{"@context": {_json(CONTEXT)}, "type": "EPCISDocument", "schemaVersion": "2.0", '
        f'"creationDate": {_json(_time(created))}, "epcisBody": {{"eventList": ['
    ).encode()
    separator = ""
    for item in items:
        for event in events.of(item):
            yield (separator + _json(event)).encode()
            separator = ", "
    yield b"]}}"


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


class _Events:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        # GTINs of the lots met so far, and of their inputs: a batch record names its inputs by lot code alone.
        self.gtins: dict[str, str | None] = {}

    def of(self, item: Exported) -> list[dict]:
        """The record's event; a corrected record's declared in error, and its corrective event."""
        self.gtins[item.lot.lot] = item.lot.gtin
        self.gtins.update(item.lot.input_gtins)
        logged = self.event(item)
        correction, effective = item.correction, item.effective
        if correction is None:
            return [logged]
        corrective = None
        if effective is not None:
            # Received when the correction was, and named by it: even a replacement that repeats
            # the record's values makes an event of its own.
            again = replace(item, record=replace(effective, recorded_at=correction.recorded_at))
            corrective = self.event(again, {"suyuan:correction": _correction(correction)})
        logged["errorDeclaration"] = _declaration(correction, corrective)
        return [logged] if corrective is None else [logged, corrective]

    def event(self, item: Exported, extra: dict | None = None) -> dict:
        if item.record.type == "batch":
            event = self.derived(item) if item.lot.inputs else self.registered(item)
        elif item.record.type == "harvest":
            event = self.harvest(item)
        elif item.record.type == "packing":
            event = self.packing(item)
        else:
            event = self.observed(item)
        event.update(self.provenance(item))
        event.update(extra or {})
        return {"type": event["type"], "eventID": event_hash_id(event, CONTEXT), **event}

    # -- one builder per kind of record ---------------------------------------------------------

    def registered(self, item: Exported) -> dict:
        event = self.object(item, "OBSERVE", BIZSTEP + "lot-registration", None)
        return event | _lot_facts(item.lot)

    def derived(self, item: Exported) -> dict:
        return self.common(item, "TransformationEvent") | {
            "inputQuantityList": [self.quantity(lot, q, unit) for lot, q, unit in item.lot.inputs],
            "outputQuantityList": [self.quantity(item.lot.lot)],
            "bizStep": "creating_class_instance",
            "disposition": "active",
            "ilmd": _lot_facts(item.lot) | {"cbvmda:lotNumber": item.lot.lot},
        }

    def harvest(self, item: Exported) -> dict:
        data = item.record.data
        event = self.object(item, "ADD", "commissioning", "active", data["quantity"], data["unit"])
        day = item.record.occurred_at.date().isoformat()
        ilmd = {"cbvmda:harvestStartDate": day, "cbvmda:harvestEndDate": day, "cbvmda:lotNumber": item.lot.lot}
        return event | {"ilmd": ilmd | _lot_facts(item.lot)}

    def packing(self, item: Exported) -> dict:
        data = item.record.data
        return self.common(item, "TransformationEvent") | {
            "inputQuantityList": [self.quantity(item.lot.lot, data["quantity"], data["unit"])],
            "outputQuantityList": [self.quantity(item.lot.lot, data["package_count"])],
            "bizStep": "packing",
            "disposition": "active",
        }

    def observed(self, item: Exported) -> dict:
        if item.record.type == "input":
            step, disposition = INPUT_STEPS[item.record.data["kind"]], None
        elif item.record.type == "inspection":
            step, disposition = "inspecting", "conformant" if item.record.data["result"] == "pass" else "non_conformant"
        else:
            step, disposition = OBSERVED[item.record.type]
        data = item.record.data
        return self.object(item, "OBSERVE", step, disposition, data.get("quantity"), data.get("unit"))

    # -- parts ------------------------------------------------------------------------------------

    def common(self, item: Exported, event_type: str) -> dict:
        offset = item.record.occurred_at.utcoffset()
        minutes = int(offset.total_seconds() // 60) if offset is not None else 0
        return {
            "type": event_type,
            "eventTime": _time(item.record.occurred_at),
            "eventTimeZoneOffset": f"{'-' if minutes < 0 else '+'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}",
            "recordTime": _time(item.record.recorded_at),
        }

    def object(
        self,
        item: Exported,
        action: str,
        step: str,
        disposition: str | None,
        quantity: float | None = None,
        unit: str | None = None,
    ) -> dict:
        event = self.common(item, "ObjectEvent") | {
            "quantityList": [self.quantity(item.lot.lot, quantity, unit)],
            "action": action,
            "bizStep": step,
        }
        if disposition:
            event["disposition"] = disposition
        plot = item.lot.plot
        if plot is not None:
            where = {"id": f"geo:{plot.lat:.6f},{plot.lon:.6f}"}
            if item.record.type in AT_PLOT or item.record.type == "shipping":
                event["readPoint"] = where
            if item.record.type in AT_PLOT or item.record.type == "batch":
                event["bizLocation"] = where
        # Where the grower was when it happened (from the photo or the phone) is where it was read.
        if place := item.record.data.get("place"):
            event["readPoint"] = {"id": f"geo:{place['lat']:.6f},{place['lon']:.6f}"}
        return event

    def quantity(self, lot: str, quantity: float | None = None, unit: str | None = None) -> dict:
        gtin = self.gtins.get(lot)
        element: dict = {"epcClass": lot_url(GS1_RESOLVER if gtin else self.base_url, lot, gtin)}
        if quantity is not None:
            amount, uom = in_un_ece(quantity, unit)
            element["quantity"] = _number(amount)
            if uom:
                element["uom"] = uom
        return element

    def provenance(self, item: Exported) -> dict:
        """Where the record is in the log, who signed it, and the data EPCIS has no field for."""
        fields = {
            "suyuan:lot": item.lot.lot,
            "suyuan:seq": item.record.seq,
            "suyuan:logIndex": item.record.index,
            "suyuan:leafHash": item.record.leaf_hash,
        }
        if item.signer is not None:
            fields["suyuan:signer"] = {
                "suyuan:id": item.signer.id,
                "suyuan:name": item.signer.name,
                "suyuan:role": item.signer.role,
            }
        if item.record.evidence:
            fields["suyuan:photoSha256"] = list(item.record.evidence)
        consumed = {"place"} | ({"quantity", "unit", "package_count"} if item.record.type in QUANTIFIED else set())
        if item.record.type == "batch":
            consumed |= set(item.record.data)  # the lot's facts, which the event carries already
        fields |= {
            _suyuan(key): value for key, value in item.record.data.items() if key not in consumed and value is not None
        }
        return fields


def _declaration(correction: LotRecord, corrective: dict | None) -> dict[str, Any]:
    declaration: dict[str, Any] = {"declarationTime": _time(correction.recorded_at)}
    if corrective is None:
        declaration["reason"] = "did_not_occur"
    else:
        declaration |= {"reason": "incorrect_data", "correctiveEventIDs": [corrective["eventID"]]}
    return declaration | _correction(correction)


def _correction(correction: LotRecord) -> dict[str, Any]:
    """The correction record as the log holds it, and why it was made. Who made it is who
    signed the record it corrects: the lot's grower, or the regulator for its own records."""
    return {
        "suyuan:logIndex": correction.index,
        "suyuan:leafHash": correction.leaf_hash,
        "suyuan:reason": correction.data["reason"],
    }


def _lot_facts(lot: LotInfo) -> dict[str, Any]:
    owner = {"suyuan:id": lot.owner.id, "suyuan:name": lot.owner.name}
    if lot.owner.region:
        owner["suyuan:region"] = lot.owner.region
    facts: dict[str, Any] = {"suyuan:product": lot.product, "suyuan:owner": owner}
    if lot.variety:
        facts["suyuan:variety"] = lot.variety
    if lot.plot is not None:
        facts["suyuan:plot"] = {"suyuan:id": lot.plot.id, "suyuan:name": lot.plot.name}
    return facts


def _suyuan(key: str) -> str:
    head, *rest = key.split("_")
    return "suyuan:" + head + "".join(word.capitalize() for word in rest)


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def _time(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
