"""Two verdicts, not one (issue #11, item 1): what the records show comes first, in words a
buyer understands; that they are authentic comes after, and never as a green tick on a lot
with a recall or such a finding. The proof bundle says the same."""

from __future__ import annotations

import pytest

from signing.bundle import verify_bundle
from signing.note import Verifier
from tests.factories import Farm
from tests.pages import text_of
from tests.troubles import Troubles, seed

WORDS = {
    "interval": (
        "安全间隔期内采收： 2026年9月16日采收，距2026年9月13日喷施吡虫啉只有 3 天。该农药的安全间隔期是 7 天（2026年9月20日起才能采收）。",
        "Harvest inside a pre-harvest interval. Harvested on Sep 16, 2026, only 3 days after 吡虫啉 was sprayed on Sep 13, 2026. Its label asks for 7 days before picking (not before Sep 20, 2026).",
    ),
    "before_planting": (
        "种植前就采收： 采收日期2026年9月15日早于种植日期2026年9月18日：两个日期中有一个是错的。",
        "Harvest before planting. The harvest is dated Sep 15, 2026, before the planting on Sep 18, 2026: one of the two dates is wrong.",
    ),
    "failed": (
        "检测不合格： 2026年9月19日的“农药残留快速检测”检测不合格。",
        "Failed inspection. The “农药残留快速检测” of Sep 19, 2026 failed.",
    ),
    "oversold": (
        "出货多于进货： 从本批次出去的共 270 公斤（日志第",
        "More sold than harvested. 270 kg left this lot in all (log entries",
    ),
    "recalled": ("已召回：请勿食用或销售本产品", "Recalled: do not eat or sell this product"),
}


def seen(farm: Farm, lot: str, lang: str) -> tuple[str, str]:
    html = farm.client.get(f"/b/{lot}", params={"lang": lang}).text
    return html, text_of(html)


@pytest.fixture
def troubles(farm: Farm) -> Troubles:
    return seed(farm)


@pytest.mark.parametrize("case", list(WORDS))
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_each_finding_is_said_first_in_plain_words_and_the_integrity_verdict_after_it(farm, troubles, case, lang):
    lot = getattr(troubles, case)
    html, text = seen(farm, lot, lang)
    words = WORDS[case][0 if lang == "zh" else 1]
    assert words in text
    first = html.index('role="alert"') if case == "recalled" else html.index('class="concerns"')
    authentic = "记录真实未改" if lang == "zh" else "The records are authentic"
    assert authentic in text and first < html.index(authentic)
    assert ("记录完整" if lang == "zh" else "Records intact") not in text
    assert "✓" not in text


def test_a_lot_with_nothing_to_say_keeps_its_green_verdict(farm: Farm):
    grower = farm.grower()
    lot = farm.batch(grower, "蜂蜜")["lot"]
    farm.event(grower, lot, "harvest", {"quantity": 10, "unit": "kg"})
    _, text = seen(farm, lot, "zh")
    assert "记录完整" in text and "记录显示的问题" not in text


def test_a_finding_of_a_lot_it_was_made_from_is_said_with_that_lot(farm, troubles):
    packed = farm.batch(troubles.grower, "苹果礼盒", inputs=[{"lot": troubles.interval, "quantity": 10, "unit": "kg"}])
    _, text = seen(farm, packed["lot"], "en")
    assert f"In lot {troubles.interval}, which this lot was made from: Harvested on Sep 16, 2026" in text


def test_a_correction_is_shown_beside_the_record_it_struck_through_and_clears_its_finding(farm, troubles):
    seq = troubles.interval_harvest["seq"]
    body = {
        "type": "correction",
        "occurred_at": "2026-09-20T09:00:00+08:00",
        "data": {"corrects": seq, "reason": "记错日子了", "replacement": {"occurred_at": "2026-09-21T09:00:00+08:00"}},
    }
    response = farm.client.post(
        f"/api/v1/batches/{troubles.interval}/events", json=body, headers=troubles.grower.headers
    )
    assert response.status_code == 201, response.text
    correction = response.json()["index"]
    html, text = seen(farm, troubles.interval, "zh")
    assert "记录显示的问题" not in text and "记录完整" in text
    struck = html[html.index('class=" corrected"') :]
    assert "2026年9月16日" in text_of(struck[: struck.index("</div>")])  # the original, struck through
    assert "原因： 记错日子了" in text and "更正后： 2026年9月21日" in text
    assert "已由更正消除" in text and f"由日志第 {correction} 条消除" in text
    assert "安全间隔期内采收： 2026年9月16日采收" in text  # what was cleared, said as it was


def test_the_proof_bundle_says_what_the_page_says(farm, troubles):
    log_key = Verifier.from_key_string(farm.client.get("/log/key").text)
    for case, codes in (("interval", ["phi_violation"]), ("failed", ["failed_inspection"]), ("recalled", ["recalled"])):
        bundle = farm.client.get(f"/b/{getattr(troubles, case)}/proof.json").content
        state = verify_bundle(bundle, log_key).state
        assert [c.code for c in state.concerns] == codes, case
    oversold = verify_bundle(farm.client.get(f"/b/{troubles.oversold}/proof.json").content, log_key).state
    [exceeded] = oversold.concerns
    assert (exceeded.code, exceeded.params["out"], exceeded.params["held"]) == ("quantity_exceeds_harvest", 270, 200)
    assert exceeded.params["into"] == [troubles.oversold_into]
