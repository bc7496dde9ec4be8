"""The grower app without JavaScript (protocol §6, issue #6): sign in from a card, make a lot,
log its season, with errors next to the fields and a retry that appends once."""

from __future__ import annotations

import re

import pytest

from ..conftest import ADMIN_TOKEN
from ..public.orchard import HARVEST_PHOTO
from ..public.test_lot_page import text_of

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def card_for(client, grower_id: str, headers=ADMIN) -> dict:
    response = client.post(f"/api/v1/growers/{grower_id}/login-link", headers=headers)
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    return response.json()


def signed_in(client, farm, name="王秀英"):
    grower = farm.grower(name)
    link = card_for(client, grower.id)["url"].removeprefix("http://testserver")
    assert "王秀英" in client.get(link).text or name in client.get(link).text  # the link only asks
    response = client.post(link, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/grower")
    return grower


def hidden(html: str, name: str) -> str:
    return re.search(rf'name="{name}" value="([^"]*)"', html).group(1)


def test_a_card_signs_a_phone_in_once_and_a_new_card_ends_old_sessions(farm, client):
    grower = farm.grower("王秀英")
    first = card_for(client, grower.id)
    path = first["url"].removeprefix("http://testserver")
    assert first["card"].endswith(path.removeprefix("/grower/login/"))
    card = client.get(first["card"].removeprefix("http://testserver"))
    assert card.status_code == 200 and "溯源登录卡" in card.text and "王秀英" in card.text
    assert client.get(first["card"].removeprefix("http://testserver") + "/qr.svg").headers["content-type"] == "image/svg+xml"

    signed = client.post(path, follow_redirects=False)
    cookie = signed.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "我的批次" in client.get("/grower").text
    again = client.post(path)  # one time only
    assert again.status_code == 401 and "这张卡已不能使用" in again.text

    card_for(client, grower.id)  # a new card: the phone signed in with the old one is out
    assert "用登记卡登录" in client.get("/grower").text


def test_only_the_operator_or_the_registering_cooperative_issues_cards(farm, client):
    cooperative = client.post("/api/v1/cooperatives", json={"name": "洛川苹果合作社", "region": "洛川县"}, headers=ADMIN).json()
    co_headers = {"Authorization": f"Bearer {cooperative['token']}"}
    member = client.post("/api/v1/growers", json={"name": "社员", "region": "洛川县"}, headers=co_headers).json()
    outsider = farm.grower("别人")
    assert card_for(client, member["grower_id"], co_headers)["url"]
    assert client.post(f"/api/v1/growers/{outsider.id}/login-link", headers=co_headers).status_code == 403
    assert client.post(f"/api/v1/growers/{outsider.id}/login-link", headers=outsider.headers).status_code == 403
    assert client.post("/api/v1/growers/nosuchgrower/login-link", headers=ADMIN).status_code == 404


def test_a_grower_makes_a_lot_and_logs_a_harvest_with_a_photo(farm, client):
    grower = signed_in(client, farm)
    form = client.get("/grower/lots/new").text
    made = client.post("/grower/lots", data={
        "csrf": hidden(form, "csrf"), "idempotency_key": hidden(form, "idempotency_key"),
        "product": "苹果", "variety": "红富士", "plot_name": "后山果园", "plot_lat": "44.47", "plot_lon": "11.88",
    }, follow_redirects=False)
    assert made.status_code == 303
    lot = made.headers["location"].split("/")[3].split("?")[0]
    page = client.get(f"/grower/lots/{lot}").text
    assert "记一笔" in page and f"/grower/lots/{lot}/log/harvest" in page and f"/b/{lot}/labels" in page

    form = client.get(f"/grower/lots/{lot}/log/harvest").text
    assert 'accept="image/*" capture="environment"' in form
    fields = {
        "csrf": hidden(form, "csrf"), "idempotency_key": hidden(form, "idempotency_key"), "type": "harvest",
        "occurred_at": hidden(form, "drawn_at"), "drawn_at": hidden(form, "drawn_at"), "tz_offset": "",
        "quantity": "1200", "unit": "jin", "note": "晴天采摘", "lat": "", "lon": "",
    }
    photo = {"photo": ("DSCN0010.jpg", HARVEST_PHOTO.read_bytes(), "image/jpeg")}
    logged = client.post(f"/grower/lots/{lot}/events", data=fields, files=photo)
    assert logged.status_code == 201 and "已记录" in logged.text
    assert "这条记录是在事后很久才补记的" in logged.text  # the photo's 2008 date became the record's: advice, kindly
    records = client.get(f"/api/v1/batches/{lot}").json()["records"]
    harvest = records[-1]["record"]["payload"]
    assert harvest["type"] == "harvest" and harvest["data"]["quantity"] == 1200 and harvest["data"]["unit"] == "jin"
    assert harvest["occurred_at"] == "2008-10-22T16:28:00+08:00"  # filled from the photo, the field left as drawn
    assert len(harvest["evidence"]) == 1
    # The same form sent again (a retry on a weak network) appends nothing.
    again = client.post(f"/grower/lots/{lot}/events", data=fields, files=photo)
    assert again.status_code == 201
    assert len(client.get(f"/api/v1/batches/{lot}").json()["records"]) == len(records)
    public = text_of(client.get(f"/b/{lot}").text)
    assert "采收" in public and "1,200 斤" in public and "2008年10月22日" in public


@pytest.mark.parametrize("kind, fields, errors", [
    ("harvest", {"quantity": "-3", "unit": "jin"}, ["请填写数量：大于 0 的数。"]),
    ("harvest", {"quantity": "", "unit": "jin"}, ["请填写数量：大于 0 的数。"]),
    ("pesticide", {"product": "吡虫啉"}, ["请选择农药标签上写的安全间隔期。"]),
    ("packing", {"quantity": "10", "unit": "kg", "package_count": "2.5"}, ["请填写件数：整数。"]),
    ("observation", {"note": ""}, ["请写几句话（最多 2000 字）。"]),
    ("harvest", {"quantity": "5", "unit": "kg", "occurred_at": "2099-01-01T08:00"}, ["不能晚于现在"]),
    ("harvest", {"quantity": "5", "unit": "kg", "lat": "north", "lon": "1"}, ["地点不对"]),
])
def test_mistakes_are_said_next_to_their_field_and_nothing_is_stored(farm, client, kind, fields, errors):
    signed_in(client, farm)
    lot = _lot(client)
    form = client.get(f"/grower/lots/{lot}/log/{kind}").text
    data = {
        "csrf": hidden(form, "csrf"), "idempotency_key": hidden(form, "idempotency_key"), "type": kind,
        "occurred_at": "2026-09-19T08:00", **fields,
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
    made = client.post("/grower/lots", data={"csrf": hidden(form, "csrf"), "idempotency_key": hidden(form, "idempotency_key"), "product": "苹果"}, follow_redirects=False)
    return made.headers["location"].split("/")[3].split("?")[0]


def test_forms_need_the_sessions_csrf_token_and_a_growers_own_lot(farm, client):
    signed_in(client, farm)
    lot = _lot(client)
    assert client.post(f"/grower/lots/{lot}/events", data={"csrf": "forged", "type": "observation", "note": "x", "occurred_at": "2026-09-19T08:00"}).status_code == 403
    other = farm.grower("别人")
    foreign = farm.batch(other)["lot"]
    assert client.get(f"/grower/lots/{foreign}").status_code == 404
    assert client.get(f"/grower/lots/{foreign}/log/harvest").status_code == 404


def test_without_a_session_the_app_asks_for_the_card(client):
    page = client.get("/grower")
    assert page.status_code == 200 and "用登记卡登录" in page.text and "不用输入密码" in page.text
    assert client.get("/grower/lots/new").status_code == 200 and "用登记卡登录" in client.get("/grower/lots/new").text
    assert client.get("/grower/login/nonsense").status_code == 401
