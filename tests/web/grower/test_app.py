"""The grower app without JavaScript (protocol §6, issue #6): sign in from a card, make a lot,
log its season, with errors next to the fields and a retry that appends once."""

from __future__ import annotations

import pytest

from tests.conftest import ADMIN_TOKEN
from tests.orchard import HARVEST_PHOTO
from tests.pages import hidden, text_of
from traceability.storage.models import Plot

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def card_for(client, grower_id: str, headers=ADMIN) -> dict:
    response = client.post(f"/api/v1/growers/{grower_id}/login-link", headers=headers)
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    return response.json()


def signed_in(client, farm, name="王秀英"):
    grower = farm.grower(name)
    link = card_for(client, grower.id)["url"].removeprefix("http://testserver")
    response = redeem(client, link)
    assert response.status_code == 303 and response.headers["location"].startswith("/grower?")
    return grower


def redeem(client, link: str):
    """What a phone does with a card: open the link (which only asks), then tap the button."""
    asked = client.get(link)
    assert asked.status_code == 200
    return client.post(link, data={"nonce": hidden(asked.text, "nonce")}, follow_redirects=False)


def test_a_card_signs_a_phone_in_once_and_a_new_card_ends_old_sessions(farm, client):
    grower = farm.grower("王秀英")
    first = card_for(client, grower.id)
    path = first["url"].removeprefix("http://testserver")
    assert first["card"].endswith(path.removeprefix("/grower/login/"))
    card = client.get(first["card"].removeprefix("http://testserver"))
    assert card.status_code == 200 and "溯源登录卡" in card.text and "王秀英" in card.text
    assert (
        client.get(first["card"].removeprefix("http://testserver") + "/qr.svg").headers["content-type"]
        == "image/svg+xml"
    )

    signed = redeem(client, path)
    cookie = signed.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/grower" in cookie
    assert "我的批次" in client.get("/grower").text
    again = client.get(path)  # one time only
    assert again.status_code == 401 and "这张卡已不能使用" in again.text

    card_for(client, grower.id)  # a new card: the phone signed in with the old one is out
    assert "用登记卡登录" in client.get("/grower").text


def test_only_the_operator_or_the_registering_cooperative_issues_cards(farm, client):
    cooperative = client.post(
        "/api/v1/cooperatives", json={"name": "洛川苹果合作社", "region": "洛川县"}, headers=ADMIN
    ).json()
    co_headers = {"Authorization": f"Bearer {cooperative['token']}"}
    member = client.post("/api/v1/growers", json={"name": "社员", "region": "洛川县"}, headers=co_headers).json()
    outsider = farm.grower("别人")
    assert card_for(client, member["grower_id"], co_headers)["url"]
    assert client.post(f"/api/v1/growers/{outsider.id}/login-link", headers=co_headers).status_code == 403
    assert client.post(f"/api/v1/growers/{outsider.id}/login-link", headers=outsider.headers).status_code == 403
    assert client.post("/api/v1/growers/nosuchgrower/login-link", headers=ADMIN).status_code == 404


def test_a_grower_makes_a_lot_and_logs_a_harvest_with_a_photo(farm, client):
    signed_in(client, farm)
    form = client.get("/grower/lots/new").text
    made = client.post(
        "/grower/lots",
        data={
            "csrf": hidden(form, "csrf"),
            "idempotency_key": hidden(form, "idempotency_key"),
            "product": "苹果",
            "variety": "红富士",
            "plot_name": "后山果园",
            "plot_lat": "44.47",
            "plot_lon": "11.88",
        },
        follow_redirects=False,
    )
    assert made.status_code == 303
    lot = made.headers["location"].split("/")[3].split("?")[0]
    page = client.get(f"/grower/lots/{lot}").text
    assert "记一笔" in page and f"/grower/lots/{lot}/log/harvest" in page and f"/b/{lot}/labels" in page

    form = client.get(f"/grower/lots/{lot}/log/harvest").text
    assert 'accept="image/*" capture="environment"' in form
    fields = {
        "csrf": hidden(form, "csrf"),
        "idempotency_key": hidden(form, "idempotency_key"),
        "type": "harvest",
        "occurred_at": hidden(form, "drawn_at"),
        "drawn_at": hidden(form, "drawn_at"),
        "tz_offset": "",
        "quantity": "1200",
        "unit": "jin",
        "note": "晴天采摘",
        "lat": "",
        "lon": "",
    }
    photo = {"photo": ("DSCN0010.jpg", HARVEST_PHOTO.read_bytes(), "image/jpeg")}
    # The photo was taken in 2008: the app asks which time is right, showing both, before saving anything.
    asked = client.post(f"/grower/lots/{lot}/events", data=fields, files=photo, follow_redirects=False)
    assert asked.status_code == 422
    question = text_of(asked.text)
    assert "照片和表单不一致" in question and "照片拍摄于 2008-10-22 16:28" in question
    assert f"表单填的是 {fields['occurred_at'].replace('T', ' ')}" in question
    assert len(client.get(f"/api/v1/batches/{lot}").json()["records"]) == 1  # nothing was appended
    fields |= {"evidence": hidden(asked.text, "evidence"), "photo_choice": "photo"}
    logged = client.post(f"/grower/lots/{lot}/events", data=fields, follow_redirects=False)
    assert logged.status_code == 303  # then the lot: a reload does not send the form again
    logged = client.get(logged.headers["location"])
    assert "已记录" in logged.text
    assert "这条记录是在事后很久才补记的" in logged.text  # the photo's 2008 date became the record's: advice, kindly
    records = client.get(f"/api/v1/batches/{lot}").json()["records"]
    harvest = records[-1]["record"]["payload"]
    assert harvest["type"] == "harvest" and harvest["data"]["quantity"] == 1200 and harvest["data"]["unit"] == "jin"
    assert harvest["occurred_at"] == "2008-10-22T16:28:39+08:00"  # the photo's, as the grower chose
    assert harvest["data"]["place"] == {"lat": 43.467448, "lon": 11.885127}  # and the place, left empty
    assert len(harvest["evidence"]) == 1
    # The same form sent again (a retry on a weak network) appends nothing.
    again = client.post(f"/grower/lots/{lot}/events", data=fields, follow_redirects=False)
    assert again.status_code == 303
    assert len(client.get(f"/api/v1/batches/{lot}").json()["records"]) == len(records)
    public = text_of(client.get(f"/b/{lot}").text)
    assert "采收" in public and "1,200 斤" in public and "2008年10月22日" in public


@pytest.mark.parametrize(
    ("kind", "fields", "errors"),
    [
        ("harvest", {"quantity": "-3", "unit": "jin"}, ["请填写数量：大于 0 的数。"]),
        ("harvest", {"quantity": "", "unit": "jin"}, ["请填写数量：大于 0 的数。"]),
        ("pesticide", {"product": "吡虫啉"}, ["请选择农药标签上写的安全间隔期。"]),
        ("pesticide", {"product": "吡虫啉", "phi_days_other": "400"}, ["请选择农药标签上写的安全间隔期。"]),
        (
            "harvest",
            {"quantity": "5", "unit": "kg", "occurred_at": "0001-01-01T00:00", "tz_offset": "840"},
            ["请填写发生的日期和时间"],
        ),
        ("packing", {"quantity": "10", "unit": "kg", "package_count": "2.5"}, ["请填写件数：整数。"]),
        ("observation", {"note": ""}, ["请写几句话（最多 2000 字）。"]),
        ("harvest", {"quantity": "5", "unit": "kg", "occurred_at": "2099-01-01T08:00"}, ["不能晚于现在"]),
        ("harvest", {"quantity": "5", "unit": "kg", "lat": "north", "lon": "1"}, ["地点不对"]),
    ],
)
def test_mistakes_are_said_next_to_their_field_and_nothing_is_stored(farm, client, kind, fields, errors):
    signed_in(client, farm)
    lot = _lot(client)
    form = client.get(f"/grower/lots/{lot}/log/{kind}").text
    data = {
        "csrf": hidden(form, "csrf"),
        "idempotency_key": hidden(form, "idempotency_key"),
        "type": kind,
        "occurred_at": "2026-09-19T08:00",
        **fields,
    }
    before = len(client.get(f"/api/v1/batches/{lot}").json()["records"])
    response = client.post(f"/grower/lots/{lot}/events", data=data)
    assert response.status_code == 422
    for words in errors:
        assert words in response.text
    assert 'aria-invalid="true"' in response.text and 'class="error"' in response.text
    assert len(client.get(f"/api/v1/batches/{lot}").json()["records"]) == before


def _lot(client) -> str:
    form = client.get("/grower/lots/new").text
    made = client.post(
        "/grower/lots",
        data={"csrf": hidden(form, "csrf"), "idempotency_key": hidden(form, "idempotency_key"), "product": "苹果"},
        follow_redirects=False,
    )
    return made.headers["location"].split("/")[3].split("?")[0]


def test_forms_need_the_sessions_csrf_token_and_a_growers_own_lot(farm, client):
    signed_in(client, farm)
    lot = _lot(client)
    assert (
        client.post(
            f"/grower/lots/{lot}/events",
            data={"csrf": "forged", "type": "observation", "note": "x", "occurred_at": "2026-09-19T08:00"},
        ).status_code
        == 403
    )
    other = farm.grower("别人")
    foreign = farm.batch(other)["lot"]
    assert client.get(f"/grower/lots/{foreign}").status_code == 404
    assert client.get(f"/grower/lots/{foreign}/log/harvest").status_code == 404


def test_without_a_session_the_app_asks_for_the_card(client):
    page = client.get("/grower")
    assert page.status_code == 200 and "用登记卡登录" in page.text and "不用输入密码" in page.text
    assert client.get("/grower/lots/new").status_code == 200 and "用登记卡登录" in client.get("/grower/lots/new").text
    assert client.get("/grower/login/nonsense").status_code == 401


def test_a_cards_code_is_no_credential_and_a_sign_in_needs_its_own_page(farm, client):
    grower = farm.grower("王秀英")
    code = card_for(client, grower.id)["url"].rsplit("/", 1)[1]
    as_bearer = client.post("/api/v1/batches", json={"product": "苹果"}, headers={"Authorization": f"Bearer {code}"})
    assert as_bearer.status_code == 401
    client.cookies.set("suyuan_grower", code, path="/grower")
    assert "用登记卡登录" in client.get("/grower").text
    client.cookies.clear()
    # A form on another site posting the code (without the sign-in page's own cookie) signs nobody in.
    forged = client.post(f"/grower/login/{code}", data={"nonce": "guess"}, follow_redirects=False)
    assert forged.status_code == 303 and forged.headers["location"].startswith(f"/grower/login/{code}")
    assert "suyuan_grower" not in client.cookies
    assert redeem(client, f"/grower/login/{code}").status_code == 303  # the card still works for its grower


def test_signing_out_needs_the_sessions_own_form(farm, client):
    signed_in(client, farm)
    assert client.post("/grower/sign-out", data={"csrf": "forged"}, follow_redirects=False).status_code == 303
    assert "我的批次" in client.get("/grower").text  # still signed in
    home = client.get("/grower").text
    client.post("/grower/sign-out", data={"csrf": hidden(home, "csrf")})
    assert "用登记卡登录" in client.get("/grower").text


def test_a_lot_made_from_several_lots_keeps_them_all_and_a_refused_lot_leaves_no_plot(farm, client, services):
    signed_in(client, farm)
    first, second = _lot(client), _lot(client)
    form = client.get("/grower/lots/new").text
    base = {
        "csrf": hidden(form, "csrf"),
        "product": "苹果礼盒",
        "plot_name": "包装棚",
        "plot_lat": "35.1",
        "plot_lon": "109.4",
    }
    refused = client.post(
        "/grower/lots",
        data={
            **base,
            "idempotency_key": "k1",
            "from": [first, second],
            f"qty-{first}": "-1",
            f"unit-{first}": "kg",
            f"qty-{second}": "5",
            f"unit-{second}": "kg",
        },
    )
    assert refused.status_code == 422 and "请勾选原料批次，并填写各用了多少。" in refused.text
    with services.sessions() as session:
        assert session.query(Plot).count() == 0  # nothing was stored
    made = client.post(
        "/grower/lots",
        data={
            **base,
            "idempotency_key": "k2",
            "from": [first, second],
            f"qty-{first}": "10",
            f"unit-{first}": "jin",
            f"qty-{second}": "5",
            f"unit-{second}": "kg",
        },
        follow_redirects=False,
    )
    lot = made.headers["location"].split("/")[3].split("?")[0]
    inputs = client.get(f"/api/v1/batches/{lot}").json()["inputs"]
    assert inputs == [{"lot": first, "quantity": 10, "unit": "jin"}, {"lot": second, "quantity": 5, "unit": "kg"}]


def test_a_form_sent_again_with_other_values_is_told_kindly(farm, client):
    signed_in(client, farm)
    lot = _lot(client)
    form = client.get(f"/grower/lots/{lot}/log/harvest").text
    fields = {
        "csrf": hidden(form, "csrf"),
        "idempotency_key": hidden(form, "idempotency_key"),
        "type": "harvest",
        "occurred_at": "2026-09-19T08:00",
        "unit": "jin",
    }
    assert (
        client.post(
            f"/grower/lots/{lot}/events", data={**fields, "quantity": "120"}, follow_redirects=False
        ).status_code
        == 303
    )
    changed = client.post(f"/grower/lots/{lot}/events", data={**fields, "quantity": "1200"})
    assert changed.status_code == 422 and "这张表已经提交过了" in changed.text
    as_script = client.post(
        f"/grower/lots/{lot}/events", data={**fields, "quantity": "1200"}, headers={"Accept": "application/json"}
    )
    assert (
        as_script.json()["error"]["code"] == "already_sent"
        and "这张表已经提交过了" in as_script.json()["error"]["message"]
    )


def test_a_pesticide_interval_not_among_the_common_ones_can_be_written(farm, client):
    signed_in(client, farm)
    lot = _lot(client)
    form = client.get(f"/grower/lots/{lot}/log/pesticide").text
    data = {
        "csrf": hidden(form, "csrf"),
        "idempotency_key": hidden(form, "idempotency_key"),
        "type": "pesticide",
        "occurred_at": "2026-09-19T08:00",
        "product": "多菌灵",
        "phi_days_other": "45",
    }
    assert client.post(f"/grower/lots/{lot}/events", data=data, follow_redirects=False).status_code == 303
    spray = client.get(f"/api/v1/batches/{lot}").json()["records"][-1]["record"]["payload"]
    assert spray["data"]["phi_days"] == 45 and spray["data"]["kind"] == "pesticide"
