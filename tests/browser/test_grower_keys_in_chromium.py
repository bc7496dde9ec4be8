"""Keys on the grower's phone (issue #12 item 3, protocol §9), in Debian's Chromium on a phone:
after the card sign-in the app makes a key WebCrypto will not export, and every record is
signed on the phone with it, including one logged without signal; a phone without Ed25519
falls back to the key the server holds, and every page says which way each record was signed."""

from __future__ import annotations

import base64
import json
import sqlite3

from playwright.sync_api import Page, expect

from signing.bundle import verify_bundle
from signing.note import Verifier

from .conftest import Live, open_page, shoot
from .test_grower_app_in_chromium import records, signed_in_with_a_lot

STORED_KEY = """() => new Promise((done, fail) => {
    const open = indexedDB.open("suyuan-grower");
    open.onerror = () => fail(open.error);
    open.onsuccess = () => {
        const get = open.result.transaction("keys").objectStore("keys").get("device");
        get.onsuccess = () => {
            const kept = get.result;
            done(kept && {keyid: kept.keyid, extractable: kept.privateKey.extractable, type: kept.privateKey.type,
                          algorithm: kept.privateKey.algorithm.name, usages: kept.privateKey.usages});
        };
    };
})"""
OUTBOX = """() => new Promise(done => {
    const open = indexedDB.open("suyuan-grower"); open.onsuccess = () => {
        const get = open.result.transaction("outbox").objectStore("outbox").getAll();
        get.onsuccess = () => done(get.result.map(i => [i.state, !!i.record])); }; })"""


def signers(live: Live, lot: str) -> list[str]:
    answer = live.farm.client.get(f"/api/v1/batches/{lot}").json()["records"]
    return [r["record"]["signatures"][0]["keyid"] for r in answer]


def key_entry(live: Live, kid: str) -> dict:
    size = int(live.farm.client.get("/log/checkpoint").text.split("\n")[1])
    for start in range(0, size, 1000):
        for entry in live.farm.client.get(f"/log/entries?start={start}&end={start + 1000}").json()["entries"]:
            payload = json.loads(base64.b64decode(entry))["payload"]
            if payload["kind"] == "key" and payload["keyid"] == kid:
                return payload
    raise AssertionError(f"no key entry for {kid}")


def sealed_key(live: Live, kid: str) -> bytes | None:
    """What the server keeps of a key's private half (None: nothing at all)."""
    with sqlite3.connect(live.data / "suyuan.db") as db:
        (sealed,) = db.execute("SELECT private_key_sealed FROM member_keys WHERE keyid = ?", (kid,)).fetchone()
    return sealed


def phone_key(page: Page) -> dict:
    page.wait_for_function(f"({STORED_KEY})().then(k => !!k)")
    return page.evaluate(STORED_KEY)


def test_after_the_card_sign_in_the_phone_signs_with_a_key_it_cannot_export(live: Live, new_phone_page):
    page, lot = signed_in_with_a_lot(live, new_phone_page, "陈自签", "苹果")
    key = phone_key(page)
    assert key["extractable"] is False and key["type"] == "private"
    assert key["algorithm"] == "Ed25519" and key["usages"] == ["sign"]
    entry = key_entry(live, key["keyid"])
    assert (entry["custody"], entry["holder"], entry["subject"]["name"]) == ("device", "phone", "陈自签")
    assert sealed_key(live, key["keyid"]) is None  # the server holds nothing it could sign with

    page.get_by_role("link", name="采收").click()
    page.wait_for_load_state()
    page.get_by_label("数量", exact=True).fill("640")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("heading", name="已记录")).to_be_visible()
    # The lot and its harvest, each signed on the phone; the grower's list says so.
    assert signers(live, lot) == [key["keyid"]] * 2
    expect(page.locator("ol.records li").filter(has_text="采收")).to_contain_text("在自己的手机上签名")
    shoot(page, "grower-signed-on-phone-zh")

    public = new_phone_page(locale="zh-CN")
    open_page(public, live.url(f"/b/{lot}"))
    harvest = public.locator("ol.timeline > li").filter(has=public.get_by_role("heading", name="采收"))
    expect(harvest.locator(".by")).to_contain_text("陈自签 在自己的手机上签名")
    shoot(public, "lot-signed-on-phone-zh")
    verified = verify_bundle(
        live.farm.client.get(f"/b/{lot}/proof.json").content,
        Verifier.from_key_string(live.farm.client.get("/log/key").text),
    )
    assert verified.how[key["keyid"]] == "phone"


def test_a_record_logged_without_signal_is_signed_on_the_phone_when_it_returns_once(live: Live, new_phone_page):
    page, lot = signed_in_with_a_lot(live, new_phone_page, "周离线", "梨")
    key = phone_key(page)
    page.get_by_role("link", name="采收").click()
    page.wait_for_load_state()
    page.context.set_offline(True)
    page.get_by_label("数量", exact=True).fill("88")
    page.get_by_role("button", name="保存").click()
    expect(page.locator("#submit-state")).to_contain_text("等待信号")
    assert page.evaluate(OUTBOX) == [["waiting", False]]  # kept as the form: signed only when it is sent
    assert [r.get("type") for r in records(live, lot)] == [None]

    page.context.set_offline(False)
    expect(page.get_by_role("heading", name="记一笔")).to_be_visible(timeout=20_000)  # sent, back at the lot
    page.wait_for_timeout(6_000)  # another round of the script's retries: still once
    harvests = [r for r in records(live, lot) if r.get("type") == "harvest"]
    assert len(harvests) == 1 and harvests[0]["data"] == {"quantity": 88, "unit": "jin"}
    assert signers(live, lot)[-1] == key["keyid"]


def test_a_new_card_revokes_the_old_phones_key_and_the_next_sign_in_makes_a_new_one(live: Live, new_phone_page):
    page, lot = signed_in_with_a_lot(live, new_phone_page, "吴换卡", "桃")
    old = phone_key(page)
    grower = live.farm.client.get(f"/api/v1/batches/{lot}").json()["grower"]["id"]
    card = live.farm.client.post(f"/api/v1/growers/{grower}/login-link", headers=live.farm.admin).json()["url"]
    logged = live.farm.client.get("/log/entries?start=0&end=1000").json()["entries"]
    payloads = [json.loads(base64.b64decode(entry))["payload"] for entry in logged]
    assert any(p["kind"] == "key_revoke" and p["keyid"] == old["keyid"] for p in payloads)

    open_page(page, card)  # the same phone, signed in again with the new card
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name="我的批次")).to_be_visible()
    page.wait_for_function(f"({STORED_KEY})().then(k => k && k.keyid !== '{old['keyid']}')")
    new = page.evaluate(STORED_KEY)
    page.goto(live.url(f"/grower/lots/{lot}/log/harvest"))
    page.get_by_label("数量", exact=True).fill("12")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("heading", name="已记录")).to_be_visible()
    assert signers(live, lot) == [old["keyid"], new["keyid"]]


NO_ED25519 = """(() => {
    const generate = crypto.subtle.generateKey.bind(crypto.subtle);
    crypto.subtle.generateKey = (algorithm, ...rest) => (algorithm && (algorithm.name || algorithm) === "Ed25519")
        ? Promise.reject(new DOMException("Unrecognized name.", "NotSupportedError")) : generate(algorithm, ...rest);
})()"""


def test_a_phone_without_ed25519_logs_with_the_key_the_server_holds_and_the_page_says_so(live: Live, new_phone_page):
    # Chromium before 137 (and other browsers) have no Ed25519 in WebCrypto.
    page, lot = signed_in_with_a_lot(live, lambda **o: _without_ed25519(new_phone_page(**o)), "郑托管", "杏")
    page.get_by_role("link", name="采收").click()
    page.wait_for_load_state()
    page.get_by_label("数量", exact=True).fill("30")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("heading", name="已记录")).to_be_visible()
    assert page.evaluate(STORED_KEY) is None
    [signer] = set(signers(live, lot))
    assert key_entry(live, signer)["custody"] == "custodial"
    expect(page.locator("ol.records li").filter(has_text="采收")).to_contain_text("平台代签")
    open_page(page, live.url(f"/b/{lot}"))
    harvest = page.locator("ol.timeline > li").filter(has=page.get_by_role("heading", name="采收"))
    expect(harvest.locator(".by")).to_contain_text("平台代 郑托管 签名")


def _without_ed25519(page: Page) -> Page:
    page.add_init_script(NO_ED25519)
    return page
