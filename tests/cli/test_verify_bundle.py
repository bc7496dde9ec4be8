"""`suyuan verify BUNDLE`: the verifier says what the bundle says (issue item 7): the lot's state
beside the integrity result, an exit code a script can act on, the same verdict for the
bundle re-serialised, and a warning, with where to fetch a fresh one, for an old bundle."""

from __future__ import annotations

import base64
import json
import re
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import traceability.cli
from signing.bundle import verify_bundle
from signing.note import Verifier
from tests.lots.test_own_keys import OwnKey, appended
from tests.orchard import grow, recall
from traceability.cli import app
from traceability.cli.bundle_report import Outcome, report_json
from traceability.cli.freshness import Freshness, fresh_bundle_url, parse_duration
from traceability.clock import FixedClock

SPRAYED = "2026-09-10T07:30:00+08:00"


class Bundles:
    """Fetches a lot's bundle from the test server and runs the real command on it, at a time
    just after the bundle's newest record unless told otherwise."""

    def __init__(self, client, tmp_path, monkeypatch) -> None:
        self.client, self.tmp_path, self.monkeypatch = client, tmp_path, monkeypatch
        self.key = client.get("/log/key").text

    def fetch(self, lot: str) -> bytes:
        response = self.client.get(f"/b/{lot}/proof.json")
        assert response.status_code == 200
        return response.content

    def verify(self, document: bytes, *options: str, age: timedelta = timedelta(minutes=5)):
        verified = verify_bundle(document, Verifier.from_key_string(self.key))
        self.monkeypatch.setattr(traceability.cli, "clock", FixedClock(verified.as_of + age))
        path = self.tmp_path / "proof.json"
        path.write_bytes(document)
        return CliRunner().invoke(app, ["verify", str(path), "--log-key", self.key, *options])


@pytest.fixture
def bundles(client, tmp_path, monkeypatch) -> Bundles:
    return Bundles(client, tmp_path, monkeypatch)


def one_line(output: str) -> str:
    """The report with its lines joined, so that a sentence is found wherever a terminal broke it."""
    return re.sub(r"\s+", " ", output)


def test_a_clean_certified_lot_verifies_with_its_certificate(farm, bundles):
    orchard = grow(farm)
    result = bundles.verify(bundles.fetch(orchard.packed_lot))
    assert result.exit_code == Outcome.VERIFIED, result.output
    said = one_line(result.output)
    assert f"lot {orchard.packed_lot} verified: nothing of concern" in said
    assert "certificate (承诺达标合格证) issued on 2008-10-24 by 王秀英" in said
    assert "of the 1 lot it was made from" in said and "no recall, and no concern" in said
    assert "WITHDRAWN" not in said and "older than" not in said
    # Who signed, and how: the orchard's grower has a custodial key, which the report says.
    assert "王秀英: 4 records, signed by the platform on their behalf (a key the server holds)" in said


def test_an_uncertified_lot_says_so(farm, bundles):
    orchard = grow(farm, certified=False)
    result = bundles.verify(bundles.fetch(orchard.packed_lot))
    assert result.exit_code == Outcome.VERIFIED, result.output
    assert "no certificate (承诺达标合格证) issued" in one_line(result.output)


def test_a_recall_comes_first_with_its_own_code_and_withdraws_the_certificate(farm, bundles):
    orchard = grow(farm)
    recall(farm, orchard, orchard.field_lot)
    result = bundles.verify(bundles.fetch(orchard.packed_lot))
    assert result.exit_code == Outcome.RECALLED, result.output
    said = one_line(result.output)
    recalled = (
        f"RECALLED (lot {orchard.field_lot}, which this lot was made from) on 2008-10-26 "
        "by 李建国 (洛川县农业农村局): 农药残留超标 pesticide residue above the limit"
    )
    assert recalled in said
    assert said.index("RECALLED") < said.index("certificate (承诺达标合格证) issued")
    assert "WITHDRAWN: the concerns above mean it no longer covers this lot" in said
    assert f"lot {orchard.packed_lot} verified, and RECALLED" in said
    # The recalled lot itself.
    result = bundles.verify(bundles.fetch(orchard.field_lot))
    assert result.exit_code == Outcome.RECALLED
    assert "RECALLED on 2008-10-26 by 李建国 (洛川县农业农村局)" in one_line(result.output)


def sprayed_then_harvested(farm, harvested: str) -> tuple[object, str, dict]:
    grower = farm.grower("赵大山")
    lot = farm.batch(grower, "黄瓜")["lot"]
    spray = {"product": "吡虫啉", "kind": "pesticide", "phi_days": 7}
    farm.event(grower, lot, "input", spray, SPRAYED)
    harvest = farm.event(grower, lot, "harvest", {"quantity": 80, "unit": "kg"}, harvested)
    return grower, lot, harvest


def test_a_harvest_inside_the_interval_is_a_blocking_concern(farm, bundles):
    _, lot, _ = sprayed_then_harvested(farm, "2026-09-12T08:00:00+08:00")
    result = bundles.verify(bundles.fetch(lot))
    assert result.exit_code == Outcome.BLOCKING, result.output
    said = one_line(result.output)
    assert (
        f"lot {lot}: harvested on 2026-09-12, 2 days after 吡虫啉 was sprayed on 2026-09-10; "
        "its pre-harvest interval is 7 days (safe from 2026-09-17)"
    ) in said
    assert "RECALLED" not in said and f"lot {lot} verified, with a blocking concern" in said


def test_a_concern_a_correction_cleared_is_shown_cleared(farm, bundles):
    grower, lot, harvest = sprayed_then_harvested(farm, "2026-09-12T08:00:00+08:00")
    correction = {
        "corrects": harvest["seq"],
        "reason": "日期写错了 the date was mistyped",
        "replacement": {"occurred_at": "2026-09-21T08:00:00+08:00"},
    }
    farm.event(grower, lot, "correction", correction, "2026-09-21T09:00:00+08:00")
    result = bundles.verify(bundles.fetch(lot))
    assert result.exit_code == Outcome.VERIFIED, result.output
    said = one_line(result.output)
    assert f"cleared by a correction: lot {lot}: harvested on 2026-09-12" in said
    assert f"record seq {harvest['seq']} (harvest) corrected by seq {harvest['seq'] + 1}: 日期写错了" in said


def test_other_concerns_have_a_code_of_their_own(farm, bundles):
    grower = farm.grower()
    lot = farm.batch(grower)["lot"]
    farm.event(grower, lot, "planting", {"method": "直播"}, "2026-09-15T08:00:00+08:00")
    farm.event(grower, lot, "harvest", {"quantity": 10, "unit": "kg"}, "2026-09-01T08:00:00+08:00")
    result = bundles.verify(bundles.fetch(lot))
    assert result.exit_code == Outcome.CONCERNS, result.output
    assert "harvested on 2026-09-01, before the planting on 2026-09-15" in one_line(result.output)


def reserialised(document: bytes, **options) -> bytes:
    return json.dumps(json.loads(document), **options).encode()


def test_a_bundle_passed_through_jq_verifies_the_same(farm, bundles):
    orchard = grow(farm)
    recall(farm, orchard, orchard.packed_lot)
    document = bundles.fetch(orchard.packed_lot)
    as_served = bundles.verify(document, "--json")
    like_jq = bundles.verify(reserialised(document, indent=2, ensure_ascii=False) + b"\n", "--json")
    assert as_served.exit_code == like_jq.exit_code == Outcome.RECALLED
    assert json.loads(like_jq.output) == json.loads(as_served.output)
    assert json.loads(like_jq.output)["state"]["recalled"] is True


@pytest.fixture
def recalled_bundle(farm, bundles) -> bytes:
    orchard = grow(farm)
    recall(farm, orchard, orchard.field_lot)
    return bundles.fetch(orchard.packed_lot)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    indent=st.sampled_from([None, 0, 1, 2, 4, "\t"]),
    ensure_ascii=st.booleans(),
    separators=st.sampled_from([None, (",", ":"), (", ", ": "), (" ,", " : ")]),
    shuffle=st.randoms(use_true_random=False),
)
def test_any_reserialisation_says_the_same(recalled_bundle, bundles, indent, ensure_ascii, separators, shuffle):
    """However a tool rewrites the wrapper (whitespace, escapes, key order), the report is the same."""
    document, key = recalled_bundle, Verifier.from_key_string(bundles.key)

    def shuffled(value: object) -> object:
        if isinstance(value, dict):
            items = list(value.items())
            shuffle.shuffle(items)
            return {k: shuffled(v) for k, v in items}
        if isinstance(value, list):
            return [shuffled(v) for v in value]
        return value

    rewritten = json.dumps(
        shuffled(json.loads(document)), indent=indent, ensure_ascii=ensure_ascii, separators=separators
    ).encode()
    assert rewritten != document

    def report(document: bytes) -> dict:
        verified = verify_bundle(document, key)
        return report_json(verified, Freshness.of(verified, verified.as_of, timedelta(days=1), "1d"))

    assert report(rewritten) == report(document)


def test_a_tampered_bundle_fails_even_when_the_lot_is_recalled(farm, bundles):
    """The recall record stays intact; another entry's proof is altered. Nothing is read from
    a bundle that does not verify, so its recall cannot turn the failure into code 3."""
    orchard = grow(farm)
    recall(farm, orchard, orchard.packed_lot)
    bundle = json.loads(bundles.fetch(orchard.packed_lot))
    assert json.loads(base64.b64decode(bundle["entries"][-1]["entry"]))["payload"]["type"] == "recall"
    first = bundle["entries"][0]
    proof = bytearray(base64.b64decode(first["inclusion_proof"][0]))
    proof[0] ^= 1
    first["inclusion_proof"][0] = base64.b64encode(bytes(proof)).decode()
    path = bundles.tmp_path / "tampered.json"
    path.write_text(json.dumps(bundle, indent=2))
    for options in ([], ["--json"]):
        result = CliRunner().invoke(app, ["verify", str(path), "--log-key", bundles.key, *options])
        assert result.exit_code == Outcome.FAILED, result.output
        assert "RECALLED" not in result.output and "recalled" not in result.output
        assert f"entry {first['index']}: not included in the checkpoint's tree" in one_line(result.stderr)
    report = json.loads(result.stdout)
    assert report.pop("error").startswith(f"entry {first['index']}")
    assert report == {"verified": False, "outcome": "failed", "exit_code": 1}


def test_an_old_bundle_says_it_cannot_know_of_a_later_recall(farm, bundles):
    orchard = grow(farm)
    document = bundles.fetch(orchard.packed_lot)
    result = bundles.verify(document, age=timedelta(days=3, hours=2))
    assert result.exit_code == Outcome.VERIFIED, result.output  # a warning, not a verdict
    said = one_line(result.output)
    assert "(3 days ago)" in said
    assert "older than --max-age 1d: a recall or finding logged since then cannot be in it" in said
    lot = orchard.packed_lot
    assert f"curl -o {lot}-proof.json https://testserver/b/{lot}/proof.json" in said
    # A longer allowance, the same bundle: no warning. And the JSON says it too.
    assert "older than" not in bundles.verify(document, "--max-age", "1w", age=timedelta(days=3)).output
    report = json.loads(bundles.verify(document, "--json", age=timedelta(days=3)).output)
    assert report["stale"] is True and report["fresh_bundle_url"] == f"https://testserver/b/{lot}/proof.json"
    assert report["age_seconds"] == 3 * 86400


def test_a_bundle_a_minute_old_has_no_warning(farm, bundles):
    orchard = grow(farm)
    result = bundles.verify(bundles.fetch(orchard.packed_lot), age=timedelta(minutes=1))
    assert "(1 minute ago)" in one_line(result.output) and "older than" not in result.output


def test_a_max_age_that_is_not_a_duration_is_a_usage_error(farm, bundles):
    orchard = grow(farm, certified=False)
    result = bundles.verify(bundles.fetch(orchard.packed_lot), "--max-age", "soon")
    assert result.exit_code == Outcome.USAGE
    assert "not a duration" in one_line(result.output)


def test_the_exit_codes_are_the_documented_numbers():
    assert {o.name: int(o) for o in Outcome} == {
        "VERIFIED": 0,
        "FAILED": 1,
        "USAGE": 2,
        "RECALLED": 3,
        "BLOCKING": 4,
        "CONCERNS": 5,
    }


def test_the_help_documents_the_exit_codes():
    result = CliRunner().invoke(app, ["verify", "--help"], env={"COLUMNS": "300"})
    said = one_line(result.output)
    for words in (
        "0 verified and nothing of concern",
        "1 verification failed",
        "3 verified, and the lot",
        "5 verified",
    ):
        assert words in said


@pytest.mark.parametrize(
    ("origin", "url"),
    [
        ("testserver/log", "https://testserver/b/ABC/proof.json"),
        ("trace.example.cn/log", "https://trace.example.cn/b/ABC/proof.json"),
        ("127.0.0.1:8000/log", "http://127.0.0.1:8000/b/ABC/proof.json"),
        ("localhost:8000/log", "http://localhost:8000/b/ABC/proof.json"),
        ("[::1]:8000/log", "http://[::1]:8000/b/ABC/proof.json"),
        ("example.cn/suyuan-2026", None),  # an origin its operator chose: no address in it
        ("log", None),
    ],
)
def test_where_a_fresh_bundle_is_comes_from_the_default_origin(origin, url):
    assert fresh_bundle_url(origin, "ABC") == url


_UNIT_SECONDS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}


@given(st.lists(st.tuples(st.integers(0, 10_000), st.sampled_from(list(_UNIT_SECONDS))), min_size=1, max_size=5))
def test_a_duration_is_the_sum_of_its_parts(parts):
    text = "".join(f"{n}{unit}" for n, unit in parts)
    assert parse_duration(text) == timedelta(seconds=sum(n * _UNIT_SECONDS[unit] for n, unit in parts))


@given(st.text(max_size=8).filter(lambda t: not re.fullmatch(r"\s*(?:\d+[wdhms])+\s*", t)))
def test_anything_else_is_refused(text):
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(text)


def test_the_report_says_who_signed_with_a_key_the_server_never_held(farm, client, clock, bundles):
    own = OwnKey(farm, clock)
    appended(own.send(own.batch_payload()))
    appended(own.send(own.harvest_payload("OWNKEY0001")))
    result = bundles.verify(bundles.fetch("OWNKEY0001"))
    said = one_line(result.output)
    assert "张自持: 2 records, signed with their own key (a key the server never held)" in said
    [signer] = json.loads(bundles.verify(bundles.fetch("OWNKEY0001"), "--json").output)["integrity"]["signers"]
    assert (signer["how"], signer["records"], signer["keyid"]) == ("own_key", 2, own.account.keyid)
