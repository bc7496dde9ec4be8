"""EPCIS event hash IDs: GS1's reference vectors, and the properties the algorithm promises."""

from __future__ import annotations

import json
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.corpus import DATA
from traceability.exports.epcis_hash import digital_link, event_hash_id, prehash

EPCIS = DATA / "epcis"
VECTORS = EPCIS / "epcis-event-hash-vectors"


def _lines(path):
    return [line for line in path.read_text().splitlines() if line]


def _vectors():
    for document_path in sorted(VECTORS.glob("*.jsonld")):
        document = json.loads(document_path.read_text())
        events = document["epcisBody"]["eventList"]
        prehashes = _lines(document_path.with_suffix(".prehashes"))
        hashes = _lines(document_path.with_suffix(".hashes"))
        assert len(events) == len(prehashes) == len(hashes)
        for n, (event, expected_prehash, expected_hash) in enumerate(zip(events, prehashes, hashes, strict=True)):
            yield pytest.param(
                event, document["@context"], expected_prehash, expected_hash, id=f"{document_path.stem}-{n}"
            )


VECTOR_CASES = list(_vectors())


def test_every_vector_is_collected():
    assert len(VECTOR_CASES) == 15


@pytest.mark.parametrize(("event", "context", "expected_prehash", "expected_hash"), VECTOR_CASES)
def test_reference_vectors(event, context, expected_prehash, expected_hash):
    assert prehash(event, context) == expected_prehash
    assert event_hash_id(event, context) == expected_hash


def _shuffled(value, rnd: random.Random):
    """The same event written another way: every object's keys and every list in another order."""
    if isinstance(value, dict):
        items = list(value.items())
        rnd.shuffle(items)
        return {key: _shuffled(item, rnd) for key, item in items}
    if isinstance(value, list):
        items = [_shuffled(item, rnd) for item in value]
        rnd.shuffle(items)
        return items
    return value


@settings(max_examples=50, deadline=None)
@given(st.sampled_from(VECTOR_CASES), st.randoms(use_true_random=False))
def test_vectors_do_not_depend_on_key_or_list_order(case, rnd):
    event, context, _, expected_hash = case.values
    assert event_hash_id(_shuffled(event, rnd), context) == expected_hash


def test_identifiers_written_as_urns_or_digital_links_hash_the_same():
    """GS1's example 9.6.4 is published with EPC URIs and with Digital Link URIs: one event."""
    with_urns, with_links = (
        json.loads((EPCIS / name).read_text())
        for name in (
            "epcis-example-9.6.4-TransformationEvent.jsonld",
            "epcis-example-9.6.4-TransformationEventWithDigitalLink.jsonld",
        )
    )
    assert event_hash_id(with_urns["epcisBody"]["eventList"][0], with_urns["@context"]) == event_hash_id(
        with_links["epcisBody"]["eventList"][0], with_links["@context"]
    )


def test_event_id_record_time_and_error_declarations_are_not_hashed():
    event, context, _, expected_hash = VECTOR_CASES[0].values
    amended = event | {
        "eventID": "urn:uuid:374d95fc-9457-4a51-bd6a-0bba133845a8",
        "recordTime": "2030-01-01T00:00:00Z",
        "errorDeclaration": {"declarationTime": "2030-01-01T00:00:00Z", "reason": "incorrect_data"},
    }
    assert event_hash_id(amended, context) == expected_hash


@pytest.mark.parametrize(
    ("written", "hashed"),
    [
        ("2023-01-18T11:04:03.1415Z", "2023-01-18T11:04:03.142Z"),
        ("2023-01-18T11:04:03.1414999Z", "2023-01-18T11:04:03.141Z"),
        ("2023-12-31T23:59:59.9996Z", "2024-01-01T00:00:00.000Z"),
        ("2023-01-18T19:04:03+08:00", "2023-01-18T11:04:03.000Z"),
        ("2023-01-18T05:34:03.5-05:30", "2023-01-18T11:04:03.500Z"),
    ],
)
def test_times_are_utc_to_the_millisecond(written, hashed):
    event = {"type": "ObjectEvent", "eventTime": written, "eventTimeZoneOffset": "+00:00", "action": "OBSERVE"}
    assert prehash(event).startswith(f"eventType=ObjectEventeventTime={hashed}eventTimeZoneOffset=")


@pytest.mark.parametrize(
    ("uri", "canonical"),
    [  # examples of GS1's EPC Tag Data Standard and Digital Link standard
        ("urn:epc:id:sgtin:0614141.812345.6789", "https://id.gs1.org/01/80614141123458/21/6789"),
        ("urn:epc:id:sscc:0614141.1234567890", "https://id.gs1.org/00/106141412345678908"),
        ("urn:epc:id:sgln:0614141.12345.400", "https://id.gs1.org/414/0614141123452/254/400"),
        ("urn:epc:id:grai:0614141.12345.400", "https://id.gs1.org/8003/00614141123452400"),
        ("urn:epc:id:giai:0614141.12345400", "https://id.gs1.org/8004/061414112345400"),
        ("urn:epc:class:lgtin:4012345.012345.998877", "https://id.gs1.org/01/04012345123456/10/998877"),
        ("urn:epc:idpat:sgtin:4012345.066666.*", "https://id.gs1.org/01/04012345666663"),
        (
            "https://example.com/shop/gtin/9506000134352/lot/A1?linkType=all",
            "https://id.gs1.org/01/09506000134352/10/A1",
        ),
        ("https://id.gs1.org/01/09506000134352/10/A1/21/S7", "https://id.gs1.org/01/09506000134352/21/S7"),
        ("http://testserver/b/0123ABCDEF", None),
        ("geo:35.76,109.42", None),
    ],
)
def test_gs1_identifiers_become_constrained_digital_links(uri, canonical):
    assert digital_link(uri) == canonical


# -- generated events ------------------------------------------------------------------------------


def _digits(n: int):
    return st.from_regex(rf"[0-9]{{{n}}}", fullmatch=True)


_serial = st.from_regex(r"[A-Za-z0-9]{1,12}", fullmatch=True)
_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=10).filter(
    str.strip
)
_sgtin = st.builds("urn:epc:id:sgtin:{}.{}.{}".format, _digits(7), _digits(6), _serial)
_link = st.builds("https://id.gs1.org/01/{}/21/{}".format, _digits(14), _serial)
_lgtin = st.builds("urn:epc:class:lgtin:{}.{}.{}".format, _digits(7), _digits(6), _serial)
_quantity = st.fixed_dictionaries(
    {"epcClass": st.one_of(_lgtin, st.builds("http://testserver/b/{}".format, _serial))},
    optional={
        "quantity": st.one_of(st.integers(0, 10**6), st.floats(0.001, 1e6).map(lambda q: round(q, 3))),
        "uom": st.sampled_from(["KGM", "GRM", "TNE"]),
    },
)
_extension_value = st.recursive(
    st.one_of(_text, st.integers(-1000, 1000)),
    lambda inner: st.one_of(
        st.lists(inner, min_size=1, max_size=3),
        st.dictionaries(st.sampled_from(["ex:a", "ex:b", "ex:c"]), inner, min_size=1, max_size=3),
    ),
    max_leaves=6,
)
_extensions = st.dictionaries(st.sampled_from(["ex:one", "ex:two", "ex:three"]), _extension_value, max_size=3)
_time = st.builds(
    "2026-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}{}{}".format,
    st.integers(1, 12), st.integers(1, 28), st.integers(0, 23), st.integers(0, 59), st.integers(0, 59),
    st.sampled_from(["", ".5", ".123", ".123456"]), st.sampled_from(["Z", "+08:00", "-05:30"]),
)  # fmt: skip
_events = st.fixed_dictionaries(
    {
        "type": st.just("ObjectEvent"),
        "eventTime": _time,
        "eventTimeZoneOffset": st.sampled_from(["+08:00", "-05:30", "+00:00"]),
        "action": st.sampled_from(["ADD", "OBSERVE", "DELETE"]),
    },
    optional={
        "epcList": st.lists(st.one_of(_sgtin, _link), min_size=1, max_size=4),
        "quantityList": st.lists(_quantity, min_size=1, max_size=3),
        "bizStep": st.sampled_from(["shipping", "commissioning", "urn:suyuan:bizstep:planting"]),
        "disposition": st.sampled_from(["in_transit", "recalled", "urn:epcglobal:cbv:disp:active"]),
        "readPoint": st.fixed_dictionaries(
            {"id": st.builds("geo:{},{}".format, st.integers(-90, 90), st.integers(-180, 180))}
        ),
        "bizTransactionList": st.lists(
            st.fixed_dictionaries({"type": st.sampled_from(["po", "inv"]), "bizTransaction": _link}),
            min_size=1,
            max_size=3,
        ),
        "sourceList": st.lists(
            st.fixed_dictionaries({"type": st.sampled_from(["owning_party", "location"]), "source": _link}),
            min_size=1,
            max_size=3,
        ),
        "ilmd": st.dictionaries(st.sampled_from(["cbvmda:lotNumber", "ex:variety"]), _text, min_size=1),
    },
).flatmap(lambda event: _extensions.map(lambda extensions: event | extensions))
CONTEXT = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld", {"ex": "https://example.org/ns/"}]


def _leaves(value, path=()):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, (*path, key))
    elif isinstance(value, list):
        for n, item in enumerate(value):
            yield from _leaves(item, (*path, n))
    else:
        yield path


def _changed(value, path):
    if not path:
        return value + 1 if isinstance(value, int | float) else value + "x"
    copy = list(value) if isinstance(value, list) else dict(value)
    copy[path[0]] = _changed(value[path[0]], path[1:])
    return copy


@settings(max_examples=300, deadline=None)
@given(_events, st.randoms(use_true_random=False))
def test_the_hash_ignores_key_and_list_order(event, rnd):
    assert event_hash_id(_shuffled(event, rnd), CONTEXT) == event_hash_id(event, CONTEXT)


@settings(max_examples=300, deadline=None)
@given(_events, st.data())
def test_the_hash_changes_with_any_value(event, data):
    path = data.draw(st.sampled_from([p for p in _leaves(event) if p != ("type",)]))
    assert event_hash_id(_changed(event, path), CONTEXT) != event_hash_id(event, CONTEXT)
