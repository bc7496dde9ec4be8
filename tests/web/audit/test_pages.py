"""The regulators' pages at /audit (issue #5, item 3): sign-in, the lists, a lot's whole trace, a recall."""

from __future__ import annotations

import pytest

from tests.orchard import grow
from tests.pages import hidden, text_of


def sign_in(client, token: str, lang: str = "zh"):
    return client.post(f"/audit/sign-in?lang={lang}", data={"token": token}, follow_redirects=False)


def test_pages_need_a_regulators_sign_in(farm, client):
    orchard = grow(farm)
    for path in ("/audit", "/audit/lots", "/audit/growers", "/audit/recalls", f"/audit/lots/{orchard.field_lot}"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/audit/sign-in"), path
    refused = sign_in(client, orchard.grower.token)
    assert refused.status_code == 401 and "不是有效的监管人员令牌" in refused.text
    assert sign_in(client, "nonsense").status_code == 401


def test_a_regulator_signs_in_and_reads_anomalies_lots_growers_and_recalls(farm, client):
    orchard = grow(farm)
    signed = sign_in(client, orchard.regulator.token)
    assert signed.status_code == 303 and signed.headers["location"] == "/audit?lang=zh"
    cookie = signed.headers["set-cookie"]
    assert (
        "HttpOnly" in cookie
        and "SameSite=lax" in cookie
        and "Path=/audit" in cookie
        and orchard.regulator.token not in cookie
    )
    anomalies = client.get("/audit?lang=zh")
    assert anomalies.status_code == 200 and anomalies.headers["cache-control"] == "no-store"
    seen = text_of(anomalies.text)
    assert "补录的记录" in seen and orchard.field_lot in seen  # the 2008 season was logged in 2026: backdated
    assert "李建国" in seen  # who is signed in
    only = text_of(client.get("/audit", params={"lang": "en", "code": "phi_violation"}).text)
    assert "No anomalies match." in only
    lots = text_of(client.get("/audit/lots?lang=en").text)
    assert orchard.field_lot in lots and orchard.packed_lot in lots and "苹果礼盒" in lots
    growers = text_of(client.get("/audit/growers?lang=en").text)
    assert "王秀英" in growers and orchard.grower.id in growers
    assert "No lot has been recalled." in text_of(client.get("/audit/recalls?lang=en").text)


def test_a_lot_shows_its_whole_trace_and_can_be_recalled_from_the_page(farm, client):
    orchard = grow(farm)
    sign_in(client, orchard.regulator.token)
    html = client.get(f"/audit/lots/{orchard.field_lot}?lang=en").text
    seen = text_of(html)
    assert "A field lot: it was not made from other lots." in seen
    assert orchard.packed_lot in seen[seen.index("What was made from it") :]
    assert "harvest" in seen and "inspection" in seen
    packed = text_of(client.get(f"/audit/lots/{orchard.packed_lot}?lang=en").text)
    assert orchard.field_lot in packed[packed.index("Where it came from") : packed.index("What was made from it")]

    forged = client.post(
        f"/audit/lots/{orchard.field_lot}/recall", data={"csrf": "0" * 64, "reason": "x"}, follow_redirects=False
    )
    assert forged.status_code == 403
    empty = client.post(
        f"/audit/lots/{orchard.field_lot}/recall?lang=zh", data={"csrf": hidden(html, "csrf"), "reason": " "}
    )
    assert empty.status_code == 422 and "请写明召回原因" in empty.text
    done = client.post(
        f"/audit/lots/{orchard.field_lot}/recall?lang=en",
        data={"csrf": hidden(html, "csrf"), "reason": "农药残留超标"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert client.get(f"/b/{orchard.packed_lot}").text.count('role="alert"') == 1
    recalls = text_of(client.get("/audit/recalls?lang=en").text)
    assert "农药残留超标" in recalls and orchard.packed_lot in recalls
    [listed] = client.get("/api/v1/audit/recalls", headers=orchard.regulator.headers).json()["recalls"]
    assert listed["regulator"]["id"] == orchard.regulator.id  # signed with the regulator's own key


def test_signing_out_ends_the_session(farm, client):
    orchard = grow(farm)
    sign_in(client, orchard.regulator.token)
    html = client.get("/audit").text
    assert (
        client.post("/audit/sign-out", data={"csrf": hidden(html, "csrf")}, follow_redirects=False).status_code == 303
    )
    assert client.get("/audit", follow_redirects=False).status_code == 303


@pytest.mark.parametrize("path", ["/audit/lots/NOSUCHLOT", "/audit/lots/%3Cb%3E"])
def test_an_unknown_lot_is_a_friendly_404(farm, client, path):
    sign_in(client, farm.regulator().token)
    response = client.get(path)
    assert response.status_code == 404 and "<b>" not in response.text


def test_a_double_tap_on_recall_signs_one_recall(farm, client):
    orchard = grow(farm)
    sign_in(client, orchard.regulator.token)
    html = client.get(f"/audit/lots/{orchard.field_lot}").text
    form = {
        "csrf": hidden(html, "csrf"),
        "reason": "农药残留超标",
        "idempotency_key": hidden(html, "idempotency_key"),
    }
    for _ in range(2):
        assert (
            client.post(f"/audit/lots/{orchard.field_lot}/recall", data=form, follow_redirects=False).status_code == 303
        )
    assert len(client.get("/api/v1/audit/recalls", headers=orchard.regulator.headers).json()["recalls"]) == 1


def test_findings_are_said_in_the_readers_language(farm, client):
    orchard = grow(farm)
    sign_in(client, orchard.regulator.token)
    zh = text_of(client.get(f"/audit/lots/{orchard.field_lot}?lang=zh").text)
    assert "这条 harvest 记录比所称日期（2008-10-22）晚" in zh and "records are meant to be made" not in zh
    en = text_of(client.get("/audit?lang=en").text)
    assert "records are meant to be made when the work is done" in en
    api = client.get("/api/v1/audit/anomalies", headers=orchard.regulator.headers).json()["anomalies"][0]
    assert "template" not in api and "records are meant to be made" in api["message"]  # the API speaks English


def test_a_regulator_withdraws_a_recall_made_in_error_from_the_lots_page(farm, client):
    orchard = grow(farm)
    sign_in(client, orchard.regulator.token)
    page = client.get(f"/audit/lots/{orchard.field_lot}").text
    client.post(
        f"/audit/lots/{orchard.field_lot}/recall",
        data={"csrf": hidden(page, "csrf"), "reason": "批次号录错了", "idempotency_key": "r1"},
    )
    assert client.get(f"/b/{orchard.packed_lot}").text.count('role="alert"') == 1
    page = client.get(f"/audit/lots/{orchard.field_lot}?lang=en").text
    assert "Withdraw my Recall" in text_of(page) and "Withdraw my Inspection" in text_of(page)
    recall_seq = 5  # batch, planting, spray, harvest, inspection, then the recall
    done = client.post(
        f"/audit/lots/{orchard.field_lot}/withdraw/{recall_seq}?lang=en",
        data={"csrf": hidden(page, "csrf"), "reason": "召回的批次号录错了", "idempotency_key": "w1"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert 'role="alert"' not in client.get(f"/b/{orchard.packed_lot}").text  # lifted, on every lot made from it
    seen = text_of(client.get(f"/audit/lots/{orchard.field_lot}?lang=en").text)
    assert "Withdrawn by log entry" in seen and "召回的批次号录错了" in seen
    assert "Withdrawn by its regulator" in text_of(client.get("/audit/recalls?lang=en").text)
    lots = text_of(client.get("/audit/lots?lang=en").text)
    assert "recalled" not in lots
    # Another regulator cannot withdraw it, nor the grower's own records.
    other = farm.regulator("张三", "宜川县农业农村局")
    client.post("/audit/sign-out", data={"csrf": hidden(page, "csrf")})
    sign_in(client, other.token)
    page = client.get(f"/audit/lots/{orchard.field_lot}?lang=en").text
    assert "Withdraw my" not in text_of(page)
    refused = client.post(
        f"/audit/lots/{orchard.field_lot}/withdraw/3?lang=en",
        data={"csrf": hidden(page, "csrf"), "reason": "x", "idempotency_key": "w2"},
    )
    assert refused.status_code == 422 and "a regulator corrects only its own records" in refused.text
