"""The public page a consumer sees after scanning a label (protocol §3, issue #4)."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text, update

from signing.bundle import verify_bundle
from signing.note import Verifier
from tests.conftest import BOTH_DATABASES, make_settings
from tests.factories import Farm
from tests.orchard import GTIN, HARVEST_PHOTO, certify, grow, recall
from tests.pages import text_of
from traceability.services import open_services
from traceability.storage.models import LogEntry
from traceability.web.app import create_app

both_databases = pytest.mark.parametrize("backend", BOTH_DATABASES, indirect=True)


def page(client: TestClient, path: str, lang: str | None = "zh", **headers) -> str:
    response = client.get(path, params={"lang": lang} if lang else None, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    return response.text


@both_databases
def test_a_packed_lot_tells_its_story_in_chinese(farm, client):
    orchard = grow(farm)
    html = page(client, f"/b/{orchard.packed_lot}")
    seen = text_of(html)
    assert '<html lang="zh-CN">' in html
    for words in (
        "苹果礼盒",
        "红富士",
        "王秀英",
        "陕西省延安市洛川县",
        "记录完整",
        "原料来自",
        "采收于 2008年10月22日",
        "承诺达标合格证",
        "未使用禁用农药、兽药及其他化合物",
        "产品名称",
        "数量 200 斤",
        "开具时间 2008年10月24日",
        "产地 陕西省延安市洛川县 · 后山果园",
        "联系方式 0911-7654321",
        "承诺依据 自控自检、委托检测",
        "承诺主体 王秀英",
        "包装",
        "发货",
        "发往 西安",
        "下载证明文件",
    ):
        assert words in seen, words
    assert f'href="/b/{orchard.field_lot}?lang=zh"' in html  # the visitor's choice of language carries over
    assert 'role="alert"' not in html


def test_the_field_lot_shows_inputs_harvest_photo_and_inspection_in_english(farm, client):
    orchard = grow(farm)
    html = page(client, f"/b/{orchard.field_lot}", lang="en")
    seen = text_of(html)
    assert '<html lang="en">' in html
    for words in (
        "Planting",
        "Pesticide applied",
        "阿维菌素乳油",
        "Pre-harvest interval 14 days",
        "Safe to pick from Oct 4, 2008",
        "Harvest",
        "Oct 22, 2008",
        "Quantity 1,200 jin (500 g)",
        "Inspection",
        "Result Passed",
        "Records intact",
        "All 5 records of this lot",
        "1 photo was taken for this lot.",
    ):
        assert words in seen, words
    thumb = f'<img src="/p/{orchard.photo}/thumb.jpg" loading="lazy"'
    assert thumb in html and f'href="/p/{orchard.photo}.jpg"' in html
    assert "承诺达标合格证" not in html  # not packed: no certificate yet
    assert client.get(f"/p/{orchard.photo}/thumb.jpg").status_code == 200


def test_language_follows_the_browser_and_the_switch(farm, client):
    lot = grow(farm).packed_lot
    assert '<html lang="en">' in page(client, f"/b/{lot}", lang=None, **{"Accept-Language": "en-GB,en;q=0.9,zh;q=0.5"})
    assert '<html lang="zh-CN">' in page(
        client, f"/b/{lot}", lang=None, **{"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}
    )
    assert '<html lang="zh-CN">' in page(client, f"/b/{lot}", lang=None)  # no preference: Chinese first
    assert '<html lang="zh-CN">' in page(client, f"/b/{lot}", lang=None, **{"Accept-Language": "fr,de;q=0.5"})
    assert '<html lang="en">' in page(client, f"/b/{lot}", lang="en", **{"Accept-Language": "zh-CN"})
    response = client.get(f"/b/{lot}", headers={"Accept-Language": "en"})
    assert response.headers["content-language"] == "en" and "Accept-Language" in response.headers["vary"]
    html = page(client, f"/b/{lot}", lang="en")
    assert 'href="?lang=zh"' in html and "中文" in html


def test_the_digital_link_answers_the_same_page(farm, client):
    orchard = grow(farm)
    lot = orchard.packed_lot
    assert "苹果礼盒" in page(client, f"/01/{GTIN}/10/{lot}")
    assert "苹果礼盒" in page(client, f"/01/{GTIN.lstrip('0')}/10/{lot}")  # GTIN-13, zero-padded by GS1's rule
    wrong_check_digit = GTIN[:-1] + "3"
    for path in (
        f"/01/{wrong_check_digit}/10/{lot}",
        f"/01/00000000000017/10/{lot}",
        f"/01/{GTIN}/10/{orchard.field_lot}",
        f"/01/x/10/{lot}",
    ):
        response = client.get(path)
        assert response.status_code == 404 and "找不到这个批次" in response.text, path


def test_an_unknown_lot_gets_a_friendly_page_in_the_visitors_language(client):
    response = client.get("/b/NOSUCHLOT", headers={"Accept-Language": "en"})
    assert response.status_code == 404 and response.headers["content-type"].startswith("text/html")
    assert "We could not find this lot" in response.text and "NOSUCHLOT" in response.text
    response = client.get("/b/%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E")
    assert response.status_code == 404 and "找不到这个批次" in response.text
    assert "<img" not in response.text and "alert(1)" not in response.text
    for path in ("/b/NOSUCHLOT/qr.svg", "/b/NOSUCHLOT/qr.png", "/b/NOSUCHLOT/labels"):
        assert client.get(path).status_code == 404, path


HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_grower_strings_are_escaped_and_no_script_may_run(farm: Farm, client):
    grower = farm.grower(name=HOSTILE[:100], region='"><svg onload=alert(2)>')
    lot = farm.batch(grower, "苹果", variety="' onmouseover='alert(3)")["lot"]
    farm.event(grower, lot, "observation", {"note": HOSTILE + "\n第二行"})
    response = client.get(f"/b/{lot}")
    html = response.text
    assert "<script" not in html and "<img src=x" not in html and "<svg onload" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert "onmouseover='alert" not in html
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src" not in policy and "unsafe-inline" not in policy
    # The inline stylesheet is allowed by its hash, nothing else.
    style = re.search(r"<style>(.*?)</style>", html, re.S)
    assert style is not None
    css = style.group(1)
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in policy
    assert response.headers["x-content-type-options"] == "nosniff"


def test_a_page_stays_small_for_a_phone_on_3g(farm, client):
    orchard = grow(farm)
    for _ in range(30):
        farm.event(
            orchard.grower, orchard.field_lot, "observation", {"note": "果园巡查：果面着色均匀，未见病虫害。" * 3}
        )
    for lot in (orchard.field_lot, orchard.packed_lot):
        for lang in ("zh", "en"):
            response = client.get(f"/b/{lot}", params={"lang": lang}, headers={"Accept-Encoding": "identity"})
            assert len(response.content) <= 40_000, (lot, lang, len(response.content))
            assert '<link rel="stylesheet"' not in response.text and "<script" not in response.text


def test_an_unchanged_page_answers_304_and_a_new_record_shows_on_the_next_request(farm, client):
    orchard = grow(farm)
    lot = orchard.field_lot
    first = client.get(f"/b/{lot}?lang=en")
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "no-cache"
    again = client.get(f"/b/{lot}?lang=en", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert client.get(f"/b/{lot}?lang=zh", headers={"If-None-Match": etag}).status_code == 200  # another language
    farm.event(orchard.grower, lot, "observation", {"note": "second pass of picking planned"})
    fresh = client.get(f"/b/{lot}?lang=en", headers={"If-None-Match": etag})
    assert fresh.status_code == 200 and fresh.headers["etag"] != etag
    assert "second pass of picking planned" in fresh.text


def test_gzip_is_served_to_phones_that_ask_for_it(farm, client):
    lot = grow(farm).packed_lot
    response = client.get(f"/b/{lot}", headers={"Accept-Encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip" and "苹果礼盒" in response.text
    plain = client.get(f"/b/{lot}", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and int(response.headers["content-length"]) < len(plain.content) / 2


def test_head_answers_the_headers_of_the_page(farm, client):
    lot = grow(farm).packed_lot
    get, head = client.get(f"/b/{lot}"), client.head(f"/b/{lot}")
    assert head.status_code == 200 and head.content == b""
    assert (
        head.headers["etag"] == get.headers["etag"] and head.headers["content-length"] == get.headers["content-length"]
    )
    assert client.head("/b/NOSUCHLOT").status_code == 404


def test_other_methods_on_a_page_are_refused(farm, client):
    lot = grow(farm).packed_lot
    response = client.post(f"/b/{lot}", json={})
    assert response.status_code == 405 and response.json()["error"]["code"] == "method_not_allowed"


@both_databases
def test_a_recall_shows_at_once_on_the_lot_and_on_every_lot_made_from_it(farm, client):
    orchard = grow(farm)
    for lot, lang in ((orchard.field_lot, "zh"), (orchard.packed_lot, "en")):
        assert 'role="alert"' not in page(client, f"/b/{lot}", lang=lang)  # cached before the recall
    recall(farm, orchard, orchard.field_lot)
    source = page(client, f"/b/{orchard.field_lot}")
    assert source.count('role="alert"') == 1
    banner = text_of(source[source.index('role="alert"') : source.index("</div>", source.index('role="alert"'))])
    assert "已召回：请勿食用或销售本产品" in banner and "2008年10月26日" in banner and "洛川县农业农村局" in banner
    assert "农药残留超标" in banner
    derived = page(client, f"/b/{orchard.packed_lot}", lang="en")
    assert derived.count('role="alert"') == 1
    assert f"Lot {orchard.field_lot}, which this lot was made from, was recalled" in text_of(derived)
    assert "recalled" in text_of(derived[derived.index("Made from") :])
    assert "Withdrawn: the records above show why this lot can no longer be certified." in text_of(derived)
    # On a recalled lot the integrity verdict says what it means, and only after the recall.
    assert "Records intact" not in text_of(derived) and "The records are authentic" in text_of(derived)
    # The banner comes before everything else on the page.
    assert derived.index('role="alert"') < derived.index("<main>")


@both_databases
def test_pages_cached_by_another_process_see_new_records(tmp_path, clock, farm, services):
    """Two servers on one database (two workers, or two hosts): each keeps its own cache."""
    other = open_services(make_settings(tmp_path / "data", services.settings.database_url), clock)
    try:
        with TestClient(create_app(other)) as second:
            orchard = grow(farm)
            assert 'role="alert"' not in second.get(f"/b/{orchard.packed_lot}").text
            recall(farm, orchard, orchard.field_lot)  # through the first server
            assert second.get(f"/b/{orchard.packed_lot}").text.count('role="alert"') == 1
    finally:
        other.close()


def test_the_verification_panel_is_the_offline_check_of_the_served_bundle(farm, client, services):
    orchard = grow(farm)
    lot = orchard.packed_lot
    html = page(client, f"/b/{lot}", lang="en")
    log_key = client.get("/log/key").text
    bundle = client.get(f"/b/{lot}/proof.json").content
    verified = verify_bundle(bundle, Verifier.from_key_string(log_key))
    assert f"proved against the checkpoint of size {verified.checkpoint.size}" in text_of(html)
    assert base64.b64encode(verified.checkpoint.root_hash).decode() in html
    assert log_key in html and f'href="/b/{lot}/proof.json"' in html
    for record in verified.records:
        assert f"log entry {record.index}" in text_of(html)


def test_a_tampered_record_is_shown_as_failed_verification(farm, client, services, tmp_path, clock):
    orchard = grow(farm)
    lot = orchard.field_lot
    with services.sessions() as session:
        stored = session.query(LogEntry).filter_by(lot=lot, event_type="harvest").one()
        session.execute(
            update(LogEntry).where(LogEntry.idx == stored.idx).values(entry=stored.entry.replace(b"1200", b"9200"))
        )
        session.commit()
    with TestClient(create_app(services)) as fresh:  # a cold cache, as after a restart
        seen = text_of(fresh.get(f"/b/{lot}", params={"lang": "en"}).text)
    assert "The records failed verification" in seen and "Records intact" not in seen
    assert f"entry {stored.idx}" in seen


def test_a_certificate_shows_only_once_the_grower_issued_it_with_the_basis_they_chose(farm, client):
    orchard = grow(farm, certified=False)
    packed = orchard.packed_lot
    assert "承诺达标合格证" not in page(client, f"/b/{packed}")  # packed, but not certified
    certify(farm, orchard.grower, packed)
    seen = text_of(page(client, f"/b/{packed}", lang="en"))
    assert (
        "承诺达标合格证" in seen and "Basis of commitment Own quality control and testing, Commissioned testing" in seen
    )


def test_photo_warnings_are_shown_kindly_on_the_photo_and_in_the_summary(farm, client):
    orchard = grow(farm)
    other = farm.grower("赵六")
    lot = farm.batch(other, "苹果")["lot"]
    sha = farm.photo(other, HARVEST_PHOTO.read_bytes())
    farm.event(other, lot, "harvest", {"quantity": 5, "unit": "kg"}, "2008-10-22T16:28:39+02:00", [sha])
    seen = text_of(page(client, f"/b/{lot}"))
    assert "照片曾被使用" in seen  # on the photo itself
    assert "1 张照片已被其他批次或其他种植户使用过。" in seen
    assert "提示只是提醒，不等于有问题" in seen
    clean = text_of(page(client, f"/b/{orchard.field_lot}"))
    assert "我们的检查没有发现异常" in clean


def test_digital_link_variants_and_a_lot_without_gtin(farm, client):
    orchard = grow(farm)
    lot = orchard.packed_lot
    for path in (f"/01/{GTIN}/10/{lot}/21/0001", f"/01/{GTIN}/22/2A/10/{lot}"):
        assert "苹果礼盒" in page(client, path), path
    for gtin in ("garbage", GTIN, "00000000"):  # the field lot has no GTIN: no Digital Link names it
        assert client.get(f"/01/{gtin}/10/{orchard.field_lot}").status_code == 404, gtin


def test_a_gtin_must_be_ascii_digits(farm):
    grower = farm.grower()
    for gtin in ("０６９０１２３４５６７８９２", "٠٦٩٠١٢٣٤٥٦٧٨٩٢"):
        response = farm.client.post("/api/v1/batches", json={"product": "苹果", "gtin": gtin}, headers=grower.headers)
        assert response.status_code == 422 and "gtin" in response.json()["error"]["message"]


def test_gzip_refused_by_q0_is_not_sent_and_404_pages_vary_by_language(farm, client):
    lot = grow(farm).packed_lot
    assert "content-encoding" not in client.get(f"/b/{lot}", headers={"Accept-Encoding": "gzip;q=0, identity"}).headers
    assert client.get(f"/b/{lot}", headers={"Accept-Encoding": "br, gzip;q=0.5"}).headers["content-encoding"] == "gzip"
    assert "Accept-Language" in client.get("/b/NOSUCHLOT").headers["vary"]


def test_the_certificate_says_when_no_contact_was_given(farm, client):
    grower = farm.grower()
    lot = farm.batch(grower, "蜂蜜")["lot"]
    farm.event(grower, lot, "harvest", {"quantity": 10, "unit": "kg"})
    farm.event(grower, lot, "packing", {"quantity": 10, "unit": "kg", "package_count": 10})
    certify(farm, grower, lot, contact=None)
    assert "联系方式 未登记" in text_of(page(client, f"/b/{lot}"))


def test_a_broken_database_gets_a_kind_page_not_a_trace(farm, client, services):
    lot = grow(farm).packed_lot
    with services.sessions() as session:
        session.execute(text("ALTER TABLE batches RENAME TO batches_elsewhere"))
        session.commit()
    response = client.get(f"/b/{lot}", headers={"Accept-Language": "zh-CN"})
    assert response.status_code == 503 and response.headers["retry-after"] == "30"
    assert "页面暂时无法显示" in response.text and "Traceback" not in response.text and "batches" not in response.text
